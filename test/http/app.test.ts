// The Elysia app in process (app.handle): expiry with a manual clock, validation, CORS headers,
// and the GET fast path answering exactly as the Elysia route does.

import { describe, expect, test } from "bun:test";
import { answerQuery, plainQuery } from "../../src/transport/http/fast-get.ts";
import { EnvelopeMemo } from "../../src/transport/http/envelope-memo.ts";
import { makeApp } from "./app-fixture.ts";
import { envelopeOf, PASSWORD } from "./http-helpers.ts";

describe("app", () => {
  test("set - exptime gives the value a time to live", async () => {
    const { request, tokens, clock } = makeApp();
    const token = await tokens.issue("local");
    expect((await request(`/data/?cmd=set&key=t&valuedata=v&exptime=10&token=${token}`)).status).toBe(200);
    clock.tick(9_999);
    expect((await request("/data/?cmd=get&key=t")).status).toBe(200);
    clock.tick(1);
    expect((await request("/data/?cmd=get&key=t")).status).toBe(404);
  });

  test("pass - a token lives at least Tonken_expire_time seconds, wherever in a second it was issued", async () => {
    const { request, clock } = makeApp({ Tonken_expire_time: 2 });
    clock.set(1_800_000_000_900); // 0.9 s into a second
    const token = (await request(`/data/?cmd=pass&pass=${PASSWORD}`).then(envelopeOf)).body.Data as string;
    clock.tick(2_099);
    expect((await request(`/data/?cmd=set&key=t&valuedata=v&token=${token}`)).status).toBe(200);
    clock.tick(1);
    expect((await request(`/data/?cmd=set&key=t&valuedata=v&token=${token}`)).status).toBe(401);
  });

  test("get - repeated answers of a memoised envelope stay whole and follow every change", async () => {
    const { request, tokens, clock, keyspace } = makeApp();
    const token = await tokens.issue("local");
    const get = async () => (await (await request("/data/?cmd=get&key=m")).json()) as { Data: string; KeyCreateTime: string };
    await request(`/data/?cmd=set&key=m&valuedata=one&token=${token}`);
    const first = await get();
    expect(await get()).toEqual(first); // the memoised body is not consumed by the first answer
    expect(first.Data).toBe("one");
    // same millisecond, same length, different value
    await request(`/data/?cmd=set&key=m&valuedata=two&token=${token}`);
    expect((await get()).Data).toBe("two");
    // same value written later: a new KeyCreateTime
    clock.tick(1000);
    await request(`/data/?cmd=set&key=m&valuedata=two&token=${token}`);
    const later = await get();
    expect(later.Data).toBe("two");
    expect(later.KeyCreateTime).not.toBe(first.KeyCreateTime);
    // a change that bypasses the keyspace's change feed is still seen
    keyspace.store.set(new TextEncoder().encode("m"), new TextEncoder().encode("six"), 0, clock.now());
    expect((await get()).Data).toBe("six");
    keyspace.store.delete(new TextEncoder().encode("m"));
    expect((await request("/data/?cmd=get&key=m")).status).toBe(404);
  });

  test("set - exptime as a JSON number, and a bad exptime is 500", async () => {
    const { request, tokens } = makeApp();
    const token = await tokens.issue("local");
    const post = (body: unknown) => request("/data/", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).then(envelopeOf);
    expect((await post({ cmd: "set", key: "n", valuedata: "v", exptime: 60, token })).status).toBe(200);
    const bad = await post({ cmd: "set", key: "n", valuedata: "v", exptime: "soon", token });
    expect(bad.status).toBe(500);
    expect(bad.body.Message).toContain("seconds");
  });

  test("data - wrong types are 500 with a Message naming the field", async () => {
    const { request } = makeApp();
    const post = (body: string) => request("/data/", { method: "POST", headers: { "content-type": "application/json" }, body }).then(envelopeOf);
    const key = await post(JSON.stringify({ cmd: "get", key: 5 }));
    expect(key.status).toBe(500);
    expect(key.body).toMatchObject({ Status: 500, Results: "ERROR" });
    expect(key.body.Message).toContain("key");
    const cmd = await post(JSON.stringify({ cmd: ["get"] }));
    expect(cmd.status).toBe(500);
    expect(cmd.body.Message).toContain("cmd");
    const format = await request("/data/?cmd=get&key=a&format=RAW").then(envelopeOf);
    expect(format.status).toBe(500);
    expect(format.body.Message).toContain("format");
  });

  test("data - an invalid field still echoes the request's Cmd and Key when they are text", async () => {
    const { request } = makeApp();
    const json = (body: unknown, query = "") => request(`/data/${query}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).then(envelopeOf);
    const format = await request("/data/?cmd=GET&key=k1&format=xml").then(envelopeOf);
    expect(format.body).toMatchObject({ Cmd: "get", Status: 500, Results: "ERROR", Key: "k1" });
    expect(format.body.Message).toContain("invalid field format");
    expect((await json({ cmd: "set", key: "k2", valuedata: "v", exptime: [1] })).body).toMatchObject({ Cmd: "set", Status: 500, Key: "k2" });
    // the body's fields win over the query's, as when the command runs; a field of the wrong type is not echoed
    expect((await json({ cmd: "exist", key: 5 }, "?cmd=get&key=q")).body).toMatchObject({ Cmd: "exist", Status: 500, Key: "" });
    expect((await json({ cmd: ["get"], key: "k3" })).body).toMatchObject({ Cmd: "", Status: 500, Key: "k3" });
    expect((await json({ key: "k4" })).body).toMatchObject({ Cmd: "", Status: 500, Key: "k4", Message: "missing field cmd" });
  });

  test("data - malformed JSON, JSON that is not an object, and a missing cmd are 500", async () => {
    const { request } = makeApp();
    const bad = await request("/data/", { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" }).then(envelopeOf);
    expect(bad.status).toBe(500);
    expect(bad.body.Message).toContain("JSON");
    // JSON that is not an object is not "no fields": the query's cmd must not run alone
    for (const body of ["null", '["set"]', '"str"', "5"]) {
      const notObject = await request("/data/?cmd=ping", { method: "POST", headers: { "content-type": "application/json" }, body }).then(envelopeOf);
      expect(`${body} ${notObject.status}`).toBe(`${body} 500`);
      expect(notObject.body.Message).toContain("not a JSON object");
    }
    const nocmd = await request("/data/", { method: "POST", body: new URLSearchParams({ key: "a" }) }).then(envelopeOf);
    expect(nocmd.status).toBe(500);
    expect(nocmd.body.Message).toContain("cmd");
    const get = await request("/data/?key=a").then(envelopeOf);
    expect(get.status).toBe(500);
    expect(get.body.Message).toContain("cmd");
  });

  test("data - a POST may carry its fields in the query string", async () => {
    const { request } = makeApp();
    const answer = await request("/data/?cmd=ping&valuedata=q", { method: "POST" }).then(envelopeOf);
    expect(answer.body).toMatchObject({ Status: 200, Data: "q" });
  });

  test("unknown path - 404 envelope", async () => {
    const { request } = makeApp();
    const answer = await request("/nowhere").then(envelopeOf);
    expect(answer.status).toBe(404);
    expect(answer.body.Message).toContain("/nowhere");
  });

  test("GET /data/ - the fast path answers as the Elysia route does", async () => {
    const { request, tokens } = makeApp();
    const { engine } = makeApp();
    const ctx = { engine, tokens, responseHost: "127.0.0.1:7721", memo: new EnvelopeMemo() };
    const token = await tokens.issue("local");
    const long = "k".repeat(5000);
    const queries = [
      `cmd=set&key=a&valuedata=x+y%20z%25&token=${token}`,
      "cmd=get&key=a",
      "cmd=get&key=a", // a memo hit the second time
      "cmd=GET&key=a",
      "cmd=gEt&key=a&format=json&valuedata=ignored",
      "cmd=get&key=a&format=raw",
      "cmd=get&key=a&key=b&cmd=set",
      "c%6Dd=get&cmd=set&key=a&format=json&format=RAW",
      "cmd=get&format=raw&key=a&format=json",
      "cmd=get&key=missing&format=raw",
      "cmd=get&key=missing",
      "cmd=get&key=",
      "cmd=get",
      `cmd=get&key=${long}`,
      `cmd=set&key=%E2%9C%93+%22q%22&valuedata=%E2%9C%93&token=${token}`,
      "cmd=get&key=%E2%9C%93+%22q%22",
      "cmd=get&key=%E2%9C%93+%22q%22",
      "cmd=ping&valuedata=%E2%9C%93",
      "cmd=nope&key=a",
      "cmd=exist&key=a&extra=1",
      "c%6Dd=get&k%65y=a",
      `cmd=delete&key=a&owl_token=${token}`,
      "cmd=get&key=a",
      "cmd=delete&key=a",
    ];
    for (const query of queries) {
      const viaFast = await answerQuery(ctx, new Request(`http://localhost/data/?${query}`), () => "local");
      expect(viaFast).toBeDefined();
      const viaElysia = await request(`/data/?${query}`);
      const shown = query.slice(0, 80);
      expect(`${shown} ${viaFast!.status} ${[...viaFast!.headers].join()}`).toBe(`${shown} ${viaElysia.status} ${[...viaElysia.headers].join()}`);
      const [a, b] = [await viaFast!.text(), await viaElysia.text()];
      expect(a.replace(/"KeyCreateTime":"[^"]*"/, "")).toBe(b.replace(/"KeyCreateTime":"[^"]*"/, ""));
    }
  });

  test("GET /data/ - unusual queries are left to the Elysia route", () => {
    for (const query of ["", "?key=a", "?cmd=get&key=%ZZ", "?cmd=get&%ZZ=1", "?cmd=get&format=RAW", "?cmd=get&format=RAW&format=json"]) {
      expect(plainQuery(`http://localhost/data/${query}`)).toBeUndefined();
    }
    // a repeated field counts with its first value; the later ones are not even decoded
    expect(plainQuery("http://localhost/data/?cmd=get&cmd=set&c%6Dd=del&key=a&key=%ZZ&format=json&format=RAW")).toMatchObject({ cmd: "get", key: "a", format: "json" });
    expect(plainQuery("http://localhost/data/?cmd=get&key=a+b&&flag")).toMatchObject({ cmd: "get", key: "a b", valuedata: undefined });
    expect(plainQuery("http://localhost/data/?cmd=get&constructor=1&__proto__=x&toString")).toMatchObject({ cmd: "get" });
    // names are matched in place when plain and decoded when not; near misses are other fields
    expect(plainQuery("http://localhost/data/?c%6Dd=get&k%65y=%61&ke=1&keys=2&token=t&owl+token=u")).toMatchObject({ cmd: "get", key: "a", token: "t", owl_token: undefined });
    expect(plainQuery("http://localhost/data/?cmd=set&key=k&valuedata=v&exptime=5&owl_token=o&pass=p&format=json")).toEqual({
      cmd: "set", key: "k", valuedata: "v", exptime: "5", token: undefined, owl_token: "o", pass: "p", format: "json",
    });
    expect(plainQuery(`http://localhost/data/?cmd=set&key=k&valuedata=${"v".repeat(100)}%2B${"w".repeat(100)}`)?.valuedata).toBe(`${"v".repeat(100)}+${"w".repeat(100)}`);
  });
});

describe("health", () => {
  test("health - status, version, uptime, keys, memory", async () => {
    const { request, clock, keyspace } = makeApp();
    keyspace.set(new TextEncoder().encode("k"), new TextEncoder().encode("v"));
    clock.tick(5_000);
    const body = (await (await request("/health")).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: "ok", uptime: 5, keys: 1 });
    expect(typeof body.version).toBe("string");
    expect((body.memory as { rss: number }).rss).toBeGreaterThan(0);
  });
});

describe("cors", () => {
  test("cors - off by default: no CORS headers", async () => {
    const { request } = makeApp();
    const response = await request("/data/?cmd=ping", { headers: { origin: "https://site.example" } });
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("cors - preflight with the default origin *: no credentials", async () => {
    const { request } = makeApp({ Cors: true });
    const response = await request("/data/", {
      method: "OPTIONS",
      headers: { origin: "https://site.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type, authorization" },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
    expect(response.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    const get = await request("/data/?cmd=ping", { headers: { origin: "https://site.example" } });
    expect(get.headers.get("access-control-allow-origin")).toBe("*");
    expect(get.headers.get("access-control-allow-credentials")).toBeNull();
    expect(((await get.json()) as { Data: unknown }).Data).toBe("PONG");
  });

  test("cors - a configured origin is allowed, others are not", async () => {
    const { request } = makeApp({ Cors: true, Access_Control_Allow_Origin: "https://app.example" });
    const ok = await request("/data/?cmd=ping", { headers: { origin: "https://app.example" } });
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(ok.headers.get("vary")).toContain("Origin");
    const other = await request("/data/?cmd=ping", { headers: { origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await request("/data/", { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
  });
});
