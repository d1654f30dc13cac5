// Builds sonde_<version>_all.deb (npm run deb): the bundles in dist/ (built first by npm), the
// plugin API's types, the man page made from --help, and debian/, copied into build/deb/sonde-<version>/, where
// dpkg-buildpackage -b runs debhelper. debian/rules only installs what is there: esbuild and tsc
// are npm packages, not Debian build dependencies.
//
//   node scripts/deb.mjs [--version V] [--out DIR]
//
// --version builds the same tree as version V (a changelog entry is added in the copy only; the
// package tests build an upgrade this way). The version is otherwise package.json's, and
// debian/changelog must already say it.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDebs } from './debs.mjs';
import { stageTypes } from './plugin-types.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { values } = parseArgs({ options: { version: { type: 'string' }, out: { type: 'string' } } });
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

/** The version at the top of debian/changelog: `sonde (0.1.0) unstable; ...`. */
export function changelogVersion(text) {
  return /^sonde \(([^)]+)\)/.exec(text)?.[1];
}

const changelog = readFileSync(path.join(root, 'debian/changelog'), 'utf8');
if (changelogVersion(changelog) !== pkg.version) {
  console.error(
    `deb: debian/changelog is at ${changelogVersion(changelog) ?? '(no version)'} but package.json at ${pkg.version}. Add a changelog entry for ${pkg.version} (dch -v ${pkg.version}) so that the package's version and the program's agree.`,
  );
  process.exit(1);
}
if (!existsSync(path.join(root, 'dist/sonde.cjs'))) {
  console.error('deb: dist/ is missing: run "npm run deb", which builds it first');
  process.exit(1);
}
if (
  !ensureDebs(
    [
      { name: 'debhelper', proves: '/usr/bin/dh' },
      { name: 'dpkg-dev', proves: '/usr/bin/dpkg-buildpackage' },
    ],
    'deb',
  )
)
  process.exit(1);

const version = values.version ?? pkg.version;
const outDir = path.resolve(values.out ?? path.join(root, 'build/deb'));
const tree = path.join(outDir, `sonde-${version}`);
rmSync(tree, { recursive: true, force: true });
mkdirSync(tree, { recursive: true });

// The bundles, without source maps (node reads them only with --enable-source-maps; function
// names stay in the code) and without the build machine's code cache (postinst makes one for the
// node it installs on).
mkdirSync(path.join(tree, 'dist'));
for (const f of readdirSync(path.join(root, 'dist'))) {
  if (/\.(mjs|cjs)$/.test(f)) copyFileSync(path.join(root, 'dist', f), path.join(tree, 'dist', f));
}
// /usr/bin/sonde links to sonde.cjs: run it with Debian's node, not the first node on PATH.
const entry = path.join(tree, 'dist/sonde.cjs');
writeFileSync(entry, readFileSync(entry, 'utf8').replace(/^#!\/usr\/bin\/env node\n/, '#!/usr/bin/node\n'));
chmodSync(entry, 0o755);

// The plugin API's types, for plugin authors (/usr/lib/sonde/types/, see scripts/plugin-types.mjs).
stageTypes(root, path.join(tree, 'types'));

cpSync(path.join(root, 'debian'), path.join(tree, 'debian'), { recursive: true });
// The Grafana dashboard, installed in /usr/share/sonde/dashboards/.
cpSync(path.join(root, 'dashboards'), path.join(tree, 'dashboards'), { recursive: true });
mkdirSync(path.join(tree, 'scripts'));
for (const f of ['code-cache-mail.log', 'code-cache-sonde.yaml']) copyFileSync(path.join(root, 'scripts', f), path.join(tree, 'scripts', f));
copyFileSync(path.join(root, 'README.md'), path.join(tree, 'README.md'));
// The plugin examples, each with its golden cases: /usr/share/doc/sonde/examples/plugins/.
cpSync(path.join(root, 'examples'), path.join(tree, 'examples'), { recursive: true });

writeFileSync(path.join(tree, 'debian/copyright'), copyright());

if (version !== pkg.version) {
  const date = execFileSync('date', ['-R'], { encoding: 'utf8' }).trim();
  const entryText = `sonde (${version}) unstable; urgency=medium\n\n  * Rebuilt as ${version}.\n\n -- sonde maintainers <sonde@example.org>  ${date}\n\n`;
  writeFileSync(path.join(tree, 'debian/changelog'), entryText + changelog);
}

// The changelog's date makes the build reproducible (file times, the man page's date).
const epoch = execFileSync('dpkg-parsechangelog', ['-l', path.join(tree, 'debian/changelog'), '-S', 'Timestamp'], { encoding: 'utf8' }).trim();
const day = new Date(Number(epoch) * 1000).toISOString().slice(0, 10);
mkdirSync(path.join(tree, 'man'));
execFileSync(process.execPath, [path.join(root, 'scripts/man.mjs'), path.join(tree, 'man/sonde.1'), day], { cwd: root, stdio: 'inherit' });

execFileSync('dpkg-buildpackage', ['-b', '-us', '-uc', '--no-pre-clean'], {
  cwd: tree,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, SOURCE_DATE_EPOCH: epoch, DEB_BUILD_OPTIONS: 'nocheck' },
});
/**
 * debian/copyright: sonde's licence, then every npm package the bundles may contain (the
 * production dependency tree) with its version, licence and licence text, since the bundles drop
 * the packages' own files and comments.
 */
function copyright() {
  const dirs = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8' })
    .trim()
    .split('\n')
    .slice(1);
  const seen = new Set();
  const parts = [];
  for (const dir of dirs.sort()) {
    const meta = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const id = `${meta.name}@${meta.version}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
    if (!file) throw new Error(`deb: ${id} (${dir}) has no licence file: add its licence text to scripts/deb.mjs before shipping it`);
    // Debian keeps the Apache licence in /usr/share/common-licenses; a copy here is refused by lintian.
    const text =
      meta.license === 'Apache-2.0'
        ? 'Licensed under the Apache License, Version 2.0. On Debian systems its full text is in\n/usr/share/common-licenses/Apache-2.0.'
        : readFileSync(path.join(dir, file), 'utf8').trim();
    parts.push(`${id} (${meta.license ?? 'see below'}), bundled in /usr/lib/sonde/dist:\n\n${indent(text)}`);
  }
  const own = `sonde ${pkg.version}\n\nCopyright: sonde maintainers\nLicense: ${pkg.license}\n\n${indent(mitText())}`;
  return `${own}\n\nThird-party code in the bundles:\n\n${parts.join('\n\n')}\n`;
}

function indent(text) {
  return text
    .split('\n')
    .map((l) => (l.trim() === '' ? ' .' : ` ${l}`))
    .join('\n');
}

function mitText() {
  return `Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT
OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.`;
}

const deb = path.join(outDir, `sonde_${version}_all.deb`);
console.log(`${path.relative(process.cwd(), deb) || deb}  (${(statSync(deb).size / 1024).toFixed(0)} KiB)`);
