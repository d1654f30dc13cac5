// `<key>_file` secrets: what is read, what is trimmed, and what an operator is told when the file
// cannot be used. Expected values are written out by hand.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ConfigProblem, RawConfig } from '../src/config/read-files.js';
import { applySecretFiles } from '../src/config/secret-files.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

const raw: RawConfig = { value: {}, files: ['sonde.yaml'], originOf: () => ({ file: 'sonde.yaml', line: undefined }) };
const schema = z.strictObject({ port: z.number().optional(), password: z.string().optional(), key_file: z.string().optional() });

/** Applies the secret files of one section; returns the section and the problems' paths and messages. */
function apply(section: Record<string, unknown>, s: z.ZodType = schema): { section: Record<string, unknown>; problems: string[] } {
  const problems: ConfigProblem[] = [];
  applySecretFiles(section, s, ['collectors', 'db'], raw, problems);
  return { section, problems: problems.map((p) => `${p.path.join('.')}: ${p.message}`) };
}

describe('<key>_file secrets', () => {
  it('reads the file into the key and drops the _file key', () => {
    const dir = tmpdir();
    const f = writeFiles(dir, { secret: 'hunter2' }).secret!;
    expect(apply({ port: 1, password_file: f })).toEqual({ section: { port: 1, password: 'hunter2' }, problems: [] });
  });

  it('trims one final newline, LF or CRLF, and nothing else', () => {
    const dir = tmpdir();
    const f = writeFiles(dir, { lf: 'a b\n', crlf: 'a b\r\n', two: 'a b\n\n', spaces: ' a b \n' });
    expect(apply({ password_file: f.lf }).section.password).toBe('a b');
    expect(apply({ password_file: f.crlf }).section.password).toBe('a b');
    expect(apply({ password_file: f.two }).section.password).toBe('a b\n');
    expect(apply({ password_file: f.spaces }).section.password).toBe(' a b ');
  });

  it('an empty file gives an empty value, not an error', () => {
    const dir = tmpdir();
    const f = writeFiles(dir, { empty: '' }).empty!;
    expect(apply({ password_file: f })).toEqual({ section: { password: '' }, problems: [] });
  });

  it('a missing file is a problem at the _file key, and the key is not left behind as unknown', () => {
    const dir = tmpdir();
    const f = path.join(dir, 'missing');
    expect(apply({ password_file: f })).toEqual({ section: {}, problems: [`collectors.db.password_file: cannot read ${f}: no such file`] });
  });

  it('a directory in place of the file is refused by what it is', () => {
    const dir = tmpdir();
    const d = path.join(dir, 'secret.d');
    mkdirSync(d);
    expect(apply({ password_file: d }).problems).toEqual([`collectors.db.password_file: cannot read ${d}: it is a directory, not a regular file; write password into a plain file and name that one`]);
  });

  it('a file far larger than any secret is refused unread', () => {
    const dir = tmpdir();
    const f = writeFiles(dir, { big: 'x'.repeat(1024 * 1024 + 1) }).big!;
    expect(apply({ password_file: f }).problems).toEqual([`collectors.db.password_file: cannot read ${f}: it is larger than 1024 KiB, far more than a password holds (is it the file you meant?)`]);
  });

  it('refuses a value given both inline and as a file, and a _file that is not a path', () => {
    expect(apply({ password: 'x', password_file: '/etc/hostname' })).toEqual({
      section: { password: 'x' },
      problems: ['collectors.db.password_file: set either password or password_file, not both'],
    });
    expect(apply({ password_file: 5 }).problems).toEqual(['collectors.db.password_file: expected the path of a file holding password, got 5']);
  });

  it('leaves alone a _file key the schema has itself, and one with no key to fill', () => {
    expect(apply({ key_file: '/etc/ssl/key.pem' })).toEqual({ section: { key_file: '/etc/ssl/key.pem' }, problems: [] });
    expect(apply({ token_file: '/nonexistent' })).toEqual({ section: { token_file: '/nonexistent' }, problems: [] });
  });

  it('finds secrets in nested mappings and lists, with their positions', () => {
    const dir = tmpdir();
    const f = writeFiles(dir, { secret: 'pw\n' }).secret!;
    const nested = z.strictObject({ instances: z.record(z.string(), schema), replicas: z.array(schema) });
    const missing = path.join(dir, 'nope');
    expect(apply({ instances: { m1: { password_file: f } }, replicas: [{ port: 2 }, { password_file: missing }] }, nested)).toEqual({
      section: { instances: { m1: { password: 'pw' } }, replicas: [{ port: 2 }, {}] },
      problems: [`collectors.db.replicas.1.password_file: cannot read ${missing}: no such file`],
    });
  });
});
