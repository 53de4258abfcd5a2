// What the TCP servers share: the set of open connections and a graceful stop that refuses new
// connections, lets every connection send the replies it owes, then closes it.

import type { Socket, TCPSocketListener } from "bun";

export interface StreamServer {
  readonly port: number;
  readonly connections: number;
  /** Stops accepting, waits (up to `graceMs`) for owed replies to leave, closes every connection. */
  stop(graceMs?: number): Promise<void>;
}

export function trackConnections<T>() {
  const open = new Set<Socket<T>>();
  let onDrained: (() => void) | undefined;
  return {
    add(socket: Socket<T>): void {
      open.add(socket);
    },
    remove(socket: Socket<T>): void {
      open.delete(socket);
      onDrained?.();
    },
    drained(_socket: Socket<T>): void {
      onDrained?.();
    },
    server(listener: TCPSocketListener<T>, isIdle: (socket: Socket<T>) => boolean): StreamServer {
      return {
        port: listener.port,
        get connections() {
          return open.size;
        },
        async stop(graceMs = 2000) {
          listener.stop(false);
          const deadline = Date.now() + graceMs;
          await new Promise<void>((resolve) => {
            const check = (): void => {
              for (const socket of open) if (isIdle(socket)) socket.end();
              if (open.size === 0 || Date.now() >= deadline) {
                onDrained = undefined;
                resolve();
              }
            };
            onDrained = check;
            check();
            const timer = setInterval(() => {
              check();
              if (open.size === 0 || Date.now() >= deadline) clearInterval(timer);
            }, 20);
          });
          for (const socket of open) socket.terminate();
          listener.stop(true);
        },
      };
    },
  };
}
