// SPEC §1 signals through a real process: SIGHUP stops as SIGTERM does (final snapshot, exit 0);
// a second signal while a client holds the stop closes it and still writes the final snapshot.

import { expect, test } from "bun:test";
import { connect } from "node:net";
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
  await Bun.sleep(1000);
  expect(node.proc.exitCode).toBeNull(); // held by the client
  const second = performance.now();
  node.kill("SIGTERM");
  expect(await node.exited).toBe(1);
  expect(performance.now() - second).toBeLessThan(3000);
  stuck.destroy();
  const log = await Bun.file(`${node.logDir}/owlcache.log`).text();
  expect(log).toContain('"event":"stopping now"');
  expect(await valueAfterRestart(node.dir, "held")).toBe("kept");
}, 30_000);
