// One connection to one memcached server over Bun.connect: pipelined `get`s answered in order,
// each with a deadline. A timeout or a garbled answer drops the connection (a late answer would
// otherwise be taken for the next request's); the next request reconnects.

import type { Socket } from "bun";
import { BackendTimeoutError } from "./breaker.ts";
import { encodeGet, parseGetAnswer } from "./memcached-text.ts";

interface Waiter {
  resolve(value: Uint8Array | null): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

interface Link {
  socket?: Socket<undefined>;
  closed: boolean;
  waiters: Waiter[];
  /** received bytes not yet parsed: buf[start..end) */
  buf: Uint8Array;
  start: number;
  end: number;
  /** request bytes the socket has not taken yet */
  outbox: Uint8Array[];
}

const INITIAL_BUFFER = 16 * 1024;

export class MemcachedClient {
  private link: Link | undefined;

  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  /** The value, or null when memcached does not hold the key. Rejects on failure or timeout. */
  get(key: Uint8Array, timeoutMs: number): Promise<Uint8Array | null> {
    const link = this.link ?? this.open();
    return new Promise<Uint8Array | null>((resolve, reject) => {
      const timer = setTimeout(() => this.drop(link, new BackendTimeoutError(timeoutMs)), timeoutMs);
      link.waiters.push({ resolve, reject, timer });
      this.send(link, encodeGet(key));
    });
  }

  close(): void {
    if (this.link) this.drop(this.link, new Error("client closed"));
  }

  private open(): Link {
    const link: Link = { closed: false, waiters: [], buf: new Uint8Array(INITIAL_BUFFER), start: 0, end: 0, outbox: [] };
    this.link = link;
    Bun.connect<undefined>({
      hostname: this.host,
      port: this.port,
      socket: {
        open: (socket) => {
          if (link.closed) return void socket.terminate();
          link.socket = socket;
          socket.setNoDelay(true);
          this.flush(link);
        },
        data: (_socket, chunk) => this.receive(link, chunk),
        drain: () => this.flush(link),
        close: () => this.drop(link, new Error("connection closed by memcached")),
        error: (_socket, error) => this.drop(link, error),
        connectError: (_socket, error) => this.drop(link, error),
      },
    }).catch((error: unknown) => this.drop(link, error instanceof Error ? error : new Error(String(error))));
    return link;
  }

  private send(link: Link, bytes: Uint8Array): void {
    link.outbox.push(bytes);
    this.flush(link);
  }

  private flush(link: Link): void {
    const socket = link.socket;
    if (!socket || link.closed) return;
    while (link.outbox.length > 0) {
      const head = link.outbox[0]!;
      const sent = socket.write(head);
      if (sent < head.length) {
        if (sent > 0) link.outbox[0] = head.subarray(sent);
        return; // drain calls again
      }
      link.outbox.shift();
    }
  }

  private receive(link: Link, chunk: Uint8Array): void {
    if (link.closed) return;
    this.append(link, chunk);
    while (link.waiters.length > 0) {
      const answer = parseGetAnswer(link.buf, link.start, link.end);
      if (answer.kind === "pending") break;
      if (answer.kind === "protocol-error") return this.drop(link, new Error(`memcached protocol error: ${answer.message}`));
      link.start = answer.end;
      const waiter = link.waiters.shift()!;
      clearTimeout(waiter.timer);
      if (answer.kind === "value") waiter.resolve(answer.value);
      else if (answer.kind === "miss") waiter.resolve(null);
      else waiter.reject(new Error(`memcached: ${answer.message}`));
    }
    if (link.waiters.length === 0 && link.start < link.end) this.drop(link, new Error("memcached sent an answer nobody asked for"));
    if (link.start === link.end) link.start = link.end = 0;
  }

  private append(link: Link, chunk: Uint8Array): void {
    const used = link.end - link.start;
    if (link.end + chunk.length > link.buf.length) {
      if (used + chunk.length <= link.buf.length) {
        link.buf.copyWithin(0, link.start, link.end);
      } else {
        const bigger = new Uint8Array(Math.max(link.buf.length * 2, used + chunk.length));
        bigger.set(link.buf.subarray(link.start, link.end));
        link.buf = bigger;
      }
      link.start = 0;
      link.end = used;
    }
    link.buf.set(chunk, link.end);
    link.end += chunk.length;
  }

  /** Fails every request on this connection and forgets it; the next request reconnects. */
  private drop(link: Link, error: Error): void {
    if (link.closed) return;
    link.closed = true;
    if (this.link === link) this.link = undefined;
    link.socket?.terminate();
    for (const waiter of link.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }
}
