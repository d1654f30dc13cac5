// A handler's golden case: config.yaml naming a sink the kit provides (`port: ${SINK_TCP_PORT}`,
// `file: ${SINK_FILE}`, ...), samples.txt (the batches sent, split at blank lines) and
// expected.<sink>: the bytes the sink must have received once every batch was sent and the handler
// closed. Paths render with the prefix `servers` and the host `testhost`.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { handlerSchema, handlerSections } from '../../config/handler-section.js';
import { HandlerInstance } from '../../delivery/handler-instance.js';
import { NameTable, PathRenderer } from '../../model/naming.js';
import { SAMPLE_KINDS, type Sample, type SampleKind } from '../../model/sample.js';
import { RejectedSamplesError } from '../../plugin-api.js';
import type { AnyHandler } from '../../plugins/registry.js';
import { caseConfig, caseFile, CaseError } from './case-files.js';
import { bytesDiff } from './diff.js';
import { CaseLog, guarded, writeExpectation, type CaseResult } from './result.js';
import { settle, SINK_HOST, SINK_KINDS, SINK_PLACEHOLDERS, startSink, type Sink, type SinkKind } from './sinks.js';

export const CASE_PREFIX = 'servers';
export const CASE_HOST = 'testhost';

/** Reads samples.txt: `<path> <value> <unix seconds> [gauge|counter|rate] [precision]`, batches split at blank lines. */
export function readSamples(file: string): Sample[][] {
  const text = caseFile(file, 'the samples sent to the handler').toString('utf8');
  const tables = new Map<string, NameTable>();
  const batches: Sample[][] = [[]];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    const at = `${file}:${i + 1}`;
    if (line.startsWith('#')) return;
    if (line === '') {
      if (batches[batches.length - 1]!.length > 0) batches.push([]);
      return;
    }
    const f = line.split(/\s+/);
    if (f.length < 3 || f.length > 5) throw new CaseError(`${at}: expected "<path> <value> <unix seconds> [kind] [precision]", got ${JSON.stringify(line)}`);
    const [name, valueText, tsText] = f as [string, string, string];
    const value = Number(valueText);
    if (valueText === '' || (Number.isNaN(value) && valueText.toLowerCase() !== 'nan')) throw new CaseError(`${at}: the value ${JSON.stringify(valueText)} is not a number`);
    const ts = Number(tsText);
    if (!Number.isFinite(ts) || ts < 0) throw new CaseError(`${at}: the timestamp ${JSON.stringify(tsText)} is not unix seconds`);
    let kind: SampleKind = 'gauge';
    let precision: number | undefined;
    for (const extra of f.slice(3)) {
      if ((SAMPLE_KINDS as readonly string[]).includes(extra)) kind = extra as SampleKind;
      else if (/^\d{1,2}$/.test(extra)) precision = Number(extra);
      else throw new CaseError(`${at}: ${JSON.stringify(extra)} is neither a kind (${SAMPLE_KINDS.join(', ')}) nor a precision (0 to 20 decimals)`);
    }
    const dot = name.indexOf('.');
    const collector = dot < 0 ? '' : name.slice(0, dot);
    let table = tables.get(collector);
    if (!table) tables.set(collector, (table = new NameTable(collector)));
    batches[batches.length - 1]!.push({ name: table.get(dot < 0 ? name : name.slice(dot + 1)), value, kind, timestamp: Math.round(ts * 1000), precision });
  });
  if (batches[batches.length - 1]!.length === 0) batches.pop();
  if (batches.length === 0) throw new CaseError(`${file}: holds no sample (one a line: "<path> <value> <unix seconds> [kind] [precision]")`);
  return batches;
}

/** A RejectedSamplesError, also one from another copy of the API (a plugin bundling its own). */
function isRejection(err: unknown): boolean {
  return err instanceof RejectedSamplesError || (err instanceof Error && err.name === 'RejectedSamplesError');
}

/** Which sinks a config.yaml names, from its placeholders. */
function sinksNamed(text: string): SinkKind[] {
  return SINK_KINDS.filter((k) => SINK_PLACEHOLDERS[k].some((p) => text.includes(`\${${p}}`)));
}

/** Resolves `p` or fails after `ms`, so that a send that never settles cannot hang the kit. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export function runHandlerCase(plugin: AnyHandler, dir: string, opts: { readonly update: boolean }): Promise<CaseResult> {
  const name = path.basename(dir);
  return guarded(name, dir, async () => {
    const configFile = path.join(dir, 'config.yaml');
    const configText = existsSync(configFile) ? caseFile(configFile, 'the handler\'s options').toString('utf8') : '';
    const kinds = sinksNamed(configText);
    if (kinds.length === 0) {
      throw new CaseError(`${configFile}: names no sink for the handler to write to; use \${SINK_TCP_PORT}, \${SINK_UDP_PORT}, \${SINK_HTTP_URL} (or \${SINK_HTTP_PORT}) or \${SINK_FILE} in its options, with host ${SINK_HOST}`);
    }
    for (const k of SINK_KINDS) {
      const f = path.join(dir, `expected.${k}`);
      if (!kinds.includes(k) && existsSync(f)) throw new CaseError(`${f}: config.yaml names no ${k} sink (\${${SINK_PLACEHOLDERS[k][0]}}), so nothing can arrive there; remove the file or use the placeholder`);
    }
    const batches = readSamples(path.join(dir, 'samples.txt'));
    const sinks: Sink[] = [];
    try {
      for (const k of kinds) sinks.push(await startSink(k));
      const vars = new Map<string, string | number>([['CASE_DIR', dir], ['SINK_HOST', SINK_HOST]]);
      for (const s of sinks) for (const [k, v] of s.vars) vars.set(k, v);
      const { parsed } = caseConfig(configFile, handlerSchema(plugin), vars);
      const warnings: string[] = [];
      const sections = handlerSections(plugin, parsed, { key: plugin.name, fingerprint: '', warn: (_, m) => warnings.push(m) });
      const renderer = new PathRenderer({ prefix: CASE_PREFIX, host: CASE_HOST, suffix: '' });
      const paths = { render: renderer.render.bind(renderer), hostSegment: () => renderer.host };
      const log = new CaseLog();
      const parts = sections.map((s) => new HandlerInstance(s, paths, log.logger));
      const problems: string[] = [];
      // Samples the handler refused for good (RejectedSamplesError), found as the core finds them:
      // the batch is sent in halves until each refused sample is alone, and the rest goes through.
      const rejected: string[] = [];
      const sendOnce = async (part: HandlerInstance, samples: readonly Sample[], what: string): Promise<void> => {
        const ctrl = new AbortController();
        const ms = part.section.outbox.sendTimeout;
        const timer = setTimeout(() => ctrl.abort(new Error(`send_timeout of ${ms} ms`)), ms);
        try {
          await within(part.send(samples, ctrl.signal), ms + 1000, `send() of ${what}`);
        } catch (err) {
          if (!isRejection(err)) throw err;
          if (samples.length === 1) {
            const s = samples[0]!;
            rejected.push(`${paths.render(s.name)} ${s.value}: ${(err as Error).message}`);
            return;
          }
          const half = Math.ceil(samples.length / 2);
          await sendOnce(part, samples.slice(0, half), what);
          await sendOnce(part, samples.slice(half), what);
        } finally {
          clearTimeout(timer);
        }
      };
      try {
        for (const [i, batch] of batches.entries()) {
          for (const [p, part] of parts.entries()) {
            const choose = part.section.group?.choose;
            const mine = choose ? batch.filter((s) => choose(paths.render(s.name)) === p) : batch;
            if (mine.length === 0) continue;
            try {
              await sendOnce(part, mine, `batch ${i + 1}`);
            } catch (err) {
              problems.push(`batch ${i + 1}${parts.length > 1 ? ` to ${part.section.key}` : ''}: send() failed: ${(err as Error).message}`);
            }
          }
        }
      } finally {
        for (const part of parts) {
          try {
            await within(part.close(), 5000, 'close()');
          } catch (err) {
            problems.push(`close() failed: ${(err as Error).message}`);
          }
        }
      }
      await settle(sinks);
      const written: string[] = [];
      for (const s of sinks) {
        const file = path.join(dir, `expected.${s.kind}`);
        const got = s.received();
        const have = existsSync(file);
        if (!have && !opts.update) throw new CaseError(`${file}: missing (the bytes expected on the ${s.kind} sink; "sonde test --update" writes what arrived, for you to check)`);
        const diff = have ? bytesDiff(caseFile(file, `the bytes expected on the ${s.kind} sink`), got, `expected.${s.kind}`, `received on ${s.kind}`) : undefined;
        if (diff === '') continue;
        // Only a clean run is written down: what a failed send left on the sink is no expectation.
        if (opts.update && problems.length === 0) {
          writeExpectation(file, got);
          written.push(file);
        } else if (diff !== undefined) problems.push(`the ${s.kind} sink received other bytes than expected.${s.kind}:\n${diff}`);
      }
      // Refused samples are part of the expected output: expected.rejected lists them, one a line.
      const rejectedFile = path.join(dir, 'expected.rejected');
      const gotRejected = Buffer.from(rejected.map((l) => `${l}\n`).join(''));
      const haveRejected = existsSync(rejectedFile);
      const expectedRejected = haveRejected ? caseFile(rejectedFile, 'the samples the handler is expected to refuse') : Buffer.alloc(0);
      const rejectedDiff = bytesDiff(expectedRejected, gotRejected, 'expected.rejected', 'refused by the handler');
      if (rejectedDiff !== '') {
        if (opts.update && problems.length === 0) {
          writeExpectation(rejectedFile, gotRejected);
          written.push(rejectedFile);
        } else problems.push(`the handler refused other samples than expected.rejected lists (RejectedSamplesError; "<path> <value>: <message>" lines):\n${rejectedDiff}`);
      }
      const notes = warnings.map((w) => `warning: ${w}\n`).join('');
      if (problems.length > 0) return { name, dir, status: 'fail', detail: `${notes}${problems.join('\n')}\n${log.text()}` };
      if (written.length > 0) return { name, dir, status: 'updated', detail: written.map((f) => `wrote ${f}\n`).join('') };
      return { name, dir, status: 'pass', detail: `${batches.length} batch(es)` };
    } finally {
      for (const s of sinks) await s.close();
    }
  });
}
