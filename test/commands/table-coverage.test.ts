// Walks the one command table: every command of every dialect must have a test named after it
// ("NAME - behaviour"), and every spec must be well-formed.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { commandTable } from "../../src/commands/table.ts";

function testSources(dir: string): string {
  let text = "";
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) text += testSources(path);
    else if (name.endsWith(".ts")) text += readFileSync(path, "utf8");
  }
  return text;
}

const sources = testSources(join(import.meta.dir, ".."));

describe("command table", () => {
  for (const spec of commandTable) {
    test(`${spec.dialects.join("+")} ${spec.name} - is well-formed and has a test`, () => {
      expect(spec.name).toBe(spec.name.toLowerCase());
      expect(spec.minArgs).toBeLessThanOrEqual(spec.maxArgs);
      expect(spec.summary.length).toBeGreaterThan(10);
      const named = new RegExp(`["'\`]${spec.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} - `, "i");
      expect(named.test(sources)).toBe(true);
    });
  }
});
