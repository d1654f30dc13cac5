// The layering of docs/architecture.md, checked on the code: every relative import goes to the same
// part or to one below it, plugins import only the plugin API and their own folder, and no file
// imports itself through a chain of others.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');

/** From the top of the data flow down, as docs/architecture.md's table lists them. */
const LAYERS = [
  'src/entries',
  'src/cli',
  'src/logster',
  'src/runtime',
  'src/delivery',
  'src/config',
  'src/plugins',
  'plugins', // collectors/, handlers/, parsers/
  'src/logread',
  'src/logging',
  'src/plugin-api.ts',
  'src/schema',
  'src/procfs',
  'src/memcached',
  'src/files',
  'src/model',
];
const PLUGIN_DIRS = ['collectors', 'handlers', 'parsers'];

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (statSync(path.join(ROOT, rel)).isDirectory()) return sources(rel);
    return name.endsWith('.ts') ? [rel] : [];
  });
}

function partOf(file: string): string {
  const [top, second] = file.split('/');
  if (PLUGIN_DIRS.includes(top!)) return 'plugins';
  return second!.endsWith('.ts') ? file : `${top}/${second}`;
}

/** Relative imports of a file (static, dynamic and type-only), as repository paths of .ts files. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)'(\.{1,2}\/[^']+)'/gm)) {
    out.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]!)).replace(/\.js$/, '.ts'));
  }
  return out;
}

const files = [...sources('src'), ...PLUGIN_DIRS.flatMap(sources)];
const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe('architecture', () => {
  it('knows every part of src/ (a new folder must be placed in docs/architecture.md and here)', () => {
    const parts = new Set(files.map(partOf));
    expect([...parts].filter((p) => !LAYERS.includes(p))).toEqual([]);
  });

  it('imports only go down the data flow, never up to a part above', () => {
    const up: string[] = [];
    for (const [file, targets] of graph) {
      const from = LAYERS.indexOf(partOf(file));
      for (const t of targets) {
        const to = LAYERS.indexOf(partOf(t));
        if (to < from) up.push(`${file} imports ${t}`);
      }
    }
    expect(up).toEqual([]);
  });

  it('plugins import only the plugin API and files in their own folder', () => {
    const bad: string[] = [];
    for (const [file, targets] of graph) {
      if (partOf(file) !== 'plugins') continue;
      const dir = path.posix.dirname(file);
      // collectors/index.ts lists the plugins beside it; a plugin with a folder of its own
      // (handlers/graphite/) uses the files in it; a one-file plugin uses nothing beside it.
      const mayUse = (t: string): boolean =>
        t === 'src/plugin-api.ts' || (file.endsWith('/index.ts') ? t.startsWith(`${dir}/`) : dir.includes('/') && path.posix.dirname(t) === dir);
      for (const t of targets) if (!mayUse(t)) bad.push(`${file} imports ${t}`);
    }
    expect(bad).toEqual([]);
  });

  it('has no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 'open') cycles.push([...stack.slice(stack.indexOf(t)), t].join(' -> '));
        else if (!state.has(t) && graph.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of graph.keys()) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('every relative import names a file that exists', () => {
    const missing = [...graph].flatMap(([file, targets]) => targets.filter((t) => !graph.has(t)).map((t) => `${file} imports ${t}`));
    expect(missing).toEqual([]);
  });
});
