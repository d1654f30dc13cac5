// `sonde test PLUGIN_OR_DIR`: runs a plugin's golden cases (testcases/<case>/ beside the plugin
// file) and says, case by case, what passed, what differs (with a diff) and which case folder is
// broken. The in-repository tests run the built-in plugins' cases through runCase, the same code.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../exit-codes.js';
import type { PluginDefinition, ParserDefinition } from '../../plugin-api.js';
import { importPluginFile } from '../../plugins/loader.js';
import { builtinRegistry } from '../../plugins/builtin.js';
import { pluginShapeProblem, type AnyCollector, type AnyHandler } from '../../plugins/registry.js';
import { caseDirs, CaseError } from './case-files.js';
import { runCollectorCase } from './collector-case.js';
import { runHandlerCase } from './handler-case.js';
import { runParserCase } from './parser-case.js';
import type { CaseResult } from './result.js';

export type { CaseResult } from './result.js';

export interface CaseOptions {
  /** Rewrite the expectations that differ with what the plugin produced, for the author to check. */
  readonly update?: boolean;
  /** Parsers by name and alias for collectors that read logs; the built-in ones by default. */
  readonly parsers?: ReadonlyMap<string, ParserDefinition>;
}

let builtinParsers: ReadonlyMap<string, ParserDefinition> | undefined;

/** Runs one case folder of `def`. Never throws for a broken case: it comes back as status `broken`. */
export function runCase(def: PluginDefinition, dir: string, opts: CaseOptions = {}): Promise<CaseResult> {
  const update = opts.update ?? false;
  switch (def.kind) {
    case 'collector':
      return runCollectorCase(def as AnyCollector, dir, { update, parsers: opts.parsers ?? (builtinParsers ??= builtinRegistry().parsers) });
    case 'parser':
      return runParserCase(def, dir, { update });
    case 'handler':
      return runHandlerCase(def as AnyHandler, dir, { update });
  }
}

export { caseDirs };

interface Io {
  out(s: string): void;
  err(s: string): void;
}

export interface TestCommandOptions {
  readonly update: boolean;
  /** A folder of cases other than testcases/ beside the plugin; with it, the target may be a built-in plugin's name. */
  readonly cases?: string;
}

class UsageProblem extends Error {}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The plugin file of a plugin folder: its one .mjs or .js file. */
function pluginFileIn(dir: string): string {
  const files = readdirSync(dir).filter((n) => (n.endsWith('.mjs') || n.endsWith('.js')) && !n.startsWith('.'));
  if (files.length === 1) return path.join(dir, files[0]!);
  if (files.length === 0) throw new UsageProblem(`${dir} holds no plugin file (.mjs or .js); name the plugin file, or a folder made by "sonde new"`);
  throw new UsageProblem(`${dir} holds several plugin files (${files.join(', ')}); name the one to test: sonde test ${path.join(dir, files[0]!)}`);
}

async function resolveTarget(target: string, cases: string | undefined): Promise<{ def: PluginDefinition; casesDir: string; label: string }> {
  if (!isDir(target) && !isFile(target)) {
    if (cases !== undefined) {
      const r = builtinRegistry();
      const def = r.collectors.get(target) ?? r.parsers.get(target) ?? r.handlers.get(target);
      if (def) return { def, casesDir: cases, label: `built-in ${def.kind} ${def.name}` };
      throw new UsageProblem(`no plugin file or folder ${target}, and no built-in plugin of that name`);
    }
    throw new UsageProblem(`no plugin file or folder ${target} (give the plugin's .mjs/.js file, or its folder with testcases/ in it)`);
  }
  const file = isDir(target) ? pluginFileIn(target) : target;
  // A plugin that fails to load throws here; the command says so (status 1).
  const defs = await importPluginFile(path.resolve(file));
  if (defs.length !== 1) throw new UsageProblem(`${file} exports ${defs.length} plugins; sonde test runs the cases of one plugin per file (split them into files of their own)`);
  const def = defs[0]!;
  const problem = pluginShapeProblem(def);
  if (problem) throw new PluginProblem(`${file}: ${problem}`);
  return { def, casesDir: cases ?? path.join(path.dirname(file), 'testcases'), label: `${def.kind} ${def.name} (${file})` };
}

class PluginProblem extends Error {}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}\n`)
    .join('');
}

/** The command: exit 0 when every case passes (or was updated), 1 when one differs, 78 when a case folder is broken, 64 for a bad command line. */
export async function testCommand(target: string, opts: TestCommandOptions, io: Io): Promise<number> {
  let resolved;
  try {
    resolved = await resolveTarget(target, opts.cases);
  } catch (err) {
    if (err instanceof UsageProblem) {
      io.err(`sonde test: ${err.message}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof PluginProblem) {
      io.err(`sonde test: the plugin cannot be used: ${err.message}\n`);
      return EXIT_FAILURE;
    }
    io.err(`sonde test: ${target}: the plugin failed to load: ${(err as Error).message}\n`);
    return EXIT_FAILURE;
  }
  const { def, casesDir, label } = resolved;
  let dirs: string[];
  try {
    dirs = caseDirs(casesDir);
  } catch (err) {
    if (!(err instanceof CaseError)) throw err;
    io.err(`sonde test: ${err.message}; "sonde new" makes a plugin folder with one\n`);
    return EXIT_CONFIG;
  }
  if (dirs.length === 0) {
    io.err(`sonde test: ${casesDir} holds no case folder (testcases/<case>/; see "sonde new" for one that passes)\n`);
    return EXIT_CONFIG;
  }
  io.out(`sonde test: ${label}: ${dirs.length} case(s) in ${casesDir}${opts.update ? ', updating expectations' : ''}\n`);
  const counts = { pass: 0, fail: 0, updated: 0, broken: 0 };
  for (const dir of dirs) {
    const r = await runCase(def, dir, { update: opts.update });
    counts[r.status]++;
    switch (r.status) {
      case 'pass':
        io.out(`ok       ${r.name} (${r.detail})\n`);
        break;
      case 'updated':
        io.out(`updated  ${r.name}: check the new expectations by hand before committing them\n${indent(r.detail)}`);
        break;
      case 'fail':
        io.out(`FAIL     ${r.name}\n${indent(r.detail)}`);
        break;
      case 'broken':
        io.out(`BROKEN   ${r.name}: the case folder cannot be run\n${indent(r.detail)}`);
        break;
    }
  }
  const summary = `${dirs.length} case(s): ${counts.pass} passed${counts.updated ? `, ${counts.updated} updated` : ''}, ${counts.fail} failed, ${counts.broken} broken`;
  io.out(`sonde test: ${summary}\n`);
  if (counts.broken > 0) {
    io.err(`sonde test: ${counts.broken} case folder(s) are broken (a file missing or malformed, named above); fix them, then run again\n`);
    return EXIT_CONFIG;
  }
  if (counts.fail > 0) {
    io.err(`sonde test: ${counts.fail} case(s) failed; the diffs above show "-" what the case expects and "+" what the plugin produced. If the new output is right, "sonde test --update ${target}" rewrites the expectations (check them by hand)\n`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}
