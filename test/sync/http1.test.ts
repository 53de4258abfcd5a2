import { afterEach, describe, expect, test } from "bun:test";
import type { Server, TCPSocketListener } from "bun";
import { answerMac, HEADER_MAC, HEADER_NONCE } from "../../src/cluster/sync/auth.ts";
import { fetchTransport } from "../../src/cluster/sync/client.ts";
import { Http1Connection, Http1Error, Http1Unsupported } from "../../src/cluster/sync/http1.ts";
import { systemClock } from "../../src/store/types.ts";

const KEY = "http1-test-key-0123456789";
let servers: { stop(force?: boolean): unknown }[] = [];
afterEach(() => {
  for (const s of servers) s.stop(true);
  servers = [];
});

/** A Bun.serve that echoes the body length and counts the client connections it saw. */
function echoServer(answer?: (request: Request, body: Uint8Array) => Response): { server: Server<undefined>; ports: Set<number> } {
  const ports = new Set<number>();
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request, srv) {
      ports.add(srv.requestIP(request)!.port);
      const body = new Uint8Array(await request.arrayBuffer());
      if (answer) return answer(request, body);
      return new Response(`got ${body.length} ${request.headers.get("x-test")}`, { headers: { "x-answer": "yes" } });
    },
  });
  servers.push(server);
  return { server, ports };
}

/** A raw HTTP server: answers each request with `reply`, then runs `after` on the socket. */
function rawServer(reply: string, after: (socket: { end(): void }) => void = () => {}): TCPSocketListener<undefined> {
  const listener = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket, data) {
        if (!new TextDecoder().decode(data).includes("\r\n\r\n")) return;
        socket.write(reply);
        after(socket);
      },
    },
  });
  servers.push(listener);
  return listener;
}

describe("sync http1 client", () => {
  test("http1 - posts a body and reads status, headers and body; the connection is kept alive", async () => {
    const { server, ports } = echoServer();
    const c = new Http1Connection("127.0.0.1", server.port!, 2000);
    for (const size of [0, 10, 300_000]) {
      const answer = await c.post("/sync/batch", { "x-test": "t" }, new Uint8Array(size).fill(1));
      expect(answer.status).toBe(200);
      expect(answer.headers.get("x-answer")).toBe("yes");
      expect(new TextDecoder().decode(answer.body)).toBe(`got ${size} t`);
    }
    expect(ports.size).toBe(1);
    c.close();
  });

  test("http1 - an error status comes back as it is", async () => {
    const { server } = echoServer(() => new Response("refused", { status: 401 }));
    const c = new Http1Connection("127.0.0.1", server.port!, 2000);
    const answer = await c.post("/sync/batch", {}, new Uint8Array(5));
    expect([answer.status, new TextDecoder().decode(answer.body)]).toEqual([401, "refused"]);
    c.close();
  });

  test("http1 - a kept-alive connection the server closed is replaced, and the request sent again", async () => {
    const listener = rawServer("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", (socket) => setTimeout(() => socket.end(), 5));
    const c = new Http1Connection("127.0.0.1", listener.port, 2000);
    for (let i = 0; i < 3; i++) {
      const answer = await c.post("/sync/batch", {}, new Uint8Array(3));
      expect(new TextDecoder().decode(answer.body)).toBe("ok");
      await Bun.sleep(30); // the server has closed it by now
    }
    c.close();
  });

  test("http1 - a chunked answer is unsupported; no answer within the timeout is an error", async () => {
    const chunked = rawServer("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
    const c = new Http1Connection("127.0.0.1", chunked.port, 2000);
    await expect(c.post("/sync/batch", {}, new Uint8Array(3))).rejects.toBeInstanceOf(Http1Unsupported);
    const silent = rawServer("");
    const d = new Http1Connection("127.0.0.1", silent.port, 50);
    const error = await d.post("/sync/batch", {}, new Uint8Array(3)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Http1Error);
    expect(String(error)).toContain("no answer within 50 ms");
    expect(d.busy).toBe(false);
  });

  test("transport - batches use the kept-alive connection; a peer answering chunked is asked through fetch instead", async () => {
    const plain = echoServer((request, body) => {
      const answer = new TextEncoder().encode(`{"applied":${body.length}}`);
      return new Response(answer, { headers: { [HEADER_MAC]: answerMac(KEY, request.headers.get(HEADER_NONCE)!, answer) } });
    });
    // A peer that answers every request chunked (a proxy, say), correctly signed.
    let requests = 0;
    let pending = "";
    const chunked = Bun.listen<undefined>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket, data) {
          pending += new TextDecoder().decode(data);
          const end = pending.indexOf("\r\n\r\n");
          if (end < 0) return;
          const length = Number(/content-length: *(\d+)/i.exec(pending.slice(0, end))?.[1] ?? 0);
          if (pending.length < end + 4 + length) return;
          const nonce = new RegExp(`${HEADER_NONCE}: *([0-9a-f]+)`, "i").exec(pending)![1]!;
          pending = "";
          requests++;
          const answer = `{"applied":${length}}`;
          const mac = answerMac(KEY, nonce, new TextEncoder().encode(answer));
          socket.write(`HTTP/1.1 200 OK\r\n${HEADER_MAC}: ${mac}\r\ntransfer-encoding: chunked\r\n\r\n${answer.length.toString(16)}\r\n${answer}\r\n0\r\n\r\n`);
        },
      },
    });
    servers.push(chunked);
    const transport = fetchTransport({ authKey: KEY, timeoutMs: 2000, insecure: false, https: false, self: () => "127.0.0.1:1", clock: systemClock });
    for (let i = 0; i < 3; i++) {
      expect(new TextDecoder().decode(await transport.request(`127.0.0.1:${plain.server.port}`, "/sync/batch", new Uint8Array(7)))).toBe('{"applied":7}');
      expect(new TextDecoder().decode(await transport.request(`127.0.0.1:${chunked.port}`, "/sync/batch", new Uint8Array(9)))).toBe('{"applied":9}');
    }
    expect(plain.ports.size).toBe(1);
    expect(requests).toBe(4); // the first batch twice (ours, refused as unsupported; then fetch), then fetch only
    transport.close();
  });
});
