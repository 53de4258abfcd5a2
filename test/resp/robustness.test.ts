// The RESP server under bad and heavy input: protocol errors close only that connection,
// fuzzed bytes never crash or hang it, big values in many chunks, clients that stop reading,
// and AUTH / NOAUTH when authentication is required.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { NodeProcess } from "../helpers/node-process.ts";
import { encodeCommand, RawClient, startRespNode } from "./helpers.ts";

let node: NodeProcess;
let guarded: NodeProcess;
const PASSWORD = "test-password-123";

beforeAll(async () => {
  // Settle both before failing, so that afterAll stops whichever did start.
  const starting = [startRespNode().then((n) => (node = n)), startRespNode({ set: { Pass: PASSWORD, TcpAuth: 1 } }).then((n) => (guarded = n))];
  for (const r of await Promise.allSettled(starting)) if (r.status === "rejected") throw r.reason;
}, 30_000);

afterAll(async () => {
  await Promise.all([node?.stop(), guarded?.stop()]);
});

async function ping(port: number): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    await c.send("PING\r\n");
    return await c.readReply();
  } finally {
    c.close();
  }
}

describe("protocol errors", () => {
  test("protocol error - answered like redis-server, then that connection closes", async () => {
    const c = await RawClient.connect(node.respPort);
    await c.send("PING\r\n*1\r\n$x\r\nPING\r\n");
    expect(await c.readReply()).toBe("+PONG\r\n");
    expect(await c.readReply()).toBe("-ERR Protocol error: invalid bulk length\r\n");
    await c.waitClosed();
    expect(c.pending).toBe(""); // nothing after the error was run
    expect(await ping(node.respPort)).toBe("+PONG\r\n"); // the server is fine
  });

  test("protocol error - expected '$' names the byte it got", async () => {
    const c = await RawClient.connect(node.respPort);
    await c.send("*2\r\n$3\r\nGET\r\n:1\r\n");
    expect(await c.readReply()).toBe("-ERR Protocol error: expected '$', got ':'\r\n");
    await c.waitClosed();
  });

  test("unknown command - answered, and the connection stays usable", async () => {
    const c = await RawClient.connect(node.respPort);
    await c.send(encodeCommand(["NOSUCH", "a", "b"]));
    expect(await c.readReply()).toBe("-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n");
    await c.send("GET\r\n");
    expect(await c.readReply()).toBe("-ERR wrong number of arguments for 'get' command\r\n");
    await c.send("PING\r\n");
    expect(await c.readReply()).toBe("+PONG\r\n");
    c.close();
  });

  test("QUIT - answers OK and closes after earlier replies", async () => {
    const c = await RawClient.connect(node.respPort);
    await c.send("SET q 1\r\nQUIT\r\nGET q\r\n");
    expect(await c.readReply()).toBe("+OK\r\n");
    expect(await c.readReply()).toBe("+OK\r\n");
    await c.waitClosed();
    expect(c.pending).toBe("");
  });

  test("fuzz - random malformed input on many connections never crashes or hangs the server", async () => {
    let seed = 99;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * n);
    };
    const pieces = ["*", "$", "\r\n", "\n", "\r", "-1", "3", "99999999999", "GET", "SET", "\"", "'", " ", "\0", "*2\r\n", "$3\r\nfoo\r\n", "PING"];
    for (let round = 0; round < 60; round++) {
      const c = await RawClient.connect(node.respPort);
      let garbage = "";
      for (let i = rand(30); i >= 0; i--) garbage += rand(5) === 0 ? String.fromCharCode(rand(256)) : pieces[rand(pieces.length)];
      await c.send(garbage).catch(() => undefined);
      await Bun.sleep(2);
      c.close();
    }
    expect(await ping(node.respPort)).toBe("+PONG\r\n");
  }, 30_000);
});

describe("big values and backpressure", () => {
  test("SET - a 4 MiB value arriving in many small writes is stored whole", async () => {
    const c = await RawClient.connect(node.respPort);
    const value = new Uint8Array(4 * 1024 * 1024).map((_, i) => 97 + (i % 23));
    const request = encodeCommand(["SET", "big", value]);
    for (let at = 0; at < request.length; at += 7919) {
      await c.send(request.subarray(at, at + 7919));
      if (at % (7919 * 64) === 0) await Bun.sleep(1); // let the chunks arrive apart
    }
    expect(await c.readReply()).toBe("+OK\r\n");
    await c.send(encodeCommand(["GET", "big"]));
    const reply = await c.readReplyBytes();
    const header = `$${value.length}\r\n`;
    expect(new TextDecoder().decode(reply.subarray(0, header.length))).toBe(header);
    expect(Buffer.from(reply.subarray(header.length, header.length + value.length)).equals(Buffer.from(value))).toBe(true);
    await c.send(encodeCommand(["STRLEN", "big"]));
    expect(await c.readReply()).toBe(`:${value.length}\r\n`);
    c.close();
  });

  test("pipelining - one write of GETs and SETs over present, missing and large keys (the store's look-ahead) answers each in order", async () => {
    const c = await RawClient.connect(node.respPort);
    const large = "L".repeat(20 * 1024);
    await c.send(encodeCommand(["SET", "look-large", large]));
    expect(await c.readReply()).toBe("+OK\r\n");
    const requests: (string | Uint8Array)[][] = [];
    const expected: string[] = [];
    for (let i = 0; i < 40; i++) {
      requests.push(["GET", "look-large"], ["SET", `look-${i}`, `v${i}`], ["GET", `look-${i}`], ["GET", `look-missing-${i}`], ["GET", `look-${i - 1}`]);
      expected.push(`$${large.length}\r\n${large}\r\n`, "+OK\r\n", `$${`v${i}`.length}\r\nv${i}\r\n`, "$-1\r\n", i === 0 ? "$-1\r\n" : `$${`v${i - 1}`.length}\r\nv${i - 1}\r\n`);
    }
    const parts = requests.map(encodeCommand);
    const batch = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (batch.set(p, at), at + p.length), 0);
    await c.send(batch);
    for (const want of expected) expect(await c.readReply()).toBe(want);
    c.close();
  });

  test("pipelining - a client that stops reading is paused, then gets every reply in order", async () => {
    const value = "v".repeat(60 * 1024);
    const setup = await RawClient.connect(node.respPort);
    await setup.send(encodeCommand(["SET", "wide", value]));
    expect(await setup.readReply()).toBe("+OK\r\n");
    setup.close();

    // 400 GETs of 60 KiB: 24 MiB of replies, far past the server's backlog limit.
    const c = await RawClient.connect(node.respPort);
    c.socket.pause();
    const gets = 400;
    const one = encodeCommand(["GET", "wide"]);
    const batch = new Uint8Array(one.length * gets);
    for (let i = 0; i < gets; i++) batch.set(one, i * one.length);
    await c.send(batch);
    await c.send(encodeCommand(["ECHO", "last"]));
    await Bun.sleep(300);
    expect(await ping(node.respPort)).toBe("+PONG\r\n"); // others are served meanwhile
    expect(c.bufferedBytes).toBeLessThan(gets * value.length); // the client really stopped reading
    c.socket.resume();
    for (let i = 0; i < gets; i++) expect((await c.readReplyBytes()).length).toBe(value.length + 10);
    expect(await c.readReply()).toBe("$4\r\nlast\r\n");
    c.close();
  }, 60_000);
});

describe("one turn of the event loop, many clients", () => {
  // Input read in one turn runs at its end, every connection's together, after a look-ahead over
  // the first key of each (on once the store holds 32Ki keys or more).
  test("turns - 50 clients sending one request at a time each get their own replies, in order", async () => {
    const setup = await RawClient.connect(node.respPort);
    const keys = 40_000;
    const load: Uint8Array[] = [];
    for (let i = 0; i < keys; i++) load.push(encodeCommand(["SET", `turn:${i}`, `value-${i}`]));
    await setup.send(joinAll(load));
    for (let i = 0; i < keys; i++) await setup.readReplyBytes();
    setup.close();

    const long = "k".repeat(100); // longer than the look-ahead copies: still answered
    const clients = await Promise.all(Array.from({ length: 50 }, () => RawClient.connect(node.respPort)));
    for (let round = 0; round < 40; round++) {
      await Promise.all(
        clients.map(async (c, n) => {
          const i = (round * 50 + n * 797) % keys;
          const own = `turn-own:${n}`; // written on even rounds, read back on odd ones
          const [request, want]: [string[], string] =
            n % 10 === 0 ? (round % 2 === 0 ? [["SET", own, `r${round}`], "+OK\r\n"] : [["GET", own], `$${`r${round - 1}`.length}\r\nr${round - 1}\r\n`])
            : n % 10 === 1 ? [["GET", `turn-missing:${i}`], "$-1\r\n"]
            : n % 10 === 2 ? [["PING"], "+PONG\r\n"]
            : n % 10 === 3 ? [["GET", long], "$-1\r\n"]
            : [["GET", `turn:${i}`], `$${`value-${i}`.length}\r\nvalue-${i}\r\n`];
          await c.send(encodeCommand(request));
          expect(await c.readReply()).toBe(want);
        }),
      );
    }
    for (const c of clients) c.close();
  }, 30_000);

  test("turns - a client that writes and disconnects at once still has its writes applied (they were queued for the turn)", async () => {
    const n = 100;
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const c = await RawClient.connect(node.respPort);
        await c.send(encodeCommand(["SET", `gone:${i}`, `v${i}`]));
        if (i % 2 === 0) c.socket.terminate(); // abruptly
        else c.close(); // FIN right behind the request
      }),
    );
    const check = await RawClient.connect(node.respPort);
    for (let i = 0; i < n; i++) {
      await check.send(encodeCommand(["GET", `gone:${i}`]));
      expect(await check.readReply()).toBe(`$${`v${i}`.length}\r\nv${i}\r\n`);
    }
    check.close();
  });

  test("turns - megabytes of pipelined requests in one write (several reads of one socket in a turn) are answered in order", async () => {
    const c = await RawClient.connect(node.respPort);
    const value = "x".repeat(200);
    const parts: Uint8Array[] = [];
    const n = 12_000; // ~3 MB of requests
    for (let i = 0; i < n; i++) parts.push(encodeCommand(["SET", `burst:${i}`, `${i}:${value}`]), encodeCommand(["GET", `burst:${i}`]));
    await c.send(joinAll(parts));
    for (let i = 0; i < n; i++) {
      expect(await c.readReply()).toBe("+OK\r\n");
      const v = `${i}:${value}`;
      expect(await c.readReply()).toBe(`$${v.length}\r\n${v}\r\n`);
    }
    c.close();
  }, 30_000);
});

function joinAll(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

describe("authentication", () => {
  test("AUTH - commands before AUTH get -NOAUTH; a wrong password -WRONGPASS; then it works", async () => {
    expect(guarded.banner).toMatch(/resp\s+127\.0\.0\.1:\d+\s+\(AUTH required\)/);
    const c = await RawClient.connect(guarded.respPort);
    await c.send("GET a\r\nAUTH nope\r\nHELLO 3\r\nAUTH " + PASSWORD + "\r\nSET a 1\r\nGET a\r\n");
    expect(await c.readReply()).toBe("-NOAUTH Authentication required.\r\n");
    expect(await c.readReply()).toBe("-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    expect(await c.readReply()).toMatch(/^-NOAUTH HELLO must be called with the client already authenticated/);
    expect(await c.readReply()).toBe("+OK\r\n");
    expect(await c.readReply()).toBe("+OK\r\n");
    expect(await c.readReply()).toBe("$1\r\n1\r\n");
    c.close();
  });

  test("AUTH - an unauthenticated client cannot send huge requests", async () => {
    const c = await RawClient.connect(guarded.respPort);
    await c.send("*1\r\n$100000\r\n");
    expect(await c.readReply()).toBe("-ERR Protocol error: unauthenticated bulk length\r\n");
    await c.waitClosed();
  });

  test("HELLO - AUTH inside HELLO 3 authenticates and switches to RESP3 replies", async () => {
    const c = await RawClient.connect(guarded.respPort);
    await c.send(encodeCommand(["HELLO", "3", "AUTH", "default", PASSWORD, "SETNAME", "me"]));
    expect(await c.readReply()).toMatch(/^%8\r\n\$6\r\nserver\r\n\$8\r\nowlcache\r\n/);
    await c.send("GET nothing-here\r\nCLIENT GETNAME\r\n");
    expect(await c.readReply()).toBe("_\r\n");
    expect(await c.readReply()).toBe("$2\r\nme\r\n");
    c.close();
  });
});
