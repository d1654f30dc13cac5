import { describe, expect, it } from 'vitest';
import { sendWithDeadline } from '../src/delivery/send-deadline.js';

describe('send with a deadline', () => {
  it('resolves when the handler resolves', async () => {
    await expect(sendWithDeadline(async () => undefined, [], 1000, new AbortController())).resolves.toBeUndefined();
  });

  it('fails a send that hangs past send_timeout, and aborts the handler\'s signal', async () => {
    let seen: AbortSignal | undefined;
    const ctrl = new AbortController();
    const p = sendWithDeadline((_, signal) => ((seen = signal), new Promise<void>(() => undefined)), [], 30, ctrl);
    await expect(p).rejects.toThrow('send took longer than send_timeout (30 ms)');
    expect(seen?.aborted).toBe(true);
  });

  it('fails at once when aborted from outside (shutdown), with the reason given', async () => {
    const ctrl = new AbortController();
    const p = sendWithDeadline(() => new Promise<void>(() => undefined), [], 60_000, ctrl);
    ctrl.abort(new Error('shutdown deadline reached'));
    await expect(p).rejects.toThrow('shutdown deadline reached');
  });

  it('turns a handler that throws instead of rejecting, or rejects with a non-Error, into an Error', async () => {
    const thrower = () => {
      throw new Error('boom');
    };
    await expect(sendWithDeadline(thrower, [], 1000, new AbortController())).rejects.toThrow('boom');
    await expect(sendWithDeadline(() => Promise.reject('refused'), [], 1000, new AbortController())).rejects.toThrow('refused');
  });
});
