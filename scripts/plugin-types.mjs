// The plugin API's types as the Debian package ships them (/usr/lib/sonde/types/): dist/types/
// (made by the build) and, below it in node_modules/, the declarations of the two packages they
// import (zod, systeminformation), so that a `paths` entry pointing at types/plugin.d.ts is all
// a TypeScript plugin needs; the package has no node_modules of its own. Only .d.ts/.d.cts files
// and package.json (which tells TypeScript where they are): no code, no licence files (their
// licences are in debian/copyright already, as the bundles contain them).
import { cpSync, existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';

const DECLARED_PACKAGES = ['zod', 'systeminformation'];

/** Copies the types tree into `dest` (which must not exist yet); returns the number of files. */
export function stageTypes(root, dest) {
  const types = path.join(root, 'dist/types');
  if (!existsSync(path.join(types, 'plugin.d.ts'))) throw new Error(`${types}/plugin.d.ts is missing: run "npm run build" first`);
  mkdirSync(dest, { recursive: true });
  cpSync(types, dest, { recursive: true });
  for (const name of DECLARED_PACKAGES) {
    const from = path.join(root, 'node_modules', name);
    const to = path.join(dest, 'node_modules', name);
    cpSync(from, to, {
      recursive: true,
      filter: (src) => statSync(src).isDirectory() || src === path.join(from, 'package.json') || /\.d\.c?ts$/.test(src),
    });
  }
  return prune(dest);
}

/** Removes the directories left empty (those that held only code); returns the files left. */
function prune(dir) {
  let files = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) files += e.isDirectory() ? prune(path.join(dir, e.name)) : 1;
  if (files === 0) rmdirSync(dir);
  return files;
}
