// An unknown key is named, never its value: `Pass=secret` is one unknown word to the parser.

import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { nodesOfThisFile, runMain } from "../helpers/node-process.ts";

const SECRET = "TypoSecretPw123";
const load = (file: string | undefined, argv: string[] = [], env: Record<string, string> = {}) => loadConfig({ argv, env, readFile: () => file });
const thrown = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    return String(error);
  }
  throw new Error("did not throw");
};

test("config - an unknown key written Key=Value names the key part only, and a known one gets the separator hint", () => {
  const warnings = load(`Pass=${SECRET}\nNoSuch=${SECRET}\nOther ${SECRET}\n`).warnings.join("\n");
  expect(warnings).not.toContain(SECRET);
  expect(warnings).toMatch(/:1: .*Pass.*separator is a space/);
  expect(warnings).toContain(":2: unknown key NoSuch ignored");
  expect(warnings).toContain(":3: unknown key Other ignored");
});

test("config - --set, flags and env with an unknown key never echo the value", () => {
  const set = thrown(() => load(undefined, ["--set", `Pas=${SECRET}`]));
  expect(set).not.toContain(SECRET);
  expect(set).toContain("unknown key Pas");
  const spaced = thrown(() => load(undefined, ["--set", `Pass ${SECRET}`]));
  expect(spaced).not.toContain(SECRET);
  expect(spaced).toContain("--set Pass");
  const flag = thrown(() => load(undefined, [`--pas=${SECRET}`]));
  expect(flag).not.toContain(SECRET);
  expect(flag).toContain("unknown flag -pas");
  const env = load(undefined, [], { OWL_PAS: SECRET }).warnings.join("\n");
  expect(env).not.toContain(SECRET);
  expect(env).toContain("unknown key OWL_PAS");
});

const nodes = nodesOfThisFile();

test("start - Pass=secret in the conf file reaches neither stderr nor the log", async () => {
  const dir = mkdtempSync(join(tmpdir(), "owl-conf-"));
  const configPath = join(dir, "owlcache.conf");
  writeFileSync(configPath, `Pass=${SECRET}\n`);
  const node = await nodes.start({ dir, configPath });
  expect(await node.stop()).toBe(0);
  const log = await Bun.file(join(node.logDir, "owlcache.log")).text();
  expect(node.stderr()).toContain("separator is a space");
  expect(node.stderr()).not.toContain(SECRET);
  expect(log).not.toContain(SECRET);
  const set = await runMain(["--set", `Pas=${SECRET}`]);
  expect(set.code).toBe(2);
  expect(set.stderr).not.toContain(SECRET);
});

test("config - a refused Pass names where it was set: file and line, variable, or flag", () => {
  expect(thrown(() => load("# x\nPass short\n"))).toMatch(/owlcache\.conf:2: Pass: a password needs at least 10/);
  expect(thrown(() => load(undefined, [], { OWL_PASS: "1234567890123" }))).toMatch(/environment OWL_PASS: Pass: .*digits/);
  expect(thrown(() => load(undefined, ["-pass", "short"]))).toMatch(/flag -pass: Pass: /);
  expect(thrown(() => load(undefined, ["--set", "Pass=short"]))).toMatch(/--set Pass: Pass: /);
  expect(thrown(() => load(undefined, ["--set", "Pass=short"]))).not.toContain("short");
});
