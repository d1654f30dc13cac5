// Installs the Debian packages the tests start (real servers, real peers) when they are missing.
import { ensureDebs } from './debs.mjs';

/** Each entry: the Debian package, and a file that proves it is installed. */
export const TEST_PACKAGES = [
  // findmnt (util-linux) and df (coreutils) for the live diskspace check; present on any Debian.
  { name: 'util-linux', proves: '/usr/bin/findmnt' },
  // carbon.hashing, the reference for the graphite handler's consistent hashing.
  { name: 'graphite-carbon', proves: '/usr/lib/python3/dist-packages/carbon/hashing.py' },
  // carbon-cache for the end-to-end tests, whisper-fetch to read what it stored.
  { name: 'graphite-carbon', proves: '/usr/bin/carbon-cache' },
  { name: 'python3-whisper', proves: '/usr/bin/whisper-fetch' },
  // logtail2, whose state files sonde logster continues (and the reverse).
  { name: 'logtail', proves: '/usr/sbin/logtail2' },
  // python3 computes the expected Python str() of numbers (Logster's output format).
  { name: 'python3', proves: '/usr/bin/python3' },
];

if (!ensureDebs(TEST_PACKAGES, 'pretest')) process.exit(1);
