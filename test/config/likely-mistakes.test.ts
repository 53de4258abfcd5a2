// Settings that start but are probably not what was meant: the Go original's users may write
// HttpClientRequestTimeout in seconds, where it is milliseconds here.

import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { nodesOfThisFile } from "../helpers/node-process.ts";

const load = (file: string | undefined, argv: string[] = [], env: Record<string, string> = {}) => loadConfig({ argv, env, readFile: () => file });

test("config - HttpClientRequestTimeout under 100 starts, with a warning naming where and the likely value", () => {
  const loaded = load("# peers\nHttpClientRequestTimeout 3\n");
  expect(loaded.config.HttpClientRequestTimeout).toBe(3);
  expect(loaded.warnings).toEqual(["config/owlcache.conf:2: HttpClientRequestTimeout 3 is in milliseconds; did you mean 3000?"]);
  expect(load(undefined, ["--set", "HttpClientRequestTimeout=99"]).warnings).toContain("--set HttpClientRequestTimeout: HttpClientRequestTimeout 99 is in milliseconds; did you mean 99000?");
  expect(load(undefined, [], { OWL_HTTPCLIENTREQUESTTIMEOUT: "1" }).warnings.join("\n")).toContain("HttpClientRequestTimeout 1 is in milliseconds; did you mean 1000?");
});

test("config - HttpClientRequestTimeout of 100 ms or more, and the default, say nothing", () => {
  expect(load("HttpClientRequestTimeout 100\n").warnings).toEqual([]);
  expect(load("HttpClientRequestTimeout 2700\n").warnings).toEqual([]);
  expect(load("Pass abcdefghijk\n").warnings).toEqual([]);
});

const nodes = nodesOfThisFile();

test("start - HttpClientRequestTimeout 3 in the conf file: the node starts and says so on stderr and in the log", async () => {
  const dir = mkdtempSync(join(tmpdir(), "owl-conf-"));
  const configPath = join(dir, "owlcache.conf");
  writeFileSync(configPath, "HttpClientRequestTimeout 3\n");
  const node = await nodes.start({ dir, configPath });
  expect(await node.stop()).toBe(0);
  const warning = `${configPath}:1: HttpClientRequestTimeout 3 is in milliseconds; did you mean 3000?`;
  expect(node.stderr()).toContain(warning);
  expect(await Bun.file(join(node.logDir, "owlcache.log")).text()).toContain(warning);
});
