// /data/ end to end against a real node: GET and POST forms, tokens, raw format.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { removeDir, startNode, type NodeProcess } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";
import { envelopeOf, getData, postForm, postJson, rawRequest, startWithToken, tokenFor } from "./http-helpers.ts";

let node: NodeProcess;
let base: string;
let token: string;

beforeAll(async () => {
  ({ node, base, token } = await startWithToken());
});

afterAll(async () => {
  expect(await node.stop()).toBe(0); // SIGTERM: a clean stop
  removeDir(node.dir);
});

describe("/data/", () => {
  test("banner - shows the http and docs addresses", () => {
    expect(node.httpPort).toBeGreaterThan(0);
    expect(node.banner).toContain(`  docs      http://127.0.0.1:${node.httpPort}/swagger`);
  });

  test("health - status, version, uptime, keys and memory from the real node", async () => {
    const health = (await (await fetch(`${base}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: "ok", version: expect.any(String), uptime: expect.any(Number), keys: expect.any(Number) });
    expect(health.memory).toMatchObject({ rss: expect.any(Number), heapUsed: expect.any(Number), storeBytes: expect.any(Number) });
  });

  test("set - without a token is 401 NOT_PASS", async () => {
    const answer = await getData(base, { cmd: "set", key: "k", valuedata: "v" });
    expect(answer.status).toBe(401);
    expect(answer.body.Results).toBe("NOT_PASS");
  });

  test("set then get - GET query, POST form and POST JSON, with and without the trailing slash", async () => {
    expect((await getData(base, { cmd: "set", key: "a", valuedata: "1", token })).status).toBe(200);
    expect((await postForm(base, { cmd: "set", key: "b", valuedata: "2", token }, "/data")).status).toBe(200);
    expect((await postJson(base, { cmd: "set", key: "c", valuedata: "3", owl_token: token })).status).toBe(200);
    for (const [key, value] of [["a", "1"], ["b", "2"], ["c", "3"]]) {
      const answer = await fetch(`${base}/data?cmd=get&key=${key}`).then((r) => r.json());
      expect(answer).toMatchObject({ Cmd: "get", Status: 200, Key: key, Data: value, ResponseHost: `127.0.0.1:${node.httpPort}` });
    }
  });

  test("get - the same answer many times over (memoised envelope) through the real server", async () => {
    await getData(base, { cmd: "set", key: "hot", valuedata: "value ✓", token });
    const bodies = await Promise.all(Array.from({ length: 20 }, () => fetch(`${base}/data/?cmd=get&key=hot`).then((r) => r.text())));
    for (const body of bodies) expect(JSON.parse(body)).toMatchObject({ Status: 200, Data: "value ✓" });
    expect(new Set(bodies).size).toBe(1);
  });

  test("get - the fast path through the real server: any case of cmd, 404, a non-ASCII key, the envelope's headers, a change seen at once", async () => {
    const key = "clé ✓ \"q\"";
    await getData(base, { cmd: "set", key, valuedata: "v1", token });
    for (const cmd of ["get", "GET", "Get"]) {
      const response = await fetch(`${base}/data/?${new URLSearchParams({ cmd, key })}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(await response.json()).toMatchObject({ Cmd: "get", Status: 200, Results: "SUCCESS", Key: key, Data: "v1" });
    }
    await getData(base, { cmd: "set", key, valuedata: "v2", token });
    expect((await getData(base, { cmd: "get", key })).body).toMatchObject({ Key: key, Data: "v2" });
    const missing = await getData(base, { cmd: "get", key: "never-set" });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ Cmd: "get", Status: 404, Results: "NOT_FOUND", Key: "never-set", Data: null });
    expect((await getData(base, { cmd: "get", key: "" })).status).toBe(500);
    expect((await getData(base, { cmd: "get" })).status).toBe(500);
  });

  test("get - envelopes stay whole after a huge one let the shared writer's buffer go", async () => {
    const huge = "h".repeat(200 * 1024); // a > 64 KiB envelope: the writer drops its big buffer after it
    expect((await postForm(base, { cmd: "set", key: "huge-one", valuedata: huge, token })).status).toBe(200);
    expect((await postForm(base, { cmd: "set", key: "after-huge", valuedata: "small value", token })).status).toBe(200);
    expect((await getData(base, { cmd: "get", key: "huge-one" })).body.Data).toBe(huge);
    for (const key of ["after-huge", "never-set"]) {
      const response = await fetch(`${base}/data/?cmd=get&key=${key}&n=1`); // (n: past any memoised answer)
      const text = await response.text();
      const body = JSON.parse(text) as Record<string, unknown>;
      expect(body.Key).toBe(key);
      expect(body.Data).toBe(key === "after-huge" ? "small value" : null);
      expect(text.startsWith(`{"Cmd":"get","Status":${response.status},`)).toBe(true);
      expect(text).toContain(`"ResponseHost":"127.0.0.1:${node.httpPort}","KeyCreateTime":"`);
    }
  });

  test("get - format=raw answers the bytes with nosniff", async () => {
    await getData(base, { cmd: "set", key: "html", valuedata: "<script>x</script>", token });
    const response = await fetch(`${base}/data/?cmd=get&key=html&format=raw`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/octet-stream");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await response.text()).toBe("<script>x</script>");
  });

  test("get - an invalid format is a 500 that echoes Cmd and Key, through the real server", async () => {
    const answer = await fetch(`${base}/data/?cmd=get&key=k1&format=xml`).then(envelopeOf);
    expect(answer.status).toBe(500);
    expect(answer.body).toMatchObject({ Cmd: "get", Status: 500, Results: "ERROR", Key: "k1", Data: null });
    expect(answer.body.Message).toContain("invalid field format");
  });

  test("get - format=raw on a missing key is 404 with an empty body", async () => {
    const response = await fetch(`${base}/data/?cmd=get&key=absent&format=raw`);
    expect(response.status).toBe(404);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await response.text()).toBe("");
  });

  test("set - binary values via a multipart file part and a raw octet-stream body", async () => {
    const bytes = new Uint8Array(256).map((_, i) => i); // every byte, NUL and invalid UTF-8 included
    const form = new FormData();
    form.set("cmd", "set");
    form.set("key", "bin");
    form.set("valuedata", new Blob([bytes]));
    const multipart = await fetch(`${base}/data/`, { method: "POST", body: form, headers: { authorization: `Bearer ${token}` } }).then(envelopeOf);
    expect(multipart.status).toBe(200);
    const back = new Uint8Array(await (await fetch(`${base}/data/?cmd=get&key=bin&format=raw`)).arrayBuffer());
    expect(back).toEqual(bytes);

    const raw = await fetch(`${base}/data/?cmd=set&key=bin2&token=${token}`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: bytes.slice().reverse(),
    }).then(envelopeOf);
    expect(raw.status).toBe(200);
    const back2 = new Uint8Array(await (await fetch(`${base}/data/?cmd=get&key=bin2&format=raw`)).arrayBuffer());
    expect(back2).toEqual(bytes.slice().reverse());
  });

  test("set - multipart text fields with newlines, quotes and non-ASCII", async () => {
    const form = new FormData();
    for (const [k, v] of Object.entries({ cmd: "set", key: "mp", valuedata: 'a\nb "c" 100% ✓\r\n', token })) form.set(k, v);
    expect((await fetch(`${base}/data`, { method: "POST", body: form }).then(envelopeOf)).status).toBe(200);
    // FormData itself normalises line breaks to CRLF (HTML spec); the server keeps what it gets.
    expect((await getData(base, { cmd: "get", key: "mp" })).body.Data).toBe('a\r\nb "c" 100% ✓\r\n');
  });

  test("routes - a short Host header without a port (Host: owl) reaches every route, not a 404", async () => {
    // Elysia looks for the path from the URL's 11th character on; "http://owl/data/" is shorter.
    for (const host of ["x", "owl", "ab:", "owl1"]) {
      const form = { method: "POST", path: "/data/", host, headers: { "Content-Type": "application/x-www-form-urlencoded" } };
      const set = await rawRequest(node.httpPort, { ...form, body: `cmd=set&key=short-host&valuedata=${host}&token=${token}` });
      expect({ host, status: set.status }).toEqual({ host, status: 200 });
      const get = await rawRequest(node.httpPort, { ...form, body: "cmd=get&key=short-host" });
      expect(JSON.parse(get.body)).toMatchObject({ Cmd: "get", Status: 200, Data: host });
      expect((await rawRequest(node.httpPort, { path: "/health", host })).status).toBe(200);
      expect((await rawRequest(node.httpPort, { path: "/data/?cmd=get&key=short-host&format=raw", host })).body).toBe(host);
    }
  });

  test("set - %-escaped bytes that are not UTF-8 are stored as those bytes, keys too, through the real server; TCP reads them back", async () => {
    const form = { "content-type": "application/x-www-form-urlencoded" };
    expect((await fetch(`${base}/data/?cmd=set&key=%FF%FEq&valuedata=%FF%FE%00&token=${token}`)).status).toBe(200);
    const post = await fetch(`${base}/data/`, { method: "POST", headers: form, body: `cmd=set&key=%FF%FEf&valuedata=%FE%FF%00&token=${token}` });
    expect(post.status).toBe(200);
    const raw = async (key: string) => new Uint8Array(await (await fetch(`${base}/data/?cmd=get&key=${key}&format=raw`)).arrayBuffer());
    expect(await raw("%FF%FEq")).toEqual(new Uint8Array([0xff, 0xfe, 0x00]));
    expect(await raw("%FF%FEf")).toEqual(new Uint8Array([0xfe, 0xff, 0x00]));
    // over TCP, the key's bytes find the value (the U+FFFD text of the key is another key)
    const tcp = await OwlClient.connect(node.tcpPort);
    try {
      const line = (key: number[]) => Buffer.concat([Buffer.from("get "), Buffer.from(key)]);
      expect(await tcp.call(line([0xff, 0xfe, 0x71]))).toMatchObject({ Status: 200, Data: "\ufffd\ufffd\0" });
      expect((await tcp.call("get \ufffd\ufffdq")).Status).toBe(404);
    } finally {
      tcp.close();
    }
  });

  test("data - TCP writes are read over HTTP and HTTP writes over TCP", async () => {
    const tcp = await OwlClient.connect(node.tcpPort);
    try {
      expect((await tcp.call("set crossed from tcp")).Status).toBe(200);
      const viaHttp = await getData(base, { cmd: "get", key: "crossed" });
      expect(viaHttp.body).toMatchObject({ Status: 200, Data: "from tcp" });
      expect(viaHttp.body.KeyCreateTime).not.toBe("0001-01-01T00:00:00Z");
      expect((await postForm(base, { cmd: "set", key: "back", valuedata: "from http ✓", token })).status).toBe(200);
      expect(await tcp.call("get back")).toMatchObject({ Status: 200, Data: "from http ✓" });
      expect((await postForm(base, { cmd: "delete", key: "crossed", token })).status).toBe(200);
      expect((await tcp.call("get crossed")).Status).toBe(404);
    } finally {
      tcp.close();
    }
  });
});

describe("/data/ body limit", () => {
  let small: NodeProcess;
  let url: string;

  beforeAll(async () => {
    small = await startNode({ set: { MaxValueBytes: 1024 } });
    url = `http://127.0.0.1:${small.httpPort}`;
  });

  afterAll(async () => {
    await small.stop();
    removeDir(small.dir);
  });

  test("data - a body over the limit is a 413 envelope", async () => {
    const limit = 1024 + 64 * 1024;
    const answer = await fetch(`${url}/data/`, { method: "POST", body: new URLSearchParams({ cmd: "set", key: "big", valuedata: "x".repeat(limit) }) }).then(envelopeOf);
    expect(answer.status).toBe(413);
    expect(answer.body).toMatchObject({ Status: 413, Results: "ERROR" });
    expect(answer.body.Message).toContain(String(limit));
  });

  test("data - a body far over the limit is a 413 envelope, not read", async () => {
    const answer = await fetch(`${url}/data/?cmd=set&key=big`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: new Uint8Array(8 * 1024 * 1024),
    }).then(envelopeOf);
    expect(answer.status).toBe(413);
    expect((await getData(url, { cmd: "ping" })).status).toBe(200);
  });

  test("data - a chunked body over the limit is a 413 envelope too", async () => {
    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const answer = await fetch(`${url}/data/?cmd=set&key=big`, { method: "POST", body, headers: { "content-type": "application/octet-stream" } }).then(envelopeOf);
    expect(answer.status).toBe(413);
  });

  test("data - a value over MaxValueBytes inside the body limit is refused with a reason", async () => {
    const token = await tokenFor(url);
    const answer = await postForm(url, { cmd: "set", key: "big", valuedata: "x".repeat(2000), token });
    expect(answer.status).toBe(500);
    expect(answer.body.Message).toContain("1024");
    expect((await getData(url, { cmd: "ping" })).status).toBe(200); // still serving
  });
});

describe("/data/ body limit with Cors 1", () => {
  let cors: NodeProcess;
  let url: string;

  beforeAll(async () => {
    cors = await startNode({ set: { MaxValueBytes: 1024, Cors: 1, Access_Control_Allow_Origin: "https://app.example https://other.example" } });
    url = `http://127.0.0.1:${cors.httpPort}`;
  });

  afterAll(async () => {
    await cors.stop();
    removeDir(cors.dir);
  });

  const corsHeaders = (response: Response) => [...response.headers].filter(([name]) => name.startsWith("access-control-") || name === "vary");

  test("data - the 413 of an oversized body carries the CORS headers of every other answer", async () => {
    for (const origin of ["https://app.example", "https://evil.example"]) {
      const headers = { origin, "content-type": "application/octet-stream" };
      const normal = await fetch(`${url}/data/?cmd=ping`, { method: "POST", headers, body: "small" });
      expect(normal.status).toBe(200);
      const expected = corsHeaders(normal);
      expect(expected.length).toBeGreaterThan(0);
      const sized = await fetch(`${url}/data/?cmd=set&key=big`, { method: "POST", headers, body: new Uint8Array(200 * 1024) });
      const chunk = new Uint8Array(16 * 1024);
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({ pull: (c) => (sent++ < 8 ? c.enqueue(chunk) : c.close()) });
      const chunked = await fetch(`${url}/data/?cmd=set&key=big`, { method: "POST", headers, body: stream });
      for (const answer of [sized, chunked]) {
        expect(answer.status).toBe(413);
        expect(corsHeaders(answer)).toEqual(expected);
        expect(((await answer.json()) as { Status: number }).Status).toBe(413);
      }
    }
    const allowed = await fetch(`${url}/data/?cmd=set&key=big`, { method: "POST", headers: { origin: "https://app.example" }, body: new Uint8Array(200 * 1024) });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(allowed.headers.get("x-content-type-options")).toBe("nosniff");
  });
});
