// Fans samples out to handler slots: every slot gets every sample, except the parts of a sharded
// handler, which get the samples whose path hashes to them. A fault while routing to one slot is
// reported for that slot; the other slots still get their samples.
import type { HandlerSlot, PathSource } from '../delivery/handler-slot.js';
import type { MetricName, Sample } from '../model/sample.js';

export class Router {
  /** Part chosen per name, per sharded group (names are interned, so this is a cheap lookup). */
  private readonly chosen = new Map<string, WeakMap<MetricName, number>>();

  constructor(private readonly paths: PathSource) {}

  route(samples: readonly Sample[], slots: Iterable<HandlerSlot>): void {
    if (samples.length === 0) return;
    for (const slot of slots) {
      try {
        this.routeTo(samples, slot);
      } catch (err) {
        try {
          slot.events.internalError?.(`routing ${samples.length} samples to it (they may be lost for this handler)`, err instanceof Error ? err : new Error(String(err)));
        } catch {
          // Reporting failed too: the other slots must still get their samples.
        }
      }
    }
  }

  private routeTo(samples: readonly Sample[], slot: HandlerSlot): void {
    const group = slot.section.group;
    if (!group?.choose) {
      slot.outbox.push(samples);
      return;
    }
    let cache = this.chosen.get(group.name);
    if (cache === undefined) this.chosen.set(group.name, (cache = new WeakMap()));
    const mine: Sample[] = [];
    for (const s of samples) {
      let part = cache.get(s.name);
      if (part === undefined) cache.set(s.name, (part = group.choose(this.paths.render(s.name))));
      if (part === group.index) mine.push(s);
    }
    slot.outbox.push(mine);
  }

  /** Forget cached choices (the naming or the destinations changed). */
  reset(): void {
    this.chosen.clear();
  }
}
