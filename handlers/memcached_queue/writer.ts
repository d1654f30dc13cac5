// Writes items into esmond persist queues so that esmond's reader gets each exactly once, in order
// per queue. Per queue: one `incr last_added N` claims N slots, the N `set`s go pipelined, then
// `last_read` is read: a slot at or below it was passed by a reader (it polled between the incr
// and the set, or overshot an empty slot) and will never be read, so the item is taken back with
// `delete` (DELETED: nobody has it) and written again; NOT_FOUND means a reader took it. A slot whose
// set was refused stays empty (readers skip it). The first item not stored, in batch order, is
// where the batch stops: stored copies after it are deleted again, so the caller can report the
// head of the batch as accepted and have only the rest written again, in new slots. A set that got
// no reply is settled before the next write: a late STORED (the connection is kept for it) then
// `delete` tells whether a reader has the item (its samples are not written again) or not.
import { persistQueue, type MemcachedClient, type PluginLogger, type Sample, type StoreRequest } from '../../src/plugin-api.js';
import type { Items } from './items.js';

const { COUNTER_FLAGS, ITEM_FLAGS, itemKey, lastAddedKey, lastReadKey, parseCounter } = persistQueue;

/** Why a copy of an item is not in its queue. */
export interface CopyFailure {
  readonly queue: string;
  /** memcached refused the set (its reply), e.g. `SERVER_ERROR out of memory storing object`. */
  readonly refused?: string;
  /** The reader had passed the slot: the item was taken back, to be written again. */
  readonly passed?: boolean;
  /** A command failed (no connection, no reply). */
  readonly error?: Error;
}

export interface WriteOutcome {
  /** The index of the first item not stored in every queue it goes to; items.length when all were. */
  readonly failedAt: number;
  /** Per failed item index, why (the first failure of its copies). */
  readonly failures: Map<number, CopyFailure>;
  /** Per queue, the sets memcached refused and its reply. */
  readonly refusals: Map<string, { items: number; reply: string }>;
  /** Items a reader had passed (taken back and written again). */
  readonly passed: number;
  /** Items after the failure that a reader took before they could be taken back: read ahead of the failed one (not written again). */
  readonly readEarly: number;
  /** The reply `SERVER_ERROR object too large for cache` came back: items must be smaller. */
  readonly tooLarge: boolean;
  /** Queues whose counters were missing and were created. */
  readonly created: string[];
  /** Items whose set got no reply, found gone from their slot: a reader may have them, they are written again. */
  readonly maybeTwice: number;
}

/** A set that got no reply in time: what it held, and what a late reply said. */
interface Unsettled {
  readonly samples: readonly Sample[];
  /** true: a late STORED came; false: a late refusal; undefined: nothing yet. */
  stored: boolean | undefined;
}

/** The copies of a batch's items written to one queue, in slot order: parallel arrays, no object per copy. */
interface Copies {
  readonly queue: string;
  /** The item of each copy, and its slot: `first` + its index. */
  readonly item: readonly number[];
  readonly first: bigint;
  readonly key: readonly string[];
  readonly stored: boolean[];
}

/** The copies' indexes whose slot is below `lr` (`inclusive`: at or below). */
function below(c: Copies, of: readonly number[], lr: bigint, inclusive: boolean): number[] {
  return of.filter((j) => {
    const slot = c.first + BigInt(j);
    return inclusive ? slot <= lr : slot < lr;
  });
}

/** How long a writer waits, at most, for a reader standing on one of its slots to move on. */
const READER_WAIT_MS = 1000;
const READER_POLL_MS = 2;

export class QueueWriter {
  /** Queues whose last write left a slot empty (or that were not written yet): checked before a claim. */
  private readonly holes = new Set<string>();
  private readonly seen = new Set<string>();
  /** Sets that got no reply (maybe stored), by item key: settled before anything else is written. */
  private uncertain = new Map<string, Unsettled>();
  /** Samples a reader got although their send failed (a set that was late): not written again. */
  readonly delivered = new WeakSet<Sample>();
  /** Whether `delivered` was ever given a sample (a WeakSet cannot say): until then no sample is looked up in it. */
  deliveredAny = false;

  constructor(
    private readonly client: MemcachedClient,
    private readonly log: PluginLogger,
  ) {}

  /**
   * Writes each item to each of `queuesOf(item)`; never throws for what memcached does, it reports.
   * With `writeJson`, the items' JSON is not written yet: it writes that of the items given, and is
   * called once per queue, in turn, while the slots are being claimed and the sets of the queues
   * before are on their way, so that memcached stores one queue's items while the next is written.
   */
  async write(batch: readonly Sample[], items: Items, queuesOf: (item: number) => readonly string[], writeJson?: (which: readonly number[]) => void): Promise<WriteOutcome> {
    const out = { failedAt: items.count, failures: new Map<number, CopyFailure>(), refusals: new Map<string, { items: number; reply: string }>(), passed: 0, readEarly: 0, tooLarge: false, created: [] as string[], maybeTwice: 0 };
    if (this.uncertain.size > 0) {
      try {
        out.maybeTwice = await this.settle();
      } catch (err) {
        // Nothing is written while slots that may hold an item twice cannot be cleared.
        for (let i = 0; i < items.count; i++) out.failures.set(i, { queue: '', error: err as Error });
        out.failedAt = 0;
        return out;
      }
    }
    const byQueue = new Map<string, number[]>();
    for (let i = 0; i < items.count; i++) {
      for (const q of queuesOf(i)) {
        let list = byQueue.get(q);
        if (list === undefined) byQueue.set(q, (list = []));
        list.push(i);
      }
    }
    // Each queue's JSON in its own turn of the event loop: the claims go out first (the client
    // sends what is written in a tick at its end), and between two turns the replies that came
    // are heard and the sets of the queues ready are sent.
    let ready: Map<string, Promise<void>> | undefined;
    let turn = Promise.resolve();
    if (writeJson !== undefined) {
      ready = new Map();
      for (const [q, idx] of byQueue) {
        turn = turn.then(() => new Promise<void>((r) => setImmediate(r))).then(() => writeJson(idx));
        // A queue whose claim failed does not wait for its JSON: its failure is not left unheard.
        turn.catch(() => undefined);
        ready.set(q, turn);
      }
    }
    // Every queue at once: their claims go out together, and so do their sets once claimed.
    const copies: Copies[] = [];
    await Promise.all([...byQueue].map(([q, idx]) => this.writeQueue(q, idx, batch, items, out, ready?.get(q)).then((c) => void (c !== undefined && copies.push(c)))));
    // Not done while JSON is still to be written (for a queue whose claim failed): the items are the caller's again after this.
    await turn.catch(() => undefined);
    for (const i of out.failures.keys()) out.failedAt = Math.min(out.failedAt, i);
    if (out.failedAt < items.count) await this.takeBack(batch, items, copies, out.failedAt, out);
    return out;
  }

  /**
   * Takes every unanswered set out of its slot. DELETED: nobody has it, it is written again. Gone
   * after a late STORED: a reader has it, its samples are delivered. Gone with no reply at all:
   * unknowable, written again (counted: a reader may get it twice). Throws if memcached fails.
   */
  private async settle(): Promise<number> {
    const keys = [...this.uncertain.keys()].filter((k) => this.uncertain.get(k)!.stored !== false);
    const deleted = keys.length > 0 ? await this.client.deleteMany(keys) : [];
    let maybe = 0;
    for (let i = 0; i < keys.length; i++) {
      if (deleted[i]) continue;
      const u = this.uncertain.get(keys[i]!)!;
      if (u.stored === true) {
        for (const s of u.samples) this.delivered.add(s);
        this.deliveredAny = true;
      } else maybe++;
    }
    this.uncertain.clear();
    return maybe;
  }

  private unsettled(key: string, samples: readonly Sample[]): Unsettled {
    const u: Unsettled = { samples, stored: undefined };
    this.uncertain.set(key, u);
    return u;
  }

  private fail(out: { failures: Map<number, CopyFailure> }, item: number, why: CopyFailure): void {
    if (!out.failures.has(item)) out.failures.set(item, why);
  }

  private async writeQueue(queue: string, idx: number[], batch: readonly Sample[], items: Items, out: WriteOutcome & { created: string[]; passed: number; tooLarge: boolean }, json: Promise<void> | undefined): Promise<Copies | undefined> {
    let top: bigint;
    try {
      top = await this.claim(queue, idx.length, out.created);
    } catch (err) {
      // No slot is known to be claimed: nothing to clean up, the items go in new slots later.
      for (const i of idx) this.fail(out, i, { queue, error: err as Error });
      return undefined;
    }
    if (json !== undefined) {
      try {
        await json;
      } catch (err) {
        // Claimed and left empty (readers skip such slots): the items go in new slots later.
        this.holes.add(queue);
        for (const i of idx) this.fail(out, i, { queue, error: err as Error });
        return undefined;
      }
    }
    const first = top - BigInt(idx.length) + 1n;
    const n = idx.length;
    const key: string[] = new Array<string>(n);
    const requests: StoreRequest[] = new Array<StoreRequest>(n);
    // Slots as plain numbers where they are exact (always, short of 2^53 items in one queue).
    const firstN = Number(first);
    const exact = firstN + n < Number.MAX_SAFE_INTEGER;
    for (let j = 0; j < n; j++) {
      const k = itemKey(queue, exact ? firstN + j : first + BigInt(j));
      key[j] = k;
      requests[j] = { key: k, value: items.json(idx[j]!), flags: ITEM_FLAGS };
    }
    const c: Copies = { queue, item: idx, first, key, stored: new Array<boolean>(n).fill(false) };
    let results;
    const late = new Map<number, Unsettled>();
    const sets = this.client.storeMany('set', requests, (j, r) => {
      const u = late.get(j);
      if (u !== undefined) u.stored = r.stored;
    });
    // last_read, asked right behind the sets (memcached answers in order): where a reader was once they were in.
    const lrKey = lastReadKey(queue);
    const readAfter = this.client.get([lrKey]).then(
      (m) => m.get(lrKey)?.value,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
    try {
      results = await sets;
    } catch (err) {
      this.holes.add(queue);
      for (const i of idx) this.fail(out, i, { queue, error: err as Error });
      return c;
    }
    let refused = 0;
    let reply = '';
    let storedAny = false;
    for (let j = 0; j < n; j++) {
      const r = results[j]!;
      if (r.stored) {
        c.stored[j] = storedAny = true;
        continue;
      }
      const item = idx[j]!;
      if (r.error !== undefined) {
        late.set(j, this.unsettled(key[j]!, batch.slice(items.start[item]!, items.end[item]!)));
        this.fail(out, item, { queue, error: r.error });
      } else {
        refused++;
        reply ||= r.reply;
        if (r.reply.includes('too large')) out.tooLarge = true;
        this.fail(out, item, { queue, refused: r.reply });
      }
    }
    if (refused > 0) out.refusals.set(queue, { items: refused, reply });
    if (storedAny) await this.checkPassed(c, batch, items, out, await readAfter);
    if (c.stored.every(Boolean)) this.holes.delete(queue);
    else this.holes.add(queue);
    return c;
  }

  /**
   * Claims `n` slots with one incr, past `last_read` when a reader stands beyond `last_added` (it
   * overshot an empty last slot: the slots up to it count as read and would never be read), so
   * the `n` slots it returns end at the top. Creates the counters (with add) when there are none.
   */
  private async claim(queue: string, n: number, created: string[]): Promise<bigint> {
    const la = lastAddedKey(queue);
    let skip = 0n;
    // Only a queue whose last slot may be empty can have a reader past it (other writers' holes
    // are caught after the sets, by checkPassed): the first write, and after a failed one.
    if (this.holes.has(queue) || !this.seen.has(queue)) {
      const lrKey0 = lastReadKey(queue);
      const now = await this.client.get([la, lrKey0]);
      const added = parseCounter(now.get(la)?.value);
      const read = parseCounter(now.get(lrKey0)?.value);
      if (added !== undefined && read !== undefined && read > added) skip = read - added;
      this.seen.add(queue);
    }
    const top = await this.client.incr(la, BigInt(n) + skip);
    if (top !== undefined) return top;
    // NOT_FOUND: the incr changed nothing, so asking again after creating the counters is safe.
    const lrKey = lastReadKey(queue);
    const lr = parseCounter((await this.client.get([lrKey])).get(lrKey)?.value);
    const a = await this.client.add(la, String(lr ?? 0n), COUNTER_FLAGS);
    if (!a.stored && a.reply !== 'NOT_STORED') throw new Error(`memcached refused to create ${la} (${a.reply})`);
    if (lr === undefined) {
      const b = await this.client.add(lrKey, '0', COUNTER_FLAGS);
      if (!b.stored && b.reply !== 'NOT_STORED') throw new Error(`memcached refused to create ${lrKey} (${b.reply})`);
    }
    created.push(queue);
    const again = await this.client.incr(la, n);
    if (again === undefined) throw new Error(`memcached lost ${la} right after it was created (is it evicting? start it with -M)`);
    return again;
  }

  /**
   * Takes back stored items whose slot a reader has passed; they are written again. A slot below
   * `last_read` was settled by the reader (read and deleted, or found empty and skipped): an item
   * still there was skipped. On the slot `last_read` names, the reader may be reading it right
   * now: wait for it to move on (up to a second) before deciding, or the item could be read and written again.
   */
  private async checkPassed(c: Copies, batch: readonly Sample[], items: Items, out: WriteOutcome & { passed: number }, reading: Buffer | undefined | Error): Promise<void> {
    const queue = c.queue;
    const lrKey = lastReadKey(queue);
    const stored: number[] = [];
    for (let j = 0; j < c.stored.length; j++) if (c.stored[j]) stored.push(j);
    const last = c.first + BigInt(stored[stored.length - 1]!);
    let passed: number[] = [];
    let firstReading: Buffer | undefined | Error | null = reading;
    try {
      const end = performance.now() + READER_WAIT_MS;
      for (;;) {
        const raw = firstReading !== null ? firstReading : (await this.client.get([lrKey])).get(lrKey)?.value;
        firstReading = null;
        if (raw instanceof Error) throw raw;
        const lr = parseCounter(raw);
        if (lr === undefined) {
          // A reader cannot read a queue without last_read (esmond's len() fails): it starts at 0.
          await this.client.add(lrKey, '0', COUNTER_FLAGS);
          return;
        }
        if (lr < c.first) return;
        passed = below(c, stored, lr, false);
        const at = lr <= last ? stored.find((j) => c.first + BigInt(j) === lr) : undefined;
        if (at === undefined) break;
        // Gone: the reader has it (and may idle there, last_read on it, for long). Still there: it
        // is between its incr and its get, or its get and its delete; wait for it to move on.
        const atKey = c.key[at]!;
        if (!(await this.client.get([atKey])).has(atKey)) break;
        if (performance.now() > end) {
          passed = below(c, stored, lr, true);
          break;
        }
        await new Promise((r) => setTimeout(r, READER_POLL_MS));
      }
      if (passed.length === 0) return;
      const deleted = await this.client.deleteMany(passed.map((j) => c.key[j]!));
      passed = passed.filter((_, k) => deleted[k]);
    } catch (err) {
      // Unknown whether a reader passed them: settled before the next write (deleted, or found read).
      for (const j of stored) {
        c.stored[j] = false;
        const item = c.item[j]!;
        this.unsettled(c.key[j]!, batch.slice(items.start[item]!, items.end[item]!)).stored = true;
        this.fail(out, item, { queue, error: err as Error });
      }
      return;
    }
    for (const j of passed) {
      c.stored[j] = false;
      out.passed++;
      this.fail(out, c.item[j]!, { queue, passed: true });
    }
  }

  /** Deletes the stored copies of items from `from` on: they are written again with the rest. */
  private async takeBack(batch: readonly Sample[], items: Items, copies: readonly Copies[], from: number, out: { readEarly: number }): Promise<void> {
    const keys: string[] = [];
    const taken: number[] = [];
    for (const c of copies) {
      for (let j = 0; j < c.stored.length; j++) {
        if (c.stored[j] && c.item[j]! >= from) {
          keys.push(c.key[j]!);
          taken.push(c.item[j]!);
        }
      }
    }
    if (taken.length === 0) return;
    try {
      const deleted = await this.client.deleteMany(keys);
      for (let j = 0; j < taken.length; j++) {
        if (deleted[j]) continue;
        // A reader has it already: its samples are not written again.
        out.readEarly++;
        const it = taken[j]!;
        for (let i = items.start[it]!; i < items.end[it]!; i++) this.delivered.add(batch[i]!);
        this.deliveredAny = true;
      }
    } catch (err) {
      // Stored for sure: settled (deleted, or found read) before the next write.
      for (let j = 0; j < taken.length; j++) this.unsettled(keys[j]!, batch.slice(items.start[taken[j]!]!, items.end[taken[j]!]!)).stored = true;
      this.log.debug(`memcached_queue: could not take back ${keys.length} items written after a failed one (${(err as Error).message}); they are deleted before the next write`);
    }
  }
}
