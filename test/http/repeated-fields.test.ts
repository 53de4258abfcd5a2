// A field given more than once counts with its first value in every form of request (SPEC §7,
// Go's r.FormValue): the GET query (fast path and Elysia route), urlencoded and multipart bodies
// and JSON members, on /data/, /group_data/ and /server/; a POST's body still wins over its query.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { removeDir, type NodeProcess } from "../helpers/node-process.ts";
import { makeApp } from "./app-fixture.ts";
import { envelopeOf, getData, startWithToken } from "./http-helpers.ts";
import { MAX_BODY_FIELDS } from "../../src/transport/http/request-fields.ts";

let node: NodeProcess;
let base: string;
let token: string;

beforeAll(async () => {
  ({ node, base, token } = await startWithToken());
  for (const [key, value] of [["k1", "one"], ["k2", "two"], ["k3", "three"]] as const) await getData(base, { cmd: "set", key, valuedata: value, token });
});

afterAll(async () => {
  await node.stop();
  removeDir(node.dir);
});

/** Fields with repeats, in order, as a urlencoded string. */
const encoded = (pairs: [string, string][]) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");

function multipart(pairs: [string, string | Blob][]): FormData {
  const form = new FormData();
  for (const [name, value] of pairs) form.append(name, value);
  return form;
}

const post = (path: string, body: string | FormData) =>
  fetch(`${base}${path}`, { method: "POST", body, headers: typeof body === "string" ? { "content-type": "application/x-www-form-urlencoded" } : {} }).then(envelopeOf);

describe("repeated fields", () => {
  const getTwice: [string, string][] = [["cmd", "get"], ["key", "k1"], ["key", "k2"]];

  test("data - a repeated key counts with its first value: GET query, urlencoded and multipart", async () => {
    const viaQuery = await fetch(`${base}/data/?${encoded(getTwice)}`).then(envelopeOf); // the fast path
    const viaForm = await post("/data/", encoded(getTwice));
    const viaMultipart = await post("/data/", multipart(getTwice));
    for (const answer of [viaQuery, viaForm, viaMultipart]) expect(answer.body).toMatchObject({ Status: 200, Key: "k1", Data: "one" });
  });

  test("data - a JSON body with a repeated member: the first value counts too", async () => {
    const answer = await fetch(`${base}/data/`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"cmd":"get","key":"k1","key":"k2"}' }).then(envelopeOf);
    expect(answer.body).toMatchObject({ Status: 200, Key: "k1", Data: "one" });
  });

  test("data - through the Elysia GET route too, validation included (format=json then RAW)", async () => {
    const { request, tokens } = makeApp();
    const own = await tokens.issue("local");
    await request(`/data/?cmd=set&key=k1&valuedata=one&token=${own}`);
    expect((await request("/data/?cmd=get&key=k1&key=k2").then(envelopeOf)).body).toMatchObject({ Status: 200, Key: "k1", Data: "one" });
    expect((await request("/data/?cmd=get&key=k1&format=json&format=RAW").then(envelopeOf)).body).toMatchObject({ Status: 200, Data: "one" });
    expect((await request("/data/?cmd=get&key=k1&format=RAW&format=json")).status).toBe(500);
    // the same through the real server's fast path
    expect((await fetch(`${base}/data/?cmd=get&key=k1&format=json&format=RAW`).then(envelopeOf)).body).toMatchObject({ Status: 200, Data: "one" });
    expect((await fetch(`${base}/data/?cmd=get&key=k1&format=RAW&format=json`)).status).toBe(500);
  });

  test("data - writes take the first value: a repeated cmd, valuedata and file part", async () => {
    const pairs: [string, string][] = [["cmd", "set"], ["cmd", "delete"], ["key", "w"], ["valuedata", "first"], ["valuedata", "second"], ["token", token]];
    expect((await post("/data/", encoded(pairs))).body).toMatchObject({ Cmd: "set", Status: 200 });
    expect((await getData(base, { cmd: "get", key: "w" })).body.Data).toBe("first");
    const files: [string, string | Blob][] = [["cmd", "set"], ["key", "w"], ["valuedata", new Blob(["file one"])], ["valuedata", new Blob(["file two"])], ["token", token]];
    expect((await post("/data/", multipart(files))).status).toBe(200);
    expect((await getData(base, { cmd: "get", key: "w" })).body.Data).toBe("file one");
  });

  test("data - a POST's body wins over its query, each side with its first value", async () => {
    const answer = await fetch(`${base}/data/?key=k3&key=k2`, { method: "POST", body: new URLSearchParams(getTwice) }).then(envelopeOf);
    expect(answer.body).toMatchObject({ Key: "k1", Data: "one" });
    const fromQuery = await fetch(`${base}/data/?key=k2&key=k3`, { method: "POST", body: new URLSearchParams({ cmd: "get" }) }).then(envelopeOf);
    expect(fromQuery.body).toMatchObject({ Key: "k2", Data: "two" });
  });

  test("data - a multipart text part means what it means in a query: JSON-looking values are text", async () => {
    const value = '{"a":[1,2]}';
    expect((await post("/data/", multipart([["cmd", "set"], ["key", "j"], ["valuedata", value], ["token", token]]))).status).toBe(200);
    expect((await getData(base, { cmd: "get", key: "j" })).body.Data).toBe(value);
  });

  test("group_data - a repeated key counts with its first value: query, urlencoded and multipart", async () => {
    const answers = [
      await fetch(`${base}/group_data/?${encoded(getTwice)}`).then(envelopeOf),
      await post("/group_data/", encoded(getTwice)),
      await post("/group_data/", multipart(getTwice)),
    ];
    for (const answer of answers) {
      expect(answer.body).toMatchObject({ Status: 200, Key: "k1" });
      expect((answer.body.Data as { Data: string }[])[0]!.Data).toBe("one");
    }
  });

  test("server - a repeated cmd counts with its first value: query, urlencoded and multipart", async () => {
    const pairs: [string, string][] = [["cmd", "getall"], ["cmd", "add"], ["address", "127.0.0.1:1"], ["token", token]];
    const answers = [
      await fetch(`${base}/server/?${encoded(pairs)}`).then(envelopeOf),
      await post("/server/", encoded(pairs)),
      await post("/server/", multipart(pairs)),
    ];
    for (const answer of answers) expect(answer.body).toMatchObject({ Cmd: "getall", Status: 200, Data: [] });
  });

  test("bodies - more than MAX_BODY_FIELDS fields are refused before they are parsed: urlencoded, multipart, JSON", async () => {
    const extra = (n: number): [string, string][] => Array.from({ length: n }, (_, i): [string, string] => [`f${i}`, ""]);
    const atLimit = [...getTwice, ...extra(MAX_BODY_FIELDS - getTwice.length)];
    const overLimit = [...getTwice, ...extra(MAX_BODY_FIELDS + 1 - getTwice.length)];
    const json = (pairs: [string, string][]) => fetch(`${base}/data/`, { method: "POST", headers: { "content-type": "application/json" }, body: `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}` }).then(envelopeOf);
    for (const answer of [await post("/data/", encoded(atLimit)), await post("/data/", multipart(atLimit)), await json(atLimit)]) {
      expect(answer.body).toMatchObject({ Status: 200, Key: "k1", Data: "one" });
    }
    for (const answer of [await post("/data/", encoded(overLimit)), await post("/data/", multipart(overLimit)), await json(overLimit), await post("/group_data/", encoded(overLimit))]) {
      expect(answer.status).toBe(500);
      expect(answer.body.Message).toBe(`the body has more than ${MAX_BODY_FIELDS} fields`);
    }
    // A million empty form fields (what used to stall every client for seconds) get the same answer.
    const million = `cmd=get&key=k1${"&".repeat(1_000_000)}`;
    expect((await post("/data/", million)).body.Message).toBe(`the body has more than ${MAX_BODY_FIELDS} fields`);
    const parts = `--b0Und\r\nContent-Disposition: form-data; name="f"\r\n\r\n\r\n`.repeat(100_000) + "--b0Und--\r\n";
    const manyParts = await fetch(`${base}/data/`, { method: "POST", headers: { "content-type": "multipart/form-data; boundary=b0Und" }, body: parts }).then(envelopeOf);
    expect(manyParts.body.Message).toBe(`the body has more than ${MAX_BODY_FIELDS} fields`);
    expect((await getData(base, { cmd: "get", key: "k1" })).body.Data).toBe("one");
  });
});
