import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Clocks } from '../src/runtime/late-timers.js';
import { offsetFor, Scheduler, type SchedulerEvents } from '../src/runtime/scheduler.js';

const T0 = Date.UTC(2026, 10, 22, 12, 0, 3); // 3 s into a 10 s window

/**
 * Each key's slot by the rule scheduler.ts states, worked out by hand: the slot is the 32-bit
 * FNV-1a hash of the key mod 4, which is its last hex digit mod 4. The offset is slot × (span / 4),
 * span = min(interval / 2, 5 s), or 0 when span / 4 < 1 s (intervals under 8 s):
 * 10 s and 60 s: span 5000, 1250 per slot; 9 s: 4500, 1125; 8 s: 4000, 1000; 7 s: 3500, 875 < 1000.
 *
 *   key        FNV-1a 32   last digit  mod 4
 *   cpu        0xf94af989  9           1
 *   memory     0x84e9f1ae  e = 14      2
 *   loadavg    0xcfc6a937  7           3
 *   diskspace  0x2f602b3a  a = 10      2
 *   iostat     0x55ad4eb3  3           3
 *   vmstat     0x527206ee  e = 14      2
 *   network    0x521886c5  5           1
 *   sockets    0xec0ff2cd  d = 13      1
 *
 * (FNV-1a 32: start at 0x811c9dc5; for each byte, xor it in, then multiply by 0x01000193 mod 2^32.)
 */
const SLOTS: Record<string, number> = { cpu: 1, memory: 2, loadavg: 3, diskspace: 2, iostat: 3, vmstat: 2, network: 1, sockets: 1 };

function events(): SchedulerEvents & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    timeout: (key) => log.push(`timeout ${key}`),
    error: (key, err) => log.push(`error ${key} ${err.message}`),
    skipped: (key, n, why, detail) => log.push(`skipped ${key} ${n} ${why}${detail?.culprit ? ` by ${detail.culprit.key}` : ''}`),
  };
}

/**
 * Clocks a test moves by hand: the wall clock is the faked Date; the monotonic clock follows it
 * except for what `step` takes out (a clock step or a suspend); `sleep` also adds to the boot clock.
 */
function handClocks() {
  let off = 0;
  let slept = 0;
  const clocks: Clocks = { wall: () => Date.now(), mono: () => Date.now() - T0 - off, suspended: () => slept };
  return {
    clocks,
    /** The wall clock steps forward; monotonic time does not. */
    step: (ms: number) => {
      off += ms;
      vi.setSystemTime(Date.now() + ms);
    },
    /** The host sleeps: wall time passes, monotonic time does not, the boot clock sees it. */
    sleep: (ms: number) => {
      off += ms;
      slept += ms;
      vi.setSystemTime(Date.now() + ms);
    },
    /** The process computes for `ms` without yielding: both clocks move, no timer can fire. */
    busy: (ms: number) => vi.setSystemTime(Date.now() + ms),
  };
}

describe('scheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs in windows aligned to the interval, at a fixed offset, with the window start as timestamp', async () => {
    const s = new Scheduler(events());
    const runs: { at: number; window: number }[] = [];
    s.add({ key: 'cpu', interval: 10_000, timeout: 10_000, run: async (window) => void runs.push({ at: Date.now(), window }) });
    await vi.advanceTimersByTimeAsync(35_000);
    await s.stop(0);
    // cpu's offset at 10 s is 1250 ms (worked out at SLOTS above). From 12:00:03 the first
    // window it can still reach is 12:00:10, run at 12:00:11.250; in 35 s (to 12:00:38): three.
    const offset = 1250;
    const window = (sec: number) => Date.UTC(2026, 10, 22, 12, 0, sec);
    expect(runs).toEqual([10, 20, 30].map((sec) => ({ at: window(sec) + offset, window: window(sec) })));
    for (const r of runs) {
      expect(r.window % 10_000).toBe(0);
      expect(r.at).toBe(r.window + offset);
    }
    expect(runs.map((r) => r.window - runs[0]!.window)).toEqual(runs.map((_, i) => i * 10_000));
    expect(runs[0]!.window).toBeGreaterThan(T0 - 10_000);
  });

  it('never gives a new job\'s first run the window before the one it was armed for (a timer a little ahead of the wall clock)', async () => {
    // node counts a timer's delay from the event loop's cached time, which can be a few ms older
    // than the moment the delay was computed: the timer then fires that much early. Here the
    // delay is computed 3 ms after the loop's time (the first reading is 3 ms ahead), so the timer
    // armed for 12:00:04.000 fires at 12:00:03.997, still in the previous window. A collector
    // restarted by a reload is such a new job; its first run must be 12:00:04's, not 12:00:03's
    // again (two points for one window, none for the next).
    let readings = 0;
    const clocks: Clocks = { wall: () => Date.now() + (readings++ === 0 ? 3 : 0), mono: () => Date.now() - T0, suspended: () => 0 };
    const s = new Scheduler(events(), clocks);
    const windows: number[] = [];
    vi.setSystemTime(T0 + 500); // 12:00:03.500: the next 1 s window is 12:00:04
    s.add({ key: 'busy', interval: 1000, timeout: 1000, run: async (window) => void windows.push(window) });
    await vi.advanceTimersByTimeAsync(2600);
    await s.stop(0);
    const at = (sec: number) => Date.UTC(2026, 10, 22, 12, 0, sec);
    expect(windows).toEqual([at(4), at(5), at(6)]);
  });

  it('spreads collectors over fixed slots in the first half of the window', () => {
    const keys = Object.keys(SLOTS);
    const offsets = keys.map((k) => offsetFor(k, 10_000));
    expect(offsets).toEqual(keys.map((k) => SLOTS[k]! * 1250));
    expect(new Set(offsets).size).toBeGreaterThanOrEqual(2);
    for (const o of offsets) {
      expect(o % 1250).toBe(0); // 5 s span / 4 slots
      expect(o).toBeLessThan(5000);
    }
    expect(offsetFor('cpu', 10_000)).toBe(offsetFor('cpu', 10_000));
    // Under 8 s, slots would be less than 1 s apart: every job starts with the window.
    for (const k of keys) expect([offsetFor(k, 1000), offsetFor(k, 7000)]).toEqual([0, 0]);
    expect(keys.map((k) => offsetFor(k, 8000))).toEqual(keys.map((k) => SLOTS[k]! * 1000)); // 4 s span / 4 slots
    expect(keys.map((k) => offsetFor(k, 9000))).toEqual(keys.map((k) => SLOTS[k]! * 1125)); // 4.5 s span / 4 slots
    expect(keys.map((k) => offsetFor(k, 60_000))).toEqual(offsets); // the span stops at 5 s
  });

  it('abandons a hung run at its timeout, never overlaps it, and keeps other jobs on their windows', async () => {
    const ev = events();
    const s = new Scheduler(ev);
    let hungCalls = 0;
    let hungSignal: AbortSignal | undefined;
    const okWindows: number[] = [];
    s.add({
      key: 'hung',
      interval: 1000,
      timeout: 400,
      run: (_w, signal) => {
        hungCalls++;
        hungSignal = signal;
        return new Promise<void>(() => undefined); // ignores its signal, never returns
      },
    });
    s.add({ key: 'ok', interval: 1000, timeout: 400, run: async (w) => void okWindows.push(w) });
    await vi.advanceTimersByTimeAsync(6000);
    expect(hungCalls).toBe(1);
    expect(hungSignal?.aborted).toBe(true);
    const st = s.stats('hung')!;
    expect(st.timeouts).toBe(1);
    expect(st.skipped).toBeGreaterThanOrEqual(4);
    expect(ev.log).toContain('timeout hung');
    expect(ev.log).toContain('skipped hung 1 stuck');
    // The healthy job ran in every one of its windows meanwhile.
    expect(okWindows.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < okWindows.length; i++) expect(okWindows[i]! - okWindows[i - 1]!).toBe(1000);
    await s.stop(0);
  });

  it('runs again in the next window when a timed-out run honours its signal', async () => {
    const s = new Scheduler(events());
    let calls = 0;
    let concurrent = 0;
    let maxConcurrent = 0;
    s.add({
      key: 'slow',
      interval: 1000,
      timeout: 300,
      run: (_w, signal) => {
        calls++;
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        return new Promise<void>((resolve, reject) =>
          signal.addEventListener('abort', () => {
            concurrent--;
            reject(signal.reason as Error);
          }),
        );
      },
    });
    await vi.advanceTimersByTimeAsync(5500);
    expect(calls).toBeGreaterThanOrEqual(4);
    expect(maxConcurrent).toBe(1);
    // Every finished run timed out; the last one may still be inside its timeout.
    expect(s.stats('slow')!.timeouts).toBeGreaterThanOrEqual(calls - 1);
    expect(s.stats('slow')!.timeouts).toBeLessThanOrEqual(calls);
    expect(s.stats('slow')!.errors).toBe(0);
    await s.stop(0);
  });

  it('counts an exception and keeps the schedule', async () => {
    const ev = events();
    const s = new Scheduler(ev);
    let calls = 0;
    s.add({ key: 'boom', interval: 1000, timeout: 500, run: async () => { calls++; throw new Error('no /proc/stat'); } });
    await vi.advanceTimersByTimeAsync(3500);
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(s.stats('boom')!.errors).toBe(calls);
    expect(ev.log.filter((l) => l === 'error boom no /proc/stat')).toHaveLength(calls);
    await s.stop(0);
  });

  it('skips the windows a clock jump passed over instead of replaying them', async () => {
    const ev = events();
    const s = new Scheduler(ev);
    const windows: number[] = [];
    s.add({ key: 'j', interval: 10_000, timeout: 5000, run: async (w) => void windows.push(w) });
    await vi.advanceTimersByTimeAsync(12_000);
    expect(windows).toHaveLength(1);
    // The wall clock jumps an hour ahead (NTP step, resume from suspend); timers do not notice.
    vi.setSystemTime(Date.now() + 3_600_000);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(windows).toHaveLength(2);
    expect(windows[1]! - windows[0]!).toBe(3_610_000);
    expect(s.stats('j')!.skipped).toBe(360);
    expect(ev.log).toContain('skipped j 360 clock');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(windows).toHaveLength(3);
    expect(windows[2]! - windows[1]!).toBe(10_000);
    await s.stop(0);
  });

  it('does not run a window twice when the clock steps back', async () => {
    const s = new Scheduler(events());
    const windows: number[] = [];
    s.add({ key: 'b', interval: 10_000, timeout: 5000, run: async (w) => void windows.push(w) });
    await vi.advanceTimersByTimeAsync(12_000);
    vi.setSystemTime(Date.now() - 4000);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(new Set(windows).size).toBe(windows.length);
    await s.stop(0);
  });

  it('says the event loop was blocked, naming the run that blocked it, when monotonic time moved as far as the wall clock', async () => {
    const ev = events();
    const hand = handClocks();
    const s = new Scheduler(ev, hand.clocks);
    let hogRuns = 0;
    // 1 s intervals: every job starts at its window's start. The hog computes 25 s on its 3rd run.
    s.add({ key: 'hog', interval: 1000, timeout: 1000, run: async () => void (++hogRuns === 3 && hand.busy(25_000)) });
    s.add({ key: 'j', interval: 1000, timeout: 1000, run: async () => undefined });
    await vi.advanceTimersByTimeAsync(6000);
    expect(hogRuns).toBeGreaterThanOrEqual(4);
    expect(ev.log.filter((l) => l.startsWith('skipped'))).toEqual(['skipped j 25 blocked by hog']);
    expect(s.stats('j')!.skipped).toBe(25);
    await s.stop(0);
  });

  it('blames a run blocked after its first await as well (the first run after an async init)', async () => {
    const ev = events();
    const hand = handClocks();
    const s = new Scheduler(ev, hand.clocks);
    let runs = 0;
    s.add({
      key: 'slowinit',
      interval: 1000,
      timeout: 1000,
      run: async () => {
        await Promise.resolve();
        if (++runs === 1) hand.busy(5000);
      },
    });
    s.add({ key: 'j', interval: 1000, timeout: 1000, run: async () => undefined });
    await vi.advanceTimersByTimeAsync(1500);
    await vi.advanceTimersByTimeAsync(3000);
    expect(ev.log.filter((l) => l.startsWith('skipped')).sort()).toEqual(['skipped j 5 blocked by slowinit', 'skipped slowinit 5 blocked by slowinit']);
    await s.stop(0);
  });

  it('tells a clock step from a suspend by the boot clock', async () => {
    const ev = events();
    const hand = handClocks();
    const s = new Scheduler(ev, hand.clocks);
    s.add({ key: 'j', interval: 10_000, timeout: 5000, run: async () => undefined });
    await vi.advanceTimersByTimeAsync(12_000);
    hand.step(3_600_000);
    await vi.advanceTimersByTimeAsync(10_000);
    hand.sleep(600_000);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ev.log).toEqual(['skipped j 360 clock', 'skipped j 60 suspend']);
    await s.stop(0);
  });

  it('says it cannot tell a clock step from a suspend without a boot clock', async () => {
    const ev = events();
    const hand = handClocks();
    const s = new Scheduler(ev, { ...hand.clocks, suspended: () => undefined });
    s.add({ key: 'j', interval: 10_000, timeout: 5000, run: async () => undefined });
    await vi.advanceTimersByTimeAsync(12_000);
    hand.sleep(600_000);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ev.log).toEqual(['skipped j 60 clock-or-suspend']);
    await s.stop(0);
  });
});
