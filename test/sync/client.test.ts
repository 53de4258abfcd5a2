// Sync's HTTP transport against small real servers standing in for peers that misbehave: an
// answer is read up to the longest a healthy peer sends, an error status before any body.

import { afterAll, describe, expect, test } from "bun:test";
import { syncAnswerLimit } from "../../src/cluster/sync/anti-entropy.ts";
import { answerMac, HEADER_MAC, HEADER_NONCE } from "../../src/cluster/sync/auth.ts";
import { fetchTransport } from "../../src/cluster/sync/client.ts";
import { AnswerTooLarge, CompressedAnswer } from "../../src/cluster/read-capped.ts";
import { startFakePeer, type FakePeer } from "../cluster/fake-peer.ts";

const KEY = "sync-client-test-key-0123";
const TIMEOUT = 2000;
const MAX_VALUE = 1024 * 1024;
const transport = fetchTransport({
  authKey: KEY,
  timeoutMs: TIMEOUT,
  insecure: false,
  https: false,
  self: () => "127.0.0.1:1",
  clock: { now: () => Date.now() },
  maxAnswerBytes: (path) => syncAnswerLimit(path, MAX_VALUE),
});

const peers: FakePeer[] = [];
afterAll(async () => {
  await Promise.all(peers.map((p) => p.stop()));
});

/** A peer that sends 64 KiB chunks for as long as it is read; `sent` counts what it gave. */
function endlessPeer(status = 200): FakePeer & { sent: () => number } {
  let sent = 0;
  const chunk = new Uint8Array(64 * 1024).fill(97);
  const peer = startFakePeer(() => new Response(new ReadableStream({ pull: (c) => { sent += chunk.length; c.enqueue(chunk); } }), { status }));
  peers.push(peer);
  return Object.assign(peer, { sent: () => sent });
}

const rejection = async (p: Promise<unknown>): Promise<Error> => {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  throw new Error("the request did not fail");
};

describe("sync client", () => {
  test("client - an answer sent without end is cut off at the path's limit, long before the timeout", async () => {
    for (const path of ["/sync/digest", "/sync/keys"] as const) {
      const peer = endlessPeer();
      const started = performance.now();
      const error = await rejection(transport.request(peer.address, path, new Uint8Array(0)));
      expect(error).toBeInstanceOf(AnswerTooLarge);
      expect(error.message).toBe(`${path} answer is over the ${syncAnswerLimit(path, MAX_VALUE)}-byte limit`);
      expect((error as AnswerTooLarge).declared).toBeUndefined();
      expect(performance.now() - started).toBeLessThan(TIMEOUT / 2);
      await Bun.sleep(20);
      // what the sockets buffered beyond the limit, no more
      expect(peer.sent()).toBeLessThan(syncAnswerLimit(path, MAX_VALUE) + 16 * 1024 * 1024);
    }
  });

  test("client - a declared length over the limit is refused unread", async () => {
    const big = new Uint8Array(syncAnswerLimit("/sync/fetch", MAX_VALUE) + 1);
    const peer = startFakePeer(() => new Response(big));
    peers.push(peer);
    const error = await rejection(transport.request(peer.address, "/sync/fetch", new Uint8Array(0)));
    expect(error).toBeInstanceOf(AnswerTooLarge);
    expect((error as AnswerTooLarge).declared).toBe(big.length);
  });

  test("client - an error status is reported by its code, its body not read beyond a short reason", async () => {
    const peer = endlessPeer(500);
    const started = performance.now();
    const error = await rejection(transport.request(peer.address, "/sync/batch", new Uint8Array(0)));
    expect(error.message).toBe(`/sync/batch answered 500: ${"a".repeat(200)}`);
    expect(performance.now() - started).toBeLessThan(TIMEOUT / 2);
    await Bun.sleep(20);
    expect(peer.sent()).toBeLessThan(16 * 1024 * 1024);
  });

  test("client - a compressed answer is refused for its encoding, never decoded, however well signed", async () => {
    const answer = new TextEncoder().encode('{"applied":1,"ignored":0}');
    const asked: (string | null)[] = [];
    const peer = startFakePeer((request) => {
      asked.push(request.headers.get("accept-encoding"));
      const nonce = request.headers.get(HEADER_NONCE) ?? "";
      return new Response(Bun.gzipSync(answer), { headers: { "content-encoding": "gzip", [HEADER_MAC]: answerMac(KEY, nonce, answer) } });
    });
    peers.push(peer);
    const error = await rejection(transport.request(peer.address, "/sync/batch", new Uint8Array(0)));
    expect(error).toBeInstanceOf(CompressedAnswer);
    expect(error.message).toBe("/sync/batch answer is compressed (Content-Encoding: gzip) though identity was asked for; not decoded");
    expect(asked).toEqual(["identity"]);
    // an error status with a compressed reason names the encoding instead of quoting it
    const failing = startFakePeer(() => new Response(Bun.gzipSync(new TextEncoder().encode("disk on fire")), { status: 500, headers: { "content-encoding": "gzip" } }));
    peers.push(failing);
    expect((await rejection(transport.request(failing.address, "/sync/batch", new Uint8Array(0)))).message).toBe("/sync/batch answered 500: (a body in Content-Encoding gzip, not read)");
  });

  test("client - a signed answer within the limit is handed back; a bad signature is refused", async () => {
    const answer = new TextEncoder().encode('{"applied":1,"ignored":0}');
    let forge = false;
    const peer = startFakePeer((request) => {
      const nonce = request.headers.get(HEADER_NONCE) ?? "";
      return new Response(answer, { headers: { [HEADER_MAC]: forge ? "0".repeat(64) : answerMac(KEY, nonce, answer) } });
    });
    peers.push(peer);
    expect(await transport.request(peer.address, "/sync/batch", new Uint8Array(0))).toEqual(answer);
    forge = true;
    expect((await rejection(transport.request(peer.address, "/sync/batch", new Uint8Array(0)))).message).toBe("/sync/batch answer has a bad signature");
  });
});
