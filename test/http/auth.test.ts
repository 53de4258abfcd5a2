// Authentication against real nodes (SPEC §5): tokens over HTTP from the right and the wrong
// address, forged, expired and old-default-secret tokens, throttling, the generated password,
// and `pass` over TCP when TCP auth is on.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { SignJWT } from "jose";
import { PASSWORD_FILE } from "../../src/auth/password.ts";
import { OLD_DEFAULT_SECRET, SECRET_FILE } from "../../src/auth/secret.ts";
import { removeDir, startNode, type NodeProcess } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";
import { getData, PASSWORD, rawGet, tokenFor } from "./http-helpers.ts";

const oldDefaultToken = (addr: string) =>
  new SignJWT({ addr }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setIssuer("owlcache").setIssuedAt().sign(new TextEncoder().encode(OLD_DEFAULT_SECRET));

describe("auth over HTTP", () => {
  let node: NodeProcess;
  let base: string;

  beforeAll(async () => {
    node = await startNode();
    base = `http://127.0.0.1:${node.httpPort}`;
  });

  afterAll(async () => {
    await node.stop();
    removeDir(node.dir);
  });

  test("set - no token, an empty token and a garbage token are 401 NOT_PASS", async () => {
    for (const extra of [{}, { token: "" }, { token: "garbage" }] as Record<string, string>[]) {
      const answer = await getData(base, { cmd: "set", key: "k", valuedata: "v", ...extra });
      expect(answer.status).toBe(401);
      expect(answer.body.Results).toBe("NOT_PASS");
    }
    expect((await getData(base, { cmd: "get", key: "k" })).status).toBe(404); // nothing was written
  });

  test("pass - the token works as token, owl_token and Authorization: Bearer", async () => {
    const token = await tokenFor(base);
    expect((await getData(base, { cmd: "set", key: "a", valuedata: "1", token })).status).toBe(200);
    expect((await getData(base, { cmd: "expire", key: "a", exptime: "100", owl_token: token })).status).toBe(200);
    expect((await getData(base, { cmd: "delete", key: "a" }, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  test("set - an empty token field counts as absent: owl_token, then Authorization: Bearer, is used", async () => {
    const token = await tokenFor(base);
    expect((await getData(base, { cmd: "set", key: "a1", valuedata: "x", token: "", owl_token: token })).status).toBe(200);
    const bearer = { headers: { authorization: `Bearer ${token}` } };
    expect((await getData(base, { cmd: "set", key: "a1", valuedata: "y", token: "", owl_token: "" }, bearer)).status).toBe(200);
    const form = (fields: Record<string, string>) => fetch(`${base}/data/`, { method: "POST", body: new URLSearchParams(fields) });
    expect((await form({ cmd: "set", key: "a1", valuedata: "z", token: "", owl_token: token })).status).toBe(200);
    expect((await getData(base, { cmd: "get", key: "a1" })).body.Data).toBe("z");
    expect((await fetch(`${base}/server/?cmd=getall&token=&owl_token=${token}`)).status).toBe(200);
  });

  test("pass - a wrong password is 401 and logged with the address, never the password", async () => {
    const answer = await getData(base, { cmd: "pass", pass: "not-the-password-xyz" });
    expect(answer.status).toBe(401);
    expect(answer.body.Data).toBeNull();
    await Bun.sleep(50);
    const log = readFileSync(join(node.logDir, "owlcache.log"), "utf8");
    expect(log).toContain('"auth failed"');
    expect(log).toContain("127.0.0.1");
    expect(log).not.toContain("not-the-password-xyz");
    expect(log + node.stderr()).not.toContain(PASSWORD);
  });

  test("set - a forged token is 401", async () => {
    const token = await tokenFor(base);
    const [head, , sig] = token.split(".");
    const payload = Buffer.from(JSON.stringify({ addr: "127.0.0.1", iss: "owlcache", iat: 1, admin: true })).toString("base64url");
    expect((await getData(base, { cmd: "set", key: "f", valuedata: "v", token: `${head}.${payload}.${sig}` })).status).toBe(401);
  });

  test("set - a token signed with the old default secret hello_owlcache is 401", async () => {
    expect((await getData(base, { cmd: "set", key: "f", valuedata: "v", token: await oldDefaultToken("127.0.0.1") })).status).toBe(401);
  });

  test("set - a token used from another address (127.0.0.2) is 401", async () => {
    const token = await tokenFor(base); // issued to 127.0.0.1
    const stolen = await rawGet(node.httpPort, `/data/?cmd=set&key=x&valuedata=v&token=${token}`, "127.0.0.2");
    expect(stolen.status).toBe(401);
    expect(JSON.parse(stolen.body)).toMatchObject({ Status: 401, Results: "NOT_PASS" });
    // a token issued to 127.0.0.2 works there, and not from 127.0.0.1
    const own = JSON.parse((await rawGet(node.httpPort, `/data/?cmd=pass&pass=${PASSWORD}`, "127.0.0.2")).body) as { Data: string };
    expect((await rawGet(node.httpPort, `/data/?cmd=set&key=x&valuedata=v&token=${own.Data}`, "127.0.0.2")).status).toBe(200);
    expect((await getData(base, { cmd: "set", key: "x", valuedata: "v", token: own.Data })).status).toBe(401);
  });

  test("pass - more than 10 wrong passwords a minute from one address are refused, others unaffected", async () => {
    const from = "127.0.0.3";
    for (let i = 0; i < 10; i++) {
      expect((await rawGet(node.httpPort, "/data/?cmd=pass&pass=wrong-password-0", from)).status).toBe(401);
    }
    const refused = await rawGet(node.httpPort, `/data/?cmd=pass&pass=${PASSWORD}`, from);
    expect(refused.status).toBe(401);
    expect((JSON.parse(refused.body) as { Message: string }).Message).toContain("too many wrong passwords");
    expect(typeof (await tokenFor(base))).toBe("string"); // 127.0.0.1 still gets its token
  });
});

describe("auth with a generated password, short tokens, the old default secret and TCP auth", () => {
  let node: NodeProcess;
  let base: string;
  let generated: string;

  beforeAll(async () => {
    node = await startNode({ set: { Pass: "", Tonken_expire_time: 1, Tonken_jwt_secret: OLD_DEFAULT_SECRET, TcpAuth: 1 } });
    base = `http://127.0.0.1:${node.httpPort}`;
    generated = /^\s+password\s+(\S+)/m.exec(node.banner)?.[1] ?? "";
  });

  afterAll(async () => {
    await node.stop();
    removeDir(node.dir);
  });

  test("password - generated on first start, printed once, stored with mode 0600", async () => {
    expect(generated.length).toBeGreaterThanOrEqual(10);
    const path = join(node.dataDir, PASSWORD_FILE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, "utf8").trim()).toBe(generated);
    expect(typeof (await tokenFor(base, generated))).toBe("string");
  });

  test("secret - hello_owlcache is replaced by a generated secret (mode 0600); its tokens are 401", async () => {
    expect(statSync(join(node.dataDir, SECRET_FILE)).mode & 0o777).toBe(0o600);
    expect((await getData(base, { cmd: "set", key: "k", valuedata: "v", token: await oldDefaultToken("127.0.0.1") })).status).toBe(401);
  });

  test("set - an expired token is 401", async () => {
    const token = await tokenFor(base, generated);
    expect((await getData(base, { cmd: "set", key: "k", valuedata: "v", token })).status).toBe(200);
    await Bun.sleep(2100); // Tonken_expire_time 1: JWT times are whole seconds
    expect((await getData(base, { cmd: "set", key: "k", valuedata: "v", token })).status).toBe(401);
  });

  test("pass - TCP needs pass first when TCP auth is on", async () => {
    const tcp = await OwlClient.connect(node.tcpPort);
    try {
      expect(await tcp.call("get k")).toMatchObject({ Status: 401, Results: "NOT_PASS" });
      expect((await tcp.call("set k v")).Status).toBe(401);
      expect((await tcp.call("pass wrong-password-0")).Status).toBe(401);
      expect((await tcp.call(`pass ${generated}`)).Status).toBe(200);
      expect((await tcp.call("set k from-tcp")).Status).toBe(200);
      expect(await tcp.call("get k")).toMatchObject({ Status: 200, Data: "from-tcp" });
    } finally {
      tcp.close();
    }
  });

  test("password - kept across restarts and not printed again", async () => {
    await node.stop();
    const again = await startNode({ dir: node.dir, set: { Pass: "" } });
    try {
      expect(again.banner).not.toContain(generated);
      expect(again.banner).not.toMatch(/^\s+password\s/m);
      expect(typeof (await tokenFor(`http://127.0.0.1:${again.httpPort}`, generated))).toBe("string");
    } finally {
      await again.stop();
    }
  });
});

describe("tokens across restarts: a changed password or a shorter lifetime ends older tokens", () => {
  let node: NodeProcess | undefined;
  const dirs: string[] = [];

  afterEach(async () => {
    await node?.stop();
    node = undefined;
    for (const dir of dirs.splice(0)) removeDir(dir);
  });

  const start = async (set: Record<string, string | number>, dir?: string): Promise<string> => {
    await node?.stop();
    node = await startNode({ dir, set });
    if (!dir) dirs.push(node.dir);
    return `http://127.0.0.1:${node.httpPort}`;
  };
  const write = (base: string, token: string) => getData(base, { cmd: "set", key: "r", valuedata: "v", token }).then((answer) => answer.status);

  test("token - refused after a restart with another Pass (same DBfile, so the same secret)", async () => {
    let base = await start({});
    const old = await tokenFor(base);
    // The same configuration again: the token still works (the signing secret is kept in DBfile).
    base = await start({}, node!.dir);
    expect(await write(base, old)).toBe(200);
    base = await start({ Pass: "another-password-456" }, node!.dir);
    expect(await write(base, old)).toBe(401);
    expect(await write(base, await tokenFor(base, "another-password-456"))).toBe(200);
  });

  test("token - issued with no expiry, refused after a restart with Tonken_expire_time 2 once 2 s old", async () => {
    let base = await start({ Tonken_expire_time: 0 });
    const old = await tokenFor(base);
    const issuedBy = Date.now();
    base = await start({ Tonken_expire_time: 2 }, node!.dir);
    // 2 s after its issue second, rounded up
    await Bun.sleep(Math.max(0, issuedBy + 3_100 - Date.now()));
    expect(await write(base, old)).toBe(401);
    expect(await write(base, await tokenFor(base))).toBe(200);
  });
});
