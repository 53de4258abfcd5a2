// setInterval for intervals of any length. Bun (like Node) cannot arm a timer for more than
// 2^31−1 ms (≈24.8 days): a longer delay is replaced by 1 ms with a TimeoutOverflowWarning, so
// `Task_MemoryInfoToLog 40000` logged every millisecond and `Task_DataBackup 40000` snapshotted
// after every write. Here a long interval is served by shorter timers, re-armed until the whole
// configured time has passed (measured on the monotonic clock), so the interval keeps its meaning.

/** The longest delay a timer accepts. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `fn` every `ms` milliseconds until the returned stop function is called. The timers are
 * unref'd: a periodic task never keeps a stopping process alive. `maxStepMs` lets tests shrink the
 * timer limit instead of waiting weeks.
 */
export function setLongInterval(fn: () => void, ms: number, maxStepMs = MAX_TIMER_MS): () => void {
  let due = performance.now() + ms;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const arm = (): void => {
    timer = setTimeout(fire, Math.max(1, Math.min(due - performance.now(), maxStepMs)));
    timer.unref?.();
  };
  const fire = (): void => {
    if (stopped) return;
    if (performance.now() >= due) {
      due += ms;
      // A process that slept (a suspended laptop) runs the task once, not once per missed turn.
      if (due <= performance.now()) due = performance.now() + ms;
      fn();
    }
    if (!stopped) arm();
  };
  arm();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
