// The shipped configs (config/sonde.yaml for a checkout, debian/etc/sonde.yaml for the package):
// every global key they set is explained, the optional ones are shown commented and work when
// uncommented, and sonde's own figures come less often than the collectors'.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { globalSchema } from '../src/config/global-schema.js';
import { RunningSonde, sonde } from './helpers/sonde.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

const root = path.resolve(import.meta.dirname, '..');
const FIX = path.join(import.meta.dirname, 'fixtures');

describe.each(['config/sonde.yaml', 'debian/etc/sonde.yaml'])('%s', (file) => {
  const text = readFileSync(path.join(root, file), 'utf8');
  const lines = text.split('\n');

  it('explains every global key it sets, on its line or in the comment just above', () => {
    const globals = lines.map((l, i) => [l, i] as const).filter(([l]) => /^[a-z_]+:/.test(l) && !/^(collectors|handlers):/.test(l));
    expect(globals.map(([l]) => l.split(':')[0])).toEqual(['path_prefix', 'hostname_method', 'interval', 'state_dir', 'plugin_paths', 'log_level', 'shutdown_timeout']);
    for (const [l, i] of globals) {
      const explained = /\s#\s\S/.test(l) || lines[i - 1]!.startsWith('#');
      expect(explained, `${file}:${i + 1}: ${l} has no comment`).toBe(true);
    }
  });

  it('says what hostname_method smart does, and shows path_suffix and self_metrics commented', () => {
    expect(text).toMatch(/# The <host> part of the paths\. smart, Diamond's default: the first label of the host's fully\n# qualified name/);
    expect(text).toContain('when that name is localhost,\n# the kernel\'s host name (uname -n) up to its first dot');
    expect(lines).toContain('# path_suffix: prod           # inserted after the host name; none by default');
    expect(lines).toContain('# self_metrics: { enabled: true, interval: 60s }');
  });

  it('passes check-config with path_suffix and self_metrics uncommented, and they take effect', () => {
    const dir = tmpdir();
    const edited = text
      .replace('# path_suffix: prod', 'path_suffix: prod')
      .replace('# self_metrics: { enabled: true, interval: 60s }', 'self_metrics: { enabled: true, interval: 60s }')
      .replace(/^hostname_method: smart$/m, `hostname_method: smart\nhostname: web01\nproc_root: ${path.join(FIX, 'proc', 'e2e-0')}`)
      .replace(/^state_dir: .*$/m, `state_dir: ${dir}/state`)
      .replace(/^handlers:$/m, 'handlers:\n  stdout: {}')
      .replace(/^  stdout: \{ enabled: true \}$/m, '');
    const cfg = writeFiles(dir, { 'sonde.yaml': edited })['sonde.yaml']!;
    const check = sonde(['check-config', '--config', cfg]);
    expect(check.status, check.stderr).toBe(0);
    const once = sonde(['once', '--config', cfg, '--print', '--only', 'memory', '--state-dir', `${dir}/state`]);
    expect(once.status, once.stderr).toBe(0);
    expect(once.stdout).toMatch(/^servers\.web01\.prod\.memory\.MemTotal \d+ \d+$/m);
  });
});

describe('self_metrics.interval', () => {
  it('defaults to 60 s, whatever the collectors\' interval', () => {
    expect(globalSchema.parse({}).self_metrics.interval).toBe(60_000);
    expect(globalSchema.parse({ interval: '1s' }).self_metrics.interval).toBe(60_000);
    expect(globalSchema.parse({ self_metrics: { interval: '5s' } }).self_metrics.interval).toBe(5_000);
  });

  it('sonde run at a 1 s interval reports sonde\'s own figures at most once in 3.5 s, while the collectors report every second', async () => {
    const dir = tmpdir();
    const cfg = writeFiles(dir, {
      'sonde.yaml': `hostname: h\nproc_root: ${path.join(FIX, 'proc', 'e2e-0')}\nstate_dir: ${dir}/state\nplugin_paths: []\ninterval: 1s\ncollectors:\n  loadavg: {}\nhandlers:\n  stdout: {}\n`,
    })['sonde.yaml']!;
    const s = new RunningSonde(['run', '--config', cfg]);
    try {
      await s.until('three loadavg windows', () => new Set([...s.stdout.matchAll(/^servers\.h\.loadavg\.01 \S+ (\d+)$/gm)].map((m) => m[1])).size >= 3);
      const start = Date.now();
      await new Promise((r) => setTimeout(r, Math.max(0, 3500 - (Date.now() - start))));
      const windows = new Set([...s.stdout.matchAll(/^servers\.h\.loadavg\.01 \S+ (\d+)$/gm)].map((m) => m[1]));
      const selfWindows = new Set([...s.stdout.matchAll(/^servers\.h\.sonde\.process\.rss_bytes \S+ (\d+)$/gm)].map((m) => m[1]));
      expect(windows.size).toBeGreaterThanOrEqual(3);
      expect(selfWindows.size).toBeLessThanOrEqual(1);
      // Any that came is on a minute boundary: the 60 s windows.
      for (const w of selfWindows) expect(Number(w) % 60).toBe(0);
      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    } finally {
      s.kill('SIGKILL');
    }
  });
});
