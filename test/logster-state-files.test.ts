// Logster's state and lock file names, so a crontab line switched to sonde logster keeps its
// position: `<state-dir>/<tailer>-<dotted parser><log file with / as ->.state`, as logster writes it.
import { describe, expect, it } from 'vitest';
import { stateFileNames } from '../src/logster/state-files.js';

describe('logster state file names', () => {
  it('the built-in PostfixLogster with logtail, as Logster names them', () => {
    expect(stateFileNames({ stateDir: '/var/run', tailer: 'logtail', logFile: '/var/log/mail.log' }, 'logster.parsers.PostfixLogster.PostfixLogster')).toEqual({
      state: '/var/run/logtail-logster.parsers.PostfixLogster.PostfixLogster-var-log-mail.log.state',
      lock: '/var/run/logtail-logster.parsers.PostfixLogster.PostfixLogster-var-log-mail.log.lock',
    });
  });

  it('pygtail, and a relative log path (no leading -)', () => {
    expect(stateFileNames({ stateDir: '/tmp/s', tailer: 'pygtail', logFile: 'logs/app.log' }, 'regex')).toEqual({
      state: '/tmp/s/pygtail-regexlogs-app.log.state',
      lock: '/tmp/s/pygtail-regexlogs-app.log.lock',
    });
  });
});
