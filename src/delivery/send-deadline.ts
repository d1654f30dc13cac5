// One send with a deadline: the handler's promise, raced against send_timeout and against an
// abort (shutdown). The handler gets the signal, so it can give up its socket too.
import type { Sample } from '../model/sample.js';
import type { SendResult } from '../plugin-api.js';

/** Resolves with nothing (the whole batch accepted) or the count of samples accepted from its head. */
export type SendFn = (batch: readonly Sample[], signal: AbortSignal) => Promise<SendResult>;

/** Resolves with what `send` resolves with; rejects when it rejects, when `timeoutMs` passes, or when `ctrl` is aborted. */
export function sendWithDeadline(send: SendFn, batch: readonly Sample[], timeoutMs: number, ctrl: AbortController): Promise<SendResult> {
  return new Promise<SendResult>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(ctrl.signal.reason instanceof Error ? ctrl.signal.reason : new Error(String(ctrl.signal.reason)));
    };
    const timer = setTimeout(() => ctrl.abort(new Error(`send took longer than send_timeout (${timeoutMs} ms)`)), timeoutMs);
    if (ctrl.signal.aborted) return onAbort();
    ctrl.signal.addEventListener('abort', onAbort, { once: true });
    let started: Promise<SendResult>;
    try {
      started = send(batch, ctrl.signal);
    } catch (err) {
      // A handler that throws instead of rejecting fails the same way.
      started = Promise.reject(err);
    }
    started.then(
      (result) => {
        clearTimeout(timer);
        ctrl.signal.removeEventListener('abort', onAbort);
        resolve(result);
      },
      (err: unknown) => {
        clearTimeout(timer);
        ctrl.signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
