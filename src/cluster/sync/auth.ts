// Authentication of sync requests between peers: HMAC-SHA256 with GossipDataSyncAuthKey over
// path, timestamp, nonce and body; stale timestamps and replayed nonces are refused. Answers are
// signed too (over the request's nonce), so a forged answer cannot inject data either.

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "../../store/types.ts";

/** A request older or further in the future than this is refused (clock skew allowance). */
export const REPLAY_WINDOW_MS = 30_000;
/** Nonces remembered at most; beyond it requests are refused until old ones age out. */
const MAX_NONCES = 500_000;

export const HEADER_TIME = "x-owl-sync-time";
export const HEADER_NONCE = "x-owl-sync-nonce";
export const HEADER_MAC = "x-owl-sync-mac";
export const HEADER_NODE = "x-owl-sync-node";

export interface Signature {
  readonly time: string;
  readonly nonce: string;
  readonly mac: string;
}

export type AuthFailure = "missing" | "stale" | "replayed" | "bad-mac" | "busy";

export function mac(key: string, path: string, time: string, nonce: string, body: Uint8Array): string {
  return createHmac("sha256", key).update(`${path}\n${time}\n${nonce}\n`).update(body).digest("hex");
}

export function sign(key: string, path: string, body: Uint8Array, now: number): Signature {
  const time = String(now);
  const nonce = randomBytes(16).toString("hex");
  return { time, nonce, mac: mac(key, path, time, nonce, body) };
}

/** The MAC an answer carries: over the request's nonce, so it is bound to that request. */
export function answerMac(key: string, requestNonce: string, body: Uint8Array): string {
  return mac(key, "answer", "", requestNonce, body);
}

export function macEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  // timingSafeEqual needs equal lengths; comparing y with itself keeps the time independent of a.
  return timingSafeEqual(x.length === y.length ? x : y, y) && x.length === y.length;
}

/** Checks signatures and remembers nonces for the replay window. */
export class RequestVerifier {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly key: string,
    private readonly clock: Clock,
  ) {}

  verify(path: string, body: Uint8Array, sig: Partial<Signature>): AuthFailure | undefined {
    const { time, nonce, mac: given } = sig;
    if (!time || !nonce || !given || nonce.length > 128 || !/^\d{1,16}$/.test(time)) return "missing";
    const now = this.clock.now();
    if (Math.abs(now - Number(time)) > REPLAY_WINDOW_MS) return "stale";
    if (!macEqual(given, mac(this.key, path, time, nonce, body))) return "bad-mac";
    this.forgetOld(now);
    if (this.seen.has(nonce)) return "replayed";
    if (this.seen.size >= MAX_NONCES) return "busy";
    this.seen.set(nonce, Number(time));
    return undefined;
  }

  get remembered(): number {
    return this.seen.size;
  }

  private forgetOld(now: number): void {
    // Insertion order is roughly time order; stop at the first nonce still inside the window.
    for (const [nonce, time] of this.seen) {
      if (now - time <= REPLAY_WINDOW_MS) break;
      this.seen.delete(nonce);
    }
  }
}
