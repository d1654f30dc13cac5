// npm run test:deb: the Debian package's tests (they build it, install it in a Debian 13 root and
// on this machine, boot its unit). Not part of npm test: they need root and a few minutes.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/deb/*.deb.ts'],
    testTimeout: 120_000,
    hookTimeout: 900_000,
    // One at a time: both install packages and start services.
    fileParallelism: false,
  },
});
