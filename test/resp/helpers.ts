// Helpers for the RESP tests: free ports, an owlcache node with its RESP server on, a real
// redis-server to compare with, a raw socket client that sends bytes and reads RESP replies.

import { createServer } from "node:net";
import type { Socket, Subprocess } from "bun";
import { startNode, type NodeProcess, type StartOptions } from "../helpers/node-process.ts";

/** A port free right now (Respport 0 means "off", so the RESP tests pick one). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startRespNode(options: StartOptions = {}): Promise<NodeProcess> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await startNode({ ...options, set: { Respport: await freePort(), ...options.set } });
    } catch (error) {
      if (attempt >= 2) throw error; // a lost race for the port: try another
    }
  }
}

export interface RedisServer {
  readonly port: number;
  stop(): Promise<void>;
}

/** A real redis-server on a free loopback port, nothing saved. */
export async function startRedisServer(extra: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  const proc: Subprocess = Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...extra], {
    stdout: "ignore",
    stderr: "ignore",
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const c = await RawClient.connect(port);
      await c.send("PING\r\n");
      await c.readReply();
      c.close();
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        proc.kill(9);
        throw error;
      }
      await Bun.sleep(50);
    }
  }
  return {
    port,
    async stop() {
      proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}

/** Bytes of one RESP reply at the start of `buf`, or -1 when incomplete. */
export function replyLength(buf: Uint8Array, at = 0): number {
  if (at >= buf.length) return -1;
  const cr = buf.indexOf(13, at);
  if (cr === -1 || cr + 1 >= buf.length) return -1;
  const type = buf[at];
  const header = new TextDecoder().decode(buf.subarray(at + 1, cr));
  const next = cr + 2;
  if (type === 36) {
    const n = Number(header);
    if (n < 0) return next - at;
    return next + n + 2 <= buf.length ? next + n + 2 - at : -1;
  }
  if (type === 42 || type === 37) {
    let pos = next;
    const items = Number(header) * (type === 37 ? 2 : 1);
    for (let i = 0; i < items; i++) {
      const len = replyLength(buf, pos);
      if (len < 0) return -1;
      pos += len;
    }
    return pos - at;
  }
  return next - at;
}

/** A socket client that sends raw bytes and reads whole RESP replies as raw bytes. */
export class RawClient {
  private buffer = new Uint8Array(0);
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket<undefined>) {}

  static async connect(port: number): Promise<RawClient> {
    let client: RawClient | undefined;
    const pending: Uint8Array[] = [];
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(_s, chunk) {
          if (client) client.receive(chunk);
          else pending.push(chunk.slice());
        },
        close() {
          if (client) {
            client.closed = true;
            client.wake();
          }
        },
        error() {},
      },
    });
    client = new RawClient(socket);
    for (const chunk of pending) client.receive(chunk);
    return client;
  }

  private receive(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    this.buffer = joined;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private waitForData(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timed out waiting for a reply")), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Writes everything, waiting for drain as needed. */
  async send(data: string | Uint8Array): Promise<void> {
    let bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    while (bytes.length > 0) {
      const n = this.socket.write(bytes);
      if (n < 0) throw new Error("socket closed");
      bytes = bytes.subarray(n);
      if (bytes.length > 0) await Bun.sleep(1);
    }
  }

  /** The next reply's bytes, decoded as latin1-free UTF-8 text for easy comparison. */
  async readReply(timeoutMs = 10_000): Promise<string> {
    return new TextDecoder().decode(await this.readReplyBytes(timeoutMs));
  }

  async readReplyBytes(timeoutMs = 10_000): Promise<Uint8Array> {
    for (;;) {
      const n = replyLength(this.buffer);
      if (n >= 0) {
        const reply = this.buffer.slice(0, n);
        this.buffer = this.buffer.subarray(n);
        return reply;
      }
      if (this.closed) throw new Error("connection closed");
      await this.waitForData(timeoutMs);
    }
  }

  /** Resolves once the server has closed the connection (rejects after the timeout). */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("connection still open");
      await this.waitForData(Math.max(1, deadline - Date.now())).catch(() => undefined);
    }
  }

  get bufferedBytes(): number {
    return this.buffer.length;
  }

  /** Bytes received and not yet read as replies. */
  get pending(): string {
    return new TextDecoder().decode(this.buffer);
  }

  close(): void {
    this.socket.end();
  }
}

/** A command as a RESP array of bulk strings. */
export function encodeCommand(args: readonly (string | Uint8Array)[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  parts.push(enc.encode(`*${args.length}\r\n`));
  for (const arg of args) {
    const bytes = typeof arg === "string" ? enc.encode(arg) : arg;
    parts.push(enc.encode(`$${bytes.length}\r\n`), bytes, enc.encode("\r\n"));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Runs a program to completion with optional stdin; returns its output. */
export async function run(cmd: string[], stdin?: string | Uint8Array, timeoutMs = 60_000): Promise<{ stdout: string; stderr: string; code: number }> {
  const proc = Bun.spawn(cmd, { stdin: stdin === undefined ? "ignore" : new Blob([stdin]), stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill(9), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { stdout, stderr, code };
}
