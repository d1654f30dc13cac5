// What running one golden case comes to.
import { writeFileAtomic } from '../../files/atomic-write.js';
import { CaseError } from './case-files.js';
import { logArgs } from '../../logging/log-args.js';
import type { PluginLogFn, PluginLogger } from '../../plugin-api.js';

export type CaseStatus = 'pass' | 'fail' | 'updated' | 'broken';

export interface CaseResult {
  /** The case folder's name. */
  readonly name: string;
  readonly dir: string;
  readonly status: CaseStatus;
  /** For a failure: the diff and what the plugin logged; for a broken case: which file, and why; for an update: the files written. */
  readonly detail: string;
}

/** What the plugin logged while a case ran, shown with a failure (a warning often says why). */
export class CaseLog {
  readonly lines: string[] = [];
  // Both argument orders a plugin logger takes: ours (msg, fields) and pino's (fields, msg).
  private readonly add =
    (level: string): PluginLogFn =>
    (a: unknown, b?: unknown) => {
      const { msg, fields } = logArgs(a, b);
      if (this.lines.length < 50) this.lines.push(`${level}: ${msg}${fields && Object.keys(fields).length > 0 ? ` ${safeJson(fields)}` : ''}`);
    };
  readonly logger: PluginLogger = { debug: () => undefined, info: this.add('info'), warn: this.add('warn'), error: this.add('error') };

  /** The lines as an indented block for a failure's detail; empty when nothing was logged. */
  text(): string {
    return this.lines.length === 0 ? '' : `the plugin logged:\n${this.lines.map((l) => `  ${l}\n`).join('')}`;
  }
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_, x: unknown) => (x instanceof Error ? x.message : typeof x === 'bigint' ? String(x) : x));
  } catch {
    return '[fields that cannot be shown]';
  }
}

/**
 * Writes an expectation for --update, whole or not at all (a Ctrl-C or a full disk halfway leaves
 * the old file); a file that cannot be written is a broken case, not a crash.
 */
export function writeExpectation(file: string, data: string | Buffer): void {
  try {
    writeFileAtomic(file, data);
  } catch (err) {
    throw new CaseError(`${file}: cannot write the new expectation: ${(err as Error).message}`);
  }
}

/** Runs a case body, turning a CaseError into a broken case. */
export async function guarded(name: string, dir: string, body: () => Promise<CaseResult>): Promise<CaseResult> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof CaseError) return { name, dir, status: 'broken', detail: err.message };
    throw err;
  }
}
