// Shared by the persistence tests: bulk pipelined writes over a real socket, reading data files
// with the real loader, and small file surgery (truncate, flip a bit).

import { readFileSync, writeFileSync } from "node:fs";
import type { ByteSource } from "../../src/persistence/file-window.ts";
import { loadData, type LoadResult } from "../../src/persistence/loader.ts";
import { ReplayClock } from "../../src/persistence/replay-clock.ts";
import { captureTombs, type SavedWatermark, type TombCapture } from "../../src/persistence/tombs.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { ManualClock } from "../../src/store/types.ts";

/**
 * Sends every line at once on one connection and resolves when all replies arrived (counted by
 * newlines), with the number of replies that were not Status 200.
 */
export async function pipeline(port: number, lines: string[], timeoutMs = 60_000): Promise<{ failures: number }> {
  const expected = lines.length + 1; // + the connect banner
  let seen = 0;
  let failures = 0;
  let carry = "";
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  // socket.write may take only part of a big buffer; the rest goes out on drain.
  let pending = Buffer.from(lines.join("\n") + "\n");
  const send = (s: { write(data: Uint8Array): number }): void => {
    while (pending.length > 0) {
      const n = s.write(pending);
      if (n <= 0) return;
      pending = pending.subarray(n);
    }
  };
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      drain: send,
      data(_s, chunk) {
        const text = carry + chunk.toString();
        const parts = text.split("\n");
        carry = parts.pop()!;
        for (const part of parts) {
          seen++;
          if (seen > 1 && !part.includes('"Status":200')) failures++;
        }
        if (seen >= expected) resolve();
      },
      close() {
        if (seen < expected) reject(new Error(`connection closed after ${seen} of ${expected} replies`));
      },
    },
  });
  send(socket);
  const timer = setTimeout(() => reject(new Error(`timed out after ${seen} of ${expected} replies`)), timeoutMs);
  try {
    await promise;
  } finally {
    clearTimeout(timer);
    socket.end();
  }
  return { failures };
}

/** Loads a data directory with the real loader into a fresh store at time `now` (no process). */
export function readDataDir(dir: string, now = Date.now(), repair = false): { store: MapStore; result: LoadResult } {
  const clock = new ReplayClock(new ManualClock(now));
  const store = new MapStore(clock);
  const result = loadData({ dir, store, clock, repair });
  return { store, result };
}

export function truncateFile(path: string, keep: number): void {
  writeFileSync(path, readFileSync(path).subarray(0, keep));
}

export function flipBit(path: string, offset: number): void {
  const bytes = readFileSync(path);
  bytes[offset] = bytes[offset]! ^ 0x10;
  writeFileSync(path, bytes);
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A tombstone as a snapshot saves it: key (binary string), write time, origin. */
export type TombRow = [key: string, at: number, origin: string];

/** A capture of these tombstones, given `perPart` at a time as a digest gives them bucket by bucket. */
export function captureOf(rows: readonly TombRow[], watermark: SavedWatermark | undefined, perPart = 7): TombCapture {
  const parts = Math.ceil(rows.length / perPart);
  return captureTombs(parts, (part, visit) => {
    for (const [k, at, origin] of rows.slice(part * perPart, (part + 1) * perPart)) visit(k, at, origin);
  }, rows.length > 0, -Infinity, watermark);
}

/** Everything a capture gives, walked to the end. */
export function drainCapture(capture: TombCapture): { rows: TombRow[]; watermark: SavedWatermark | undefined } {
  const rows: TombRow[] = [];
  while (capture.more((k, at, origin) => rows.push([k, at, origin])));
  return { rows, watermark: capture.watermark };
}

/** Reads of at most `most` bytes at a time, like a file on disk that returns short reads. */
export function source(bytes: Uint8Array, most = Infinity): ByteSource {
  return {
    size: bytes.length,
    read: (into, at, length, position) => {
      const n = Math.max(0, Math.min(length, most, bytes.length - position));
      into.set(bytes.subarray(position, position + n), at);
      return n;
    },
  };
}
