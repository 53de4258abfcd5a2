// Small real HTTP servers standing in for peers that misbehave (garbage, huge, hanging) or for
// a well-behaved node in unit tests; every one counts the requests it got.

import type { Server } from "bun";

export interface FakePeer {
  readonly address: string;
  readonly port: number;
  readonly requests: string[];
  stop(): Promise<void>;
}

export function startFakePeer(handler: (request: Request) => Response | Promise<Response>, tls?: { cert: string; key: string }): FakePeer {
  const requests: string[] = [];
  const server: Server<undefined> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls,
    idleTimeout: 0,
    fetch(request) {
      requests.push(new URL(request.url).search);
      return handler(request);
    },
  });
  return {
    address: `127.0.0.1:${server.port}`,
    port: server.port!,
    requests,
    async stop() {
      await server.stop(true);
    },
  };
}

/** A peer that answers `/data/?cmd=get` like a real node from a fixed map of key → [value, ms]. */
export function valuePeer(values: Record<string, [string, number]>, tls?: { cert: string; key: string }): FakePeer {
  return startFakePeer((request) => {
    const url = new URL(request.url);
    const key = url.searchParams.get("key") ?? "";
    const cmd = url.searchParams.get("cmd");
    if (cmd === "ping") return Response.json({ Cmd: "ping", Status: 200, Results: "SUCCESS", Key: "", Data: "PONG", ResponseHost: "", KeyCreateTime: "0001-01-01T00:00:00Z" });
    const hit = values[key];
    const env = hit
      ? { Cmd: "get", Status: 200, Results: "SUCCESS", Key: key, Data: hit[0], ResponseHost: "", KeyCreateTime: new Date(hit[1]).toISOString() }
      : { Cmd: "get", Status: 404, Results: "NOT_FOUND", Key: key, Data: null, ResponseHost: "", KeyCreateTime: "0001-01-01T00:00:00Z" };
    return Response.json(env, { status: env.Status });
  }, tls);
}

/** A peer that accepts the request and never answers (until stopped). */
export function hangingPeer(): FakePeer {
  return startFakePeer(() => new Promise<Response>(() => {}));
}

/** A free loopback port nobody listens on (connections are refused). */
export async function refusedAddress(): Promise<string> {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = server.port;
  await server.stop(true);
  return `127.0.0.1:${port}`;
}
