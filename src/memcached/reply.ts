// Parses memcached's text-protocol replies out of a receive buffer, one command's reply at a time.
// Pure: it returns undefined until the whole reply is in the buffer, and throws on bytes that are
// no reply memcached sends (the connection is then out of step and must be closed).

/**
 * What reply a command gets: `line` (set, add, incr, delete: one line), `retrieve` (get, gets:
 * VALUE blocks up to END), `stats` (STAT lines up to END).
 */
export type ReplyKind = 'line' | 'retrieve' | 'stats';

export interface ReplyValue {
  readonly key: string;
  readonly flags: number;
  readonly value: Buffer;
  readonly cas: bigint | undefined;
}

export interface Reply {
  /** The (last) status line: `STORED`, `END`, a number, `SERVER_ERROR …`. */
  readonly line: string;
  readonly values?: ReplyValue[];
  readonly stats?: [string, string][];
}

const CR = 13;
const LF = 10;

/** Where the line at `from` ends (its CR), -1 when it is not all there; throws when it does not end in CRLF. */
export function lineEnd(buf: Buffer, from: number): number {
  const i = buf.indexOf(LF, from);
  if (i < 0) return -1;
  if (i === from || buf[i - 1] !== CR) throw new Error(`memcached sent a line not ending in CRLF: ${JSON.stringify(buf.toString('latin1', from, Math.min(i, from + 80)))}`);
  return i - 1;
}

function isError(line: string): boolean {
  return line === 'ERROR' || line.startsWith('CLIENT_ERROR') || line.startsWith('SERVER_ERROR');
}

/** The reply starting at `pos`, and where it ends; undefined when it is not all there yet. */
export function parseReply(buf: Buffer, pos: number, kind: ReplyKind): { reply: Reply; end: number } | undefined {
  if (kind === 'line') {
    const e = lineEnd(buf, pos);
    if (e < 0) return undefined;
    return { reply: { line: buf.toString('latin1', pos, e) }, end: e + 2 };
  }
  const values: ReplyValue[] = [];
  const stats: [string, string][] = [];
  let at = pos;
  for (;;) {
    const e = lineEnd(buf, at);
    if (e < 0) return undefined;
    const line = buf.toString('latin1', at, e);
    if (line === 'END') return { reply: kind === 'stats' ? { line, stats } : { line, values }, end: e + 2 };
    if (isError(line)) {
      if (at !== pos) throw new Error(`memcached sent "${line}" in the middle of a reply`);
      return { reply: { line }, end: e + 2 };
    }
    if (kind === 'stats') {
      const m = /^STAT (\S+) (.*)$/.exec(line);
      if (!m) throw new Error(`memcached sent "${line.slice(0, 80)}" where a STAT line belongs`);
      stats.push([m[1]!, m[2]!]);
      at = e + 2;
      continue;
    }
    const m = /^VALUE (\S+) (\d+) (\d+)(?: (\d+))?$/.exec(line);
    if (!m) throw new Error(`memcached sent "${line.slice(0, 80)}" where a VALUE line belongs`);
    const bytes = Number(m[3]);
    const start = e + 2;
    if (buf.length < start + bytes + 2) return undefined;
    if (buf[start + bytes] !== CR || buf[start + bytes + 1] !== LF) throw new Error(`memcached's data block for ${m[1]} does not end after its ${bytes} bytes`);
    values.push({ key: m[1]!, flags: Number(m[2]), value: Buffer.from(buf.subarray(start, start + bytes)), cas: m[4] === undefined ? undefined : BigInt(m[4]) });
    at = start + bytes + 2;
  }
}
