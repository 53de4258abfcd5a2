import { expect, spyOn, test } from "bun:test";
import { startMemoryLog } from "../../src/ops/memory-log.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { systemClock } from "../../src/store/types.ts";
import { recordingLogger } from "../importers/backends.ts";

test("memory log - every Task_MemoryInfoToLog minutes: RSS, heap, keys, bytes; 0 = never", async () => {
  const db = new Keyspace(new MapStore(systemClock), systemClock);
  db.set(new TextEncoder().encode("k"), new TextEncoder().encode("value"));
  const { logger, lines } = recordingLogger();
  const stop = startMemoryLog(db.store, logger, 2, 20); // a "minute" of 20 ms: every 40 ms
  await Bun.sleep(100);
  stop();
  const count = lines.length;
  expect(count).toBeGreaterThanOrEqual(1);
  expect(lines[0]).toMatchObject({ level: "info", event: "memory", fields: { keys: 1, bytes: 6 } });
  expect(lines[0]!.fields!.rss).toBeGreaterThan(0);
  expect(lines[0]!.fields!.heapUsed).toBeGreaterThan(0);
  await Bun.sleep(60);
  expect(lines.length).toBe(count); // stopped

  const never = recordingLogger();
  startMemoryLog(db.store, never.logger, 0, 1)();
  await Bun.sleep(20);
  expect(never.lines).toEqual([]);
});

test("memory log - memory use that cannot be read is a warning, not the end of the node, and the next line comes as usual", async () => {
  // process.memoryUsage reads /proc: out of file descriptors it throws ("Failed to get memory
  // usage"), and a node at its open-files limit died of it in this timer.
  const db = new Keyspace(new MapStore(systemClock), systemClock);
  const failing = Object.assign(
    (): NodeJS.MemoryUsage => {
      throw new Error("Failed to get memory usage");
    },
    { rss: () => 0 },
  );
  const usage = spyOn(process, "memoryUsage").mockImplementationOnce(failing);
  const { logger, lines } = recordingLogger();
  const stop = startMemoryLog(db.store, logger, 1, 20);
  try {
    const deadline = Date.now() + 5000; // (a loaded machine may delay the timer well past 20 ms)
    while (!lines.some((line) => line.level === "info") && Date.now() < deadline) await Bun.sleep(10);
  } finally {
    stop();
    usage.mockRestore();
  }
  expect(lines[0]).toMatchObject({ level: "warn", event: "memory", fields: { message: "memory use unavailable" } });
  expect(lines.slice(1).some((line) => line.level === "info" && line.event === "memory")).toBe(true);
});
