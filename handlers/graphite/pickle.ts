// carbon's pickle protocol (port 2004): a 4-byte big-endian length, then a pickle of a list of
// (path, (timestamp, value)) tuples. Written with plain protocol-2 opcodes only (no globals, no
// memo), which carbon's safe unpickler accepts; messages are kept under 1 MiB.

const PROTO = 0x80;
const EMPTY_LIST = 0x5d; // ]
const MARK = 0x28; // (
const APPENDS = 0x65; // e
const BINUNICODE = 0x58; // X
const BININT = 0x4a; // J
const LONG1 = 0x8a;
const BINFLOAT = 0x47; // G
const TUPLE2 = 0x86;
const STOP = 0x2e; // .

/** carbon refuses larger messages. */
export const MAX_PICKLE_MESSAGE = 1024 * 1024;

export interface PickleItem {
  /** The path as UTF-8 bytes (callers cache these per metric name). */
  readonly path: Buffer;
  /** Unix seconds. */
  readonly timestamp: number;
  readonly value: number;
}

/** Bytes one item takes in the pickle. */
export function itemSize(item: PickleItem): number {
  const ts = item.timestamp >= -0x80000000 && item.timestamp <= 0x7fffffff ? 5 : 2 + 8;
  return 1 + 4 + item.path.length + ts + 9 + 1 + 1;
}

/**
 * Encodes items as length-prefixed pickle messages, each at most `maxBytes` (header included).
 * Returns the messages in order; an item that cannot fit in any message is reported back.
 */
export function encodePickleMessages(items: readonly PickleItem[], maxBytes = MAX_PICKLE_MESSAGE): { messages: Buffer[]; tooLarge: PickleItem[] } {
  const overhead = 4 + 2 + 1 + 1 + 1 + 1; // length, PROTO 2, ], (, e, .
  const messages: Buffer[] = [];
  const tooLarge: PickleItem[] = [];
  let start = 0;
  while (start < items.length) {
    let size = overhead;
    let end = start;
    while (end < items.length) {
      const s = itemSize(items[end]!);
      if (size + s > maxBytes) break;
      size += s;
      end++;
    }
    if (end === start) {
      tooLarge.push(items[start]!);
      start++;
      continue;
    }
    messages.push(encodeRange(items, start, end, size));
    start = end;
  }
  return { messages, tooLarge };
}

function encodeRange(items: readonly PickleItem[], start: number, end: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let o = 0;
  buf.writeUInt32BE(size - 4, o);
  o += 4;
  buf[o++] = PROTO;
  buf[o++] = 2;
  buf[o++] = EMPTY_LIST;
  buf[o++] = MARK;
  for (let i = start; i < end; i++) {
    const it = items[i]!;
    buf[o++] = BINUNICODE;
    buf.writeUInt32LE(it.path.length, o);
    o += 4;
    o += it.path.copy(buf, o);
    if (it.timestamp >= -0x80000000 && it.timestamp <= 0x7fffffff) {
      buf[o++] = BININT;
      buf.writeInt32LE(it.timestamp, o);
      o += 4;
    } else {
      buf[o++] = LONG1;
      buf[o++] = 8;
      buf.writeBigInt64LE(BigInt(it.timestamp), o);
      o += 8;
    }
    buf[o++] = BINFLOAT;
    buf.writeDoubleBE(it.value, o);
    o += 8;
    buf[o++] = TUPLE2; // (timestamp, value)
    buf[o++] = TUPLE2; // (path, (timestamp, value))
  }
  buf[o++] = APPENDS;
  buf[o++] = STOP;
  if (o !== size) throw new Error(`pickle size mismatch: wrote ${o} of ${size} bytes`);
  return buf;
}
