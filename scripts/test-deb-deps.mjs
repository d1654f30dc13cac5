// What `npm run test:deb` needs beside the package build: mmdebstrap to make the Debian 13 root
// (once per machine, cached in /var/tmp/sonde-deb-test), systemd-nspawn to enter and boot it, and
// lintian, which checks the built package.
// Installed when missing (as root), so that a fresh CI machine runs the package tests.
import { ensureDebs } from './debs.mjs';

const ok = ensureDebs(
  [
    { name: 'mmdebstrap', proves: '/usr/bin/mmdebstrap' },
    { name: 'systemd-container', proves: '/usr/bin/systemd-nspawn' },
    { name: 'lintian', proves: '/usr/bin/lintian' },
  ],
  'test:deb',
);
process.exit(ok ? 0 : 1);
