// The set of a stream server's open connections and its graceful stop: stop accepting, let each
// connection send what it owes (input queued for this turn, replies pending or unsent), then
// close what is left.

import type { Socket, TCPSocketListener } from "bun";
import type { StreamConnection } from "./stream-server.ts";
import { ConnectionBudget } from "./connection-budget.ts";

/**
 * How long a graceful stop waits for clients to finish (owed replies, HTTP requests in flight)
 * before it closes their connections: one stuck client (a body never finished, a slow peer) must
 * not hold the node's exit. The same for the stream servers and HTTP.
 */
export const STOP_GRACE_MS = 2000;

export interface StreamServer {
  readonly port: number;
  readonly connections: number;
  /** Stops accepting, waits (up to `graceMs`) for owed replies to leave, closes every connection. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * A server's open connections, counted against `budget` (shared by a node's stream servers; none:
 * no limit). A connection `add` refuses is not tracked: the server tells it why and closes it.
 */
export function trackConnections<T extends StreamConnection>(budget = new ConnectionBudget(Infinity)) {
  const open = new Set<Socket<T>>();
  let onDrained: (() => void) | undefined;
  return {
    /** Tracks a new connection; false when the budget is spent (the socket is then the caller's to refuse). */
    add(socket: Socket<T>): boolean {
      if (!budget.take()) return false;
      open.add(socket);
      return true;
    },
    remove(socket: Socket<T>): void {
      if (open.delete(socket)) budget.give();
      onDrained?.();
    },
    drained(_socket: Socket<T>): void {
      onDrained?.();
    },
    server(listener: TCPSocketListener<T>): StreamServer {
      return {
        port: listener.port,
        get connections() {
          return open.size;
        },
        async stop(graceMs = STOP_GRACE_MS) {
          listener.stop(false);
          const deadline = Date.now() + graceMs;
          await new Promise<void>((resolve) => {
            // Runs on every drain or close, and every 20 ms for the deadline.
            const check = (): void => {
              for (const socket of open) if (isIdle(socket.data)) socket.end();
              if (open.size > 0 && Date.now() < deadline) return;
              onDrained = undefined;
              clearInterval(timer);
              resolve();
            };
            const timer = setInterval(check, 20);
            onDrained = check;
            check();
          });
          for (const socket of open) {
            // the grace is over: input still queued for this turn must not run after the stop
            if (socket.data) socket.data.session.closing = true;
            socket.terminate();
          }
          listener.stop(true);
        },
      };
    },
  };
}

/** Whether a connection owes nothing: no input waiting to run, no reply pending or waiting to leave. */
export function isIdle(c: StreamConnection | undefined): boolean {
  return c === undefined || (c.queued === 0 && !c.awaiting && c.pipe.idle);
}
