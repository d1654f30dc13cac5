// Finds the file a log was rotated to: by inode among the usual rotated names, or by the
// fingerprint of the bytes already read (a copytruncate copy, or a file compressed at once).
import { closeSync, createReadStream, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { createGunzip, crc32 } from 'node:zlib';
import path from 'node:path';
import type { Fingerprint } from './offset-file.js';

const FP_BYTES = 256;
const ROTATED = /^(?:\.\d+|-\d{8}(?:\d{2})?)(?:\.gz)?$/;

export interface Candidate {
  readonly file: string;
  readonly ino: number;
  readonly size: number;
  readonly gz: boolean;
}

/** `<f>.0`, `<f>.1`, `<f>.1.gz`, `<f>-YYYYMMDD`, `<f>-YYYYMMDD.gz` (and further numbers), newest first. */
export function rotatedCandidates(log: string): Candidate[] {
  const dir = path.dirname(log);
  const base = path.basename(log);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: (Candidate & { mtime: number })[] = [];
  for (const n of names) {
    if (!n.startsWith(base) || !ROTATED.test(n.slice(base.length))) continue;
    const file = path.join(dir, n);
    try {
      const st = statSync(file);
      if (st.isFile()) out.push({ file, ino: st.ino, size: st.size, gz: n.endsWith('.gz'), mtime: st.mtimeMs });
    } catch {
      /* rotated away meanwhile */
    }
  }
  return out.sort((a, b) => b.mtime - a.mtime);
}

/** The fingerprint of the bytes before `offset` in an open file. */
export function fingerprintAt(fd: number, offset: number): Fingerprint | undefined {
  const len = Math.min(offset, FP_BYTES);
  if (len === 0) return undefined;
  const buf = Buffer.allocUnsafe(len);
  const n = readSync(fd, buf, 0, len, offset - len);
  if (n !== len) return undefined;
  return { crc: crc32(buf), len };
}

/** Whether an open file still holds, before `offset`, the bytes we read there. */
export function fingerprintMatches(fd: number, offset: number, fp: Fingerprint | undefined): boolean {
  if (fp === undefined || fp.len === 0) return true;
  if (fstatSync(fd).size < offset) return false;
  const now = fingerprintAt(fd, offset);
  return now !== undefined && now.len === fp.len && now.crc === fp.crc;
}

/** An uncompressed rotated file with this inode. */
export function findByInode(log: string, ino: number): Candidate | undefined {
  if (ino === 0) return undefined;
  return rotatedCandidates(log).find((c) => !c.gz && c.ino === ino);
}

/** A plain rotated file (other than `skipIno`) that holds our fingerprint before `offset`. */
export function findCopyByFingerprint(log: string, offset: number, fp: Fingerprint | undefined, skipIno: number): Candidate | undefined {
  if (fp === undefined || fp.len === 0) return undefined;
  for (const c of rotatedCandidates(log)) {
    if (c.gz || c.ino === skipIno || c.size < offset) continue;
    let fd: number;
    try {
      fd = openSync(c.file, 'r');
    } catch {
      continue;
    }
    try {
      if (fingerprintMatches(fd, offset, fp)) return c;
    } finally {
      closeSync(fd);
    }
  }
  return undefined;
}

/**
 * Streams a gzip file, checks the fingerprint before `offset`, then hands every byte after it to
 * `push`. Returns false (having pushed nothing) when the content is not ours.
 */
export async function readGzFrom(file: string, offset: number, fp: Fingerprint, push: (buf: Buffer) => void): Promise<boolean> {
  const fpStart = offset - fp.len;
  const fpBuf = Buffer.alloc(fp.len);
  let fpHave = 0;
  let pos = 0;
  let verified = fp.len === 0;
  const stream = createReadStream(file).pipe(createGunzip());
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let c = chunk;
      const end = pos + c.length;
      if (!verified) {
        if (end > fpStart) {
          const from = Math.max(0, fpStart - pos);
          const take = Math.min(c.length - from, fp.len - fpHave);
          c.copy(fpBuf, fpHave, from, from + take);
          fpHave += take;
          if (fpHave === fp.len) {
            if (crc32(fpBuf) !== fp.crc) return false;
            verified = true;
            c = c.subarray(from + take);
            pos = offset;
            if (c.length > 0) push(c);
            pos += c.length;
            continue;
          }
        }
        pos = end;
        continue;
      }
      push(c);
      pos = end;
    }
  } catch {
    return verified;
  } finally {
    stream.destroy();
  }
  return verified;
}
