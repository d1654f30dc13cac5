// makeDirs is mkdir -p that returns: node's recursive mkdirSync spins forever under /proc.
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeDirs } from '../src/files/make-dirs.js';
import { BUNDLE } from './helpers/sonde.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

describe('makeDirs', () => {
  it('makes every missing level with the mode asked for', () => {
    const d = path.join(tmpdir(), 'a', 'b', 'c');
    makeDirs(d, 0o750);
    expect(statSync(d).isDirectory()).toBe(true);
    expect(statSync(path.dirname(d)).mode & 0o777).toBe(0o750 & ~process.umask());
    makeDirs(d, 0o750); // already there: nothing to do
  });

  it('fails at once, with the code, under a file system that takes no new directories', () => {
    const t0 = Date.now();
    expect(() => makeDirs('/proc/sonde-test-make-dirs/state')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(Date.now() - t0).toBeLessThan(5_000);
  }, 10_000);

  it('sonde once and sonde logster with a state directory under /proc say so instead of hanging', () => {
    const dir = tmpdir();
    const { conf, log } = writeFiles(dir, {
      conf: 'hostname: x\nstate_dir: /proc/sonde-test-state\ncollectors:\n  memory: {}\nhandlers:\n  stdout: {}\n',
      log: 'a line\n',
    });
    const once = spawnSync(process.execPath, [BUNDLE, 'once', '--config', conf!], { encoding: 'utf8', timeout: 20_000 });
    expect(once.status, once.stderr).toBe(0);
    expect(once.stderr).toContain('state_dir /proc/sonde-test-state is not writable by user');
    expect(once.stdout).toMatch(/^servers\.x\.memory\.MemTotal \d+ \d+$/m);
    const logster = spawnSync(process.execPath, [BUNDLE, 'logster', '-s', '/proc/sonde-test-logster', '-l', dir, '-o', 'stdout', 'PostfixLogster', log!], { encoding: 'utf8', timeout: 20_000 });
    expect(logster.status).toBe(1);
    expect(logster.stderr).toContain('cannot create the state directory /proc/sonde-test-logster');
  }, 60_000);

  it('refuses a path through a file', () => {
    const f = path.join(tmpdir(), 'file');
    writeFileSync(f, 'x');
    expect(() => makeDirs(path.join(f, 'sub'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    mkdirSync(path.join(path.dirname(f), 'ok'));
  });
});
