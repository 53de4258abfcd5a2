// The last resort for a bug that escapes every handler (a timer's task, a promise nobody awaited):
// logged as an internal error, and the node goes on. The node holds its data in memory, so
// exiting would lose every write not saved yet, for a failure that left the store as it was (a
// periodic task that could not open a file when the process was out of descriptors, say).

import type { Logger } from "./logger.ts";

/**
 * Installs the handlers on `target` (the process). Only once the node has started: a failure
 * while starting must end the process (exit 1), not leave it half up.
 */
export function logEscapedErrors(log: Logger, target: Pick<NodeJS.Process, "on"> = process): void {
  const report = (kind: string, error: unknown): void => {
    try {
      log.error("internal error", { kind, error });
    } catch {
      console.error(`owlcache: internal error (${kind}):`, error); // (a throw here would end the process)
    }
  };
  target.on("uncaughtException", (error) => report("uncaught exception", error));
  target.on("unhandledRejection", (reason) => report("unhandled rejection", reason));
}
