// In-process stand-ins for the network and the timers, so the sync logic (replicas, links,
// anti-entropy) runs against real Keyspaces under a ManualClock with no sockets and no sleeps.
// The HTTP path itself is exercised by the real-process tests in this directory.

import { AnswerTooLarge } from "../../src/cluster/read-capped.ts";
import type { SyncResponder } from "../../src/cluster/sync/serve.ts";
import type { PeerTransport, SyncPath, Timers } from "../../src/cluster/sync/types.ts";
import type { ManualClock } from "../../src/store/types.ts";

export class ManualTimers implements Timers {
  private next = 1;
  private readonly due = new Map<number, { at: number; fn: () => void }>();
  constructor(private readonly clock: ManualClock) {}

  set(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.due.set(id, { at: this.clock.now() + ms, fn });
    return id;
  }

  clear(handle: unknown): void {
    this.due.delete(handle as number);
  }

  /** A long pass's turn is a microtask here: in-process runs stay in step with `advance`. */
  turn(): Promise<void> {
    return Promise.resolve();
  }

  get pending(): number {
    return this.due.size;
  }

  /** Moves the clock forward, running each timer at its time (and microtasks in between). */
  async advance(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    for (;;) {
      await flushMicrotasks();
      let first: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.due) if (entry[1].at <= end && (!first || entry[1].at < first[1].at)) first = entry;
      if (!first) break;
      this.due.delete(first[0]);
      if (first[1].at > this.clock.now()) this.clock.set(first[1].at);
      first[1].fn();
    }
    this.clock.set(end);
    await flushMicrotasks();
  }
}

/**
 * Runs every microtask chain as far as it goes: in-process, requests and a long pass's turns
 * (ManualTimers.turn) are microtasks, and the queue is drained whole before the next turn of the
 * real event loop. A round of 128 listings is thousands of them.
 */
export async function flushMicrotasks(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}

type PeerMode = "up" | "down" | "hang";

/** Routes requests to the responders of other in-process nodes; peers can be downed or hung. */
export class LoopNet {
  readonly responders = new Map<string, SyncResponder>();
  readonly mode = new Map<string, PeerMode>();
  readonly hung: (() => void)[] = [];
  bytes = 0;
  requests: { peer: string; path: SyncPath }[] = [];
  /** answers longer than this are refused as a peer declaring their length would have them (fetchTransport) */
  maxAnswerBytes = Infinity;

  transport(): PeerTransport {
    return {
      request: async (peer, path, body) => {
        this.requests.push({ peer, path });
        const mode = this.mode.get(peer) ?? "up";
        if (mode === "down") throw new Error(`connection refused: ${peer}`);
        if (mode === "hang") {
          await new Promise<void>((_, reject) => this.hung.push(() => reject(new Error("timed out"))));
        }
        const responder = this.responders.get(peer);
        if (!responder) throw new Error(`no such peer ${peer}`);
        const answer = await responder.answer(path, body);
        if (answer.length > this.maxAnswerBytes) throw new AnswerTooLarge(this.maxAnswerBytes, answer.length);
        this.bytes += body.length + answer.length;
        return answer;
      },
    };
  }

  /** Fails every request that is hanging (as a timeout would). */
  timeoutHung(): void {
    for (const fail of this.hung.splice(0)) fail();
  }
}
