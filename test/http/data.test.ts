// /data/ end to end against a real node: GET and POST forms, tokens, raw format.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { removeDir, startNode, type NodeProcess } from "../helpers/node-process.ts";
import { getData, postForm, postJson, tokenFor } from "./http-helpers.ts";

let node: NodeProcess;
let base: string;
let token: string;

beforeAll(async () => {
  node = await startNode();
  base = `http://127.0.0.1:${node.httpPort}`;
  token = await tokenFor(base);
});

afterAll(async () => {
  await node.stop();
  removeDir(node.dir);
});

describe("/data/", () => {
  test("banner - shows the http and docs addresses", () => {
    expect(node.httpPort).toBeGreaterThan(0);
    expect(node.banner).toContain(`  docs      http://127.0.0.1:${node.httpPort}/swagger`);
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

  test("get - format=raw answers the bytes with nosniff", async () => {
    await getData(base, { cmd: "set", key: "html", valuedata: "<script>x</script>", token });
    const response = await fetch(`${base}/data/?cmd=get&key=html&format=raw`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/octet-stream");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await response.text()).toBe("<script>x</script>");
  });
});
