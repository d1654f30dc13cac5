// Which files a followed path or glob names: rotated and compressed copies of a matched log are
// passed over (its follower reads them after a rotation), a file that appears later is found.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findLogFiles, isGlob, rotatedBase } from '../src/logread/find-files.js';
import { tmpdir } from './helpers/tmp.js';

function touch(dir: string, ...names: string[]): void {
  for (const n of names) {
    mkdirSync(path.dirname(path.join(dir, n)), { recursive: true });
    writeFileSync(path.join(dir, n), 'x\n');
  }
}

describe('finding log files', () => {
  it('a plain path is named as it is, whether or not it exists yet', () => {
    expect(isGlob('/var/log/mail.log')).toBe(false);
    expect(findLogFiles('/nonexistent/dir/mail.log')).toEqual({ files: ['/nonexistent/dir/mail.log'], rotated: [] });
  });

  it('a glob matches files, dot files and symlinks to files, not directories, in name order', () => {
    const dir = tmpdir();
    touch(dir, 'b.log', 'a.log', '.hidden.log', 'sub/c.log');
    symlinkSync(path.join(dir, 'a.log'), path.join(dir, 'link.log'));
    mkdirSync(path.join(dir, 'dir.log'));
    expect(isGlob(`${dir}/*.log`)).toBe(true);
    expect(findLogFiles(`${dir}/*.log`).files).toEqual([`${dir}/.hidden.log`, `${dir}/a.log`, `${dir}/b.log`, `${dir}/link.log`]);
  });

  it('passes over rotated copies <f>.1, <f>.2.gz, <f>-20261122 and any .gz, keeps a numbered file whose base is not there', () => {
    const dir = tmpdir();
    touch(dir, 'a.log', 'a.log.1', 'a.log.2.gz', 'a.log-20261122', 'a.log-2026112213', 'b.log', 'old.gz', 'x.1', 'y-123');
    expect(findLogFiles(`${dir}/*`)).toEqual({
      files: [`${dir}/a.log`, `${dir}/b.log`, `${dir}/x.1`, `${dir}/y-123`],
      rotated: [`${dir}/a.log-20261122`, `${dir}/a.log-2026112213`, `${dir}/a.log.1`, `${dir}/a.log.2.gz`, `${dir}/old.gz`],
    });
  });

  it('finds a file that appears after the first look', () => {
    const dir = tmpdir();
    touch(dir, 'a.log');
    expect(findLogFiles(`${dir}/*.log`).files).toEqual([`${dir}/a.log`]);
    touch(dir, 'late.log');
    expect(findLogFiles(`${dir}/*.log`).files).toEqual([`${dir}/a.log`, `${dir}/late.log`]);
  });

  it('names the live log of a rotated copy', () => {
    expect(rotatedBase('/l/a.log.1')).toBe('/l/a.log');
    expect(rotatedBase('/l/a.log.12.gz')).toBe('/l/a.log');
    expect(rotatedBase('/l/a.log-20261122')).toBe('/l/a.log');
    expect(rotatedBase('/l/a.log-2026112213.gz')).toBe('/l/a.log');
    expect(rotatedBase('/l/a.log')).toBeUndefined();
    expect(rotatedBase('/l/a.log-2026')).toBeUndefined();
  });
});
