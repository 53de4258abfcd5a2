// The owl TCP server's framing, pipelining, limits, backpressure and lifecycle, against a real process.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { removeDir, startNode, type NodeProcess } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";

let node: NodeProcess;

beforeAll(async () => {
  node = await startNode();
});

afterAll(async () => {
  await node?.stop();
  removeDir(node.dir);
});

const MiB = 1024 * 1024;

describe("owl TCP server", () => {
  test("banner - sent on connect, exactly the original's line", async () => {
    const client = await OwlClient.connect(node.tcpPort); // checks the banner
    client.close();
  });

  test("empty line - gets no response", async () => {
    const client = await OwlClient.connect(node.tcpPort);
    client.write("\n\r\n\nping\n");
    const reply = await client.reply();
    expect(reply.Data).toBe("PONG");
    await Bun.sleep(50);
    expect(client.unread).toBe(0);
    client.close();
  });

  test("unknown command - 501 naming the command and its first arguments", async () => {
    const client = await OwlClient.connect(node.tcpPort);
    const reply = await client.call("frob bar 'q' x y z");
    expect(reply.Status).toBe(501);
    expect(reply.Results).toBe("UNKNOWN_COMMAND");
    expect(reply.Cmd).toBe("frob");
    expect(reply.Message).toBe("unknown command 'frob', with args beginning with: 'bar' ''q'' 'x' ");
    expect((await client.call("frob")).Message).toBe("unknown command 'frob', with args beginning with: ");
    client.close();
  });

  test("CRLF - a carriage return before the newline is dropped", async () => {
    const client = await OwlClient.connect(node.tcpPort);
    client.write("set crlf value\r\n");
    await client.reply();
    expect((await client.call("get crlf")).Data).toBe("value");
    client.close();
  });

  test("set - a 1 MiB value round-trips", async () => {
    const client = await OwlClient.connect(node.tcpPort);
    const value = "v".repeat(MiB);
    expect((await client.call(`set big ${value}`)).Status).toBe(200);
    const reply = await client.call("get big");
    expect(reply.Status).toBe(200);
    expect((reply.Data as string).length).toBe(MiB);
    client.close();
  });

  test("limits - an over-long line gets one 500 and the connection stays usable", async () => {
    const client = await OwlClient.connect(node.tcpPort);
    client.write(`set huge ${"x".repeat(2 * MiB)}\n`);
    const reply = await client.reply();
    expect(reply.Status).toBe(500);
    expect(reply.Message).toContain("longer than");
    expect((await client.call("ping")).Data).toBe("PONG");
    expect((await client.call("get huge")).Status).toBe(404);
    client.close();
  });

  test("limits - an over-long line sent in many small chunks is handled the same", async () => {
    const client = await OwlClient.connect(node.tcpPort);
    client.write("set chunky ");
    for (let i = 0; i < 40; i++) {
      client.write("y".repeat(64 * 1024));
      await Bun.sleep(1);
    }
    client.write("\nping\n");
    expect((await client.reply()).Status).toBe(500);
    expect((await client.reply()).Data).toBe("PONG");
    client.close();
  });

  test("pipelining - 10,000 requests in one write are answered in order", async () => {
    const client = await OwlClient.connect(node.tcpPort);
    const n = 10_000;
    let batch = "";
    for (let i = 0; i < n; i++) batch += i % 2 === 0 ? `set p${i} value-${i}\n` : `get p${i - 1}\n`;
    client.write(batch);
    for (let i = 0; i < n; i++) {
      const reply = await client.reply();
      expect(reply.Key).toBe(i % 2 === 0 ? `p${i}` : `p${i - 1}`);
      if (i % 2 === 1) expect(reply.Data).toBe(`value-${i - 1}`);
    }
    client.close();
  });

  test("turns - 50 clients sending one request at a time over 40,000 keys (the look-ahead across clients is on) each get their own replies", async () => {
    const loader = await OwlClient.connect(node.tcpPort);
    const keys = 40_000;
    let batch = "";
    for (let i = 0; i < keys; i++) batch += `set turn${i} v${i}\n`;
    loader.write(batch);
    for (let i = 0; i < keys; i++) await loader.reply();
    loader.close();
    const clients = await Promise.all(Array.from({ length: 50 }, () => OwlClient.connect(node.tcpPort)));
    for (let round = 0; round < 20; round++) {
      await Promise.all(
        clients.map(async (c, n) => {
          const i = (round * 50 + n * 797) % keys;
          if (n % 5 === 0) {
            c.write(`get turn-missing${i}\n`);
            expect((await c.reply()).Status).toBe(404);
          } else {
            c.write(`get turn${i}\n`);
            const reply = await c.reply();
            expect(reply.Key).toBe(`turn${i}`);
            expect(reply.Data).toBe(`v${i}`);
          }
        }),
      );
    }
    for (const c of clients) c.close();
  }, 30_000);

  test("backpressure - a client that stops reading does not stall others, and gets every reply later", async () => {
    const setter = await OwlClient.connect(node.tcpPort);
    await setter.call(`set slowbig ${"s".repeat(MiB)}`);
    setter.close();

    // A raw socket that asks for ~100 MiB of replies and does not read for a while.
    const requests = 100;
    let received = 0;
    let reading = false;
    const pending: Buffer[] = [];
    const slow = await Bun.connect({
      hostname: "127.0.0.1",
      port: node.tcpPort,
      socket: {
        data(_s, chunk) {
          if (reading) received += chunk.length;
          else pending.push(Buffer.from(chunk));
        },
      },
    });
    // Bun reads eagerly into its own buffers; pausing our side stops us acknowledging data.
    slow.pause();
    slow.write("get slowbig\n".repeat(requests));

    const other = await OwlClient.connect(node.tcpPort);
    const started = performance.now();
    for (let i = 0; i < 20; i++) expect((await other.call("ping")).Data).toBe("PONG");
    expect(performance.now() - started).toBeLessThan(5000);
    other.close();

    reading = true;
    for (const chunk of pending) received += chunk.length;
    slow.resume();
    const expected = requests * (MiB + 100);
    const deadline = Date.now() + 20_000;
    while (received < expected && Date.now() < deadline) await Bun.sleep(20);
    expect(received).toBeGreaterThanOrEqual(expected);
    slow.end();
  });

  test("defect fixed - set stores no line ending or trailing space (original stored 'world\\n ')", async () => {
    const client = await OwlClient.connect(node.tcpPort);
    await client.call("set d1 world");
    expect((await client.call("get d1")).Data).toBe("world");
    client.close();
  });

  test("defect fixed - expire without seconds answers 500 instead of crashing the server", async () => {
    const client = await OwlClient.connect(node.tcpPort);
    expect((await client.call("expire d1")).Status).toBe(500);
    const again = await OwlClient.connect(node.tcpPort);
    expect((await again.call("ping")).Data).toBe("PONG");
    client.close();
    again.close();
  });

  test("defect fixed - delete of a missing key answers 404, not 200", async () => {
    const client = await OwlClient.connect(node.tcpPort);
    expect((await client.call("delete never-there")).Status).toBe(404);
    client.close();
  });

  test("defect fixed - the default listen address is loopback, not 0.0.0.0", () => {
    expect(node.banner).toMatch(/tcp\s+127\.0\.0\.1:/);
  });

  test("expiry - a key with a time to live is gone after it (and KeyCreateTime is its write time)", async () => {
    const client = await OwlClient.connect(node.tcpPort);
    const before = Date.now();
    await client.call("set ttl1 v");
    const got = await client.call("get ttl1");
    expect(Date.parse(got.KeyCreateTime)).toBeGreaterThanOrEqual(before - 5);
    expect((await client.call("expire ttl1 1")).Status).toBe(200);
    await Bun.sleep(1100);
    expect((await client.call("get ttl1")).Status).toBe(404);
    client.close();
  });

  test("fuzz - random bytes never crash or hang the server", async () => {
    let seed = 1234;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0), seed);
    for (let round = 0; round < 20; round++) {
      const client = await OwlClient.connect(node.tcpPort);
      const bytes = new Uint8Array(2000 + (rand() % 4000));
      for (let i = 0; i < bytes.length; i++) bytes[i] = rand() % 16 === 0 ? 10 : rand() & 255;
      client.write(bytes);
      client.write("\nping fuzz-done\n");
      for (;;) {
        const line = await client.readLine();
        if (line.includes('"fuzz-done"')) break;
        expect(() => JSON.parse(line)).not.toThrow();
      }
      client.close();
    }
  });
});

describe("owl TCP server lifecycle", () => {
  test("CloseTcp 0 - the TCP server is off", async () => {
    const off = await startNode({ set: { CloseTcp: 0 } });
    expect(off.tcpPort).toBe(-1);
    expect(await off.stop()).toBe(0);
    removeDir(off.dir);
  });

  test("shutdown - SIGTERM answers what is in flight and exits 0", async () => {
    const n = await startNode();
    const client = await OwlClient.connect(n.tcpPort);
    client.write("set a 1\nget a\n".repeat(500));
    await client.reply(); // the server has the requests: they are in flight now
    n.kill("SIGTERM");
    let replies = 1;
    try {
      for (; replies < 1000; replies++) await client.reply(5000);
    } catch {
      // the connection closes after the owed replies
    }
    expect(replies).toBe(1000);
    expect(await n.exited).toBe(0);
    removeDir(n.dir);
  });

  test("auth - with TcpAuth 1 commands need pass first", async () => {
    const n = await startNode({ set: { TcpAuth: 1 } });
    const client = await OwlClient.connect(n.tcpPort);
    expect((await client.call("get x")).Status).toBe(401);
    expect((await client.call("set x 1")).Status).toBe(401);
    expect((await client.call("pass wrong-password")).Status).toBe(401);
    expect((await client.call("pass test-password-123")).Status).toBe(200);
    expect((await client.call("set x 1")).Status).toBe(200);
    client.close();
    await n.stop();
    removeDir(n.dir);
  });

  test("auth - before pass a line may be 16 KiB, after it MaxLineBytes", async () => {
    const n = await startNode({ set: { TcpAuth: 1 } });
    const client = await OwlClient.connect(n.tcpPort);
    const big = "v".repeat(100_000);
    // a client that has not authenticated holds at most 16 KiB, not a megabyte
    const early = await client.call(`set k ${big}`);
    expect(early).toMatchObject({ Status: 500, Message: "request line longer than 16384 bytes before pass" });
    expect((await client.call(`get ${"k".repeat(16_000)}`)).Status).toBe(401); // under it: the usual refusal
    expect((await client.call("pass test-password-123")).Status).toBe(200);
    expect((await client.call(`set k ${big}`)).Status).toBe(200);
    expect((await client.call("get k")).Data).toBe(big);
    client.close();
    await n.stop();
    removeDir(n.dir);
  });
});
