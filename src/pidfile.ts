// --pidfile for hosts without systemd: refuses to start beside a live sonde, removed on exit.
import { readFileSync, unlinkSync } from 'node:fs';
import { writeFileAtomic } from './atomic-write.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Writes our pid; throws when the file names another live process. Returns a remover. */
export function takePidfile(file: string): () => void {
  let existing: number | undefined;
  try {
    existing = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
  } catch {
    existing = undefined;
  }
  if (existing !== undefined && Number.isInteger(existing) && existing > 0 && existing !== process.pid && alive(existing)) {
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
