// Makes sure Debian packages are installed. As root it runs `apt-get update` and installs what is
// missing; otherwise it prints the exact command to run and fails, so a missing package never
// turns into a skipped test or a benchmark without its peer.
import { execFileSync, spawnSync } from 'node:child_process';

/** packages: [{ name: 'collectd-core', proves: '/usr/sbin/collectd' }]; returns true when all are there. */
export function ensureDebs(packages, purpose) {
  const installed = ({ proves }) => spawnSync('test', ['-e', proves]).status === 0;
  const missing = packages.filter((p) => !installed(p));
  if (missing.length === 0) return true;
  const names = missing.map((p) => p.name);
  if (typeof process.getuid === 'function' && process.getuid() === 0) {
    console.error(`${purpose}: installing Debian packages: ${names.join(', ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...names], { stdio: 'inherit', env });
    const still = missing.filter((p) => !installed(p));
    if (still.length === 0) return true;
    console.error(`${purpose}: still missing after install: ${still.map((p) => p.proves).join(', ')}`);
    return false;
  }
  console.error(`${purpose}: needs Debian packages that are not installed: ${names.join(', ')}`);
  console.error(`${purpose}: run as root:\n  apt-get update && apt-get install -y --no-install-recommends ${names.join(' ')}`);
  return false;
}
