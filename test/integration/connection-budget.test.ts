// Stream connections past what the open-files limit allows, on a real process started under a
// small limit (`ulimit -n`): a client past the budget is told why and closed, the node does not
// spin on accept() (Bun's listener retries a failed accept at once, oven-sh/bun#32705), the clients
// it holds are served, and a place that frees up is taken by the next client.

import { afterAll, expect, test } from "bun:test";
import type { Socket } from "bun";
import { readFileSync } from "node:fs";
import { nodesOfThisFile } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";
import { freePort } from "../resp/helpers.ts";
import { MIN_RESERVED_FDS, openFilesLimit, streamConnectionBudget } from "../../src/transport/connection-budget.ts";

const { start } = nodesOfThisFile();
const OPEN_FILES = 160;
const BUDGET = streamConnectionBudget(OPEN_FILES);
const LIMITED = ["sh", "-c", `ulimit -n ${OPEN_FILES}; exec "$@"`, "sh"];

interface Raw {
  readonly socket: Socket<undefined>;
  /** the first line the server sent (undefined: closed before a whole line) */
  readonly first: Promise<string | undefined>;
  /** everything the server sent so far */
  text(): string;
  closed: boolean;
}

/** Waits (up to 10 s) until `done`. */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await done()) && Date.now() < deadline) await Bun.sleep(10);
}

/** A connection that records the first line it is sent. */
async function connect(port: number): Promise<Raw> {
  let text = "";
  let settle: (line: string | undefined) => void = () => {};
  const first = new Promise<string | undefined>((resolve) => (settle = resolve));
  const raw: { socket?: Socket<undefined>; first: typeof first; text: () => string; closed: boolean } = { first, text: () => text, closed: false };
  raw.socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, chunk) {
        text += new TextDecoder().decode(chunk);
        const end = text.indexOf("\n");
        if (end >= 0) settle(text.slice(0, end));
      },
      close() {
        raw.closed = true;
        settle(undefined);
      },
    },
  });
  return raw as Raw;
}

/** CPU ticks (1/100 s) the process has used. */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

const held: Raw[] = [];
afterAll(() => {
  for (const c of held) c.socket.terminate();
});

test("connection budget - follows the open-files limit, with a reserve for files, peers and HTTP", () => {
  expect(streamConnectionBudget(160)).toBe(160 - MIN_RESERVED_FDS);
  expect(streamConnectionBudget(20_000)).toBe(20_000 - 2_500);
  expect(streamConnectionBudget(40)).toBe(0);
  expect(streamConnectionBudget(Infinity)).toBe(Infinity);
  expect(openFilesLimit(() => "Limit  Soft Limit  Hard Limit  Units\nMax open files            1024                 524288               files     \n")).toBe(1024);
  expect(openFilesLimit(() => "Max open files            unlimited            unlimited            files     \n")).toBe(Infinity);
  expect(openFilesLimit(() => "garbage")).toBe(Infinity);
  expect(
    openFilesLimit(() => {
      throw new Error("ENOENT: not Linux");
    }),
  ).toBe(Infinity);
});

test("connection budget - clients past it are told why and closed; the node stays idle, serves the others, and takes new ones when places free up", async () => {
  const node = await start({ set: { Respport: await freePort() }, wrap: LIMITED });

  const banners: Raw[] = [];
  const refused: string[] = [];
  for (let i = 0; i < BUDGET + 40; i++) {
    const c = await connect(node.tcpPort);
    held.push(c);
    const line = await c.first;
    if (line === "Owlcache TCP Link Success...") banners.push(c);
    else refused.push(line ?? "(closed without a line)");
  }
  expect(banners).toHaveLength(BUDGET);
  expect(refused).toHaveLength(40);
  const envelope = JSON.parse(refused[0]!);
  expect(envelope).toMatchObject({ Status: 500, Results: "ERROR", Message: "max number of clients reached" });
  await until(() => held.filter((c) => c.closed).length >= 40);
  expect(held.filter((c) => c.closed)).toHaveLength(40); // the refused ones, closed by the node
  // The budget is the node's, not each server's: the RESP port is full too, and says so as redis-server does.
  const resp = await connect(node.respPort);
  held.push(resp);
  resp.socket.write("PING\r\n");
  expect(await resp.first).toBe("-ERR max number of clients reached\r");

  // At the budget and asked for more, the node is idle (it spun a core on EMFILE before).
  const before = cpuTicks(node.proc.pid);
  for (let i = 0; i < 20; i++) held.push(await connect(node.tcpPort));
  await Bun.sleep(1000);
  expect(cpuTicks(node.proc.pid) - before).toBeLessThan(30);

  // The clients it holds are served.
  const served = banners[0]!;
  served.socket.write("set budget-key kept\nget budget-key\n");
  await until(() => served.text().split("\n").length >= 4);
  expect(JSON.parse(served.text().split("\n")[2]!)).toMatchObject({ Cmd: "get", Status: 200, Data: "kept" });

  // A place that frees up is taken by the next client (once the node has seen the close).
  for (const c of banners.slice(1, 6)) c.socket.end();
  let client: OwlClient | undefined;
  await until(async () => {
    client = await OwlClient.connect(node.tcpPort).catch(() => undefined);
    return client !== undefined;
  });
  if (!client) throw new Error("no place freed up");
  const reply = await client.call("get budget-key");
  expect(reply.Status).toBe(200);
  expect(reply.Data).toBe("kept");
  client.socket.end();
  const again = await connect(node.respPort);
  held.push(again);
  again.socket.write("PING\r\n");
  expect(await again.first).toBe("+PONG\r");
  expect(await node.stop()).toBe(0);
  const log = readFileSync(`${node.logDir}/owlcache.log`, "utf8");
  expect(log).toContain(`leaves room for ${BUDGET} TCP and RESP clients`);
  // The refusals are said in the log, once a minute at most (61 clients were turned away).
  const refusals = log.split("\n").filter((line) => line.includes("a TCP or RESP client was turned away"));
  expect(refusals).toHaveLength(1);
  expect(refusals[0]).toContain("(1 since the start");
});
