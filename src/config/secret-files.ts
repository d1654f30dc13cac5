// `<key>_file: /path` in a section: the value of `<key>` read from that file, so passwords and
// tokens stay out of sonde.yaml (and out of version control) and can have their own permissions.
import { FileTooLargeError, NotRegularFileError, readRegularFile } from '../files/regular-file.js';
import type { z } from 'zod';
import type { ConfigProblem, RawConfig } from './read-files.js';
import type { KeyPath } from './yaml-source.js';
import { describeValue } from './issue-wording.js';
import { childSchema, defOf, objectKeys, unwrap } from '../schema/introspect.js';

/** A secret is a password, a token or a key: far below this. */
const MAX_SECRET_BYTES = 1024 * 1024;

function secretFailure(err: unknown, target: string): string {
  if (err instanceof NotRegularFileError) return `it is ${err.kind}, not a regular file; write ${target} into a plain file and name that one`;
  if (err instanceof FileTooLargeError) return `it is larger than ${err.limit / 1024} KiB, far more than a ${target} holds (is it the file you meant?)`;
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return 'no such file';
  if (e.code === 'EACCES') return 'permission denied (is it readable by the sonde user?)';
  return e.message;
}

/**
 * Replaces `<key>_file: /path` by `<key>: <contents of the file>` wherever the schema has `<key>`
 * and no `<key>_file` of its own, so secrets stay out of the config file.
 */
export function applySecretFiles(node: unknown, schema: z.ZodType, at: KeyPath, raw: RawConfig, problems: ConfigProblem[]): void {
  if (typeof node !== 'object' || node === null) return;
  if (Array.isArray(node)) {
    const el = childSchema(schema, 0);
    if (el) node.forEach((item, i) => applySecretFiles(item, el, [...at, i], raw, problems));
    return;
  }
  const obj = node as Record<string, unknown>;
  const isObject = defOf(unwrap(schema)).type === 'object';
  const keys = isObject ? new Set(objectKeys(schema)) : undefined;
  for (const key of Object.keys(obj)) {
    if (keys && key.endsWith('_file') && !keys.has(key)) {
      const target = key.slice(0, -'_file'.length);
      if (keys.has(target)) {
        const p = [...at, key];
        const file = obj[key];
        // Whatever happens below, the key is handled here: never report it again as unknown.
        delete obj[key];
        if (typeof file !== 'string') {
          problems.push({ origin: raw.originOf(p), path: p, message: `expected the path of a file holding ${target}, got ${describeValue(file)}` });
        } else if (obj[target] !== undefined) {
          problems.push({ origin: raw.originOf(p), path: p, message: `set either ${target} or ${key}, not both` });
        } else {
          try {
            // Only a regular file: a FIFO would block the agent (and its SIGTERM) for ever, /dev/zero never end.
            obj[target] = readRegularFile(file, MAX_SECRET_BYTES).replace(/\r?\n$/, '');
          } catch (err) {
            problems.push({ origin: raw.originOf(p), path: p, message: `cannot read ${file}: ${secretFailure(err, target)}` });
          }
        }
        continue;
      }
    }
    const child = childSchema(schema, key);
    if (child) applySecretFiles(obj[key], child, [...at, key], raw, problems);
  }
}
