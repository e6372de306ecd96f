/** Small async helpers for bounded waits. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Waits for `p`, at most `ms` (Infinity: no bound), and no longer than `signal` stays unaborted.
 * Returns the value, 'timeout' or 'aborted'; never leaves a timer or listener behind.
 */
export async function race<T>(
  p: Promise<T>,
  ms: number,
  signal?: AbortSignal,
): Promise<T | 'timeout' | 'aborted'> {
  if (signal?.aborted) return 'aborted';
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<'timeout'>((resolve) => {
        if (Number.isFinite(ms))
          timer = setTimeout(() => resolve('timeout'), Math.min(MAX_TIMER_MS, Math.max(0, ms)));
      }),
      new Promise<'aborted'>((resolve) => {
        onAbort = () => resolve('aborted');
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** Sleeps `ms`, or less if `signal` aborts. */
export const sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
  await race(new Promise<void>(() => undefined), ms, signal);
};

/** Lets pending I/O callbacks (acks, timers) run. */
export const yieldToIo = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
