// RSS with 1,000,000 keys (16-byte keys, 32-byte values, half with a one-hour TTL): redis-server
// (loaded with redis-cli --pipe) beside owlcache before (MapStore) and after (CompactStore).
// Run: taskset -c 1 bun run bench/store-rss.ts [keys]

import { unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeTree, median, ROOT, rssKiB, startOwl, startRedis, type Server } from "./store-servers.ts";

const KEYS = Number(process.argv[2] ?? 1_000_000);
const RUNS = Number(process.env.RUNS ?? 3);
/** RSS keeps falling for a while after a load (GC, allocator scavenging): measured once it has settled. */
const SETTLE_MS = Number(process.env.SETTLE_MS ?? 15_000);
const key = (i: number): string => `k:${i.toString().padStart(14, "0")}`; // 16 bytes
const VALUE = "v".repeat(32);

function respLoad(): string {
  const path = join(tmpdir(), `owl-rss-${process.pid}.resp`);
  const parts: string[] = [];
  for (let i = 0; i < KEYS; i++) {
    const k = key(i);
    parts.push(i % 2 === 0 ? `*5\r\n$3\r\nSET\r\n$16\r\n${k}\r\n$32\r\n${VALUE}\r\n$2\r\nEX\r\n$4\r\n3600\r\n` : `*3\r\n$3\r\nSET\r\n$16\r\n${k}\r\n$32\r\n${VALUE}\r\n`);
  }
  writeFileSync(path, parts.join(""));
  return path;
}

async function loadRedis(server: Server, file: string): Promise<void> {
  const run = Bun.spawnSync(["sh", "-c", `redis-cli -p ${server.port} --pipe < ${file}`]);
  if (!/errors: 0, replies: (\d+)/.test(run.stdout.toString())) throw new Error(`redis load failed: ${run.stdout}`);
}

/** Owl text protocol: `set k v`, and `expire k 3600` for every other key; windows of lines in flight. */
async function loadOwl(server: Server): Promise<void> {
  const WINDOW = 4000;
  let received = 0;
  let errors = 0;
  let skipBanner = true;
  let wake: () => void = () => {};
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port: server.port,
    socket: {
      data(_s, chunk) {
        for (let i = 0; i < chunk.length; i++) {
          if (chunk[i] !== 10) continue;
          if (skipBanner) skipBanner = false;
          else received++;
        }
        if (chunk.includes(53) && Buffer.from(chunk).includes('"Status":500')) errors++;
        wake();
      },
    },
  });
  let sent = 0;
  let i = 0;
  while (i < KEYS) {
    const lines: string[] = [];
    while (lines.length < WINDOW && i < KEYS) {
      lines.push(`set ${key(i)} ${VALUE}`);
      if (i % 2 === 0) lines.push(`expire ${key(i)} 3600`);
      i++;
    }
    sent += lines.length;
    socket.write(lines.join("\n") + "\n");
    while (received < sent - WINDOW) await new Promise<void>((r) => (wake = r));
  }
  while (received < sent) await new Promise<void>((r) => (wake = r));
  socket.end();
  if (errors) throw new Error(`owl load: ${errors} error replies`);
}

async function measure(start: () => Promise<Server>, load: (s: Server) => Promise<void>): Promise<{ empty: number; loaded: number }> {
  const server = await start();
  try {
    await Bun.sleep(500);
    const empty = rssKiB(server.pid);
    await load(server);
    await Bun.sleep(SETTLE_MS);
    return { empty, loaded: rssKiB(server.pid) };
  } finally {
    await server.stop();
  }
}

const file = respLoad();
const before = await beforeTree();
const results: Record<string, number[]> = { "redis-server": [], "owlcache before (MapStore)": [], "owlcache after (CompactStore)": [] };
/** RSS gained by loading (loaded − empty process): the keys' own cost, without the runtime's */
const gained: Record<string, number[]> = { "redis-server": [], "owlcache before (MapStore)": [], "owlcache after (CompactStore)": [] };
for (let run = 0; run < RUNS; run++) {
  const redis = await measure(startRedis, (s) => loadRedis(s, file));
  const after = await measure(() => startOwl("after", ROOT), loadOwl);
  const old = await measure(() => startOwl("before", before), loadOwl);
  results["redis-server"]!.push(redis.loaded);
  results["owlcache after (CompactStore)"]!.push(after.loaded);
  results["owlcache before (MapStore)"]!.push(old.loaded);
  gained["redis-server"]!.push(redis.loaded - redis.empty);
  gained["owlcache after (CompactStore)"]!.push(after.loaded - after.empty);
  gained["owlcache before (MapStore)"]!.push(old.loaded - old.empty);
  console.log(`run ${run + 1}: redis ${redis.loaded} KiB (empty ${redis.empty}), after ${after.loaded} KiB (empty ${after.empty}), before ${old.loaded} KiB (empty ${old.empty})`);
}
unlinkSync(file);
const redis = median(results["redis-server"]!);
const redisGained = median(gained["redis-server"]!);
console.log(`\n| server | RSS with ${KEYS} keys (median of ${RUNS}) | × redis-server | gained by loading | × redis-server |\n|---|---|---|---|---|`);
for (const [name, values] of Object.entries(results)) {
  const m = median(values);
  const g = median(gained[name]!);
  console.log(`| ${name} | ${(m / 1024).toFixed(1)} MiB | ${(m / redis).toFixed(2)} | ${(g / 1024).toFixed(1)} MiB | ${(g / redisGained).toFixed(2)} |`);
}
