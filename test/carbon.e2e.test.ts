// sonde against a real carbon-cache: what sonde prints is what lands in whisper, over plaintext
// and over pickle.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCarbon, type Carbon } from './helpers/carbon.js';
import { sonde } from './helpers/sonde.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

const FIX = path.join(import.meta.dirname, 'fixtures');
let carbon: Carbon;

beforeAll(async () => {
  carbon = await startCarbon(tmpdir());
}, 60_000);

afterAll(async () => {
  await carbon?.stop();
});

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

for (const protocol of ['plaintext', 'pickle'] as const) {
  it(`stores every sample sent over ${protocol} with its value and timestamp`, async () => {
    const dir = tmpdir();
    const host = `whisper_${protocol}`;
    const port = protocol === 'pickle' ? carbon.picklePort : carbon.plaintextPort;
    const cfg = writeFiles(dir, {
      'sonde.yaml': `hostname: ${host}\nproc_root: ${FIX}/proc/e2e-0\nstate_dir: ${dir}/state\nplugin_paths: []\ncollectors:\n  memory: {}\n  loadavg: {}\nhandlers:\n  stdout: {}\n  graphite: { protocol: ${protocol}, destinations: ["127.0.0.1:${port}"] }\n`,
    })['sonde.yaml']!;
    const r = sonde(['once', '--config', cfg]);
    expect(r.status).toBe(0);
    const printed = r.stdout.trim().split('\n').map((l) => l.split(' '));
    expect(printed).toHaveLength(25);
    const last = printed.at(-1)![0]!;
    await until('the last metric in whisper', () => existsSync(path.join(carbon.storage, 'whisper', ...last.split('.')) + '.wsp'));
    for (const [metric, value, ts] of printed) {
      const t = Number(ts);
      let stored = new Map<number, number>();
      await until(`${metric} in whisper`, () => (stored = carbon.fetch(metric!, t - 2, t + 2)).size > 0);
      expect([...stored.entries()], metric).toEqual([[t, Number(value)]]);
    }
  });
}
