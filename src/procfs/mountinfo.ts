// /proc/self/mountinfo: `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw`, one mount a line.

export interface Mount {
  /** major:minor of the mounted device. */
  readonly device: string;
  readonly mountPoint: string;
  readonly fsType: string;
  /** What was mounted (`/dev/sda1`, `server:/export`). */
  readonly source: string;
}

/** Undoes mountinfo's octal escapes (`\040` is a space); most fields have none. */
function unescape(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses /proc/self/mountinfo, in mount order. */
export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (f.length < 10 || sep < 0) continue;
    out.push({ device: f[2]!, mountPoint: unescape(f[4]!), fsType: f[sep + 1]!, source: unescape(f[sep + 2] ?? '') });
  }
  return out;
}
