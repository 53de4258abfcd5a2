// The owl and RESP request paths without sockets (frame/parse + engine + compact store + encode),
// for one or more source trees side by side, e.g. before/after a change:
//   git worktree add /tmp/before <commit> && bun bench/request-path-compare.ts /tmp/before .
// RANDOM_KEYS=1 shuffles the keys (as redis-benchmark -r and real traffic do) instead of walking
// them in write order. Trees with the pipeline prefetch (`prefetchChunk`) do it per
// chunk as their servers do.
// Timing is the best of 40 batches (after warm-up) rather than a mean: on a shared machine other
// load only ever adds time, so the minimum is the figure that compares. Nanoseconds per request.
// Trees older than the offset-based owl framer (5282861) are driven through their older API.

import { resolve } from "node:path";

const roots = (process.argv.length > 2 ? process.argv.slice(2) : ["."]).map((r) => resolve(r));
const enc = new TextEncoder();
const KEYS = 100_000;
const keyOf = (i: number) => `key:${String(i).padStart(12, "0")}`; // 16 bytes
// Chunks walk the whole key space in order (as loadgen's sequential keys do), so the store's
// lookups miss the CPU caches as they do under load rather than hitting 16 hot keys.
const CHUNKS = KEYS / 16;
const order = Array.from({ length: KEYS }, (_, i) => i);
if (process.env.RANDOM_KEYS) {
  for (let i = KEYS - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
}
const owlBatches: Uint8Array[] = [];
const respBatches: Uint8Array[] = [];
const owlOnes: Uint8Array[] = [];
const respOnes: Uint8Array[] = [];
for (let c = 0; c < CHUNKS; c++) {
  let owl = "";
  let resp = "";
  for (let i = 0; i < 16; i++) {
    const k = keyOf(order[c * 16 + i]!);
    owl += `get ${k}\n`;
    resp += `*2\r\n$3\r\nGET\r\n$${k.length}\r\n${k}\r\n`;
  }
  owlBatches.push(enc.encode(owl));
  respBatches.push(enc.encode(resp));
  owlOnes.push(enc.encode(`get ${keyOf((c * 7919) % KEYS)}\n`));
  respOnes.push(enc.encode(`*2\r\n$3\r\nGET\r\n$16\r\n${keyOf((c * 7919) % KEYS)}\r\n`));
}
let turn = 0;
/** The next chunk of a list, as a fresh array (Bun hands over a new one for every read). */
const next = (list: Uint8Array[]): Uint8Array => list[turn++ % CHUNKS]!.slice();

function best(requests: number, fn: () => void): number {
  for (let i = 0; i < 20_000; i++) fn();
  let min = Infinity;
  for (let round = 0; round < 40; round++) {
    const t0 = Bun.nanoseconds();
    for (let i = 0; i < 500; i++) fn();
    min = Math.min(min, (Bun.nanoseconds() - t0) / 500);
  }
  return min / requests;
}

for (const root of roots) {
  const { Engine } = await import(`${root}/src/commands/engine.ts`);
  const { commandTable } = await import(`${root}/src/commands/table.ts`);
  const { ByteWriter } = await import(`${root}/src/protocol/byte-writer.ts`);
  const resp = await import(`${root}/src/protocol/resp.ts`);
  const { RespParser } = resp;
  // (prefetchChunk lives in look-ahead.ts from the fifth session on, in stream-server.ts before)
  const streamServer = await import(`${root}/src/transport/look-ahead.ts`).catch(() => import(`${root}/src/transport/stream-server.ts`));
  const prefetch = (chunk: Uint8Array, find: unknown): void => {
    if (streamServer.prefetchChunk && find) streamServer.prefetchChunk(engine, chunk, find);
  };
  const { writeRespReply } = await import(`${root}/src/protocol/resp-reply.ts`);
  const owlText = await import(`${root}/src/protocol/owl-text.ts`);
  const { writeEnvelope } = await import(`${root}/src/protocol/envelope.ts`);
  const { Keyspace } = await import(`${root}/src/store/keyspace.ts`);
  const { CompactStore } = await import(`${root}/src/store/compact-store.ts`);
  const { systemClock } = await import(`${root}/src/store/types.ts`);

  const keyspace = new Keyspace(new CompactStore(systemClock), systemClock);
  const auth = { verifyPassword: () => true, issueToken: () => "token" };
  const engine = new Engine({ table: commandTable, db: keyspace, limits: { maxKeyBytes: 4096, maxValueBytes: 1 << 24 }, auth });
  const value = enc.encode("v".repeat(32));
  for (let i = 0; i < KEYS; i++) keyspace.set(enc.encode(keyOf(i)), value);

  const out = new ByteWriter();
  const respSession = { dialect: "resp", transport: "resp", client: "bench", canRead: true, canWrite: true, protocol: 2, id: 1 };
  const owlSession = { dialect: "owl", transport: "tcp", client: "bench", canRead: true, canWrite: true };
  const parser = new RespParser();
  const respSink = {
    command(name: Uint8Array, args: Uint8Array[]) {
      const spec = engine.lookupBytes("resp", name);
      writeRespReply(out, engine.execute(respSession, spec, spec.name, args), false);
      return true;
    },
    protocolError(error: unknown) {
      throw error;
    },
  };
  const host = JSON.stringify("127.0.0.1:7721");
  const owlLine = (buf: Uint8Array, start: number, end: number): boolean => {
    let spec;
    let args: Uint8Array[];
    if (owlText.commandEnd) {
      const nameEnd = owlText.commandEnd(buf, start, end);
      spec = engine.lookupRange("owl", buf, start, nameEnd);
      args = owlText.splitArgs(buf, nameEnd, end, spec.owlSplit);
    } else {
      const line = buf.subarray(start, end);
      const { name, argsStart } = owlText.commandWord(line);
      spec = engine.lookupBytes("owl", name);
      args = owlText.splitArgs(line, argsStart, spec.owlSplit);
    }
    writeEnvelope(out, '"get"', args[0], engine.execute(owlSession, spec, spec.name, args), host);
    out.byte(10);
    return true;
  };
  const owlSink = owlText.commandEnd
    ? { line: owlLine, tooLong: () => true }
    : { line: (line: Uint8Array) => owlLine(line, 0, line.length), tooLong: () => true };
  const framer = new owlText.LineFramer();

  const figures = {
    "owl get, 16 per chunk": best(16, () => {
      const chunk = next(owlBatches);
      prefetch(chunk, owlText.lineFirstArguments);
      framer.push(chunk, owlSink);
      out.reset();
    }),
    "owl get, 1 per chunk": best(1, () => (framer.push(next(owlOnes), owlSink), out.reset())),
    "RESP GET, 16 per chunk": best(16, () => {
      const chunk = next(respBatches);
      prefetch(chunk, resp.firstArguments);
      parser.push(chunk, respSink);
      out.reset();
    }),
    "RESP GET, 1 per chunk": best(1, () => (parser.push(next(respOnes), respSink), out.reset())),
  };
  for (const [what, ns] of Object.entries(figures)) console.log(`${root}  ${what}: ${ns.toFixed(0)} ns/request`);
}
