import { expect, test } from "bun:test";
import { MAX_TIMER_MS, setLongInterval } from "../../src/common/long-interval.ts";
import { nodesOfThisFile } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";

test("long interval - an interval longer than one timer can wait fires once per interval, not per timer", async () => {
  const fired: number[] = [];
  const started = performance.now();
  // A timer limit of 15 ms stands in for 2^31−1: the 120 ms interval needs several timers.
  const stop = setLongInterval(() => fired.push(performance.now() - started), 120, 15);
  await Bun.sleep(300);
  stop();
  expect(fired.length).toBe(2);
  expect(fired[0]!).toBeGreaterThanOrEqual(119);
  const count = fired.length;
  await Bun.sleep(150);
  expect(fired.length).toBe(count); // stopped
});

test("long interval - a short interval is an ordinary one", async () => {
  let fired = 0;
  const stop = setLongInterval(() => fired++, 20);
  await Bun.sleep(110);
  stop();
  expect(fired).toBeGreaterThanOrEqual(3);
  expect(fired).toBeLessThanOrEqual(6);
  expect(MAX_TIMER_MS).toBe(2_147_483_647);
});

const nodes = nodesOfThisFile();

test("long interval - Task_MemoryInfoToLog and Task_DataBackup past the timer limit do not fire at once", async () => {
  // 40000 minutes ≈ 27.8 days: beyond 2^31−1 ms, which Bun turned into 1 ms.
  const node = await nodes.start({ set: { Task_MemoryInfoToLog: 40000, Task_DataBackup: 40000 } });
  const client = await OwlClient.connect(node.tcpPort);
  for (let i = 0; i < 5; i++) {
    expect((await client.call(`set k${i} v`)).Status).toBe(200);
    await Bun.sleep(60);
  }
  client.close();
  const log = await Bun.file(`${node.logDir}/owlcache.log`).text();
  expect(await node.stop()).toBe(0);
  const events = (name: string) => log.split("\n").filter((line) => line.includes(`"event":"${name}"`)).length;
  expect(events("snapshot")).toBe(0); // the final one comes at the stop, after this read
  expect(node.stderr()).not.toContain("TimeoutOverflowWarning");
  expect(events("memory")).toBe(0);
});
