// MySQL/MariaDB option files (my.cnf, defaults files, my.sandbox.cnf): `[group]` sections of
// `key = value` lines, read as the server's own client library reads them (mysys/my_default.c):
// `#` and `;` comment lines, a `#` comment after a value, quoted values, the escapes \b \t \n \r
// \\ \s, `-` and `_` alike in names, and `!include` / `!includedir` (its *.cnf files, by name).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Options by group (lower case), then by name (lower case, `-` as `_`); a later line wins. */
export type OptionGroups = Map<string, Map<string, string>>;

/** Past this many nested includes a file includes itself, one way or another. */
const MAX_INCLUDE_DEPTH = 10;

/** An option file that cannot be read, with the file that failed (an included one, maybe). */
export class OptionFileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`cannot read ${file}: ${reason}`);
    this.name = 'OptionFileError';
  }
}

/** Why a file cannot be read, in words for an operator. */
export function readFailure(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return 'no such file';
  if (e.code === 'EACCES') return "permission denied (is it readable by sonde's user?)";
  if (e.code === 'EISDIR') return 'it is a directory';
  return e.message;
}

/** Reads an option file and the files it includes. Throws an OptionFileError. */
export function readOptionFile(file: string): OptionGroups {
  const groups: OptionGroups = new Map();
  readInto(file, groups, 0);
  return groups;
}

function readInto(file: string, groups: OptionGroups, depth: number): void {
  if (depth > MAX_INCLUDE_DEPTH) throw new OptionFileError(file, `more than ${MAX_INCLUDE_DEPTH} nested !include levels (does it include itself?)`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new OptionFileError(file, readFailure(err));
  }
  parseOptions(text, groups, (directive, target) => {
    const resolved = path.resolve(path.dirname(file), target);
    if (directive === 'include') return readInto(resolved, groups, depth + 1);
    let names: string[];
    try {
      names = readdirSync(resolved).filter((n) => n.endsWith('.cnf')).sort();
    } catch (err) {
      throw new OptionFileError(resolved, readFailure(err));
    }
    for (const n of names) readInto(path.join(resolved, n), groups, depth + 1);
  });
}

/**
 * Parses option-file text into `groups`. `include` is called for `!include <file>` and
 * `!includedir <dir>` lines, in place, so that later lines still win over included ones.
 */
export function parseOptions(text: string, groups: OptionGroups, include: (directive: 'include' | 'includedir', target: string) => void = () => undefined): OptionGroups {
  let current: Map<string, string> | undefined;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('!')) {
      const m = /^!(includedir|include)\s+(.+)$/.exec(line);
      if (m) include(m[1] as 'include' | 'includedir', m[2]!.trim());
      continue;
    }
    if (line.startsWith('[')) {
      const end = line.indexOf(']');
      const name = (end === -1 ? line.slice(1) : line.slice(1, end)).trim().toLowerCase();
      current = groups.get(name);
      if (current === undefined) groups.set(name, (current = new Map()));
      continue;
    }
    if (current === undefined) continue; // an option before any group means nothing to a client
    const body = withoutComment(line);
    const eq = body.indexOf('=');
    const key = (eq === -1 ? body : body.slice(0, eq)).trim().toLowerCase().replaceAll('-', '_');
    if (key === '') continue;
    current.set(key, eq === -1 ? '' : optionValue(body.slice(eq + 1).trim()));
  }
  return groups;
}

/** The line up to a `#` that is outside quotes. */
function withoutComment(line: string): string {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote !== '') {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#') {
      return line.slice(0, i).trimEnd();
    }
  }
  return line;
}

/** A value without its quotes, escapes turned into the characters they stand for. */
function optionValue(v: string): string {
  let s = v;
  if (s.length >= 2 && (s[0] === '"' || s[0] === "'") && s.at(-1) === s[0]) s = s.slice(1, -1);
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i === s.length - 1) {
      out += c;
      continue;
    }
    const n = s[++i]!;
    out += n === 'b' ? '\b' : n === 't' ? '\t' : n === 'n' ? '\n' : n === 'r' ? '\r' : n === 's' ? ' ' : n === '\\' ? '\\' : `\\${n}`;
  }
  return out;
}
