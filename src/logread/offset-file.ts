// A log's saved position, in logtail2's state format so that Logster's state files carry over.
//
//   <inode>\n<byte offset>\n                      what logtail2 reads and writes
//   sonde fp=<crc32 hex>:<len> skip=<0|1>\n        sonde's additions, which logtail2 ignores
//   sonde drain ino=<inode> off=<offset> fp=<crc32>:<len> idle=<unix ms>\n
//
// The fingerprint is the CRC-32 of the `len` bytes before the offset: bytes already read, which an
// appended-to log never changes. It tells a truncated-then-regrown file from the one we read, and
// finds a rotated copy (copytruncate, or compressed at once) whose inode is not the one we saved.
import { existsSync } from 'node:fs';
import { writeFileAtomic } from '../files/atomic-write.js';
import { FileTooLargeError, NotRegularFileError, readRegularFile } from '../files/regular-file.js';

export interface Fingerprint {
  readonly crc: number;
  readonly len: number;
}

export interface FileCursor {
  ino: number;
  offset: number;
  fp: Fingerprint | undefined;
  /** The offset is inside a line longer than the limit; skip to its newline. */
  skipping: boolean;
}

/** A rotated file that may still be written to (a late writer): read again until it goes quiet. */
export interface DrainCursor extends FileCursor {
  /** When it last grew (unix ms). */
  idleSince: number;
}

export interface LogState {
  current: FileCursor;
  draining: DrainCursor[];
}

export class StateFileError extends Error {}

const FP = /^([0-9a-f]{1,8}):(\d+)$/;

function parseFp(v: string | undefined): Fingerprint | undefined {
  const m = v === undefined ? null : FP.exec(v);
  return m ? { crc: parseInt(m[1]!, 16), len: Number(m[2]) } : undefined;
}

const fpText = (fp: Fingerprint | undefined) => (fp ? `${fp.crc.toString(16)}:${fp.len}` : '0:0');

/** Parses a state file's text; throws StateFileError when it is not one. */
export function parseState(text: string): LogState {
  const lines = text.split('\n');
  const ino = lines[0]?.trim() ?? '';
  const off = lines[1]?.trim() ?? '';
  if (!/^\d+$/.test(ino) || !/^\d+$/.test(off)) throw new StateFileError('expected an inode and a byte offset on its first two lines');
  const state: LogState = { current: { ino: Number(ino), offset: Number(off), fp: undefined, skipping: false }, draining: [] };
  for (const line of lines.slice(2)) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== 'sonde') continue;
    const kv = new Map(words.slice(1).map((w) => w.split('=', 2) as [string, string]));
    if (words[1]?.startsWith('drain')) {
      const dIno = Number(kv.get('ino'));
      const dOff = Number(kv.get('off'));
      if (!Number.isSafeInteger(dIno) || !Number.isSafeInteger(dOff)) continue;
      state.draining.push({ ino: dIno, offset: dOff, fp: parseFp(kv.get('fp')), skipping: kv.get('skip') === '1', idleSince: Number(kv.get('idle')) || 0 });
    } else {
      state.current.fp = parseFp(kv.get('fp'));
      state.current.skipping = kv.get('skip') === '1';
    }
  }
  return state;
}

export function formatState(s: LogState): string {
  let out = `${s.current.ino}\n${s.current.offset}\n`;
  out += `sonde fp=${fpText(s.current.fp)} skip=${s.current.skipping ? 1 : 0}\n`;
  for (const d of s.draining) out += `sonde drain ino=${d.ino} off=${d.offset} fp=${fpText(d.fp)} skip=${d.skipping ? 1 : 0} idle=${d.idleSince}\n`;
  return out;
}

/** Reads a state file: undefined when there is none. Throws StateFileError when it is damaged. */
export function readState(file: string): LogState | undefined {
  if (!existsSync(file)) return undefined;
  let text: string;
  try {
    // A FIFO in its place would block the run for ever: only a regular file of a sane size is read.
    text = readRegularFile(file, MAX_STATE_BYTES);
  } catch (err) {
    if (err instanceof NotRegularFileError) throw new StateFileError(`it is ${err.kind}, not a regular file`);
    if (err instanceof FileTooLargeError) throw new StateFileError(`it is larger than ${MAX_STATE_BYTES / 1024} KiB, far more than a position takes`);
    throw err;
  }
  return parseState(text);
}

/** A state file is a few lines per rotated file still being read. */
const MAX_STATE_BYTES = 1024 * 1024;

/** Writes atomically (temp file, fsync, rename): a crash leaves the old state or the new one. */
export function writeState(file: string, s: LogState): void {
  writeFileAtomic(file, formatState(s));
}
