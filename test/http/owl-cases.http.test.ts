// The shared owl case table (test/cases/owl-cases.ts, also run over TCP) over HTTP against a
// real node, in three forms: GET query, POST urlencoded, POST JSON; each form on a fresh node.
// A few cases only HTTP can express (newlines in a value) are added here in the same shape.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { commandTable } from "../../src/commands/table.ts";
import { expectTtl, owlCases, type OwlCase } from "../cases/owl-cases.ts";
import { removeDir, type NodeProcess } from "../helpers/node-process.ts";
import { RawClient, startRespNode } from "../resp/helpers.ts";
import { getData, postForm, postJson, startWithToken, type HttpAnswer } from "./http-helpers.ts";

const httpOnlyCases: readonly OwlCase[] = [
  { name: "set - a value with newlines travels intact", cmd: "set", key: "h-lines", value: "one\ntwo\r\nthree\n", status: 200, then: { status: 200, data: "one\ntwo\r\nthree\n" } },
  { name: "set - a non-ASCII key", cmd: "set", key: "clé ✓", value: "v", status: 200, then: { status: 200, data: "v" } },
  { name: "set - exptime sets the value and its time to live", cmd: "set", key: "h-ttl", value: "v", exptime: "100", status: 200, then: { status: 200, data: "v", ttl: 100 } },
  { name: "delete - without a key is 500", cmd: "delete", status: 500 },
  { name: "exist - without a key is 500", cmd: "exist", status: 500 },
  { name: "pass - a wrong password is 401 NOT_PASS", cmd: "pass", value: "not-the-password", status: 401 },
];

const cases = [...owlCases, ...httpOnlyCases].filter((c) => c.only !== "tcp");

function specOf(cmd: string) {
  return commandTable.find((s) => s.dialects.includes("owl") && s.name === cmd.toLowerCase());
}

/**
 * A case's request fields: key, value (in the command's first field after the key: `valuedata`,
 * `pass` for pass, `exptime` for expire) and exptime.
 */
function httpFields(c: { cmd: string; key?: string; value?: string; exptime?: string }, token: string): Record<string, string> {
  const fields: Record<string, string> = { cmd: c.cmd };
  if (c.key !== undefined) fields.key = c.key;
  if (c.value !== undefined) fields[specOf(c.cmd)?.httpArgs?.find((field) => field !== "key") ?? "valuedata"] = c.value;
  if (c.exptime !== undefined) fields.exptime = c.exptime;
  if (specOf(c.cmd)?.write) fields.token = token;
  return fields;
}

test("owl cases - every owl command of the table has cases over HTTP", () => {
  const covered = new Set(cases.map((c) => c.cmd.toLowerCase()));
  for (const spec of commandTable.filter((s) => s.dialects.includes("owl"))) expect(covered.has(spec.name), spec.name).toBe(true);
});

type Send = (base: string, fields: Record<string, string>) => Promise<HttpAnswer>;

const forms: [string, Send][] = [
  ["GET query", (base, fields) => getData(base, fields)],
  ["POST urlencoded", (base, fields) => postForm(base, fields)],
  ["POST JSON", (base, fields) => postJson(base, fields)],
];

for (const [form, send] of forms) {
  describe(`owl cases over HTTP (${form})`, () => {
    let node: NodeProcess;
    let base: string;
    let token: string;
    let resp: RawClient;

    beforeAll(async () => {
      ({ node, base, token } = await startWithToken(startRespNode));
      resp = await RawClient.connect(node.respPort);
    });

    afterAll(async () => {
      resp?.close();
      await node.stop();
      removeDir(node.dir);
    });

    for (const c of cases) {
      test(c.name, async () => {
        for (const [cmd, key, value] of c.setup ?? []) {
          expect((await send(base, httpFields({ cmd, key, value }, token))).status).toBe(200);
        }
        const answer = await send(base, httpFields(c, token));
        expect(answer.status).toBe(c.status);
        expect(answer.body.Status).toBe(c.status);
        expect(answer.body.Cmd).toBe(c.cmd.toLowerCase());
        if ("data" in c) expect(answer.body.Data).toEqual(c.data);
        if (c.status >= 500) expect(typeof answer.body.Message).toBe("string");
        expect(answer.body.ResponseHost).toBe(`127.0.0.1:${node.httpPort}`);
        if (c.then?.ttl !== undefined) await expectTtl(resp, c.key!, c.then.ttl);
        if (c.then) {
          const after = await send(base, { cmd: "get", key: c.key! });
          expect(after.status).toBe(c.then.status);
          if ("data" in c.then) expect(after.body.Data).toEqual(c.then.data);
        }
      });
    }
  });
}
