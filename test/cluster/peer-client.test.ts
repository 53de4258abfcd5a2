import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { brotliCompressSync } from "node:zlib";
import { parsePeerAddress } from "../../src/cluster/address.ts";
import { maxAnswerBytes } from "../../src/cluster/cluster.ts";
import { PeerClient } from "../../src/cluster/peer-client.ts";
import { bulk } from "../../src/commands/reply.ts";
import { encodeEnvelopeLine } from "../../src/protocol/envelope.ts";
import { selfSignedCert, type TestCert } from "./certs.ts";
import { hangingPeer, refusedAddress, startFakePeer, valuePeer, type FakePeer } from "./fake-peer.ts";

const TIMEOUT = 300;
const client = (extra: Partial<ConstructorParameters<typeof PeerClient>[0]> = {}) =>
  new PeerClient({ timeoutMs: TIMEOUT, maxAnswerBytes: maxAnswerBytes(4 * 1024 * 1024, 4096), https: false, insecureSkipVerify: false, ...extra });
const addr = (text: string) => parsePeerAddress(text)!;
const WRITTEN = Date.UTC(2026, 10, 26, 10, 0, 0, 123);
const TRICKY = '100% "quoted" \\ back\nnew line\t日本語 🦉 %41 %zz';

const peers: FakePeer[] = [];
let cert: TestCert;
beforeAll(() => {
  cert = selfSignedCert();
});
afterAll(async () => {
  await Promise.all(peers.map((p) => p.stop()));
  cert.remove();
});
function track(peer: FakePeer): FakePeer {
  peers.push(peer);
  return peer;
}

describe("peer client", () => {
  test("peer get - a value travels intact with its time; a miss is a miss", async () => {
    const peer = track(valuePeer({ "k %/?&=+ 日": [TRICKY, WRITTEN] }));
    expect(await client().getKey(addr(peer.address), "k %/?&=+ 日")).toEqual({ kind: "value", data: TRICKY, writtenAt: WRITTEN, keyCreateTime: new Date(WRITTEN).toISOString() });
    expect(await client().getKey(addr(peer.address), "nope")).toEqual({ kind: "missing" });
    expect(peer.requests[0]).toBe(`?cmd=get&key=${encodeURIComponent("k %/?&=+ 日")}`);
  });

  test("peer get - refused", async () => {
    const outcome = await client().getKey(addr(await refusedAddress()), "k");
    expect(outcome).toEqual({ kind: "failed", reason: "refused", message: "refused: connection refused" });
  });

  test("peer get - a hanging peer costs the timeout, not more", async () => {
    const peer = track(hangingPeer());
    const started = performance.now();
    const outcome = await client().getKey(addr(peer.address), "k");
    const took = performance.now() - started;
    expect(outcome).toEqual({ kind: "failed", reason: "timeout", message: `timeout: no answer within ${TIMEOUT} ms` });
    expect(took).toBeGreaterThanOrEqual(TIMEOUT - 5);
    expect(took).toBeLessThan(TIMEOUT + 100);
  });

  test("peer get - a body that stops halfway is a timeout too", async () => {
    const peer = track(startFakePeer(() => new Response(new ReadableStream({ async pull(c) { c.enqueue(new TextEncoder().encode('{"Status":200,')); await Bun.sleep(5000); } }))));
    const started = performance.now();
    const outcome = await client().getKey(addr(peer.address), "k");
    expect(outcome.kind === "failed" && outcome.reason).toBe("timeout");
    expect(performance.now() - started).toBeLessThan(TIMEOUT + 100);
  });

  test("peer get - garbage is a bad answer", async () => {
    for (const body of ["<html>oops</html>", '{"Status":200,"Data":"v","KeyCreateTime":"not a time"}', "{\"Status\":200,\"Data\":\"100%", "\u0000\u0001"]) {
      const peer = track(startFakePeer(() => new Response(body)));
      const outcome = await client().getKey(addr(peer.address), "k");
      expect(outcome.kind === "failed" && outcome.reason).toBe("bad answer");
    }
  });

  test("peer get - the limit holds the largest answer a healthy peer sends: largest key and value, every byte escaped", async () => {
    const maxValue = 1024 * 1024;
    const maxKey = 4096;
    const host = `${"h".repeat(253)}:65535`;
    for (const byte of [0x01, 0xff, 0x22]) {
      // a control byte is written \u0001 (6 bytes), an invalid UTF-8 byte U+FFFD (3), a quote \" (2)
      const value = new Uint8Array(maxValue).fill(byte);
      const key = new Uint8Array(maxKey).fill(byte);
      const line = encodeEnvelopeLine("get", key, bulk(value, WRITTEN), host);
      expect(line.length).toBeLessThanOrEqual(maxAnswerBytes(maxValue, maxKey));
    }
    // and a peer that sends it is read whole
    const data = "\u0001".repeat(maxValue);
    const peer = track(valuePeer({ k: [data, WRITTEN] }));
    const outcome = await client({ maxAnswerBytes: maxAnswerBytes(maxValue, maxKey), timeoutMs: 5000 }).getKey(addr(peer.address), "k");
    expect(outcome.kind === "value" && outcome.data === data).toBe(true);
  });

  test("peer get - an error status whose body is not an envelope is named by its status", async () => {
    const crashed = track(startFakePeer(() => new Response("Internal Server Error", { status: 500 })));
    const proxy = track(startFakePeer(() => new Response("<html>\n  <h1>502 Bad Gateway</h1>\n</html>", { status: 502 })));
    const array = track(startFakePeer(() => Response.json([1, 2], { status: 503 })));
    const message = async (peer: FakePeer) => {
      const outcome = await client().getKey(addr(peer.address), "k");
      return outcome.kind === "failed" && outcome.message;
    };
    expect(await message(crashed)).toBe('bad answer: peer answered HTTP 500, not JSON ("Internal Server Error")');
    expect(await message(proxy)).toBe('bad answer: peer answered HTTP 502, not JSON ("<html> <h1>502 Bad Gateway</h1> </html>")');
    expect(await message(array)).toBe('bad answer: peer answered HTTP 503, not a JSON envelope ("[1,2]")');
    // an owlcache error envelope says what it says; a 200 that is not JSON is just that
    const owl = track(startFakePeer(() => Response.json({ Status: 500, Message: "disk on fire" }, { status: 500 })));
    expect(await message(owl)).toBe("bad answer: peer answered Status 500: disk on fire");
    const garbage = track(startFakePeer(() => new Response("<html>")));
    expect(await message(garbage)).toBe("bad answer: not JSON");
    const pingOutcome = await client().ping(addr(crashed.address));
    expect(pingOutcome.kind === "failed" && pingOutcome.message).toBe('bad answer: peer answered HTTP 500, not JSON ("Internal Server Error")');
  });

  test("peer get - a 50 MB answer is refused by its length, unread, with no mark against the peer", async () => {
    // A raw listener: it declares 50 MB and sends 1 KiB of it, then nothing. Reading the body
    // would end in the timeout; refusing by the declared length answers before it. (A Bun.serve
    // peer with a real 50 MB body took up to 450 ms to send its headers on a loaded machine.)
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket) {
          socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${50 * 1024 * 1024}\r\n\r\n${" ".repeat(1024)}`);
        },
      },
    });
    try {
      const outcome = await client().getKey(addr(`127.0.0.1:${listener.port}`), "k");
      expect(outcome.kind === "failed" && outcome.message).toContain("over the");
      expect(outcome.kind === "failed" && outcome.message).not.toContain("no answer within");
      expect(outcome.kind === "failed" && outcome.peerAnswered).toBe(true);
    } finally {
      listener.stop(true);
    }
  });

  test("peer get - a streamed answer past the limit is cut off there", async () => {
    let sent = 0;
    const chunk = new Uint8Array(64 * 1024).fill(32);
    const peer = track(startFakePeer(() => new Response(new ReadableStream({ pull(c) { if (sent < 50 * 1024 * 1024) { sent += chunk.length; c.enqueue(chunk); } else c.close(); } }))));
    const outcome = await client({ maxAnswerBytes: 1024 * 1024 }).getKey(addr(peer.address), "k");
    expect(outcome.kind === "failed" && outcome.message).toBe("bad answer: answer is over the 1048576-byte limit");
    expect(outcome.kind === "failed" && outcome.peerAnswered).toBeUndefined();
    await Bun.sleep(50);
    expect(sent).toBeLessThan(20 * 1024 * 1024);
  });

  test("peer get - a redirect is not followed", async () => {
    const elsewhere = track(valuePeer({ k: ["should not be read", WRITTEN] }));
    const peer = track(startFakePeer(() => Response.redirect(`http://${elsewhere.address}/data/?cmd=get&key=k`, 302)));
    const outcome = await client().getKey(addr(peer.address), "k");
    expect(outcome.kind === "failed" && outcome.message).toBe("bad answer: peer answered a redirect (302), not followed");
    expect(elsewhere.requests.length).toBe(0);
  });

  test("peer get - a compressed answer is a bad answer, never decoded (zip bomb)", async () => {
    const bomb = Bun.gzipSync(new Uint8Array(64 * 1024 * 1024).fill(32));
    const asked: (string | null)[] = [];
    const peer = track(startFakePeer((request) => {
      asked.push(request.headers.get("accept-encoding"));
      return new Response(bomb, { headers: { "content-encoding": "gzip", "content-length": String(bomb.length) } });
    }));
    const rssBefore = process.memoryUsage().rss;
    const outcome = await client({ maxAnswerBytes: 128 * 1024 * 1024 }).getKey(addr(peer.address), "k");
    expect(outcome.kind === "failed" && outcome.message).toBe("bad answer: answer is compressed (Content-Encoding: gzip) though identity was asked for; not decoded");
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(32 * 1024 * 1024);
    expect(asked).toEqual(["identity"]);
  });

  test("peer get - a well-formed envelope sent compressed (gzip, deflate, br, chunked or not) is refused for its encoding", async () => {
    const envelope = new TextEncoder().encode(JSON.stringify({ Status: 200, Data: "v", KeyCreateTime: new Date(WRITTEN).toISOString() }));
    const bodies: [string, Uint8Array, boolean][] = [
      ["gzip", Bun.gzipSync(envelope), true],
      ["deflate", Bun.deflateSync(envelope), true],
      ["br", new Uint8Array(brotliCompressSync(envelope)), false],
      ["GZIP", Bun.gzipSync(envelope), false],
    ];
    for (const [encoding, body, declared] of bodies) {
      const stream = () => new ReadableStream({ pull: (c) => { c.enqueue(body); c.close(); } });
      const peer = track(startFakePeer(() => new Response(declared ? body : stream(), { headers: { "content-encoding": encoding } })));
      const outcome = await client().getKey(addr(peer.address), "k");
      expect(outcome.kind === "failed" && outcome.message).toBe(`bad answer: answer is compressed (Content-Encoding: ${encoding}) though identity was asked for; not decoded`);
      const pong = await client().ping(addr(peer.address));
      expect(pong.kind === "failed" && pong.reason).toBe("bad answer");
    }
    // Content-Encoding: identity is a plain body
    const plain = track(startFakePeer(() => new Response(envelope, { headers: { "content-encoding": "identity" } })));
    expect((await client().getKey(addr(plain.address), "k")).kind).toBe("value");
  });

  test("peer get - connections are kept alive between requests", async () => {
    const ports = new Set<number>();
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req, srv) => { ports.add(srv.requestIP(req)!.port); return Response.json({ Status: 404 }); } });
    try {
      const c = client();
      for (let i = 0; i < 5; i++) await c.getKey(addr(`127.0.0.1:${server.port}`), "k");
      expect(ports.size).toBe(1);
    } finally {
      await server.stop(true);
    }
  });

  test("peer get - https: self-signed refused when verifying, accepted with skip-verify", async () => {
    const peer = track(valuePeer({ k: ["secure", WRITTEN] }, { cert: cert.cert, key: cert.key }));
    const verified = await client({ https: true }).getKey(addr(peer.address), "k");
    expect(verified.kind === "failed" && verified.reason).toBe("tls");
    const skipped = await client({ https: true, insecureSkipVerify: true }).getKey(addr(peer.address), "k");
    expect(skipped.kind === "value" && skipped.data).toBe("secure");
    // An explicit https:// in the list works on a node that itself serves plain HTTP.
    const explicit = await client({ insecureSkipVerify: true }).getKey(addr(`https://${peer.address}`), "k");
    expect(explicit.kind).toBe("value");
  });

  test("peer ping - an answer is read up to 64 KiB, whatever the limit for values", async () => {
    const chunk = new Uint8Array(64 * 1024).fill(32);
    const peer = track(startFakePeer(() => new Response(new ReadableStream({ pull: (c) => c.enqueue(chunk) }))));
    const outcome = await client().ping(addr(peer.address));
    expect(outcome.kind === "failed" && outcome.message).toBe("bad answer: answer is over the 65536-byte limit");
  });

  test("peer ping - any 200 envelope means the peer answers", async () => {
    const peer = track(valuePeer({}));
    expect((await client().ping(addr(peer.address))).kind).not.toBe("failed");
    expect((await client().ping(addr(await refusedAddress()))).kind).toBe("failed");
  });
});
