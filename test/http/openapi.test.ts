// The OpenAPI document at /swagger/json describes every owl command and every /data/ field, and
// the /swagger page loads nothing from outside the node.

import { describe, expect, test } from "bun:test";
import { commandTable } from "../../src/commands/table.ts";
import { makeApp } from "./app-fixture.ts";

interface Parameter {
  name: string;
  description?: string;
  schema?: { example?: unknown };
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: { properties: Record<string, { description?: string }> } }> };
  responses: Record<string, { description?: string }>;
  summary?: string;
}
type Document = { paths: Record<string, Record<string, Operation>> };

const FIELDS = ["cmd", "key", "valuedata", "exptime", "token", "owl_token", "pass", "format"];

async function openapi(): Promise<Document> {
  const { request } = makeApp();
  return (await (await request("/swagger/json")).json()) as Document;
}

describe("openapi", () => {
  test("openapi - GET /data/ documents every field with a description", async () => {
    const doc = await openapi();
    const get = doc.paths["/data/"]!.get!;
    for (const field of FIELDS) {
      const parameter = get.parameters?.find((p) => p.name === field);
      expect(parameter, field).toBeDefined();
      expect(parameter!.description?.length ?? 0, field).toBeGreaterThan(10);
      expect(parameter!.schema?.example, field).toBeDefined();
    }
  });

  test("openapi - POST /data/ documents every field in form, multipart and JSON bodies", async () => {
    const doc = await openapi();
    const post = doc.paths["/data/"]!.post!;
    for (const type of ["application/json", "multipart/form-data", "application/x-www-form-urlencoded"]) {
      const properties = post.requestBody!.content[type]!.schema.properties;
      for (const field of FIELDS) expect(properties[field]?.description?.length ?? 0, `${type} ${field}`).toBeGreaterThan(10);
    }
  });

  test("openapi - every owl command is described in the cmd field", async () => {
    const doc = await openapi();
    const cmd = doc.paths["/data/"]!.get!.parameters!.find((p) => p.name === "cmd")!;
    for (const spec of commandTable.filter((s) => s.dialects.includes("owl"))) expect(cmd.description).toContain(`\`${spec.name}\``);
  });

  test("openapi - every response status of the envelope is documented", async () => {
    const doc = await openapi();
    for (const method of ["get", "post"]) {
      const responses = doc.paths["/data/"]![method]!.responses;
      for (const status of ["200", "401", "404", "413", "500", "501"]) expect(responses[status]?.description?.length ?? 0, `${method} ${status}`).toBeGreaterThan(5);
    }
    expect(doc.paths["/health"]!.get!.summary).toBeDefined();
  });

  test("swagger - the page and its assets come from the node, no CDN", async () => {
    const { request } = makeApp();
    const html = await (await request("/swagger")).text();
    expect(html).toContain("/swagger/assets/swagger-ui-bundle.js");
    expect(html).not.toMatch(/https?:\/\//);
    const js = await request("/swagger/assets/swagger-ui-bundle.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toContain("javascript");
    expect((await js.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    expect((await request("/swagger/assets/swagger-ui.css")).status).toBe(200);
    expect((await request("/swagger/assets/package.json")).status).toBe(404);
    expect((await request("/swagger/assets/..%2F..%2Fpackage.json")).status).toBe(404);
  });
});
