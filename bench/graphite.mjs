// npm run bench:graphite: samples per second through the graphite handler to a local TCP sink
// (plaintext and pickle), and the disk spool's write and replay rates.
// Targets (issue 4): plaintext >= 1,000,000/s, pickle >= 500,000/s, spool write and replay >= 300,000/s.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { table } from './lib.mjs';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-bench-graphite-'));
try {
  const out = path.join(dir, 'entry.mjs');
  await build({ entryPoints: [path.join(import.meta.dirname, 'graphite-entry.ts')], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'error',
    banner: { js: "import { createRequire as __c } from 'node:module'; const require = __c(import.meta.url);" } });
  const r = JSON.parse(execFileSync(process.execPath, [out], { encoding: 'utf8' }));
  const k = (x) => Math.round(x).toLocaleString('en-US');
  console.log(`${r.n.toLocaleString('en-US')} samples, 1000 distinct names, batches of 5000 (node ${process.version})\n`);
  console.log(table(['path', 'samples / s', 'target', 'met'], [
    ['graphite plaintext -> TCP sink', k(r.plain.perSecond), '1,000,000', r.plain.perSecond >= 1e6 ? 'yes' : 'NO'],
    ['graphite pickle -> TCP sink', k(r.pickle.perSecond), '500,000', r.pickle.perSecond >= 5e5 ? 'yes' : 'NO'],
    ['spool write', k(r.spool.write), '300,000', r.spool.write >= 3e5 ? 'yes' : 'NO'],
    ['spool replay', k(r.spool.replay), '300,000', r.spool.replay >= 3e5 ? 'yes' : 'NO'],
  ]));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
