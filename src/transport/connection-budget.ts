// How many stream connections (owl text and RESP together) may be open at once: fewer than the
// process may open files, so that accepting a client never fails with EMFILE. Bun's listener does
// not back off from that error (a literal todo in its usockets loop.c, oven-sh/bun#32705): it
// retried accept() ~25,000 times a second, a core at 100 %, for as long as the limit was reached.
// A client past the budget is accepted, told why, and closed, so the fd it took comes back at once.

import { readFileSync } from "node:fs";
import { CommandError } from "../commands/errors.ts";
import { errorReply } from "../commands/reply.ts";

/**
 * Descriptors kept out of the budget: HTTP connections (Bun.serve shows no count to cap them
 * by), peers' requests, the append log and snapshot files, the log file, Bun's own.
 */
export const MIN_RESERVED_FDS = 64;
/** ... and at least this share of the limit. */
const RESERVED_SHARE = 1 / 8;

/** The stream connections allowed for a limit of `openFiles` descriptors (Infinity: no limit). */
export function streamConnectionBudget(openFiles: number): number {
  if (!Number.isFinite(openFiles)) return Infinity;
  return Math.max(0, openFiles - Math.max(MIN_RESERVED_FDS, Math.ceil(openFiles * RESERVED_SHARE)));
}

/**
 * The process's limit on open files (RLIMIT_NOFILE, soft: Bun raises it to the hard limit when it
 * starts), from /proc/self/limits. Infinity when unlimited or unreadable (not Linux).
 */
export function openFilesLimit(limits: () => string = () => readFileSync("/proc/self/limits", "utf8")): number {
  let text: string;
  try {
    text = limits();
  } catch {
    return Infinity;
  }
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  return match && match[1] !== "unlimited" ? Number(match[1]) : Infinity;
}

/** The count shared by the stream servers of a node. */
export class ConnectionBudget {
  open = 0;
  /** connections turned away since the start */
  refused = 0;

  constructor(
    readonly limit: number,
    /** told of each refusal (the log says so, a few times a minute at most) */
    private readonly onRefused?: (refused: number) => void,
  ) {}

  /** Counts a new connection in; false (and counted as refused) when the budget is spent. */
  take(): boolean {
    if (this.open >= this.limit) {
      this.refused++;
      this.onRefused?.(this.refused);
      return false;
    }
    this.open++;
    return true;
  }

  give(): void {
    this.open--;
  }
}

/** What a client past the budget is told before it is closed (redis-server's words). */
export const TOO_MANY_CLIENTS = "max number of clients reached";

/** The same as a reply, for each protocol's encoder. */
export const TOO_MANY_CLIENTS_REPLY = errorReply(new CommandError(500, TOO_MANY_CLIENTS));
