// Bundles the agent into one ESM file, dist/sonde.mjs, that the `sonde` bin and the .deb run.
// A createRequire banner lets bundled CommonJS dependencies (pino, yargs' helpers) call require().
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/sonde.mjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  define: { SONDE_VERSION: JSON.stringify(pkg.version) },
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __sondeCreateRequire } from 'node:module';",
      'const require = __sondeCreateRequire(import.meta.url);',
    ].join('\n'),
  },
});
