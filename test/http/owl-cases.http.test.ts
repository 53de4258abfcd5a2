// The shared owl case table (test/cases/owl-cases.ts) over HTTP against a real node, in three
// forms: GET query, POST urlencoded, POST JSON. Each form gets its own fresh node.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { commandTable } from "../../src/commands/table.ts";
import { httpFields, isWrite, owlCases, type OwlCase } from "../cases/owl-cases.ts";
import { removeDir, startNode, type NodeProcess } from "../helpers/node-process.ts";
import { getData, postForm, postJson, tokenFor, type HttpAnswer } from "./http-helpers.ts";

test("owl cases - every owl command of the table has cases over HTTP", () => {
  const covered = new Set(owlCases.filter((c) => c.only !== "tcp").map((c) => c.cmd.toLowerCase()));
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

    beforeAll(async () => {
      node = await startNode();
      base = `http://127.0.0.1:${node.httpPort}`;
      token = await tokenFor(base);
    });

    afterAll(async () => {
      await node.stop();
      removeDir(node.dir);
    });

    const cases = owlCases.filter((c: OwlCase) => c.only !== "tcp");
    for (const c of cases) {
      test(c.name, async () => {
        const fields = httpFields(c);
        if (isWrite(c)) fields.token = token;
        const answer = await send(base, fields);
        expect(answer.status).toBe(c.status);
        expect(answer.body.Status).toBe(c.status);
        expect(answer.body.Cmd).toBe(c.cmd.toLowerCase());
        if (c.data !== undefined) expect(answer.body.Data).toEqual(c.data);
        if (c.status >= 500) expect(typeof answer.body.Message).toBe("string");
        expect(answer.body.ResponseHost).toBe(`127.0.0.1:${node.httpPort}`);
      });
    }
  });
}
