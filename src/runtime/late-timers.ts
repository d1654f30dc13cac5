// Why a timer fired whole windows late. The wall clock alone cannot tell: it jumps for an NTP step
// and for a suspend, and also looks late when the event loop was blocked. The monotonic clock runs
// only while the host does, and CLOCK_BOOTTIME (through /proc/uptime) also during a suspend.
import { readFileSync } from 'node:fs';

export interface Clocks {
  /** Wall-clock ms (Date.now). */
  wall(): number;
  /** Monotonic ms, which stand still while the host is suspended. */
  mono(): number;
  /** Ms the host has spent suspended since boot (boot time minus monotonic), or undefined where unknown. */
  suspended(): number | undefined;
}

export const systemClocks: Clocks = {
  // Looked up at each call, so tests that fake Date and timers are seen.
  wall: () => Date.now(),
  mono: () => performance.now(),
  suspended: () => {
    try {
      const uptimeS = Number.parseFloat(readFileSync('/proc/uptime', 'latin1'));
      return Number.isFinite(uptimeS) ? uptimeS * 1000 - Number(process.hrtime.bigint()) / 1e6 : undefined;
    } catch {
      return undefined;
    }
  },
};

/**
 * `blocked`: the process ran all along (monotonic time passed as wall time did) but did not get to
 * its timers. `suspend`: wall time passed while monotonic time stood still, and the boot clock saw
 * the host asleep. `clock`: the wall clock stepped on its own. `clock-or-suspend`: no boot clock.
 */
export type LateCause = 'blocked' | 'clock' | 'suspend' | 'clock-or-suspend';

/**
 * Sorts a late timer's delay: `wallLate` and `monoLate` are how late it fired by each clock (ms),
 * `suspendedMs` how long the host slept meanwhile (undefined: unknown).
 */
export function lateCause(wallLate: number, monoLate: number, suspendedMs: number | undefined): LateCause {
  // Running time accounts for most of the delay: something kept the event loop busy.
  if (monoLate >= wallLate / 2) return 'blocked';
  if (suspendedMs === undefined) return 'clock-or-suspend';
  return suspendedMs >= (wallLate - monoLate) / 2 ? 'suspend' : 'clock';
}
