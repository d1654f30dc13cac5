// ctx.logs.follow: where reading starts, which files are followed, and the offset files kept in the
// collector's state dir (logtail2's format, one per log, saved only on commit).
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { logService } from '../src/logread/followed-logs.js';
import type { FollowLogsOptions, ParserInstance } from '../src/plugin-api.js';
import { tmpdir } from './helpers/tmp.js';
import { recordingLog } from './helpers/plugin-log.js';

function recorder() {
  const lines: string[] = [];
  const parser: ParserInstance = { parseLine: (l) => lines.push(l), report: () => [] };
  return { parser, lines };
}

const logger = recordingLog;

function follow(stateDir: string | undefined, opts: Partial<FollowLogsOptions> & { path: string; parser: ParserInstance }) {
  const { log, said } = logger();
  const logs = logService({ stateDir, log, label: 'logs' }).follow({ fromStart: false, maxLineBytes: 1 << 20, rotateWait: 30_000, name: 'app', ...opts });
  return { logs, said };
}

/** The offset file's name for a log path, spelt out by hand: `/` as %2F, `%` as %25. */
const offsetName = (file: string) => `${file.replaceAll('%', '%25').replaceAll('/', '%2F')}.offset`;

describe('followed logs', () => {
  it('reads an existing file from its end, then what is appended; commit saves inode and offset in logtail2 format', async () => {
    const dir = tmpdir();
    const log = path.join(dir, 'app.log');
    writeFileSync(log, 'old 1\nold 2\n');
    const state = path.join(dir, 'state');
    const { parser, lines } = recorder();
    const { logs } = follow(state, { path: log, parser });
    expect(await logs.read()).toBe(0);
    appendFileSync(log, 'new 1\nnew 2\npartial');
    expect(await logs.read()).toBe(19); // read; the partial line waits for its newline
    expect(lines).toEqual(['new 1', 'new 2']);
    expect(logs.counts.parsed).toBe(2);
    expect(logs.fileCount).toBe(1);
    const file = path.join(state, 'app', offsetName(log));
    expect(existsSync(file)).toBe(false); // saved only on commit, after the figures were emitted
    logs.commit();
    const [ino, offset] = readFileSync(file, 'utf8').split('\n');
    expect([Number(ino), Number(offset)]).toEqual([statSync(log).ino, 24]);
    logs.close();
  });

  it('continues from an offset file written before an upgrade (logtail2 lines only)', async () => {
    const dir = tmpdir();
    const log = path.join(dir, 'app.log');
    writeFileSync(log, 'seen 1\nseen 2\nmissed 1\nmissed 2\n');
    const state = path.join(dir, 'state');
    mkdirSync(path.join(state, 'mail_app'), { recursive: true });
    writeFileSync(path.join(state, 'mail_app', offsetName(log)), `${statSync(log).ino}\n14\n`);
    const { parser, lines } = recorder();
    const { logs } = follow(state, { path: log, parser, name: 'mail/app' });
    expect(await logs.read()).toBe(18);
    expect(lines).toEqual(['missed 1', 'missed 2']);
    expect(logs.savedAgeMs()).toBeGreaterThanOrEqual(0);
    logs.close();
  });

  it('a glob: files there at the first read from their end, later ones from their first line, gone ones dropped with their offset', async () => {
    const dir = tmpdir();
    const logs_ = path.join(dir, 'logs');
    mkdirSync(logs_);
    writeFileSync(path.join(logs_, 'a.log'), 'a old\n');
    writeFileSync(path.join(logs_, 'a.log.1'), 'rotated\n');
    const state = path.join(dir, 'state');
    const { parser, lines } = recorder();
    const { logs, said } = follow(state, { path: `${logs_}/*`, parser, rotateWait: 0 });
    await logs.read();
    expect(logs.fileCount).toBe(1);
    expect(said).toContain(`info logs app: ${logs_}/a.log.1 matches ${logs_}/* but is a rotated or compressed copy; not followed on its own (its live log's rotations are read through the live log)`);
    writeFileSync(path.join(logs_, 'b.log'), 'b 1\nb 2\n');
    await logs.read();
    expect(lines).toEqual(['b 1', 'b 2']);
    expect(logs.fileCount).toBe(2);
    expect(said).toContain(`info logs app: following ${logs_}/b.log (new file matching ${logs_}/*)`);
    logs.commit();
    expect(readdirSync(path.join(state, 'app')).sort()).toEqual([offsetName(`${logs_}/a.log`), offsetName(`${logs_}/b.log`)]);
    // b.log goes for good: rotated to a name the glob does not match, then read to its end.
    renameSync(path.join(logs_, 'b.log'), path.join(dir, 'elsewhere.log'));
    appendFileSync(path.join(dir, 'elsewhere.log'), 'b 3\n');
    await logs.read(); // drains the renamed file (rotate_wait 0: done at the next read)
    expect(lines).toEqual(['b 1', 'b 2', 'b 3']);
    expect(logs.fileCount).toBe(2);
    await logs.read();
    expect(logs.fileCount).toBe(1);
    expect(readdirSync(path.join(state, 'app'))).toEqual([offsetName(`${logs_}/a.log`)]);
    logs.close();
  });

  it('a path that does not exist yet: warned once, read from its first line when it appears', async () => {
    const dir = tmpdir();
    const log = path.join(dir, 'late', 'mail.log');
    const { parser, lines } = recorder();
    const { logs, said } = follow(undefined, { path: log, parser });
    await logs.read();
    await logs.read();
    expect(said.filter((m) => m.includes('does not exist (yet)'))).toHaveLength(1);
    mkdirSync(path.dirname(log));
    writeFileSync(log, 'm 1\nm 2\n');
    await logs.read();
    expect(lines).toEqual(['m 1', 'm 2']);
    logs.close();
  });

  it('without a state dir, offsets stay in memory and nothing is written', async () => {
    const dir = tmpdir();
    const log = path.join(dir, 'app.log');
    writeFileSync(log, 'one\n');
    const { parser, lines } = recorder();
    const { logs } = follow(undefined, { path: log, parser, fromStart: true });
    await logs.read();
    appendFileSync(log, 'two\n');
    await logs.read();
    logs.commit();
    expect(lines).toEqual(['one', 'two']);
    expect(logs.savedAgeMs()).toBeUndefined();
    expect(readdirSync(dir)).toEqual(['app.log']);
    logs.close();
  });
});
