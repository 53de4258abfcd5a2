// Values %-escaped as bytes that are not UTF-8, in a query string or a urlencoded body, reach the
// store as exactly those bytes (the Go original's strings are bytes), keys included (app.handle).

import { describe, expect, test } from "bun:test";
import { plainQuery } from "../../src/transport/http/fast-get.ts";
import { makeApp } from "./app-fixture.ts";
import { envelopeOf } from "./http-helpers.ts";

const bytes = (...values: number[]) => new Uint8Array(values);
const FORM = { "content-type": "application/x-www-form-urlencoded" };

async function rawValue(request: (path: string) => Promise<Response>, escapedKey: string): Promise<Uint8Array | number> {
  const response = await request(`/data/?cmd=get&key=${escapedKey}&format=raw`);
  return response.status === 200 ? new Uint8Array(await response.arrayBuffer()) : response.status;
}

describe("form bytes", () => {
  test("set - a value that is not UTF-8 is stored as its bytes, from the query and from a form body", async () => {
    const { request, tokens, keyspace } = makeApp();
    const token = await tokens.issue("local");
    expect((await request(`/data/?cmd=set&key=q&valuedata=%FF%FE%00&token=${token}`)).status).toBe(200);
    const post = await request("/data/", { method: "POST", headers: FORM, body: `cmd=set&key=f&valuedata=%FF%FE%00+%E2%9C%93&token=${token}` });
    expect(post.status).toBe(200);
    expect(keyspace.get(new TextEncoder().encode("q"))?.value).toEqual(bytes(0xff, 0xfe, 0x00));
    expect(await rawValue(request, "q")).toEqual(bytes(0xff, 0xfe, 0x00));
    expect(await rawValue(request, "f")).toEqual(bytes(0xff, 0xfe, 0x00, 0x20, 0xe2, 0x9c, 0x93));
  });

  test("set, get, exist, expire, delete - a key that is not UTF-8 is its bytes, never the U+FFFD text", async () => {
    const { request, tokens, keyspace } = makeApp();
    const token = await tokens.issue("local");
    const lossy = encodeURIComponent("\ufffd\ufffd"); // what a mangled key would have been
    expect((await request(`/data/?cmd=set&key=${lossy}&valuedata=text-key&token=${token}`)).status).toBe(200);
    const set = await request("/data/", { method: "POST", headers: FORM, body: `cmd=set&key=%FF%FE&valuedata=byte-key&token=${token}` }).then(envelopeOf);
    expect(set.body).toMatchObject({ Status: 200, Key: "\ufffd\ufffd" }); // the envelope shows bytes as JSON text does
    expect(keyspace.get(bytes(0xff, 0xfe))?.value).toEqual(new TextEncoder().encode("byte-key"));
    expect(await rawValue(request, "%FF%FE")).toEqual(new TextEncoder().encode("byte-key"));
    expect(await rawValue(request, lossy)).toEqual(new TextEncoder().encode("text-key"));
    // a second read of each: an answer remembered for the text key must not answer the byte key
    expect((await request("/data/?cmd=get&key=%FF%FE").then(envelopeOf)).body.Data).toBe("byte-key");
    expect((await request(`/data/?cmd=get&key=${lossy}`).then(envelopeOf)).body.Data).toBe("text-key");
    expect((await request("/data/?cmd=get&key=%FF%FE").then(envelopeOf)).body.Data).toBe("byte-key");
    expect((await request("/data/?cmd=exist&key=%FF%FE")).status).toBe(200);
    expect((await request(`/data/?cmd=expire&key=%FF%FE&exptime=100&token=${token}`)).status).toBe(200);
    expect((await request(`/data/?cmd=delete&key=%FF%FE&token=${token}`)).status).toBe(200);
    expect(keyspace.get(bytes(0xff, 0xfe))).toBeUndefined();
    expect(await rawValue(request, lossy)).toEqual(new TextEncoder().encode("text-key"));
  });

  test("set - a field in the body wins over the query's, whether either is UTF-8 or not", async () => {
    const { request, tokens } = makeApp();
    const token = await tokens.issue("local");
    const post = (query: string, body: string) => request(`/data/?${query}`, { method: "POST", headers: FORM, body: `${body}&token=${token}` });
    expect((await post("key=a&valuedata=%FF", "cmd=set&valuedata=body")).status).toBe(200);
    expect(await rawValue(request, "a")).toEqual(new TextEncoder().encode("body"));
    expect((await post("key=b&valuedata=query", "cmd=set&valuedata=%FE")).status).toBe(200);
    expect(await rawValue(request, "b")).toEqual(bytes(0xfe));
    expect((await post("valuedata=query", "cmd=set&key=%FF&valuedata=v")).status).toBe(200);
    expect(await rawValue(request, "%FF")).toEqual(new TextEncoder().encode("v"));
  });

  test("set - a malformed escape is kept as sent; valid escapes around it are decoded", async () => {
    const { request, tokens } = makeApp();
    const token = await tokens.issue("local");
    expect((await request(`/data/?cmd=set&key=m&valuedata=a%20%G1%&token=${token}`)).status).toBe(200);
    expect(await rawValue(request, "m")).toEqual(new TextEncoder().encode("a %G1%"));
  });

  test("GET /data/ - the fast path leaves input that is not UTF-8 to the route", () => {
    expect(plainQuery("http://localhost/data/?cmd=get&key=%FF%FE")).toBeUndefined();
    expect(plainQuery("http://localhost/data/?cmd=set&key=k&valuedata=%C3")).toBeUndefined();
    expect(plainQuery("http://localhost/data/?cmd=get&key=%C3%A9")).toMatchObject({ key: "é" });
  });
});
