// /server/ on a real process: token required, lists saved at once and kept across restarts,
// no secret in any answer, a damaged list file stops the start with its name.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeDir, startNode } from "../helpers/node-process.ts";
import { serverCmd, startClusterNode, stopAll, type ClusterNode } from "./cluster-helpers.ts";

const started: ClusterNode[] = [];
afterAll(async () => {
  await stopAll(started);
});

describe("/server/ on a real node", () => {
  test("server - without a valid token: 401 NOT_PASS and nothing changes", async () => {
    const n = await startClusterNode();
    started.push(n);
    for (const fields of [{ cmd: "getall" } as Record<string, string>, { cmd: "add", address: "127.0.0.1:7723" }, { cmd: "delete", address: "127.0.0.1:7723" }]) {
      const r = await serverCmd(n, fields, false);
      expect(r.status).toBe(401);
      expect(r.body.Results).toBe("NOT_PASS");
    }
    const forged = await serverCmd(n, { cmd: "add", address: "127.0.0.1:7723", token: n.token.slice(0, -2) + "xx" }, false);
    expect(forged.status).toBe(401);
    expect((await serverCmd(n, { cmd: "getall" })).body.Data).toEqual([]);
  });

  test("server - add/get/getall/delete on both lists; restart keeps them; no secret shown", async () => {
    const n = await startClusterNode();
    const dir = n.node.dir;
    expect((await serverCmd(n, { cmd: "add", address: "127.0.0.1:7723", pass: "peer-secret-one" })).status).toBe(200);
    expect((await serverCmd(n, { cmd: "add", address: "https://127.0.0.2:7724", pass: "peer-secret-two" })).status).toBe(200);
    expect((await serverCmd(n, { cmd: "add", group_type: "gossip", address: "http://127.0.0.3:7725", pass: "peer-secret-three" })).status).toBe(200);
    expect((await serverCmd(n, { cmd: "delete", address: "127.0.0.1:7723" })).status).toBe(200);
    const file = JSON.parse(readFileSync(join(n.node.dataDir, "server_group_config.json"), "utf8"));
    expect(file).toEqual([{ Cmd: "", Address: "https://127.0.0.2:7724", Pass: "peer-secret-two", Token: "" }]);
    await n.node.stop();

    const again = await startClusterNode({ dir });
    started.push(again);
    const all = await serverCmd(again, { cmd: "getall" });
    expect(all.body.Data).toEqual([{ Cmd: "", Address: "https://127.0.0.2:7724", Pass: "", Token: "" }]);
    const gossip = await serverCmd(again, { cmd: "getall", group_type: "gossip" });
    expect(gossip.body.Data).toEqual([{ Cmd: "", Address: "http://127.0.0.3:7725", Pass: "", Token: "" }]);
    const one = await serverCmd(again, { cmd: "get", address: "127.0.0.2:7724" });
    expect(one.body.Data).toEqual({ Cmd: "", Address: "https://127.0.0.2:7724", Pass: "", Token: "" });
    for (const r of [all, gossip, one]) expect(JSON.stringify(r.body)).not.toContain("peer-secret");
    expect((await serverCmd(again, { cmd: "get", address: "127.0.0.1:7723" })).status).toBe(404);
  });

  test("server - a damaged list file stops the start, naming the file; the file is left alone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "owl-badlist-"));
    mkdirSync(join(dir, "db_file"), { recursive: true });
    const path = join(dir, "db_file", "server_group_gossip_config.json");
    writeFileSync(path, '[{"Cmd":"","Address":"127.0.0.1:7723","Pass":"","Tok');
    try {
      await expect(startNode({ dir, timeoutMs: 10_000 })).rejects.toThrow(/server_group_gossip_config\.json: not valid JSON/);
      expect(readFileSync(path, "utf8")).toContain('"Tok');
    } finally {
      removeDir(dir);
    }
  });
});
