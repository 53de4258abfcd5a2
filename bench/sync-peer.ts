// Issue 8: what a real peer process spends on the replication stream, per record and per
// request. The peer runs pinned to core 1; this process (pin it to core 0) sends it signed
// batches over HTTP through the real fetchTransport, as a sending node's link does. All keys are
// new or newer, so every record is applied. Reports the peer's CPU (from /proc) per record for
// each batch size, then a least-squares fit: µs per request + µs per record.
// RATE=records/s spaces the batches out as a steady stream does (default: back to back). With
// gaps between batches a peer costs about twice as much per record on this VM: the core's L2 goes
// cold within a millisecond of any pause, even one spent spinning in a register
// (bench/cache-toll.c), so something outside the guest uses it meanwhile. The extra time shows in
// the functions that touch the store and the digest; it is not the JIT or page faults
// (bench/README, seventh and eighth sessions).
// Usage: taskset -c 0 bun run bench/sync-peer.ts [batch sizes=200,1400,5600] [seconds=5]

import { readFileSync } from "node:fs";
import { syncAnswerLimit } from "../src/cluster/sync/anti-entropy.ts";
import { fetchTransport } from "../src/cluster/sync/client.ts";
import { Outbox } from "../src/cluster/sync/outbox.ts";
import { startNode } from "../test/helpers/node-process.ts";

const SIZES = (process.argv[2] ?? "200,1400,5600").split(",").map(Number);
const SECONDS = Number(process.argv[3] ?? 5);
const RATE = Number(process.env.RATE ?? Infinity);
const KEY = "bench-sync-key-0123456789";
const N = 100_000;
const enc = new TextEncoder();
const keys = Array.from({ length: N }, (_, i) => enc.encode(`key:${String(i).padStart(7, "0")}`));
const value = enc.encode("v".repeat(32));

const peer = await startNode({ set: { GroupDataSync: 1, GossipDataSyncAuthKey: KEY } });
Bun.spawnSync(["taskset", "-a", "-cp", "1", String(peer.proc.pid)]);
const transport = fetchTransport({ authKey: KEY, timeoutMs: 10_000, insecure: false, https: false, self: () => "127.0.0.1:1", clock: { now: () => Date.now() }, maxAnswerBytes: (path) => syncAnswerLimit(path, 16 * 1024 * 1024) });
const address = `127.0.0.1:${peer.httpPort}`;
/** the peer's CPU time so far, in clock ticks (1/100 s) */
const ticks = (): number => {
  const fields = readFileSync(`/proc/${peer.proc.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(fields[11]) + Number(fields[12]);
};

let next = 0;
/** Sends batches of `size` for `seconds`; → records sent. */
async function send(size: number, seconds: number): Promise<number> {
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < seconds * 1000) {
    if (sent + size > ((performance.now() - start) / 1000) * RATE) {
      await Bun.sleep(1);
      continue;
    }
    const outbox = new Outbox();
    const now = Date.now();
    for (let i = 0; i < size; i++) outbox.put(keys[next++ % N]!, value, now, 0);
    await transport.request(address, "/sync/batch", outbox.body(0, size, "127.0.0.1:1"));
    sent += size;
  }
  return sent;
}

try {
  await send(1000, 3); // warm-up: the peer compiles its hot paths
  const points: [number, number][] = [];
  for (const size of SIZES) {
    const before = ticks();
    const records = await send(size, SECONDS);
    const perRecord = ((ticks() - before) * 10_000) / records;
    points.push([1 / size, perRecord]);
    console.log(`batches of ${size}: peer ${perRecord.toFixed(2)} µs CPU per record (${records} records)`);
  }
  if (points.length >= 2) {
    // per record = a + b / size: a is the cost of a record, b of a request
    const n = points.length;
    const mx = points.reduce((s, [x]) => s + x, 0) / n;
    const my = points.reduce((s, [, y]) => s + y, 0) / n;
    const b = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
    console.log(`fit: ${(my - b * mx).toFixed(2)} µs per record + ${b.toFixed(0)} µs per request`);
  }
} finally {
  await peer.stop();
}
process.exit(0);
