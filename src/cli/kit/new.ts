// `sonde new collector|parser|handler NAME [--dir D]`: writes a plugin folder that works as it is
// (the plugin, a README with its options, one golden case that `sonde test` passes), for an author
// to change into their own. It never writes over anything.
import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../exit-codes.js';
import { builtinRegistry } from '../../plugins/builtin.js';
import { templateFiles, type PluginKind } from './templates.js';

export const PLUGIN_KINDS: readonly PluginKind[] = ['collector', 'parser', 'handler'];

/** The names sonde loads a plugin under (the registry refuses others). */
const NAME = /^[a-z][a-z0-9_]*$/;
const MAX_NAME = 64;

interface Io {
  out(s: string): void;
  err(s: string): void;
}

/** Why `name` cannot be a new plugin's name, or undefined when it can. */
export function nameProblem(kind: PluginKind, name: string): string | undefined {
  if (!NAME.test(name) || name.length > MAX_NAME) {
    return `${JSON.stringify(name)} cannot be a plugin name: a name starts with a lower-case letter and holds only lower-case letters, digits and _ (at most ${MAX_NAME}), as "app_queue" or "nginx2"; it becomes the config section and the metric path`;
  }
  const r = builtinRegistry();
  const taken = kind === 'collector' ? r.collectors.has(name) : kind === 'parser' ? r.parsers.has(name) : r.handlers.has(name);
  if (taken) return `a built-in ${kind} is named "${name}" already, and sonde refuses a second ${kind} of that name; choose another name (see "sonde list")`;
  return undefined;
}

export function newPlugin(kind: string, name: string, dir: string | undefined, io: Io): number {
  if (!(PLUGIN_KINDS as readonly string[]).includes(kind)) {
    io.err(`sonde new: the kind must be collector, parser or handler, not ${JSON.stringify(kind)}\n`);
    return EXIT_USAGE;
  }
  const k = kind as PluginKind;
  const problem = nameProblem(k, name);
  if (problem) {
    io.err(`sonde new: ${problem}\n`);
    return EXIT_USAGE;
  }
  const target = path.resolve(dir ?? name);
  if (existsSync(target) && !(isEmptyDir(target))) {
    io.err(`sonde new: ${target} exists already; nothing was written (sonde new never writes over files). Remove it, or give another folder with --dir\n`);
    return EXIT_FAILURE;
  }
  // Written to a hidden folder and renamed into place: a failure halfway (a full disk) leaves no
  // half-made plugin. An empty folder that exists (perhaps the shell's working directory) is kept
  // and filled, its entries renamed in from a hidden folder inside it.
  const fill = existsSync(target);
  const temp = fill ? path.join(target, `.sonde-new-${process.pid}`) : path.join(path.dirname(target), `.${path.basename(target)}.sonde-new-${process.pid}`);
  try {
    for (const f of templateFiles(k, name)) {
      const file = path.join(temp, f.path);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, f.text);
    }
    if (fill) {
      for (const entry of readdirSync(temp)) renameSync(path.join(temp, entry), path.join(target, entry));
      rmdirSync(temp);
    } else renameSync(temp, target);
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    io.err(`sonde new: could not write ${target}: ${(err as Error).message}; nothing was left behind\n`);
    return EXIT_FAILURE;
  }
  const rel = path.relative(process.cwd(), target) || '.';
  io.out(
    `sonde new: wrote a ${k} plugin "${name}" in ${target}:\n` +
      templateFiles(k, name).map((f) => `  ${f.path}\n`).join('') +
      `Next: sonde test ${rel}   (its case passes as it is; change the plugin, then its case, to make it yours)\n`,
  );
  return EXIT_OK;
}

function isEmptyDir(p: string): boolean {
  try {
    return readdirSync(p).length === 0;
  } catch {
    return false;
  }
}
