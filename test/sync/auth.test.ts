import { describe, expect, test } from "bun:test";
import { answerMac, macEqual, REPLAY_WINDOW_MS, RequestVerifier, sign } from "../../src/cluster/sync/auth.ts";
import { ManualClock } from "../../src/store/types.ts";

const KEY = "the-sync-key-0123456789";
const body = new TextEncoder().encode("batch body");

describe("sync request authentication", () => {
  test("auth - a signed request passes once", () => {
    const clock = new ManualClock();
    const verifier = new RequestVerifier(KEY, clock);
    const sig = sign(KEY, "/sync/batch", body, clock.now());
    expect(verifier.verify("/sync/batch", body, sig)).toBeUndefined();
    expect(verifier.verify("/sync/batch", body, sig)).toBe("replayed");
  });

  test("auth - wrong key, tampered body, other path or missing fields are refused", () => {
    const clock = new ManualClock();
    const verifier = new RequestVerifier(KEY, clock);
    expect(verifier.verify("/sync/batch", body, sign("another-key-0123456789", "/sync/batch", body, clock.now()))).toBe("bad-mac");
    const sig = sign(KEY, "/sync/batch", body, clock.now());
    const tampered = body.slice();
    tampered[0] = tampered[0]! ^ 1;
    expect(verifier.verify("/sync/batch", tampered, sig)).toBe("bad-mac");
    expect(verifier.verify("/sync/fetch", body, sig)).toBe("bad-mac");
    expect(verifier.verify("/sync/batch", body, { ...sig, time: String(Number(sig.time) + 1) })).toBe("bad-mac");
    expect(verifier.verify("/sync/batch", body, {})).toBe("missing");
    expect(verifier.verify("/sync/batch", body, { ...sig, mac: undefined })).toBe("missing");
    expect(verifier.verify("/sync/batch", body, { ...sig, time: "soon" })).toBe("missing");
    // none of the refusals used up the nonce
    expect(verifier.verify("/sync/batch", body, sig)).toBeUndefined();
  });

  test("auth - timestamps outside the replay window are stale, either direction", () => {
    const clock = new ManualClock();
    const verifier = new RequestVerifier(KEY, clock);
    const old = sign(KEY, "/sync/batch", body, clock.now() - REPLAY_WINDOW_MS - 1);
    const future = sign(KEY, "/sync/batch", body, clock.now() + REPLAY_WINDOW_MS + 1);
    expect(verifier.verify("/sync/batch", body, old)).toBe("stale");
    expect(verifier.verify("/sync/batch", body, future)).toBe("stale");
  });

  test("auth - nonces are forgotten once their window has passed, and a replay then is stale", () => {
    const clock = new ManualClock();
    const verifier = new RequestVerifier(KEY, clock);
    const sig = sign(KEY, "/sync/batch", body, clock.now());
    expect(verifier.verify("/sync/batch", body, sig)).toBeUndefined();
    clock.tick(REPLAY_WINDOW_MS + 1);
    expect(verifier.verify("/sync/batch", body, sign(KEY, "/sync/batch", body, clock.now()))).toBeUndefined();
    expect(verifier.remembered).toBe(1);
    expect(verifier.verify("/sync/batch", body, sig)).toBe("stale");
  });

  test("auth - answers are bound to the request nonce", () => {
    const a = answerMac(KEY, "nonce-1", body);
    expect(macEqual(a, answerMac(KEY, "nonce-1", body))).toBe(true);
    expect(macEqual(a, answerMac(KEY, "nonce-2", body))).toBe(false);
    expect(macEqual(a, "")).toBe(false);
    expect(macEqual("", a)).toBe(false);
  });
});
