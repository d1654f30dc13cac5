import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { resolveHostname } from '../src/model/hostname.js';

const base = { hostname: undefined, timeoutMs: 2000 } as const;

describe('host names', () => {
  it('uses a literal hostname as it is', async () => {
    expect(await resolveHostname({ ...base, hostname: 'web01', method: 'smart' })).toEqual({ host: 'web01', warning: undefined });
  });
  it('has no host segment with method none', async () => {
    expect((await resolveHostname({ ...base, method: 'none' })).host).toBeUndefined();
  });
  it('takes the first label of the kernel host name for hostname_short', async () => {
    expect((await resolveHostname({ ...base, method: 'hostname_short' })).host).toBe(os.hostname().split('.')[0]);
  });
  it('runs the shell command for method shell', async () => {
    expect((await resolveHostname({ ...base, hostname: 'echo db7', method: 'shell' })).host).toBe('db7');
  });
  it('falls back to the short kernel name with a warning when the shell command fails', async () => {
    const r = await resolveHostname({ ...base, hostname: 'exit 3', method: 'shell' });
    expect(r.host).toBe(os.hostname().split('.')[0]);
    expect(r.warning).toMatch(/hostname command "exit 3" failed.*using/);
  });
  it('never returns "localhost" for smart: it falls back to the kernel host name', async () => {
    const r = await resolveHostname({ ...base, method: 'smart' });
    expect(r.host).toBeTruthy();
    if (os.hostname() !== 'localhost') expect(r.host).not.toBe('localhost');
  });
});
