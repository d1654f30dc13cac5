// --pidfile for hosts without systemd: refuses to start beside a live sonde, removed on exit.
import { readFileSync, statSync, unlinkSync } from 'node:fs';
import { processAlive } from '../files/process-alive.js';
import { writeFileAtomic } from '../files/atomic-write.js';

/** Writes our pid; throws when the file names another live process. Returns a remover. */
export function takePidfile(file: string): () => void {
  let existing: number | undefined;
  let writtenAt: number | undefined;
  try {
    existing = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    writtenAt = statSync(file).mtimeMs;
  } catch {
    existing = undefined;
  }
  if (existing !== undefined && Number.isInteger(existing) && existing > 0 && existing !== process.pid && processAlive(existing, writtenAt)) {
    throw new Error(`another sonde is running (pid ${existing}, from ${file}); stop it first, or remove ${file} if that pid is not sonde`);
  }
  writeFileAtomic(file, `${process.pid}\n`);
  return () => {
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
    } catch {
      /* already gone */
    }
  };
}
