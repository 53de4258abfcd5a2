// How many bytes all stream connections (owl text and RESP) may hold together in requests not yet
// complete. Each connection is capped on its own (a line, a request), but a few thousand clients
// each sending most of a large request and then waiting would hold gigabytes between them. Past
// the total, the connections holding the most are closed, as redis-server's client eviction
// (maxmemory-clients) closes its biggest clients first.

import { CommandError } from "../commands/errors.ts";
import { errorReply } from "../commands/reply.ts";

/** What a closed client is told before the close. */
export const INPUT_LIMIT = "client closed: input buffers of all clients over MaxInputBufferBytes";
export const INPUT_LIMIT_REPLY = errorReply(new CommandError(500, INPUT_LIMIT));

/** Closes one connection that holds too much (its server's way: its protocol's error line, then the end). */
export type Evict<S, O> = (socket: S, owner: O) => void;

interface Holder {
  bytes: number;
  readonly socket: unknown;
  readonly evict: Evict<unknown, object>;
}

/**
 * The shared count. Connections report what they hold only when it changes (whole requests in a
 * chunk hold nothing), so the per-request path pays one comparison.
 */
export class InputBudget {
  /** bytes held by all connections */
  total = 0;
  /** connections closed for holding too much, since the start */
  evicted = 0;
  /** connections holding something, by their state object */
  private readonly holders = new Map<object, Holder>();

  constructor(
    /** Infinity: no limit */
    readonly limit: number,
    /** told of each close (the log says so, a few times a minute at most) */
    private readonly onEvicted?: (evicted: number, bytes: number) => void,
  ) {}

  /**
   * Sets what `owner` holds now; past the limit, closes the holders of the most until the rest
   * fit (which may be `owner` itself), each with `evict(socket, owner)` as given when it began
   * to hold.
   */
  hold<S, O extends object>(owner: O, bytes: number, socket: S, evict: Evict<S, O>): void {
    const holder = this.holders.get(owner);
    if (holder === undefined) {
      if (bytes === 0) return;
      this.holders.set(owner, { bytes, socket, evict: evict as Evict<unknown, object> });
    } else if (bytes === 0) {
      this.holders.delete(owner);
      this.total -= holder.bytes;
      return;
    } else {
      this.total -= holder.bytes;
      holder.bytes = bytes;
    }
    this.total += bytes;
    while (this.total > this.limit && this.holders.size > 0) this.evictLargest();
  }

  /** What `owner` holds (0 when nothing). */
  heldBy(owner: object): number {
    return this.holders.get(owner)?.bytes ?? 0;
  }

  /** `owner` is gone (closed): what it held no longer counts. */
  release(owner: object): void {
    this.hold(owner, 0, undefined, noEvict);
  }

  /** A linear walk: it runs only past the limit, over the connections that hold something. */
  private evictLargest(): void {
    let largest: object | undefined;
    let most = -1;
    for (const [owner, holder] of this.holders) {
      if (holder.bytes > most) {
        most = holder.bytes;
        largest = owner;
      }
    }
    const holder = this.holders.get(largest!)!;
    this.holders.delete(largest!);
    this.total -= holder.bytes;
    this.evicted++;
    this.onEvicted?.(this.evicted, holder.bytes);
    holder.evict(holder.socket, largest!);
  }
}

function noEvict(): void {}
