// A line client for the owl text protocol over a real socket: send lines, read JSON replies.

import type { Socket } from "bun";

export interface Envelope {
  Cmd: string;
  Status: number;
  Results: string;
  Key: string;
  Data: unknown;
  ResponseHost: string;
  KeyCreateTime: string;
  Message?: string;
}

export class OwlClient {
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket<undefined>) {}

  static async connect(port: number, host = "127.0.0.1"): Promise<OwlClient> {
    let client: OwlClient | undefined;
    const pending: Buffer[] = [];
    const socket = await Bun.connect({
      hostname: host,
      port,
      socket: {
        data(_s, chunk) {
          if (client) client.receive(chunk);
          else pending.push(Buffer.from(chunk));
        },
        close() {
          if (client) {
            client.closed = true;
            client.wake();
          }
        },
      },
    });
    client = new OwlClient(socket);
    for (const chunk of pending) client.receive(chunk);
    const banner = await client.readLine();
    if (banner !== "Owlcache TCP Link Success...") throw new Error(`unexpected banner ${banner}`);
    return client;
  }

  private receive(chunk: Uint8Array): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Writes raw bytes (string as UTF-8). */
  write(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  async readLine(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const nl = this.buffer.indexOf(10);
      if (nl !== -1) {
        const line = this.buffer.subarray(0, nl).toString("utf8");
        this.buffer = this.buffer.subarray(nl + 1);
        return line;
      }
      if (this.closed) throw new Error("connection closed");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for a reply line");
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), Bun.sleep(left)]);
    }
  }

  async reply(timeoutMs?: number): Promise<Envelope> {
    return JSON.parse(await this.readLine(timeoutMs)) as Envelope;
  }

  /** Sends one request line (a newline is appended) and reads its reply. */
  async call(line: string | Uint8Array): Promise<Envelope> {
    if (typeof line === "string") this.write(line + "\n");
    else {
      this.write(line);
      this.write("\n");
    }
    return this.reply();
  }

  /** Bytes received and not yet read as lines. */
  get unread(): number {
    return this.buffer.length;
  }

  close(): void {
    this.socket.end();
  }
}
