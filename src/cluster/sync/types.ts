// The seams of the sync module: who the peers are, how a request reaches one, and timers — each
// small enough that the real cluster client (issue 5) or an in-process loop can stand behind it.

import { nextTurn } from "../../common/slicer.ts";

/** The `gossip` peer list: addresses like `127.0.0.1:7723`, `http://…` or `https://…`. */
export interface SyncPeers {
  list(): readonly string[];
}

/** Sends one signed request to a peer and returns its verified answer body; rejects on failure. */
export interface PeerTransport {
  request(peer: string, path: SyncPath, body: Uint8Array): Promise<Uint8Array>;
}

export type SyncPath = "/sync/batch" | "/sync/digest" | "/sync/keys" | "/sync/fetch";

export const SYNC_PATHS: readonly SyncPath[] = ["/sync/batch", "/sync/digest", "/sync/keys", "/sync/fetch"];

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
  /** a turn of the event loop, which long passes (listings) give between their slices */
  turn(): Promise<void>;
}

export const realTimers: Timers = {
  set: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // Sync timers must never keep a stopping process alive.
    (t as { unref?: () => void }).unref?.();
    return t;
  },
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  turn: nextTurn,
};

/** `127.0.0.1:7723`, `http://127.0.0.1:7723/` and `localhost:7723` name the same node. */
export function peerKey(address: string): string {
  return address.trim().replace(/^https?:\/\//i, "").replace(/\/+$/, "").toLowerCase().replace(/^localhost:/, "127.0.0.1:");
}

/** The URL of a sync path on a peer; an address without a scheme uses this node's own. */
export function peerUrl(address: string, path: string, https = false): string {
  const trimmed = address.trim().replace(/\/+$/, "");
  return (/^https?:\/\//i.test(trimmed) ? trimmed : `${https ? "https" : "http"}://${trimmed}`) + path;
}
