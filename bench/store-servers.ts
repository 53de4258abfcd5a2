// Shared by the store end-to-end benchmarks: start redis-server and owlcache (this tree, or the
// tree before the compact store) pinned to CPU 0, read their RSS, and stop them.

import { mkdtempSync, rmSync, symlinkSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export const ROOT = join(import.meta.dir, "..");
/** main before the compact store was merged into it (its MapStore) is the "before" of every comparison. */
export const BEFORE_COMMIT = process.env.BEFORE_COMMIT ?? "32c22ea";

export interface Server {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  /** the Redis-protocol port when one was asked for and is served, else -1 */
  readonly respPort: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

export function rssKiB(pid: number): number {
  const status = require("node:fs").readFileSync(`/proc/${pid}/status`, "utf8") as string;
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

async function waitForPort(port: number, proc: Subprocess, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}`);
    try {
      const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      socket.end();
      return;
    } catch {
      await Bun.sleep(50);
    }
  }
  throw new Error(`port ${port} never opened`);
}

function server(name: string, port: number, proc: Subprocess, cleanup: () => void = () => {}, respPort = -1): Server {
  return {
    name,
    port,
    respPort,
    pid: proc.pid,
    async stop() {
      proc.kill("SIGTERM");
      await Promise.race([proc.exited, Bun.sleep(5000)]);
      if (proc.exitCode === null) proc.kill(9);
      cleanup();
    },
  };
}

export async function startRedis(): Promise<Server> {
  const port = await freePort();
  const proc = Bun.spawn(["taskset", "-c", "0", "redis-server", "--port", `${port}`, "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"], {
    stdout: "ignore",
    stderr: "ignore",
  });
  await waitForPort(port, proc);
  return server("redis-server", port, proc);
}

/** The tree at BEFORE_COMMIT, extracted once into a temp directory that shares node_modules. */
export async function beforeTree(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "owl-before-"));
  const archive = Bun.spawnSync(["sh", "-c", `git -C ${ROOT} archive ${BEFORE_COMMIT} | tar -x -C ${dir}`]);
  if (archive.exitCode !== 0) throw new Error(`git archive failed: ${archive.stderr}`);
  if (!existsSync(join(dir, "node_modules"))) symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return dir;
}

/** owlcache from `root` (this tree or beforeTree()), owl text protocol only. */
export async function startOwl(name: string, root: string, set: Record<string, string | number> = {}, resp = false): Promise<Server> {
  const port = await freePort();
  const respPort = resp ? await freePort() : 0;
  const dir = mkdtempSync(join(tmpdir(), "owl-bench-"));
  const settings = { Tcpport: port, Httpport: 0, Respport: respPort, DBfile: join(dir, "db"), Logfile: join(dir, "log"), Pass: "bench-password-123", ...set };
  const args = ["taskset", "-c", "0", "bun", "run", join(root, "src/main.ts"), "-config", join(dir, "none.conf")];
  await Bun.write(join(dir, "none.conf"), "\n");
  for (const [key, value] of Object.entries(settings)) args.push("--set", `${key}=${value}`);
  const proc = Bun.spawn(args, { cwd: dir, stdout: "ignore", stderr: "ignore" });
  await waitForPort(port, proc);
  let served = -1;
  if (resp) {
    try {
      await waitForPort(respPort, proc, 10);
      served = respPort;
    } catch {
      // this tree has no Redis-protocol server
    }
  }
  return server(name, port, proc, () => rmSync(dir, { recursive: true, force: true }), served);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
