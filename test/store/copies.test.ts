// Socket data arrives as Buffer, whose slice() is a view: whatever the server keeps must be a copy.
import { describe, expect, test } from "bun:test";
import { LineFramer } from "../../src/protocol/owl-text.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { ManualClock } from "../../src/store/types.ts";

describe("copies of socket bytes", () => {
  test("set - the store keeps its own copy of a Buffer value", () => {
    const store = new MapStore(new ManualClock());
    const chunk = Buffer.from("set key value-bytes");
    store.set(chunk.subarray(4, 7), chunk.subarray(8), 0, 1);
    chunk.fill(0);
    expect(new TextDecoder().decode(store.get(Buffer.from("key"))!.value)).toBe("value-bytes");
  });

  test("framer - a partial line held across chunks survives reuse of the chunk", () => {
    const framer = new LineFramer();
    const lines: string[] = [];
    const sink = { line: (b: Uint8Array, start: number, end: number) => (lines.push(new TextDecoder().decode(b.subarray(start, end))), true), tooLong: () => true };
    const first = Buffer.from("get par");
    framer.push(first, sink);
    first.fill(120);
    framer.push(Buffer.from("tial\n"), sink);
    expect(lines).toEqual(["get partial"]);
  });
});
