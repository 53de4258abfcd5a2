// Starts a real owlcache process (`bun run src/main.ts`, what `bun run start` runs) on free
// loopback ports with its own data and log directories, and stops it afterwards.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { afterAll } from "bun:test";

const ROOT = join(import.meta.dir, "../..");

export interface NodeProcess {
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  /** -1 when that server is off */
  readonly tcpPort: number;
  readonly httpPort: number;
  readonly respPort: number;
  readonly dir: string;
  readonly dataDir: string;
  readonly logDir: string;
  /** everything printed on stdout up to the end of the banner */
  readonly banner: string;
  /** SIGTERM and wait; resolves to the exit code */
  stop(): Promise<number>;
  /** a signal, no waiting (kill -9 tests) */
  kill(signal: NodeJS.Signals | number): void;
  exited: Promise<number>;
  /** stderr so far */
  stderr(): string;
}

export interface StartOptions {
  /** config keys, passed as --set Key=Value (ports default to 0 = any free port) */
  readonly set?: Record<string, string | number>;
  readonly args?: readonly string[];
  readonly env?: Record<string, string>;
  /** reuse a directory (restarts); default: a new temp directory */
  readonly dir?: string;
  /** config file; default: none beyond the built-in defaults */
  readonly configPath?: string;
  readonly timeoutMs?: number;
  /**
   * A command the node is started through, given `bun` and its arguments last: e.g. a shell that
   * sets a resource limit and then `exec "$@"`s (the node keeps the shell's pid).
   */
  readonly wrap?: readonly string[];
}

/** Reads the chosen ports from the banner, e.g. "  tcp       127.0.0.1:40123". */
function portOf(banner: string, label: string): number {
  const match = new RegExp(`^\\s+${label}\\s+\\S*?:(\\d+)`, "m").exec(banner);
  return match ? Number(match[1]) : -1;
}

export async function startNode(options: StartOptions = {}): Promise<NodeProcess> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "owl-node-"));
  const dataDir = join(dir, "db_file");
  const logDir = join(dir, "log_file");
  const settings: Record<string, string | number> = {
    Tcpport: 0,
    Httpport: 0,
    Respport: 0,
    DBfile: dataDir,
    Logfile: logDir,
    Pass: "test-password-123",
    ...options.set,
  };
  const args = ["run", join(ROOT, "src/main.ts")];
  args.push("-config", options.configPath ?? join(dir, "none.conf"));
  for (const [key, value] of Object.entries(settings)) args.push("--set", `${key}=${value}`);
  args.push(...(options.args ?? []));
  if (!options.configPath) await Bun.write(join(dir, "none.conf"), "# empty: built-in defaults\n");
  const proc = Bun.spawn([...(options.wrap ?? []), "bun", ...args], {
    cwd: dir,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...options.env },
  });
  let err = "";
  void (async () => {
    for await (const chunk of proc.stderr) err += new TextDecoder().decode(chunk);
  })();
  const reader = proc.stdout.getReader();
  let out = "";
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  // The banner ends with the "logs" line.
  while (!/^\s+logs\s.*$/m.test(out)) {
    const next = await Promise.race([reader.read(), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => null)]);
    if (next === null || next.done) {
      proc.kill(9);
      throw new Error(`owlcache did not start: stdout=${out} stderr=${err}`);
    }
    out += new TextDecoder().decode(next.value);
  }
  void (async () => {
    for (;;) if ((await reader.read()).done) break;
  })();
  const node: NodeProcess = {
    proc,
    tcpPort: portOf(out, "tcp"),
    httpPort: portOf(out, "http"),
    respPort: portOf(out, "resp"),
    dir,
    dataDir,
    logDir,
    banner: out,
    exited: proc.exited,
    async stop() {
      proc.kill("SIGTERM");
      const code = await Promise.race([proc.exited, Bun.sleep(10_000).then(() => -1)]);
      if (code === -1) {
        proc.kill(9);
        return proc.exited;
      }
      return code;
    },
    kill(signal) {
      proc.kill(signal);
    },
    stderr: () => err,
  };
  return node;
}

/** Removes a node's directory (after stop). */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A starter of nodes for one test file: whatever it started is killed (if still running) and its
 * directory removed after the file's tests. Call it at the top level of the file.
 */
export function nodesOfThisFile(): { start(options?: StartOptions): Promise<NodeProcess>; readonly started: NodeProcess[] } {
  const started: NodeProcess[] = [];
  afterAll(async () => {
    for (const node of started) {
      if (node.proc.exitCode === null) {
        node.kill(9);
        await node.exited;
      }
    }
    for (const dir of new Set(started.map((node) => node.dir))) removeDir(dir);
  });
  return {
    started,
    async start(options: StartOptions = {}): Promise<NodeProcess> {
      const node = await startNode(options);
      started.push(node);
      return node;
    },
  };
}

/**
 * Runs `bun run src/main.ts` with arguments to completion (config errors, --help); `wrap` as in
 * StartOptions. Without `cwd` it runs in a temporary directory, removed afterwards.
 */
export async function runMain(args: readonly string[], env: Record<string, string> = {}, cwd?: string, wrap: readonly string[] = []) {
  const scratch = cwd === undefined ? mkdtempSync(join(tmpdir(), "owl-run-")) : undefined;
  try {
    return await runMainIn(cwd ?? scratch!, args, env, wrap);
  } finally {
    if (scratch !== undefined) removeDir(scratch);
  }
}

async function runMainIn(cwd: string, args: readonly string[], env: Record<string, string>, wrap: readonly string[]) {
  const proc = Bun.spawn([...wrap, "bun", "run", join(ROOT, "src/main.ts"), ...args], {
    cwd,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...env },
  });
  const timer = setTimeout(() => proc.kill(9), 15_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { stdout, stderr, code };
}
