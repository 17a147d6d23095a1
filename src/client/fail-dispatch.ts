/**
 * Fail a dispatch before any endpoint was involved (no healthy upstream, mesh
 * closed). undici's handler contract expects errors after dispatch() returns,
 * so the error is delivered on a microtask, with a controller that reports
 * the request as aborted.
 */
import type { Dispatcher } from 'undici';

export function failDispatch(handler: Dispatcher.DispatchHandler, err: Error): void {
  const controller: Dispatcher.DispatchController = {
    aborted: true,
    paused: false,
    reason: err,
    abort() {},
    pause() {},
    resume() {},
  };
  queueMicrotask(() => handler.onResponseError?.(controller, err));
}
