// Pipelined GETs (16 per chunk) through the stream servers' path without sockets — look-ahead,
// parser, engine, compact store, encoder — with and without the store prefetch the servers do per
// chunk, in one process, taking turns (best of 12 passes each). Keys in order (loadgen's default)
// and shuffled (redis-benchmark -r, real traffic). See bench/README.md.
// Run: taskset -c 0 bun bench/prefetch.ts [keys=100000]
import { Engine } from "../src/commands/engine.ts";
import type { CommandSpec, Session } from "../src/commands/spec.ts";
import { commandTable } from "../src/commands/table.ts";
import { ByteWriter } from "../src/protocol/byte-writer.ts";
import { writeEnvelope } from "../src/protocol/envelope.ts";
import { commandEnd, LineFramer, lineFirstArguments, splitArgs } from "../src/protocol/owl-text.ts";
import { firstArguments, RespParser } from "../src/protocol/resp.ts";
import { writeRespReply } from "../src/protocol/resp-reply.ts";
import { CompactStore } from "../src/store/compact-store.ts";
import { Keyspace } from "../src/store/keyspace.ts";
import { systemClock } from "../src/store/types.ts";
import { prefetchChunk } from "../src/transport/look-ahead.ts";

const KEYS = Number(process.argv[2] ?? 100_000);
const PER_CHUNK = 16;
const enc = new TextEncoder();
const keyOf = (i: number): string => `key:${String(i).padStart(12, "0")}`; // 16 bytes
const keyspace = new Keyspace(new CompactStore(systemClock), systemClock);
const auth = { verifyPassword: () => true, issueToken: () => "token" };
const engine = new Engine({ table: commandTable, db: keyspace, limits: { maxKeyBytes: 4096, maxValueBytes: 1 << 24 }, auth } as never);
const value = enc.encode("v".repeat(32));
for (let i = 0; i < KEYS; i++) keyspace.set(enc.encode(keyOf(i)), value);

const out = new ByteWriter();
const respSession = { dialect: "resp", transport: "resp", client: "bench", canRead: true, canWrite: true, protocol: 2, id: 1 } as Session;
const owlSession = { dialect: "owl", transport: "tcp", client: "bench", canRead: true, canWrite: true } as Session;
const parser = new RespParser();
const respSink = {
  command(name: Uint8Array, args: Uint8Array[]): boolean {
    const spec = engine.lookupBytes("resp", name)!;
    writeRespReply(out, engine.execute(respSession, spec, spec.name, args) as never, false);
    return true;
  },
  protocolError(error: unknown): void {
    throw error;
  },
};
const framer = new LineFramer();
const host = JSON.stringify("127.0.0.1:7721");
const owlSink = {
  line(buf: Uint8Array, start: number, end: number): boolean {
    const nameEnd = commandEnd(buf, start, end);
    const spec = engine.lookupRange("owl", buf, start, nameEnd) as CommandSpec;
    const args = splitArgs(buf, nameEnd, end, spec.owlSplit);
    writeEnvelope(out, '"get"', args[0], engine.execute(owlSession, spec, spec.name, args) as never, host);
    out.byte(10);
    return true;
  },
  tooLong: (): boolean => true,
};

const protocols = {
  RESP: {
    request: (key: string) => `*2\r\n$3\r\nGET\r\n$${key.length}\r\n${key}\r\n`,
    find: firstArguments,
    run: (chunk: Uint8Array) => parser.push(chunk, respSink),
  },
  owl: {
    request: (key: string) => `get ${key}\n`,
    find: lineFirstArguments,
    run: (chunk: Uint8Array) => framer.push(chunk, owlSink),
  },
};

const inOrder = Array.from({ length: KEYS }, (_, i) => i);
const shuffled = inOrder.slice();
for (let i = KEYS - 1; i > 0; i--) {
  const j = Math.floor(Math.random() * (i + 1));
  [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
}

for (const [name, protocol] of Object.entries(protocols)) {
  /** ns per request over all chunks */
  const pass = (chunks: Uint8Array[], prefetch: boolean): number => {
    const t0 = Bun.nanoseconds();
    for (let c = 0; c < chunks.length; c++) {
      const chunk = chunks[c]!.slice(); // a fresh array per read, as the socket hands over
      if (prefetch) prefetchChunk(engine, chunk, protocol.find);
      protocol.run(chunk);
      out.reset();
    }
    return (Bun.nanoseconds() - t0) / (chunks.length * PER_CHUNK);
  };
  for (const [what, order] of [["keys in order", inOrder], ["keys shuffled", shuffled]] as const) {
    const chunks: Uint8Array[] = [];
    // At least 100k requests a pass, however few the keys: the JIT reaches its top tier alike.
    for (let r = 0; r * order.length < 100_000; r++) {
      for (let c = 0; c + PER_CHUNK <= order.length; c += PER_CHUNK) {
        chunks.push(enc.encode(order.slice(c, c + PER_CHUNK).map((i) => protocol.request(keyOf(i))).join("")));
      }
    }
    let off = Infinity;
    let on = Infinity;
    for (let round = 0; round < 12; round++) {
      off = Math.min(off, pass(chunks, false));
      on = Math.min(on, pass(chunks, true));
    }
    console.log(`${name} GET, ${KEYS} keys, ${what}: ${off.toFixed(0)} ns without prefetch, ${on.toFixed(0)} ns with (${(on / off).toFixed(2)}×)`);
  }
}
