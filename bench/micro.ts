// mitata micro-benchmarks of the hot paths: owl line framing and splitting, envelope encoding,
// store get/set, timer wheel schedule/advance. Run: bun run bench
import { bench, group, run, do_not_optimize } from "mitata";
import { bulk, StoredBulk } from "../src/commands/reply.ts";
import { ByteWriter } from "../src/protocol/byte-writer.ts";
import { writeEnvelope } from "../src/protocol/envelope.ts";
import { commandEnd, LineFramer, splitArgs, type LineSink } from "../src/protocol/owl-text.ts";
import { MapStore } from "../src/store/map-store.ts";
import { TimerWheel } from "../src/store/timer-wheel.ts";
import { ManualClock } from "../src/store/types.ts";

const enc = new TextEncoder();
const N = 100_000;
const keys = Array.from({ length: N }, (_, i) => enc.encode(`key:${String(i).padStart(7, "0")}`));
const value = enc.encode("v".repeat(32));

group("owl text codec", () => {
  const chunk = enc.encode("get key:0000001\n".repeat(16));
  const framer = new LineFramer();
  let lines = 0;
  const sink: LineSink = {
    line(buf, start, end) {
      lines += splitArgs(buf, commandEnd(buf, start, end), end).length;
      return true;
    },
    tooLong: () => true,
  };
  bench("frame + split 16 pipelined gets", () => {
    framer.push(chunk, sink);
    return lines;
  });
  const setLine = enc.encode(`set key:0000001 ${"v".repeat(32)}`);
  bench("split a set line (greedy value)", () => {
    do_not_optimize(splitArgs(setLine, commandEnd(setLine, 0, setLine.length), setLine.length, 2));
  });
});

group("envelope", () => {
  const w = new ByteWriter();
  const reply = bulk(value, 1_800_000_000_000);
  const host = JSON.stringify("127.0.0.1:7720");
  bench("write get envelope (32-byte ASCII value)", () => {
    w.reset();
    writeEnvelope(w, '"get"', keys[1]!, reply, host);
  });
  // What the TCP server writes: a value read in place from the store's bytes (the one-pass path).
  const page = new Uint8Array(4096);
  page.set(value, 1000);
  const stored = Object.assign(new StoredBulk(), { bytes: page, start: 1000, length: value.length, writtenAt: 1_800_000_000_000 });
  bench("write get envelope (32-byte ASCII value read in place)", () => {
    w.reset();
    writeEnvelope(w, '"get"', keys[1]!, stored, host);
  });
  const unicode = bulk(enc.encode("日本語の値 with \"quotes\""), 1_800_000_000_000);
  bench("write get envelope (non-ASCII value, slow path)", () => {
    w.reset();
    writeEnvelope(w, '"get"', keys[1]!, unicode, host);
  });
});

group("store (MapStore)", () => {
  const clock = new ManualClock();
  const store = new MapStore(clock);
  for (const key of keys) store.set(key, value, 0, clock.now());
  let i = 0;
  bench("get hit", () => do_not_optimize(store.get(keys[i++ % N]!)));
  const misses = keys.map((k) => enc.encode(`miss:${new TextDecoder().decode(k)}`));
  bench("get miss", () => do_not_optimize(store.get(misses[i++ % N]!)));
  bench("set overwrite", () => store.set(keys[i++ % N]!, value, 0, 1));
  bench("set with TTL (wheel schedule)", () => store.set(keys[i++ % N]!, value, clock.now() + 60_000, 1));
});

group("timer wheel", () => {
  const wheel = new TimerWheel(1_800_000_000_000);
  let id = 0;
  bench("schedule / reschedule", () => wheel.schedule(id++ % N, 1_800_000_000_000 + (id % 3_600_000)));
  bench("advance 1 s with 10k due timers", function* () {
    yield {
      [0]() {
        const w = new TimerWheel(0);
        for (let t = 0; t < 10_000; t++) w.schedule(t, (t % 1000) + 1);
        return w;
      },
      bench(w: TimerWheel) {
        return w.advance(1010, () => {});
      },
    };
  });
});

await run();
