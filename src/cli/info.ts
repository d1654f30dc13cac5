// `sonde info`: what this host is, for an operator (systeminformation does the asking).
import type { Systeminformation } from 'systeminformation';

type Si = typeof import('systeminformation');

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

/** Runs one systeminformation call with a deadline, so a slow probe cannot hang the command. */
async function within<T>(what: string, p: Promise<T>, ms: number): Promise<T | string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((r) => (timer = setTimeout(() => r(`(no answer from ${what} within ${ms / 1000} s)`), ms)));
  try {
    return await Promise.race([p.catch((err: Error) => `(${what} failed: ${err.message})`), late]);
  } finally {
    clearTimeout(timer);
  }
}

export async function hostInfo(timeoutMs = 10_000): Promise<string> {
  const si: Si = await import('systeminformation');
  const [os, cpu, mem, disks, nics] = await Promise.all([
    within('osInfo', si.osInfo(), timeoutMs),
    within('cpu', si.cpu(), timeoutMs),
    within('mem', si.mem(), timeoutMs),
    within('blockDevices', si.blockDevices(), timeoutMs),
    within('networkInterfaces', si.networkInterfaces() as Promise<Systeminformation.NetworkInterfacesData[]>, timeoutMs),
  ]);
  const lines: string[] = [];
  const row = (k: string, v: string) => lines.push(`${k.padEnd(10)} ${v}`);
  if (typeof os === 'string') row('system', os);
  else {
    row('host', os.hostname);
    row('system', `${os.distro} ${os.release} (${os.codename || os.platform}), ${os.arch}`);
    row('kernel', os.kernel);
  }
  if (typeof cpu === 'string') row('cpu', cpu);
  else row('cpu', `${cpu.manufacturer} ${cpu.brand}, ${cpu.physicalCores} cores / ${cpu.cores} threads${cpu.speed ? ` at ${cpu.speed} GHz` : ''}`);
  if (typeof mem === 'string') row('memory', mem);
  else row('memory', `${gib(mem.total)} total, ${gib(mem.available)} available, swap ${gib(mem.swaptotal)}`);
  if (typeof disks === 'string') row('disks', disks);
  else {
    const whole = disks.filter((d) => d.type === 'disk');
    row('disks', whole.length === 0 ? '(none found)' : whole.map((d) => `${d.name} ${gib(d.size)}${d.model ? ` (${d.model.trim()})` : ''}`).join(', '));
    for (const p of disks.filter((d) => d.type === 'part' && d.mount)) row('', `${p.name} ${p.fsType} on ${p.mount}, ${gib(p.size)}`);
  }
  if (typeof nics === 'string') row('network', nics);
  else {
    const list = Array.isArray(nics) ? nics : [nics];
    row('network', list.map((n) => `${n.iface}${n.ip4 ? ` ${n.ip4}` : ''}${n.operstate ? ` (${n.operstate})` : ''}`).join(', '));
  }
  return `${lines.join('\n')}\n`;
}
