// Reading a golden case's files: what is missing or malformed is a broken case (exit 78), named by
// its file (and line), never a crash and never a silent pass.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { issueProblems } from '../../config/issue-wording.js';
import { formatProblem, type Origin, type RawConfig } from '../../config/read-files.js';
import { parseYaml, pathKey, YamlSyntaxError, type KeyPath } from '../../config/yaml-source.js';

/** A case folder the kit cannot run as it is: a file missing, unreadable or malformed. */
export class CaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaseError';
  }
}

/** A case file is a few KiB; a recorded tree or log of more than this is a mistake, not a case. */
export const MAX_CASE_FILE_BYTES = 64 * 1024 * 1024;

/** Reads a file of a case, or says which one is missing or unreadable. */
export function caseFile(file: string, what: string): Buffer {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new CaseError(`${file}: missing (${what})`);
  }
  if (!st.isFile()) throw new CaseError(`${file}: not a regular file (${what})`);
  if (st.size > MAX_CASE_FILE_BYTES) throw new CaseError(`${file}: ${st.size} bytes, more than a case file may hold (${MAX_CASE_FILE_BYTES} bytes)`);
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CaseError(`${file}: cannot be read: ${(err as Error).message}`);
  }
}

/** The case folders below a testcases folder, in name order (dot folders left out). */
export function caseDirs(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new CaseError(`${dir}: no such folder of test cases (each case is a folder in it)`);
  }
  const isDir = (n: string) => {
    try {
      return statSync(path.join(dir, n)).isDirectory();
    } catch {
      // A dangling link or a file removed meanwhile is not a case.
      return false;
    }
  };
  return names
    .filter((n) => !n.startsWith('.') && isDir(n))
    .sort()
    .map((n) => path.join(dir, n));
}

/** What `${NAME}` in a case's config.yaml stands for: the case folder, the kit's sinks. */
export type Placeholders = ReadonlyMap<string, string | number>;

const PLACEHOLDER = /\$\{([A-Za-z0-9_]*)\}/g;

/** Replaces placeholders in every string of a YAML value; a string that is one placeholder takes its value's type. */
function substitute(node: unknown, vars: Placeholders, file: string, used: Set<string>): unknown {
  if (typeof node === 'string') {
    const whole = /^\$\{([A-Za-z0-9_]*)\}$/.exec(node);
    const look = (name: string): string | number => {
      const v = vars.get(name);
      if (v === undefined) throw new CaseError(`${file}: \${${name}} is not a placeholder the kit knows (known: ${[...vars.keys()].map((k) => `\${${k}}`).join(', ')})`);
      used.add(name);
      return v;
    };
    if (whole) return look(whole[1]!);
    return node.replace(PLACEHOLDER, (_, name: string) => String(look(name)));
  }
  if (Array.isArray(node)) return node.map((x) => substitute(x, vars, file, used));
  if (typeof node === 'object' && node !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = substitute(v, vars, file, used);
    return out;
  }
  return node;
}

export interface CaseConfig {
  /** The options as the schema outputs them, defaults applied. */
  readonly parsed: Record<string, unknown>;
  /** The placeholders the file used (the handler kit starts only the sinks a case names). */
  readonly used: ReadonlySet<string>;
}

/**
 * A case's config.yaml validated by `schema`; no file is `{}`. Refusals come back as the config
 * loader words them: `config.yaml:3: percore: expected true or false, got "yes"`.
 */
export function caseConfig(file: string, schema: z.ZodType, vars: Placeholders): CaseConfig {
  let value: unknown = {};
  let lines: ReadonlyMap<string, number> = new Map();
  const used = new Set<string>();
  if (existsSync(file)) {
    try {
      const src = parseYaml(caseFile(file, 'the plugin\'s options').toString('utf8'), file);
      value = src.value;
      lines = src.lines;
    } catch (err) {
      if (err instanceof YamlSyntaxError) throw new CaseError(err.message);
      throw err;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CaseError(`${file}: must be a mapping of the plugin's options (key: value lines)`);
    value = substitute(value, vars, file, used);
  }
  // With the input in each issue, a refusal says what was written: got "lots".
  const res = schema.safeParse(value, { reportInput: true });
  if (!res.success) {
    const raw: RawConfig = {
      value: value as Record<string, unknown>,
      files: [file],
      originOf(p: KeyPath): Origin {
        for (let n = p.length; n >= 0; n--) {
          const line = lines.get(pathKey(p.slice(0, n)));
          if (line !== undefined) return { file, line };
        }
        return { file, line: undefined };
      },
    };
    const problems = res.error.issues.flatMap((i) => issueProblems(i, [], schema, raw));
    throw new CaseError(problems.map(formatProblem).join('\n'));
  }
  return { parsed: res.data as Record<string, unknown>, used };
}

/** The entries of `dir` whose name matches `re`, by the number its first group captures. */
export function numberedFiles(dir: string, re: RegExp): { name: string; n: number }[] {
  return readdirSync(dir)
    .map((name) => ({ name, m: re.exec(name) }))
    .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
    .map((x) => ({ name: x.name, n: Number(x.m[1]) }))
    .sort((a, b) => a.n - b.n);
}
