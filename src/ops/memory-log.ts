// Memory use in the log every Task_MemoryInfoToLog minutes (SPEC §10): RSS, heap, keys, bytes.

import type { Logger } from "../log/logger.ts";
import { setLongInterval } from "../common/long-interval.ts";
import type { Store } from "../store/types.ts";

export function memoryInfo(store: Store): Record<string, number> {
  const memory = process.memoryUsage();
  const stats = store.stats();
  return { rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal, keys: stats.keys, bytes: stats.bytes };
}

/**
 * Starts the periodic log line; returns the stop function. `minutes` 0 = never. `minuteMs` lets
 * tests shrink a minute instead of waiting for one.
 */
export function startMemoryLog(store: Store, log: Logger, minutes: number, minuteMs = 60_000): () => void {
  if (minutes <= 0) return () => {};
  // Up to 10 days of minutes: longer than one timer can wait (see long-interval.ts).
  return setLongInterval(() => {
    let info: Record<string, number>;
    try {
      info = memoryInfo(store);
    } catch (error) {
      // (process.memoryUsage reads /proc: it throws when the process is out of descriptors)
      log.warn("memory", { message: "memory use unavailable", error });
      return;
    }
    log.info("memory", info);
  }, minutes * minuteMs);
}
