import { describe, expect, test } from "bun:test";
import { decodeBatch } from "../../src/cluster/sync/codec.ts";
import { Outbox } from "../../src/cluster/sync/outbox.ts";
import type { SyncRecord } from "../../src/cluster/sync/records.ts";

const rec = (i: number, size = 8): SyncRecord =>
  i % 5 === 4
    ? { kind: "del", key: new TextEncoder().encode(`k${i}`), writtenAt: i, origin: "127.0.0.1:7721" }
    : { kind: "put", key: new TextEncoder().encode(`k${i}`), value: new Uint8Array(size).fill(i % 256), writtenAt: i, expiresAt: i % 2 ? 0 : 99_000 + i, origin: "127.0.0.1:7721" };

describe("sync outbox", () => {
  test("outbox - a batch body decodes to the records appended, in order", () => {
    const outbox = new Outbox();
    const records = Array.from({ length: 50 }, (_, i) => rec(i));
    for (const r of records) outbox.append(r);
    outbox.append({ kind: "flush", writtenAt: 77, origin: "127.0.0.1:7721" });
    const batch = decodeBatch(outbox.body(10, 51, "127.0.0.1:7721"));
    expect(batch.inOrder).toBe(true);
    expect(batch.records).toEqual([...records.slice(10), { kind: "flush", writtenAt: 77, origin: "127.0.0.1:7721" }]);
  });

  test("outbox - appended bytes are copies: the caller's views may change afterwards", () => {
    const outbox = new Outbox();
    const key = new TextEncoder().encode("key");
    const value = new TextEncoder().encode("value");
    outbox.append({ kind: "put", key, value, writtenAt: 1, expiresAt: 0, origin: "a" });
    key.fill(0);
    value.fill(0);
    const r = decodeBatch(outbox.body(0, 1, "a")).records[0]!;
    expect(r.kind === "put" && new TextDecoder().decode(r.value)).toBe("value");
  });

  test("outbox - trimming frees sent records and keeps the rest intact through growth and compaction", () => {
    const outbox = new Outbox();
    let sent = 0;
    for (let i = 0; i < 20_000; i++) {
      outbox.append(rec(i, 100));
      if (i % 700 === 699) {
        const to = outbox.cut(sent, 1000, 1 << 20);
        const batch = decodeBatch(outbox.body(sent, to, "127.0.0.1:7721"));
        expect(batch.records[0]!.writtenAt).toBe(sent);
        expect(batch.records.at(-1)!.writtenAt).toBe(to - 1);
        sent = to;
        outbox.trim(sent);
      }
    }
    expect(outbox.end).toBe(20_000);
    outbox.trim(outbox.end);
    expect(outbox.size).toBe(0);
  });

  test("outbox - cut keeps a batch within the byte limit, but always takes at least one record", () => {
    const outbox = new Outbox();
    for (let i = 0; i < 10; i++) outbox.append(rec(i * 2 + 1, 1000));
    const to = outbox.cut(0, 100, 3500);
    expect(to).toBeGreaterThan(0);
    expect(outbox.bytes(0, to)).toBeLessThanOrEqual(3500);
    expect(outbox.cut(0, 100, 10)).toBe(1);
  });
});
