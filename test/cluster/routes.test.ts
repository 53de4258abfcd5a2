import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cluster } from "../../src/cluster/cluster.ts";
import { LIST_FILES } from "../../src/cluster/peer-list.ts";
import { clusterRoutes } from "../../src/cluster/routes.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { PasswordAuthenticator } from "../../src/auth/authenticator.ts";
import { AttemptThrottle } from "../../src/auth/throttle.ts";
import { TokenService } from "../../src/auth/tokens.ts";
import { Engine } from "../../src/commands/engine.ts";
import { commandTable } from "../../src/commands/table.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { createHttpApp } from "../../src/transport/http/app.ts";
import { clientAddress } from "../../src/transport/http/client-address.ts";
import { makeTokenCheck } from "../../src/transport/http/request-token.ts";
import { ManualClock } from "../../src/store/types.ts";
import { valuePeer, type FakePeer } from "./fake-peer.ts";

const T0 = Date.UTC(2026, 10, 26, 10);
const PASSWORD = "test-password-123";
const TRICKY = '100% "quoted" \\ back\r\nnew line\t日本語 🦉 %41 %zz <script>';
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

function setup(local: Record<string, { data: string; writtenAt: number }> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "owl-routes-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const cluster = new Cluster({
    config: {
      DBfile: dir, ResponseHost: "127.0.0.1", Open_Https: false, HttpsClient_InsecureSkipVerify: false,
      HttpClientRequestTimeout: 300, HttpClientRequestLocalCacheLifeTime: 0,
      HttpClient_Request_Max_Error_Number: 2, HttpClient_Request_Timeout_Sleeptime: 2, MaxValueBytes: 1 << 24, MaxKeyBytes: 4096,
    },
    local: (key) => local[key],
    clock: new ManualClock(),
    log: silentLogger,
  });
  cluster.setHttpPort(7721);
  // The real HTTP app (engine, signed tokens, error mapping) with the cluster plugin mounted.
  const clock = new ManualClock();
  const tokens = new TokenService({ secret: new TextEncoder().encode("0123456789abcdef0123456789abcdef"), lifetimeSeconds: 0, password: PASSWORD, clock });
  const engine = new Engine({
    table: commandTable,
    db: new Keyspace(new MapStore(clock), clock),
    limits: { maxKeyBytes: 4096, maxValueBytes: 1 << 20 },
    auth: new PasswordAuthenticator(PASSWORD, tokens, new AttemptThrottle(clock), silentLogger),
  });
  const plugin = clusterRoutes({ cluster, checkToken: makeTokenCheck(tokens), clientAddress, responseHost: () => cluster.self.text, maxKeyBytes: 4096 });
  const app = createHttpApp({
    engine, tokens, log: silentLogger, clock, plugins: [plugin],
    config: { Host: "127.0.0.1", Httpport: 7721, ResponseHost: "127.0.0.1", Open_Https: false, Https_CertFile: "", Https_KeyFile: "", Cors: false, Access_Control_Allow_Origin: "*", MaxValueBytes: 1 << 20 },
  });
  const call = async (path: string, init?: RequestInit) => {
    const response = await app.handle(new Request(`http://127.0.0.1${path}`, init));
    const text = await response.text();
    return { status: response.status, text, body: JSON.parse(text) as Record<string, unknown> };
  };
  const token = async () => (await call(`/data/?cmd=pass&pass=${PASSWORD}`)).body.Data as string;
  return { cluster, app, call, dir, token };
}

const form = (fields: Record<string, string>) => ({ method: "POST", body: new URLSearchParams(fields) });
const json = (fields: Record<string, unknown>) => ({ method: "POST", body: JSON.stringify(fields), headers: { "content-type": "application/json" } });
const multipart = (fields: Record<string, string>) => {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  return { method: "POST", body: f };
};

describe("/group_data/", () => {
  test("group_data - envelope in field order, status = Status, tricky values intact", async () => {
    const peer: FakePeer = valuePeer({ [TRICKY]: [TRICKY + " (peer)", T0 + 1] });
    cleanups.push(() => peer.stop());
    const { cluster, call } = setup({ [TRICKY]: { data: TRICKY, writtenAt: T0 } });
    cluster.lists.owlcache.add({ text: peer.address, scheme: undefined, hostPort: peer.address });
    const r = await call(`/group_data/?cmd=get&key=${encodeURIComponent(TRICKY)}`);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(["Cmd", "Status", "Results", "Key", "Data", "ResponseHost", "KeyCreateTime"]);
    expect(r.body).toEqual({
      Cmd: "get", Status: 200, Results: "SUCCESS", Key: TRICKY,
      Data: [
        { Address: peer.address, Data: TRICKY + " (peer)", KeyCreateTime: new Date(T0 + 1).toISOString(), Status: 200 },
        { Address: "127.0.0.1:7721", Data: TRICKY, KeyCreateTime: new Date(T0).toISOString(), Status: 200 },
      ],
      ResponseHost: "127.0.0.1:7721", KeyCreateTime: new Date(T0 + 1).toISOString(),
    });
  });

  test("group_data - a JSON key with a lone surrogate is read as U+FFFD on every node", async () => {
    const peer: FakePeer = valuePeer({ "\ufffd": ["peer", T0 + 1] });
    cleanups.push(() => peer.stop());
    const { cluster, call } = setup();
    cluster.lists.owlcache.add({ text: peer.address, scheme: undefined, hostPort: peer.address });
    const r = await call("/group_data/", { method: "POST", body: '{"cmd":"get","key":"\\ud800"}', headers: { "content-type": "application/json" } });
    expect(r.status).toBe(200);
    expect((r.body.Data as { Address: string; Data: string }[]).map((e) => [e.Address, e.Data])).toEqual([[peer.address, "peer"]]);
  });

  test("group_data - GET and POST form, JSON, multipart; with and without the slash", async () => {
    const { call } = setup({ k: { data: "v", writtenAt: T0 } });
    const fields = { cmd: "get", key: "k" };
    for (const r of [
      await call("/group_data?cmd=get&key=k"),
      await call("/group_data/", form(fields)),
      await call("/group_data", json(fields)),
      await call("/group_data/", multipart(fields)),
      await call("/group_data/?cmd=get", form({ key: "k" })),
    ]) {
      expect(r.status).toBe(200);
      expect((r.body.Data as { Data: string }[])[0]!.Data).toBe("v");
    }
  });

  test("group_data - missing everywhere: 404 NOT_FOUND, Data null", async () => {
    const { call } = setup();
    const r = await call("/group_data/?cmd=get&key=nope");
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ Status: 404, Results: "NOT_FOUND", Key: "nope", Data: null, KeyCreateTime: "0001-01-01T00:00:00Z" });
  });

  test("group_data - bad requests: clear envelope errors", async () => {
    const { call } = setup();
    const cases: [string, RequestInit | undefined, number, string][] = [
      ["/group_data/", undefined, 500, "cmd is required"],
      ["/group_data/?cmd=set&key=k", undefined, 501, "unknown command"],
      ["/group_data/?cmd=get", undefined, 500, "key is required"],
      [`/group_data/?cmd=get&key=${"x".repeat(5000)}`, undefined, 500, "longer than 4096"],
      ["/group_data/?cmd=get&key=k&target=nowhere", undefined, 500, "target must be an address"],
      ["/group_data/", json({ cmd: "get", key: 5 }), 500, "invalid field key"],
    ];
    for (const [path, init, status, message] of cases) {
      const r = await call(path, init);
      expect(r.status).toBe(status);
      expect(r.body.Status).toBe(status);
      expect(String(r.body.Message)).toContain(message);
    }
  });
});

describe("/server/", () => {
  test("server - token required for every cmd", async () => {
    const { call, token } = setup();
    const TOKEN = await token();
    for (const path of ["/server/?cmd=getall", "/server/?cmd=add&address=127.0.0.1:1", "/server/?cmd=getall&token=wrong", `/server/?cmd=getall&token=${TOKEN}x`]) {
      const r = await call(path);
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ Status: 401, Results: "NOT_PASS" });
    }
  });

  test("server - add, get, getall, delete; both lists; saved at once; no secret shown", async () => {
    const { call, dir, token } = setup();
    const TOKEN = await token();
    expect((await call(`/server/?cmd=add&address=127.0.0.1:7723&pass=peer-secret-pass&token=${TOKEN}`)).status).toBe(200);
    expect((await call("/server/", form({ cmd: "add", address: "https://10.0.0.2:7721", pass: "other-secret", owl_token: TOKEN }))).status).toBe(200);
    expect((await call("/server/", { ...json({ cmd: "add", group_type: "gossip", address: "127.0.0.1:7725" }), headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    const all = await call(`/server/?cmd=getall&token=${TOKEN}`);
    expect(all.body.Data).toEqual([
      { Cmd: "", Address: "127.0.0.1:7723", Pass: "", Token: "" },
      { Cmd: "", Address: "https://10.0.0.2:7721", Pass: "", Token: "" },
    ]);
    expect(all.text).not.toContain("secret");
    expect((await call(`/server/?cmd=getall&group_type=gossip&token=${TOKEN}`)).body.Data).toEqual([{ Cmd: "", Address: "127.0.0.1:7725", Pass: "", Token: "" }]);
    expect((await call(`/server/?cmd=get&address=http://127.0.0.1:7723&token=${TOKEN}`)).body.Data).toEqual({ Cmd: "", Address: "127.0.0.1:7723", Pass: "", Token: "" });
    expect(JSON.parse(readFileSync(join(dir, LIST_FILES.owlcache), "utf8"))[0]).toEqual({ Cmd: "", Address: "127.0.0.1:7723", Pass: "peer-secret-pass", Token: "" });
    expect((await call(`/server/?cmd=delete&address=127.0.0.1:7723&token=${TOKEN}`)).status).toBe(200);
    expect((await call(`/server/?cmd=delete&address=127.0.0.1:7723&token=${TOKEN}`)).status).toBe(404);
    expect((await call(`/server/?cmd=get&address=127.0.0.1:7723&token=${TOKEN}`)).status).toBe(404);
    expect(JSON.parse(readFileSync(join(dir, LIST_FILES.owlcache), "utf8")).map((r: { Address: string }) => r.Address)).toEqual(["https://10.0.0.2:7721"]);
  });

  test("server - add of a listed peer without pass keeps its stored Pass", async () => {
    const { call, dir, token } = setup();
    const TOKEN = await token();
    const stored = () => JSON.parse(readFileSync(join(dir, LIST_FILES.owlcache), "utf8"))[0];
    expect((await call(`/server/?cmd=add&address=127.0.0.1:7723&pass=peer-secret-pass&token=${TOKEN}`)).status).toBe(200);
    expect((await call("/server/", form({ cmd: "add", address: "https://127.0.0.1:7723", token: TOKEN }))).status).toBe(200);
    expect(stored()).toEqual({ Cmd: "", Address: "https://127.0.0.1:7723", Pass: "peer-secret-pass", Token: "" });
    expect((await call("/server/", json({ cmd: "add", address: "127.0.0.1:7723", pass: "other-pass", token: TOKEN }))).status).toBe(200);
    expect(stored().Pass).toBe("other-pass");
  });

  test("server - bad fields are clear errors and change nothing", async () => {
    const { call, cluster, token } = setup();
    const TOKEN = await token();
    const cases: [string, number, string][] = [
      [`/server/?cmd=add&token=${TOKEN}`, 500, "address is required"],
      [`/server/?cmd=add&address=127.0.0.1&token=${TOKEN}`, 500, "host:port"],
      [`/server/?cmd=add&address=127.0.0.1:1/evil&token=${TOKEN}`, 500, "host:port"],
      [`/server/?cmd=add&address=127.0.0.1:1&group_type=raft&token=${TOKEN}`, 500, "group_type"],
      [`/server/?cmd=purge&token=${TOKEN}`, 501, "unknown command"],
    ];
    for (const [path, status, message] of cases) {
      const r = await call(path);
      expect(r.status).toBe(status);
      expect(String(r.body.Message)).toContain(message);
    }
    expect(cluster.lists.owlcache.size + cluster.lists.gossip.size).toBe(0);
  });

  test("group_data and server - an invalid field still echoes Cmd and Key", async () => {
    const { call } = setup();
    expect((await call("/group_data/?key=k", json({ cmd: "GET", target: 5 }))).body).toMatchObject({ Cmd: "get", Status: 500, Key: "k" });
    expect((await call("/server/", json({ cmd: "add", address: ["127.0.0.1:1"] }))).body).toMatchObject({ Cmd: "add", Status: 500, Key: "" });
  });
});

describe("headers", () => {
  test("group_data and server - every answer is JSON with X-Content-Type-Options: nosniff, as /data/'s", async () => {
    const { app, token } = setup({ k: { data: "<script>alert(1)</script>", writtenAt: T0 } });
    const TOKEN = await token();
    const paths = ["/group_data/?cmd=get&key=k", "/group_data/?cmd=get&key=absent", "/group_data/?cmd=nope", "/server/?cmd=getall", `/server/?cmd=getall&token=${TOKEN}`, `/server/?cmd=get&address=127.0.0.1:1&token=${TOKEN}`];
    for (const path of paths) {
      const response = await app.handle(new Request(`http://127.0.0.1${path}`));
      expect(`${path} ${response.headers.get("x-content-type-options")}`).toBe(`${path} nosniff`);
      expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    }
    const post = await app.handle(new Request("http://127.0.0.1/group_data/", { method: "POST", body: new URLSearchParams({ cmd: "get", key: "k" }) }));
    expect(post.headers.get("x-content-type-options")).toBe("nosniff");
  });
});

describe("JSON bodies", () => {
  test("group_data and server - a malformed or non-object JSON body is a 500, as on /data/", async () => {
    const { call, cluster, token } = setup({ k: { data: "v", writtenAt: T0 } });
    const TOKEN = await token();
    const raw = (body: string) => ({ method: "POST", body, headers: { "content-type": "application/json" } });
    for (const body of ['{"cmd":"get",', "{nope", "null", '["get","k"]', '"get"', "5", "true"]) {
      // The query alone would make a good request: the bad body must not be ignored.
      for (const path of ["/group_data/?cmd=get&key=k", `/server/?cmd=add&address=127.0.0.1:7723&token=${TOKEN}`, "/data/?cmd=get&key=k"]) {
        const r = await call(path, raw(body));
        expect(`${path} ${body} ${r.status}`).toBe(`${path} ${body} 500`);
        expect(r.body).toMatchObject({ Status: 500, Results: "ERROR" });
        expect(String(r.body.Message)).toContain(body.startsWith("{") ? "not valid JSON" : "not a JSON object");
      }
    }
    expect(cluster.lists.owlcache.size).toBe(0);
    // An empty body is no body: the query's fields count.
    expect((await call("/group_data/?cmd=get&key=k", raw(" "))).status).toBe(200);
  });
});

describe("cluster routes in the API docs", () => {
  test("docs - /swagger/json describes /group_data/ and /server/ with their fields", async () => {
    const { app } = setup();
    const doc = (await (await app.handle(new Request("http://127.0.0.1/swagger/json"))).json()) as { paths: Record<string, Record<string, { parameters?: { name: string }[] }>> };
    const group = Object.entries(doc.paths).find(([path]) => path.startsWith("/group_data"));
    const server = Object.entries(doc.paths).find(([path]) => path.startsWith("/server"));
    expect(group).toBeDefined();
    expect(server).toBeDefined();
    expect(group![1].get!.parameters!.map((p) => p.name)).toEqual(expect.arrayContaining(["cmd", "key", "target"]));
    expect(server![1].get!.parameters!.map((p) => p.name)).toEqual(expect.arrayContaining(["cmd", "group_type", "address", "token"]));
  });

  test("docs - /group_data/ and /server/ answers are the envelope per status; POST bodies are optional forms or JSON", async () => {
    const { app } = setup();
    type Operation = {
      responses: Record<string, { description?: string; content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> }>;
      requestBody?: { required?: boolean; content: Record<string, unknown> };
    };
    const doc = (await (await app.handle(new Request("http://127.0.0.1/swagger/json"))).json()) as { paths: Record<string, Record<string, Operation>> };
    const statuses = { "/group_data/": ["200", "404", "413", "500", "501"], "/server/": ["200", "401", "404", "413", "500", "501"] };
    for (const [path, expected] of Object.entries(statuses)) {
      for (const method of ["get", "post"]) {
        const operation = doc.paths[path]![method]!;
        expect(`${method} ${path} ${Object.keys(operation.responses).sort()}`).toBe(`${method} ${path} ${expected}`);
        for (const status of expected) {
          const response = operation.responses[status]!;
          expect(response.description?.length ?? 0, `${method} ${path} ${status}`).toBeGreaterThan(10);
          expect(Object.keys(response.content!["application/json"]!.schema!.properties!)).toEqual(["Cmd", "Status", "Results", "Key", "Data", "ResponseHost", "KeyCreateTime", "Message"]);
        }
      }
      const body = doc.paths[path]!.post!.requestBody!;
      expect(body.required).toBe(false);
      expect(Object.keys(body.content).sort()).toEqual(["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]);
    }
    // /data/ alone takes the value itself as a raw body
    expect(Object.keys(doc.paths["/data/"]!.post!.requestBody!.content)).toContain("application/octet-stream");
    expect(doc.paths["/data/"]!.post!.requestBody!.required).toBe(false);
  });
});
