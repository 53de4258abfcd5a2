// SPEC §1 signals through a real process: SIGHUP stops as SIGTERM does (final snapshot, exit 0);
// a client that never finishes its request holds the stop no longer than STOP_GRACE_MS; a second
// signal while a client holds the stop closes it and still writes the final snapshot.

import { expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { STOP_GRACE_MS } from "../../src/transport/connections.ts";
import { nodesOfThisFile } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";

const nodes = nodesOfThisFile();

async function setKey(port: number, key: string, value: string) {
  const client = await OwlClient.connect(port);
  expect((await client.call(`set ${key} ${value}`)).Status).toBe(200);
  client.close();
}

async function valueAfterRestart(dir: string, key: string): Promise<unknown> {
  const node = await nodes.start({ dir });
  const client = await OwlClient.connect(node.tcpPort);
  const reply = await client.call(`get ${key}`);
  client.close();
  expect(await node.stop()).toBe(0);
  return reply.Data;
}

/** A raw HTTP client that has sent `head` and collects whatever comes back. */
async function rawHttp(port: number, head: string): Promise<{ socket: Socket; answer: () => string; closed: Promise<void> }> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  let answer = "";
  socket.on("data", (chunk) => (answer += chunk.toString("latin1")));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.write(head);
  return { socket, answer: () => answer, closed };
}

test("signals - a stuck HTTP client holds SIGTERM only for the grace; a request finished within it is answered; exit 0", async () => {
  const node = await nodes.start();
  await setKey(node.tcpPort, "graced", "answered");
  // One client never sends the rest of its body; another sends it half a second into the stop.
  const stuck = await rawHttp(node.httpPort, "POST /data/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ncmd=set");
  const body = "cmd=get&key=graced";
  const late = await rawHttp(node.httpPort, `POST /data/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 8)}`);
  await Bun.sleep(200);
  const signalled = performance.now();
  node.kill("SIGTERM");
  await Bun.sleep(500);
  late.socket.write(body.slice(8));
  expect(await node.exited).toBe(0);
  const took = performance.now() - signalled;
  expect(took).toBeGreaterThanOrEqual(STOP_GRACE_MS - 100); // the grace was given
  expect(took).toBeLessThan(6000); // and no more: it took ~12 s
  expect(late.answer()).toStartWith("HTTP/1.1 200");
  expect(late.answer()).toContain('"Data":"answered"');
  await stuck.closed; // closed unanswered
  expect(stuck.answer()).toBe("");
  const log = await Bun.file(`${node.logDir}/owlcache.log`).text();
  expect(log).toContain('"event":"stopped"');
  expect(await valueAfterRestart(node.dir, "graced")).toBe("answered");
}, 30_000);

test("signals - SIGHUP stops gracefully: final snapshot, exit 0", async () => {
  const node = await nodes.start();
  await setKey(node.tcpPort, "hup", "saved");
  node.kill("SIGHUP");
  expect(await node.exited).toBe(0);
  expect(await Bun.file(`${node.logDir}/owlcache.log`).text()).toContain('"event":"stopped"');
  expect(await valueAfterRestart(node.dir, "hup")).toBe("saved");
}, 30_000);

test("signals - a second SIGTERM while a client holds the stop exits 1 at once, with the final snapshot", async () => {
  const node = await nodes.start();
  await setKey(node.tcpPort, "held", "kept"); // Appendonly is off: only the final snapshot keeps it
  // An HTTP request whose body never arrives: a graceful stop waits for it.
  const stuck = connect(node.httpPort, "127.0.0.1");
  stuck.on("error", () => {});
  await new Promise((resolve) => stuck.once("connect", resolve));
  stuck.write("POST /data/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ncmd=set");
  await Bun.sleep(200);
  node.kill("SIGTERM");
  await Bun.sleep(STOP_GRACE_MS / 4);
  expect(node.proc.exitCode).toBeNull(); // held by the client, within the grace
  const second = performance.now();
  node.kill("SIGTERM");
  expect(await node.exited).toBe(1);
  expect(performance.now() - second).toBeLessThan(3000);
  stuck.destroy();
  const log = await Bun.file(`${node.logDir}/owlcache.log`).text();
  expect(log).toContain('"event":"stopping now"');
  expect(await valueAfterRestart(node.dir, "held")).toBe("kept");
}, 30_000);
