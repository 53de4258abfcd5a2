// Arena pages under MaxMemory while value sizes drift (3000 → 1000 → 300 → 100 bytes and back),
// with a few keys of each phase kept hot (read again and again) so that they survive eviction and
// pin the pages their phase filled; the store's periodic tick (advance) runs every 1,000 writes,
// as the server's 100 ms timer would at 10,000 writes a second. Reports the arena and RSS after
// each phase, after 50 idle ticks, and the time of the ticks that compacted.
// Run: bun run bench/store-compaction.ts [MiB…]   (default: 4 64)

import { CompactStore } from "../src/store/compact-store.ts";
import { ManualClock } from "../src/store/types.ts";

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const MiB = 1 << 20;
const SIZES = [3000, 1000, 300, 100, 300, 1000, 3000];
/** one key in HOT_EVERY of a phase's first turnover is read on every 256th write from then on */
const HOT_EVERY = 50;

async function drift(maxMiB: number): Promise<void> {
  const clock = new ManualClock();
  const maxMemory = maxMiB * MiB;
  const store = new CompactStore(clock, { maxMemory, seed: 5 });
  const hot: Uint8Array[] = [];
  const tickMs: number[] = [];
  let n = 0;
  const rows: string[] = [];
  const mib = (bytes: number): string => (bytes / MiB).toFixed(1);
  const rss = (): number => {
    Bun.gc(true);
    return process.memoryUsage().rss;
  };
  const tick = (): void => {
    const moved = store.footprint().movedBlocks;
    const t = performance.now();
    store.advance(clock.now());
    if (store.footprint().movedBlocks > moved) tickMs.push(performance.now() - t);
  };
  for (const size of SIZES) {
    const writes = Math.floor((maxMemory / size) * 3);
    for (let i = 0; i < writes; i++, n++) {
      const key = new TextEncoder().encode(`drift:${n}`);
      store.set(key, new Uint8Array(size).fill(n % 251), 0, clock.now());
      if (i < maxMemory / size && i % HOT_EVERY === 0) hot.push(key);
      if (i % 256 === 0) for (const k of hot) store.get(k);
      if (i % 64 === 0) await nextTurn();
      if (i % 1000 === 0) tick();
    }
    await nextTurn();
    const busy = store.footprint().arenaBytes;
    for (let t = 0; t < 50; t++) {
      tick();
      await nextTurn();
    }
    rows.push(`| ${maxMiB} MiB | ${size} B | ${mib(store.stats().bytes)} | ${mib(busy)} | ${mib(store.footprint().arenaBytes)} | ${mib(rss())} |`);
  }
  console.log(`\n| MaxMemory | phase | data MiB | arena MiB at phase end | arena MiB after 50 idle ticks | RSS MiB |\n|---|---|---|---|---|---|`);
  for (const row of rows) console.log(row);
  tickMs.sort((a, b) => a - b);
  const p = (q: number): string => (tickMs.length ? tickMs[Math.min(tickMs.length - 1, Math.floor(q * tickMs.length))]!.toFixed(3) : "-");
  console.log(`ticks: ${tickMs.map((x) => x.toFixed(2)).join(" ")}`);
  console.log(`ticks that moved blocks: ${tickMs.length}, p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${p(1)} ms; blocks moved ${store.footprint().movedBlocks}`);
}

const sizes = process.argv.slice(2).map(Number);
for (const maxMiB of sizes.length ? sizes : [4, 64]) await drift(maxMiB);
