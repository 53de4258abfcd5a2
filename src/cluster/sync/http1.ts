// A minimal keep-alive HTTP/1.1 client for the replication stream: one connection per peer, one
// request at a time (a PeerLink never has two batches in flight), on the event loop's own sockets
// (Bun.connect). Bun's fetch hands every request to its HTTP client thread and back, which cost
// the sending node ~0.1–1 ms per batch on a busy core; this writes one buffer and parses one
// answer. Anything it does not understand (no Content-Length, a chunked or informational answer)
// is an Http1Unsupported error, and the caller falls back to fetch.

import type { Socket } from "bun";

export class Http1Error extends Error {}
/** The server answered in a way this client does not handle; fetch will. */
export class Http1Unsupported extends Http1Error {}

export interface Http1Answer {
  readonly status: number;
  /** header names in lower case */
  readonly headers: Map<string, string>;
  readonly body: Uint8Array;
}

interface Pending {
  socket: Socket<undefined>;
  resolve(answer: Http1Answer): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
  /** bytes of the answer so far */
  chunks: Uint8Array[];
  size: number;
  /** sent on a connection that had served a request before (a close may be the idle timeout) */
  reused: boolean;
}

const encoder = new TextEncoder();
const HEAD_END = [13, 10, 13, 10];
/** answers are small (sync sends bodies, gets counts back); a head beyond this is not ours */
const MAX_HEAD = 16 * 1024;

function findHeadEnd(bytes: Uint8Array): number {
  outer: for (let i = 0; i + 4 <= bytes.length; i++) {
    for (let j = 0; j < 4; j++) if (bytes[i + j] !== HEAD_END[j]) continue outer;
    return i;
  }
  return -1;
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export class Http1Connection {
  private socket: Socket<undefined> | undefined;
  private opening: Promise<Socket<undefined>> | undefined;
  private pending: Pending | undefined;
  private served = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs: number,
  ) {}

  /** Whether a request is in flight (a second one must go another way). */
  get busy(): boolean {
    return this.inUse;
  }

  private inUse = false;

  /** POSTs `body` to `path` with the given extra headers; one request at a time. */
  async post(path: string, headers: Record<string, string>, body: Uint8Array): Promise<Http1Answer> {
    if (this.inUse) throw new Http1Error("a request is already in flight on this connection");
    this.inUse = true;
    let head = `POST ${path} HTTP/1.1\r\nhost: ${this.host}:${this.port}\r\ncontent-length: ${body.length}\r\n`;
    for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
    const headBytes = encoder.encode(head + "\r\n");
    const request = new Uint8Array(headBytes.length + body.length);
    request.set(headBytes, 0);
    request.set(body, headBytes.length);
    try {
      return await this.send(request);
    } catch (error) {
      // A kept-alive connection the server closed meanwhile: the batch is safe to send again
      // (applying a record twice changes nothing), once, on a fresh connection.
      if (error instanceof Http1Closed && error.reused) return await this.send(request);
      throw error;
    } finally {
      this.inUse = false;
    }
  }

  close(): void {
    this.fail(new Http1Error("connection closed by this node"));
    this.socket?.end();
    this.socket = undefined;
  }

  private async send(request: Uint8Array): Promise<Http1Answer> {
    const socket = await this.open();
    return new Promise<Http1Answer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new Http1Error(`no answer within ${this.timeoutMs} ms`));
        this.drop();
      }, this.timeoutMs);
      (timer as { unref?: () => void }).unref?.();
      this.pending = { socket, resolve, reject, timer, chunks: [], size: 0, reused: this.served > 0 };
      const written = socket.write(request);
      // A socket takes what the kernel buffer holds; the rest goes out in drain().
      if (written < request.length) this.rest = request.subarray(Math.max(0, written));
    });
  }

  private rest: Uint8Array | undefined;

  private open(): Promise<Socket<undefined>> {
    if (this.socket) return Promise.resolve(this.socket);
    if (this.opening) return this.opening;
    this.served = 0;
    this.opening = Bun.connect<undefined>({
      hostname: this.host,
      port: this.port,
      socket: {
        data: (s, data) => {
          if (s === this.socket) this.onData(data);
        },
        drain: (s) => {
          if (!this.rest) return;
          const written = s.write(this.rest);
          this.rest = written < this.rest.length ? this.rest.subarray(Math.max(0, written)) : undefined;
        },
        close: (s) => this.onClose(s),
        error: (s) => this.onClose(s),
      },
    }).then(
      (socket) => {
        this.opening = undefined;
        this.socket = socket;
        return socket;
      },
      (error: unknown) => {
        this.opening = undefined;
        throw error;
      },
    );
    return this.opening;
  }

  private onData(data: Uint8Array): void {
    const p = this.pending;
    if (!p) {
      this.drop(); // bytes nobody asked for: the connection is out of step
      return;
    }
    p.chunks.push(new Uint8Array(data)); // Bun reuses the chunk's memory after this call
    p.size += data.length;
    const bytes = concat(p.chunks, p.size);
    p.chunks = [bytes];
    const end = findHeadEnd(bytes);
    if (end < 0) {
      if (bytes.length > MAX_HEAD) this.failAndDrop(new Http1Unsupported("answer head too large"));
      return;
    }
    const lines = Buffer.from(bytes.buffer, bytes.byteOffset, end).toString("latin1").split("\r\n");
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
    if (!status) return this.failAndDrop(new Http1Unsupported(`not an HTTP/1.1 answer: ${JSON.stringify((lines[0] ?? "").slice(0, 40))}`));
    const headers = new Map<string, string>();
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i]!.indexOf(":");
      if (colon > 0) headers.set(lines[i]!.slice(0, colon).trim().toLowerCase(), lines[i]!.slice(colon + 1).trim());
    }
    const code = Number(status[1]);
    const length = headers.get("content-length");
    if (code < 200 || headers.has("transfer-encoding") || length === undefined || !/^\d+$/.test(length)) {
      return this.failAndDrop(new Http1Unsupported(`answer without a plain Content-Length (status ${code})`));
    }
    const total = end + 4 + Number(length);
    if (bytes.length < total) return;
    if (bytes.length > total) return this.failAndDrop(new Http1Error("more bytes than the answer holds"));
    this.pending = undefined;
    clearTimeout(p.timer);
    this.served++;
    if (headers.get("connection")?.toLowerCase() === "close") this.drop();
    p.resolve({ status: code, headers, body: bytes.subarray(end + 4) });
  }

  private onClose(socket: Socket<undefined>): void {
    if (socket === this.socket) {
      this.socket = undefined;
      this.rest = undefined;
    }
    const p = this.pending;
    if (p && p.socket === socket) this.fail(p.reused && p.size === 0 ? new Http1Closed(true) : new Http1Error("connection closed before the answer"));
  }

  private failAndDrop(error: Error): void {
    this.fail(error);
    this.drop();
  }

  private fail(error: Error): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.reject(error);
  }

  private drop(): void {
    const s = this.socket;
    this.socket = undefined;
    this.rest = undefined;
    s?.terminate();
  }
}

class Http1Closed extends Http1Error {
  constructor(readonly reused: boolean) {
    super("connection closed by the peer");
  }
}
