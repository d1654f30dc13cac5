// Makes sure the Debian packages that the integration tests start are installed.
// As root it runs `apt-get update` and installs what is missing; otherwise it prints the
// exact command to run and fails, so a missing package never turns into a skipped test.
import { execFileSync, spawnSync } from 'node:child_process';

/** Each entry: the Debian package, and a file that proves it is installed. */
export const REQUIRED_PACKAGES = [
  // Filled in by the issues that need real servers (graphite-carbon, memcached, mariadb-server, ...).
];

function installed({ proves }) {
  return spawnSync('test', ['-e', proves]).status === 0;
}

const missing = REQUIRED_PACKAGES.filter((p) => !installed(p));
if (missing.length === 0) {
  process.exit(0);
}

const names = missing.map((p) => p.name);
const line = `apt-get update && apt-get install -y --no-install-recommends ${names.join(' ')}`;
if (typeof process.getuid === 'function' && process.getuid() === 0) {
  console.error(`pretest: installing Debian packages the tests need: ${names.join(', ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...names], { stdio: 'inherit', env });
  const still = missing.filter((p) => !installed(p));
  if (still.length > 0) {
    console.error(`pretest: still missing after install: ${still.map((p) => p.proves).join(', ')}`);
    process.exit(1);
  }
} else {
  console.error(`pretest: the tests need Debian packages that are not installed: ${names.join(', ')}`);
  console.error(`pretest: run as root:\n  ${line}`);
  process.exit(1);
}
