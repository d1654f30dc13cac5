// The plugin API's types as authors get them: the npm tarball (`npm pack`) installed into a plugin
// project, where `import type { Api } from 'sonde/plugin'` compiles with this repository's
// TypeScript and a wrong call does not; and the Debian package's /usr/lib/sonde/types/, used
// through a `paths` entry with no node_modules at all.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageTypes } from '../scripts/plugin-types.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');

function tsc(dir: string, project = 'tsconfig.json'): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [TSC, '-p', project, '--pretty', 'false'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const TS_PLUGIN = `import type { Api, CollectorContext } from 'sonde/plugin';

export default (api: Api) =>
  api.defineCollector({
    name: 'entropy',
    description: 'Available kernel entropy.',
    schema: api.z.object({ warn_below: api.z.number().default(256), every: api.duration().prefault('1m') }),
    async collect(ctx) {
      const bits = Number(await ctx.proc.read('sys/kernel/random/entropy_avail'));
      ctx.emit('available', bits);
      const limit: number = ctx.config.warn_below;
      if (bits < limit) ctx.log.warn({ bits }, 'entropy low');
    },
  });

export type Ctx = CollectorContext<{ warn_below: number }>;
`;

const JS_PLUGIN = `// @ts-check
/** @param {import('sonde/plugin').Api} api */
export default (api) =>
  api.defineParser({
    name: 'words',
    description: 'Counts lines with a word.',
    schema: api.z.object({ word: api.z.string().default('ERROR') }),
    create(o) {
      let n = 0;
      return {
        parseLine(line) { if (line.includes(o.word)) n++; },
        report(seconds) { const r = [{ name: 'count', value: n }, { name: 'rate', value: seconds > 0 ? n / seconds : 0, float: true }]; n = 0; return r; },
      };
    },
  });
`;

// Wrong calls, one a line, each with the error TypeScript must give for it.
const TS_BAD = `import type { Api } from 'sonde/plugin';
import { defineCollector } from 'sonde/plugin';

export default (api: Api) =>
  api.defineCollector({
    name: 'bad',
    description: 'Wrong calls.',
    schema: api.z.object({ step: api.z.number().default(1) }),
    collect(ctx) {
      ctx.emit('n', 'one');
      ctx.config.stpe;
      ctx.log.info(42);
    },
  });
export const x = defineCollector;
`;

const JS_BAD = `// @ts-check
/** @param {import('sonde/plugin').Api} api */
export default (api) =>
  api.defineHandler({
    name: 'badjs',
    description: 'Wrong.',
    schema: api.z.object({}),
    send(batch) { return batch.length; },
  });
`;

const TSCONFIG = { compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out', types: ['node'], skipLibCheck: false } };

let tarball = '';
let work = '';

afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(() => {
  // One directory for the whole file: the tarball is packed once.
  work = mkdtempSync(path.join(os.tmpdir(), 'sonde-types-'));
  // What `npm pack` puts in the tarball (the build ran before the tests: npm test's pretest).
  const name = execFileSync('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 }).trim().split('\n').at(-1)!;
  tarball = path.join(work, name);
}, 180_000);

/** A plugin project with the tarball installed as node_modules/sonde, as npm would unpack it. */
function project(files: Record<string, string>, tsconfig: object = TSCONFIG): string {
  const dir = path.join(work, `p${readdirSync(work).length}`);
  mkdirSync(path.join(dir, 'node_modules/sonde'), { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '--strip-components=1', '-C', path.join(dir, 'node_modules/sonde')]);
  // sonde's dependencies (the tarball's package.json names them) and the author's own @types/node,
  // as an install would put them beside it; linked from this repository's node_modules (offline).
  mkdirSync(path.join(dir, 'node_modules/@types'));
  for (const dep of ['zod', 'systeminformation', '@types/node']) symlinkSync(path.join(ROOT, 'node_modules', dep), path.join(dir, 'node_modules', dep));
  writeFileSync(path.join(dir, 'package.json'), '{ "name": "my-plugins", "private": true, "type": "module" }\n');
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
  return dir;
}

describe('the npm tarball', () => {
  it('ships the declarations and sonde/plugin in its exports', () => {
    const list = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    expect(list).toContain('package/dist/types/plugin.d.ts');
    expect(list).toContain('package/dist/types/plugin-api.d.ts');
    expect(list).toContain('package/dist/plugin.mjs');
  });

  it('compiles a TypeScript plugin and type-checks a JavaScript one (JSDoc) against sonde/plugin; sonde collect runs the result', () => {
    const dir = project({ 'entropy.mts': TS_PLUGIN, 'words.mjs': JS_PLUGIN }, { compilerOptions: { ...TSCONFIG.compilerOptions, allowJs: true, checkJs: true }, files: ['entropy.mts', 'words.mjs'] });
    const r = tsc(dir);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
    // The installed sonde runs what tsc wrote, on a recorded /proc.
    mkdirSync(path.join(dir, 'proc/sys/kernel/random'), { recursive: true });
    writeFileSync(path.join(dir, 'proc/sys/kernel/random/entropy_avail'), '3012\n');
    writeFileSync(path.join(dir, 'sonde.yaml'), `hostname: h\nproc_root: ${dir}/proc\nplugin_paths: []\nstate_dir: ${dir}/state\n`);
    // What npm links as the `sonde` command: the bin the package names.
    const bin = (JSON.parse(readFileSync(path.join(dir, 'node_modules/sonde/package.json'), 'utf8')) as { bin: { sonde: string } }).bin.sonde;
    const run = spawnSync(process.execPath, [path.join(dir, 'node_modules/sonde', bin), 'collect', path.join(dir, 'out/entropy.mjs'), '-n', '1', '--config', path.join(dir, 'sonde.yaml')], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^servers\.h\.entropy\.available 3012 \d+\n$/);
  }, 120_000);

  it('refuses wrong calls with the errors TypeScript gives for them', () => {
    const dir = project({ 'bad.mts': TS_BAD, 'bad.mjs': JS_BAD }, { compilerOptions: { ...TSCONFIG.compilerOptions, allowJs: true, checkJs: true, noEmit: true }, files: ['bad.mts', 'bad.mjs'] });
    const r = tsc(dir);
    expect(r.status).not.toBe(0);
    const errors = r.out.split('\n').filter((l) => /^\S+\(\d+,\d+\): error/.test(l));
    expect(errors).toEqual([
      "bad.mjs(8,5): error TS2322: Type '(batch: readonly Sample[]) => number' is not assignable to type '(batch: readonly Sample[], ctx: HandlerContext<Record<string, never>, undefined>) => Promise<SendResult>'.",
      "bad.mts(10,21): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'.",
      "bad.mts(11,18): error TS2339: Property 'stpe' does not exist on type '{ step: number; }'.",
      expect.stringMatching(/^bad\.mts\(12,20\): error TS2769: No overload matches this call\./),
      "bad.mts(15,18): error TS1362: 'defineCollector' cannot be used as a value because it was exported using 'export type'.",
    ]);
  }, 120_000);

  it('says sonde/plugin is types only when a plugin imports it at run time', () => {
    const dir = project({ 'probe.mjs': "import('sonde/plugin').then(() => console.log('imported'), (e) => console.log(e.message));\n" });
    const r = spawnSync(process.execPath, ['probe.mjs'], { cwd: dir, encoding: 'utf8' });
    expect(r.stdout).toBe(
      "sonde/plugin holds types only (import type { Api } from 'sonde/plugin'). A plugin gets the API as the argument of its default export: export default (api) => api.defineCollector({...}). See docs/plugins.md.\n",
    );
  });
});

describe("the Debian package's types directory", () => {
  it('is all a TypeScript plugin needs, through a paths entry (no node_modules in the project)', () => {
    const dir = path.join(work, 'deb');
    const types = path.join(dir, 'usr/lib/sonde/types');
    expect(stageTypes(ROOT, types)).toBeGreaterThan(100);
    // Nothing but declarations and the package.json files that say where they are.
    const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
    expect(walk(types).filter((f) => !/\.d\.c?ts$/.test(f) && !f.endsWith('/package.json'))).toEqual([]);
    const src = path.join(dir, 'src');
    mkdirSync(src);
    writeFileSync(path.join(src, 'entropy.mts'), TS_PLUGIN);
    const wrong = "export default (api: Api) => api.defineCollector({ name: 'x', description: 'x', schema: api.z.object({}), collect(ctx) { ctx.emit('n', 'one'); } });";
    writeFileSync(path.join(src, 'bad.mts'), `import type { Api } from 'sonde/plugin';\n${wrong}\n`);
    const config = (files: string[]) => ({
      compilerOptions: {
        ...TSCONFIG.compilerOptions,
        noEmit: true,
        paths: { 'sonde/plugin': [`${types}/plugin.d.ts`] },
        typeRoots: [path.join(ROOT, 'node_modules/@types')],
      },
      files,
    });
    writeFileSync(path.join(src, 'tsconfig.json'), JSON.stringify(config(['entropy.mts'])));
    writeFileSync(path.join(src, 'tsconfig.bad.json'), JSON.stringify(config(['bad.mts'])));
    writeFileSync(path.join(src, 'package.json'), '{ "type": "module" }\n');
    const good = tsc(src);
    expect(good.out).toBe('');
    expect(good.status).toBe(0);
    const bad = tsc(src, 'tsconfig.bad.json');
    expect(bad.status).not.toBe(0);
    expect(bad.out).toContain(`bad.mts(2,${wrong.indexOf("'one'") + 1}): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'.`);
  }, 120_000);
});
