// The host segment against the system's own tools (uname -n, hostname -s, hostname -f) and against
// Diamond's rules written out by hand.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hostFromNames, resolveHostname, type HostNames, type NameMethod } from '../src/model/hostname.js';

const base = { hostname: undefined, timeoutMs: 2000 } as const;

/** A command's output, or undefined when it fails (hostname -f on a host whose name does not resolve). */
function sh(command: string): string | undefined {
  try {
    return execFileSync('/bin/sh', ['-c', command], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

const unameN = sh('uname -n')!;
const hostnameS = sh('hostname -s')!;
const hostnameF = sh('hostname -f');

describe('host names', () => {
  it('uses a literal hostname as it is', async () => {
    expect(await resolveHostname({ ...base, hostname: 'web01', method: 'smart' })).toEqual({ host: 'web01', warning: undefined });
  });
  it('has no host segment with method none', async () => {
    expect((await resolveHostname({ ...base, method: 'none' })).host).toBeUndefined();
  });
  it('takes the first label of the kernel host name for hostname_short', async () => {
    expect((await resolveHostname({ ...base, method: 'hostname_short' })).host).toBe(hostnameS);
    expect(hostFromNames('hostname_short', { kernel: 'web01.dc1.example.com', fqdn: 'ignored.example.org' })).toBe('web01');
    expect(hostFromNames('hostname_short', { kernel: 'web01', fqdn: 'ignored.example.org' })).toBe('web01');
  });
  it('takes the kernel host name (uname -n) for hostname, and its first label for uname_short', async () => {
    expect(await resolveHostname({ ...base, method: 'hostname' })).toEqual({ host: unameN, warning: undefined });
    expect(await resolveHostname({ ...base, method: 'uname_short' })).toEqual({ host: hostnameS, warning: undefined });
  });
  it('takes the FQDN (hostname -f) for fqdn with dots as _, and its first label for fqdn_short', async () => {
    const fqdn = await resolveHostname({ ...base, method: 'fqdn' });
    const short = await resolveHostname({ ...base, method: 'fqdn_short' });
    if (hostnameF === undefined) {
      // The name does not resolve here: the fallback is the short kernel name, with a warning.
      expect([fqdn.host, fqdn.warning !== undefined, short.host]).toEqual([hostnameS, true, hostnameS]);
      return;
    }
    expect(fqdn).toEqual({ host: sh('hostname -f | tr . _'), warning: undefined, fqdn: { kernel: unameN, fqdn: hostnameF } });
    expect(short).toEqual({ host: sh('hostname -f | cut -d. -f1'), warning: undefined, fqdn: { kernel: unameN, fqdn: hostnameF } });
  });
  it('uses an FQDN resolved earlier for the same kernel host name instead of DNS, and not for another', async () => {
    const knownFqdn = { kernel: unameN, fqdn: 'web01.dc9.example.org' };
    expect(await resolveHostname({ ...base, method: 'fqdn', knownFqdn })).toEqual({ host: 'web01_dc9_example_org', warning: undefined, fqdn: knownFqdn });
    expect((await resolveHostname({ ...base, method: 'smart', knownFqdn })).host).toBe('web01');
    expect((await resolveHostname({ ...base, method: 'hostname', knownFqdn })).host).toBe(unameN);
    const other = await resolveHostname({ ...base, method: 'fqdn', knownFqdn: { kernel: `not-${unameN}`, fqdn: 'web01.dc9.example.org' } });
    expect(other.host).not.toBe('web01_dc9_example_org');
  });
  it('applies Diamond\'s rules to the names found (hand-written cases)', () => {
    const names: HostNames = { kernel: 'web01.example.com', fqdn: 'web01.dc1.example.com' };
    const expected: Record<NameMethod, string> = {
      hostname: 'web01.example.com',
      hostname_short: 'web01',
      uname_short: 'web01',
      fqdn: 'web01_dc1_example_com',
      fqdn_short: 'web01',
      smart: 'web01',
    };
    for (const [method, host] of Object.entries(expected)) expect([method, hostFromNames(method as NameMethod, names)]).toEqual([method, host]);
    expect(hostFromNames('smart', { kernel: 'db7', fqdn: 'db7.prod.example.net' })).toBe('db7');
    expect(hostFromNames('fqdn', { kernel: 'db7', fqdn: 'db7' })).toBe('db7');
  });
  it('runs the shell command for method shell', async () => {
    expect((await resolveHostname({ ...base, hostname: 'echo db7', method: 'shell' })).host).toBe('db7');
  });
  it('falls back to the short kernel name with a warning when the shell command fails', async () => {
    const r = await resolveHostname({ ...base, hostname: 'exit 3', method: 'shell' });
    expect(r.host).toBe(hostnameS);
    expect(r.warning).toMatch(/hostname command "exit 3" failed.*using/);
  });
  it('never returns "localhost" for smart: it falls back to the kernel host name', async () => {
    // Diamond: fqdn_short, unless that is "localhost"; then hostname_short.
    expect(hostFromNames('smart', { kernel: 'mx1.example.com', fqdn: 'localhost.localdomain' })).toBe('mx1');
    expect(hostFromNames('smart', { kernel: 'mx1', fqdn: 'localhost' })).toBe('mx1');
    expect(hostFromNames('fqdn_short', { kernel: 'mx1', fqdn: 'localhost.localdomain' })).toBe('localhost');
    const r = await resolveHostname({ ...base, method: 'smart' });
    const fqdnShort = hostnameF === undefined ? undefined : sh('hostname -f | cut -d. -f1');
    expect(r.host).toBe(fqdnShort === undefined || fqdnShort === 'localhost' ? hostnameS : fqdnShort);
    if (hostnameS !== 'localhost') expect(r.host).not.toBe('localhost');
  });
});
