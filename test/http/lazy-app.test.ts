// The HTTP server answers plain GET /data/ itself and builds the Elysia app (with every route
// plugin) on the first request that needs it; everything must answer exactly as before.

import { afterEach, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { PasswordAuthenticator } from "../../src/auth/authenticator.ts";
import { AttemptThrottle } from "../../src/auth/throttle.ts";
import { TokenService } from "../../src/auth/tokens.ts";
import { Engine } from "../../src/commands/engine.ts";
import { commandTable } from "../../src/commands/table.ts";
import { defaults, type Config } from "../../src/config/keys.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { systemClock } from "../../src/store/types.ts";
import { startHttpServer, type DirectPost, type HttpServer, type PluginSource } from "../../src/transport/http/server.ts";
import { getData, PASSWORD, postForm, tokenFor } from "./http-helpers.ts";

const servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

function start(plugins: PluginSource[], overrides: Partial<Config> = {}, directPosts?: Record<string, DirectPost>) {
  const config = { ...defaults(), Host: "127.0.0.1", Httpport: 0, Pass: PASSWORD, ...overrides } as Config;
  const keyspace = new Keyspace(new MapStore(systemClock), systemClock);
  const tokens = new TokenService({ secret: new TextEncoder().encode("a-test-secret-of-thirty-two-bytes!"), lifetimeSeconds: 0, password: PASSWORD, clock: systemClock });
  const engine = new Engine({
    table: commandTable,
    db: keyspace,
    limits: { maxKeyBytes: config.MaxKeyBytes, maxValueBytes: config.MaxValueBytes },
    auth: new PasswordAuthenticator(PASSWORD, tokens, new AttemptThrottle(systemClock), silentLogger),
  });
  const server = startHttpServer({ engine, config, log: silentLogger, tokens, plugins, directPosts });
  servers.push(server);
  return { server, keyspace, base: server.url };
}

test("lazy app - plain GET /data/ is answered without building the app", async () => {
  let built = 0;
  const { server, keyspace, base } = start([() => (built++, new Elysia())]);
  keyspace.set(new TextEncoder().encode("k"), new TextEncoder().encode("v"));
  expect(server.appLoaded).toBe(false);
  const hit = await getData(base, { cmd: "get", key: "k" });
  expect(hit.status).toBe(200);
  expect(hit.body.Data).toBe("v");
  expect(hit.body.ResponseHost).toBe(`127.0.0.1:${server.port}`);
  expect((await getData(base, { cmd: "ping" })).status).toBe(200);
  expect(server.appLoaded).toBe(false);
  expect(built).toBe(0);
});

test("lazy app - the first other request builds it once; concurrent first requests all get their answer", async () => {
  let built = 0;
  const plugin: PluginSource = async () => {
    built++;
    await Bun.sleep(20);
    return new Elysia().get("/lazy-plugin", () => "from the plugin");
  };
  const { server, base } = start([plugin, new Elysia().get("/eager-plugin", () => "eager")]);
  const answers = await Promise.all([
    fetch(`${base}/health`).then(async (r) => [r.status, ((await r.json()) as { status: string }).status]),
    fetch(`${base}/lazy-plugin`).then(async (r) => [r.status, await r.text()]),
    fetch(`${base}/eager-plugin`).then(async (r) => [r.status, await r.text()]),
    postForm(base, { cmd: "get", key: "nothing" }).then((a) => [a.status, a.body.Results]),
    fetch(`${base}/no/such/path`).then((r) => [r.status, null]),
    fetch(`${base}/swagger/json`).then(async (r) => [r.status, ((await r.json()) as { openapi: string }).openapi.split(".")[0]]),
  ]);
  expect(answers).toEqual([
    [200, "ok"],
    [200, "from the plugin"],
    [200, "eager"],
    [404, "NOT_FOUND"],
    [404, null],
    [200, "3"],
  ]);
  expect(built).toBe(1);
  expect(server.appLoaded).toBe(true);
});

test("lazy app - writes with a token and an unusual query go through the app as before", async () => {
  const { server, base } = start([]);
  const token = await tokenFor(base); // a plain GET: fast path
  expect(server.appLoaded).toBe(false);
  const set = await postForm(base, { cmd: "set", key: "a", valuedata: "1", token });
  expect([set.status, set.body.Results]).toEqual([200, "SUCCESS"]);
  expect(server.appLoaded).toBe(true);
  // A repeated field counts with its first value, on the fast path as in the app.
  const repeated = await fetch(`${base}/data/?cmd=get&key=a&key=zz`).then((r) => r.json() as Promise<{ Data: string }>);
  expect(repeated.Data).toBe("1");
  // A query the fast path does not judge is validated by the Elysia route.
  expect((await fetch(`${base}/data/?cmd=get&key=a&format=RAW`)).status).toBe(500);
});

test("lazy app - with CORS every request goes through the app", async () => {
  const { server, base } = start([], { Cors: true, Access_Control_Allow_Origin: "*" });
  const response = await fetch(`${base}/data/?cmd=ping`, { headers: { origin: "http://example.test" } });
  expect(response.status).toBe(200);
  expect(response.headers.get("access-control-allow-origin")).toBe("*");
  expect(server.appLoaded).toBe(true);
});

test("direct POST routes - answered without the app, with the client's IP; bodies over the limit are a 413, chunked or not", async () => {
  const seen: { size: number; ip: string | undefined }[] = [];
  const echo: DirectPost = async (request, ip) => {
    const body = new Uint8Array(await request.arrayBuffer());
    seen.push({ size: body.length, ip });
    return new Response(`got ${body.length}`);
  };
  const { server, base } = start([], { MaxValueBytes: 1024 }, { "/direct": echo });
  const small = await fetch(`${base}/direct`, { method: "POST", body: new Uint8Array(100) });
  expect([small.status, await small.text()]).toEqual([200, "got 100"]);
  // a chunked body (no Content-Length) within the limit is read and handed on
  const chunked = (size: number) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (let sent = 0; sent < size; sent += 1000) controller.enqueue(new Uint8Array(Math.min(1000, size - sent)));
        controller.close();
      },
    });
  const streamed = await fetch(`${base}/direct`, { method: "POST", body: chunked(5000) });
  expect([streamed.status, await streamed.text()]).toEqual([200, "got 5000"]);
  const limit = 1024 + 64 * 1024;
  const tooBig = await fetch(`${base}/direct`, { method: "POST", body: new Uint8Array(limit + 1) });
  expect(tooBig.status).toBe(413);
  const tooBigChunked = await fetch(`${base}/direct`, { method: "POST", body: chunked(limit + 1000) });
  expect(tooBigChunked.status).toBe(413);
  expect(seen).toEqual([
    { size: 100, ip: "127.0.0.1" },
    { size: 5000, ip: "127.0.0.1" },
  ]);
  expect(server.appLoaded).toBe(false);
  // other methods on the path are not the direct route's: the app answers them (404)
  expect((await fetch(`${base}/direct`)).status).toBe(404);
  expect(server.appLoaded).toBe(true);
});
