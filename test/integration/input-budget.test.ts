// Incomplete requests held by all stream clients together (MaxInputBufferBytes), on a real
// process: past the total, the client holding the most is told why and closed, whichever
// protocol it speaks, and every other client goes on as if nothing happened.

import { afterAll, expect, test } from "bun:test";
import type { Socket } from "bun";
import { readFileSync } from "node:fs";
import { nodesOfThisFile } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";
import { freePort } from "../resp/helpers.ts";
import { INPUT_LIMIT, InputBudget } from "../../src/transport/input-budget.ts";
import { ARGUMENT_BYTES } from "../../src/protocol/offset-table.ts";

const { start } = nodesOfThisFile();

test("input budget - past the limit, the largest holders are closed until the rest fit", () => {
  const closed: string[] = [];
  const budget = new InputBudget(1000, () => {});
  const a = { name: "a" };
  const b = { name: "b" };
  const c = { name: "c" };
  const evict = (_socket: undefined, owner: { name: string }) => closed.push(owner.name);
  budget.hold(a, 400, undefined, evict);
  budget.hold(b, 500, undefined, evict);
  expect(budget.total).toBe(900);
  budget.hold(a, 300, undefined, evict); // a request completed in part: what it holds is replaced
  expect(budget.total).toBe(800);
  budget.hold(c, 450, undefined, evict); // 1,250: b (the most) goes, 750 is left
  expect(closed).toEqual(["b"]);
  expect(budget.total).toBe(750);
  expect(budget.heldBy(b)).toBe(0);
  budget.hold(c, 2000, undefined, evict); // a holder past the limit alone closes itself, then fits
  expect(closed).toEqual(["b", "c"]);
  expect(budget.total).toBe(300);
  budget.release(a);
  budget.release(a); // twice (error and close both report): no harm
  expect(budget.total).toBe(0);
  expect(budget.evicted).toBe(2);
  budget.hold(b, 0, undefined, evict); // holding nothing is not being held
  expect(budget.heldBy(b)).toBe(0);
  const unlimited = new InputBudget(Infinity);
  unlimited.hold(a, Number.MAX_SAFE_INTEGER, undefined, evict);
  expect(closed).toHaveLength(2);
});

/** Waits (up to 10 s) until `done`. */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await done()) && Date.now() < deadline) await Bun.sleep(10);
}

interface Raw {
  readonly socket: Socket<undefined>;
  text(): string;
  closed: boolean;
}

async function connect(port: number): Promise<Raw> {
  let text = "";
  const raw: { socket?: Socket<undefined>; text: () => string; closed: boolean } = { text: () => text, closed: false };
  raw.socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, chunk) {
        text += new TextDecoder().decode(chunk);
      },
      close() {
        raw.closed = true;
      },
    },
  });
  return raw as Raw;
}

const held: Raw[] = [];
afterAll(() => {
  for (const c of held) c.socket.terminate();
});

/** What an owl line begun holds at most (MaxLineBytes 1,049,600 and a CR): a line that long holds exactly that. */
const LINE_CAP = 1_049_601;
/** What an owl line begun holds while it is at most 256 bytes: its first buffer, however it came. */
const FIRST_LINE_BUFFER = 256;
/** What a RESP request holds for its name and key, read before the value: their arguments. */
const RESP_ARGUMENTS = 2 * ARGUMENT_BYTES;

test("input budget - the client holding the most is told why and closed; the others finish their requests", async () => {
  // (Amounts chosen to be exact however the input is cut: an owl line counts its buffer, which
  // is 256 bytes for a short line and the line cap for a line of that length; a RESP request
  // counts the buffer its value's announced length makes, header + value + CRLF.)
  const node = await start({ set: { Respport: await freePort(), MaxInputBufferBytes: 1_500_000 } });
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${node.httpPort}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith(`${name} `));
    return Number(line?.split(" ")[1] ?? NaN);
  };
  const heldBytes = () => metric("owl_client_input_bytes");
  const sent = async (c: Raw, bytes: string, total: number): Promise<void> => {
    c.socket.write(bytes);
    await until(async () => (await heldBytes()) >= total);
    expect(await heldBytes()).toBe(total);
  };

  // Three owl clients begin a `set` line and wait: two short ones, one as long as a line may be.
  const owl = await Promise.all([0, 1, 2].map(() => connect(node.tcpPort)));
  held.push(...owl);
  const lines = [200, LINE_CAP, 200].map((n, i) => `set big${i} ${String(i).repeat(n - 9)}`);
  await sent(owl[0]!, lines[0]!, FIRST_LINE_BUFFER);
  await sent(owl[1]!, lines[1]!, FIRST_LINE_BUFFER + LINE_CAP);
  await sent(owl[2]!, lines[2]!, 2 * FIRST_LINE_BUFFER + LINE_CAP);

  // A RESP client announcing a 1 MB value (half of it sent) takes the total past 1.5 MB: the
  // owl line of 1 MiB goes.
  const resp = await connect(node.respPort);
  held.push(resp);
  const header = "*3\r\n$3\r\nSET\r\n$4\r\nresp\r\n$1000000\r\n";
  resp.socket.write(header + "r".repeat(500_000));
  await until(() => owl[1]!.closed);
  expect(owl[1]!.closed).toBe(true);
  const told = JSON.parse(owl[1]!.text().split("\n")[1]!);
  expect(told).toMatchObject({ Cmd: "", Status: 500, Results: "ERROR", Message: INPUT_LIMIT });
  expect(owl[0]!.closed || owl[2]!.closed || resp.closed).toBe(false);
  const respHeld = header.length + 1_000_002 + RESP_ARGUMENTS;
  await until(async () => (await heldBytes()) === 2 * FIRST_LINE_BUFFER + respHeld);
  expect(await heldBytes()).toBe(2 * FIRST_LINE_BUFFER + respHeld);

  // The others finish their requests and are answered.
  owl[0]!.socket.write("\n");
  resp.socket.write("r".repeat(500_000) + "\r\n");
  await until(() => owl[0]!.text().split("\n").length >= 3 && resp.text().length > 0);
  expect(JSON.parse(owl[0]!.text().split("\n")[1]!)).toMatchObject({ Cmd: "set", Status: 200 });
  expect(resp.text()).toBe("+OK\r\n");

  // Now the RESP client holds the most (a 1.2 MB value announced, 1 MB of it sent): it is the one
  // to go, told as redis-server tells, when an owl line as long as a line may be (1 MiB) comes in.
  const header2 = "*3\r\n$3\r\nSET\r\n$5\r\nresp2\r\n$1200000\r\n";
  await sent(resp, header2 + "s".repeat(1_000_000), FIRST_LINE_BUFFER + header2.length + 1_200_002 + RESP_ARGUMENTS);
  const late = await connect(node.tcpPort);
  held.push(late);
  const lateLine = `set late ${"l".repeat(LINE_CAP - 10)}\r`; // with its CR, the line is MaxLineBytes
  late.socket.write(lateLine);
  await until(() => resp.closed);
  expect(resp.text()).toBe(`+OK\r\n-ERR ${INPUT_LIMIT}\r\n`);
  late.socket.write("\n");
  owl[2]!.socket.write("\n");
  await until(() => late.text().split("\n").length >= 3 && owl[2]!.text().split("\n").length >= 3);
  expect(JSON.parse(late.text().split("\n")[1]!)).toMatchObject({ Cmd: "set", Status: 200 });
  expect(JSON.parse(owl[2]!.text().split("\n")[1]!)).toMatchObject({ Cmd: "set", Status: 200 });
  await until(async () => (await heldBytes()) === 0);
  expect(await heldBytes()).toBe(0);
  expect(await metric("owl_client_input_closed_total")).toBe(2);

  // What was kept is whole; what was closed never reached the store.
  const check = await OwlClient.connect(node.tcpPort);
  expect((await check.call("get big0")).Data).toBe("0".repeat(191));
  expect((await check.call("get big2")).Data).toBe("2".repeat(191));
  expect(((await check.call("get late")).Data as string).length).toBe(LINE_CAP - 10);
  expect((await check.call("get big1")).Status).toBe(404);
  expect((await check.call("get resp")).Data).toBe("r".repeat(1_000_000));
  expect((await check.call("get resp2")).Status).toBe(404);
  check.close();
  expect(await node.stop()).toBe(0);
  const log = readFileSync(`${node.logDir}/owlcache.log`, "utf8");
  const closes = log.split("\n").filter((line) => line.includes("over MaxInputBufferBytes"));
  expect(closes).toHaveLength(1); // once a minute at most
  expect(closes[0]).toContain(`holding ${LINE_CAP} bytes`);
});

test("input budget - a RESP request's elements count what they become: one MSET of 100,000 small pairs is refused under 6 MB", async () => {
  const node = await start({ set: { Respport: await freePort(), MaxInputBufferBytes: 6_000_000 } });
  const mset = (pairs: number): string => {
    let request = `*${2 * pairs + 1}\r\n$4\r\nMSET\r\n`;
    for (let i = 0; i < pairs; i++) request += `$${String(i).length}\r\n${i}\r\n$1\r\nv\r\n`;
    return request;
  };
  // 1.7 MB of input with 200,001 elements: with 8 bytes of offsets each it would have counted
  // 3.8 MB; its arguments alone hold 14 MB once made, so it is closed before it completes.
  const big = mset(100_000);
  const bigClient = await connect(node.respPort);
  const other = await connect(node.respPort);
  held.push(bigClient, other);
  bigClient.socket.write(big.slice(0, -1));
  await until(() => bigClient.closed);
  expect(bigClient.text()).toBe(`-ERR ${INPUT_LIMIT}\r\n`);
  // Another client goes on; an MSET of 10,000 pairs (about 1.6 MB counted) fits.
  other.socket.write(mset(10_000) + "*1\r\n$4\r\nPING\r\n");
  await until(() => other.text().length >= 12);
  expect(other.text()).toBe("+OK\r\n+PONG\r\n");
  const check = await OwlClient.connect(node.tcpPort);
  expect((await check.call("get 9999")).Data).toBe("v");
  expect((await check.call("get 99999")).Status).toBe(404);
  check.close();
  expect(await node.stop()).toBe(0);
});
