// The ops plugin on a bare Elysia app: /metrics, /ui, /ui/status.json, `/`.

import { expect, test } from "bun:test";
import { Elysia } from "elysia";
import { opsRoutes } from "../../src/ops/routes.ts";
import { parseExposition } from "../metrics/exposition.ts";
import { opsNode } from "./harness.ts";

const url = (path: string) => new Request(`http://localhost${path}`);

test("GET /metrics - Prometheus text format, counters move as commands run", async () => {
  const n = opsNode();
  const app = new Elysia().use(opsRoutes({ metrics: n.metrics, status: n.status }));
  const first = await app.handle(url("/metrics"));
  expect(first.status).toBe(200);
  expect(first.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  const before = parseExposition(await first.text());
  expect(before.value("owl_commands_total", { command: "set", transport: "http" })).toBeUndefined();
  n.run("set", "a", "1");
  n.run("get", "a");
  n.run("get", "b");
  const after = parseExposition(await (await app.handle(url("/metrics"))).text());
  expect(after.value("owl_commands_total", { command: "set", transport: "http" })).toBe(1);
  expect(after.value("owl_keys")).toBe(1);
  expect(after.value("owl_keyspace_hits_total")).toBe(1);
  expect(after.value("owl_keyspace_misses_total")).toBe(1);
});

test("GET /ui - one self-contained page with a CSP that forbids anything external", async () => {
  const n = opsNode();
  const app = new Elysia().use(opsRoutes({ metrics: n.metrics, status: n.status }));
  for (const path of ["/ui", "/ui/"]) {
    const res = await app.handle(url(path));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    const html = await res.text();
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//); // nothing fetched from elsewhere
    expect(html).toContain('href="/swagger"');
  }
});

test("GET /ui/status.json - what the page shows", async () => {
  const n = opsNode([{ address: "127.0.0.1:7731", ok: false, message: "timeout after 2700 ms" }]);
  const app = new Elysia().use(opsRoutes({ metrics: n.metrics, status: n.status }));
  n.run("set", "k", "hello");
  n.rate.record();
  n.rate.record();
  const body = (await (await app.handle(url("/ui/status.json"))).json()) as ReturnType<typeof n.status>;
  expect(body.node).toMatchObject({ address: "127.0.0.1:7721", version: "0.1.0" });
  expect(body.node.uptimeSeconds).toBeGreaterThanOrEqual(65);
  expect(body.keys).toBe(1);
  expect(body.bytesUsed).toBe(6);
  expect(body.memory.rss).toBeGreaterThan(0);
  expect(body.peers).toEqual([{ address: "127.0.0.1:7731", ok: false, message: "timeout after 2700 ms" }]);
  expect(body.opsPerSecond.intervalSeconds).toBe(1);
});

test("GET / - sends browsers to the status page unless another route owns it", async () => {
  const n = opsNode();
  const res = await new Elysia().use(opsRoutes({ metrics: n.metrics, status: n.status })).handle(url("/"));
  expect(res.status).toBe(302);
  expect(res.headers.get("location")).toBe("/ui");
  const off = await new Elysia().use(opsRoutes({ metrics: n.metrics, status: n.status, rootRedirect: false })).handle(url("/"));
  expect(off.status).toBe(404);
});
