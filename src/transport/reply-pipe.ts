// Per-connection output for the stream servers: replies of one batch are gathered in a
// ByteWriter and leave in one `write`; what the socket does not take waits in an outbox that
// `drain` flushes. The backlog tells the server when to stop reading.

import type { Socket } from "bun";
import { ByteWriter } from "../protocol/byte-writer.ts";

/**
 * Past this many bytes of unsent replies the connection stops reading requests until the
 * client catches up (a client that never reads costs us at most this much).
 */
export const MAX_BACKLOG_BYTES = 8 * 1024 * 1024;

/**
 * A connection's output buffer starts this small and grows (doubling) with its batches: ten
 * thousand idle clients should not cost 64 KiB each.
 */
const INITIAL_OUT_BYTES = 4 * 1024;

export class ReplyPipe {
  readonly out = new ByteWriter(INITIAL_OUT_BYTES);
  private outbox: Uint8Array[] = [];
  private outboxBytes = 0;
  /**
   * A write failed (Bun's -1: the peer reset or is gone); nothing more will leave, and what was
   * waiting has been dropped. The connection must be ended, not paused: Bun does not report
   * the close of a socket that is paused after such a write.
   */
  broken = false;

  /** Bytes waiting: gathered and not yet offered, plus offered and not yet taken. */
  get backlog(): number {
    return this.out.length + this.outboxBytes;
  }

  get idle(): boolean {
    return this.backlog === 0;
  }

  /** Sends what is gathered; returns true when the socket took everything (false when `broken`). */
  flush<T>(socket: Socket<T>): boolean {
    if (this.broken) return false;
    while (this.outbox.length > 0) {
      const head = this.outbox[0]!;
      const sent = socket.write(head);
      if (sent < 0) return this.fail();
      this.outboxBytes -= sent;
      if (sent < head.length) {
        this.outbox[0] = head.subarray(sent);
        this.park();
        return false;
      }
      this.outbox.shift();
    }
    if (this.out.length === 0) return true;
    // Offset and length instead of a view: no array object made per batch.
    const length = this.out.length;
    const sent = socket.write(this.out.buf, 0, length);
    if (sent >= length) {
      this.out.reset();
      return true;
    }
    if (sent < 0) return this.fail();
    const rest = this.out.buf.slice(sent, length);
    this.outbox.push(rest);
    this.outboxBytes += rest.length;
    this.out.reset();
    return false;
  }

  /** The socket refused a write: nothing will leave, so nothing is kept. */
  private fail(): false {
    this.broken = true;
    this.outbox = [];
    this.outboxBytes = 0;
    this.out.reset();
    return false;
  }

  /** Gathered bytes move to the outbox (its chunks are owned copies). */
  private park(): void {
    if (this.out.length === 0) return;
    const rest = this.out.view().slice();
    this.outbox.push(rest);
    this.outboxBytes += rest.length;
    this.out.reset();
  }
}
