// Wrong-password throttling with a manual clock, and the authenticator that uses it.

import { describe, expect, test } from "bun:test";
import { PasswordAuthenticator } from "../../src/auth/authenticator.ts";
import { AttemptThrottle, MAX_FAILURES, WINDOW_MS } from "../../src/auth/throttle.ts";
import { TokenService } from "../../src/auth/tokens.ts";
import { CommandError } from "../../src/commands/errors.ts";
import { ManualClock } from "../../src/store/types.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function authenticator() {
  const clock = new ManualClock();
  const warnings: Record<string, unknown>[] = [];
  const log = { info() {}, error() {}, warn: (_event: string, fields?: Record<string, unknown>) => warnings.push(fields ?? {}) };
  const tokens = new TokenService({ secret: enc("a-test-secret-of-thirty-two-bytes!"), lifetimeSeconds: 0, password: "right-password-1", clock });
  return { auth: new PasswordAuthenticator("right-password-1", tokens, new AttemptThrottle(clock), log), clock, warnings };
}

describe("throttle", () => {
  test("throttle - allows up to 10 failures per minute, then refuses until the window passes", () => {
    const clock = new ManualClock();
    const throttle = new AttemptThrottle(clock);
    for (let i = 0; i < MAX_FAILURES; i++) {
      expect(throttle.retryAfter("a")).toBe(0);
      throttle.recordFailure("a");
      clock.tick(1000);
    }
    // the first failure was 10 s ago: 50 s left
    expect(throttle.retryAfter("a")).toBe(WINDOW_MS - MAX_FAILURES * 1000);
    expect(throttle.retryAfter("b")).toBe(0); // per address
    clock.tick(WINDOW_MS - MAX_FAILURES * 1000);
    expect(throttle.retryAfter("a")).toBe(0);
  });

  test("pass - the 11th attempt in a minute is refused with a Message, even with the right password", () => {
    const { auth, clock, warnings } = authenticator();
    for (let i = 0; i < MAX_FAILURES; i++) expect(auth.verifyPassword(enc("wrong"), "10.0.0.1")).toBe(false);
    expect(() => auth.verifyPassword(enc("right-password-1"), "10.0.0.1")).toThrow(CommandError);
    try {
      auth.verifyPassword(enc("right-password-1"), "10.0.0.1");
    } catch (error) {
      expect((error as CommandError).status).toBe(401);
      expect((error as CommandError).message).toContain("too many wrong passwords");
    }
    expect(auth.verifyPassword(enc("right-password-1"), "10.0.0.2")).toBe(true);
    clock.tick(WINDOW_MS);
    expect(auth.verifyPassword(enc("right-password-1"), "10.0.0.1")).toBe(true);
    // failures are logged with the address, never with the password
    expect(warnings.length).toBeGreaterThanOrEqual(MAX_FAILURES);
    expect(JSON.stringify(warnings)).not.toContain("wrong\"");
    expect(JSON.stringify(warnings)).not.toContain("right-password-1");
    expect(warnings[0]).toMatchObject({ client: "10.0.0.1" });
  });

  test("pass - refused attempts are logged once a minute per address, with their count", () => {
    const { auth, clock, warnings } = authenticator();
    for (let i = 0; i < MAX_FAILURES; i++) auth.verifyPassword(enc("wrong"), "10.0.0.1");
    const failures = warnings.length;
    const refuse = (client: string) => expect(() => auth.verifyPassword(enc("wrong"), client)).toThrow("too many wrong passwords");
    for (let i = 0; i < 500; i++) refuse("10.0.0.1");
    expect(warnings.slice(failures)).toEqual([{ client: "10.0.0.1", reason: "too many wrong passwords", refused: 1 }]);
    // Still locked out a window later (it keeps failing): the next line counts what was held back.
    clock.tick(WINDOW_MS - 1);
    refuse("10.0.0.1");
    expect(warnings.length).toBe(failures + 1);
    for (let i = 0; i < MAX_FAILURES; i++) auth.verifyPassword(enc("wrong"), "10.0.0.9"); // another address has its own
    refuse("10.0.0.9");
    expect(warnings.at(-1)).toEqual({ client: "10.0.0.9", reason: "too many wrong passwords", refused: 1 });
    clock.tick(WINDOW_MS);
    for (let i = 0; i < MAX_FAILURES; i++) auth.verifyPassword(enc("wrong"), "10.0.0.1");
    const before = warnings.length;
    refuse("10.0.0.1");
    expect(warnings.slice(before)).toEqual([{ client: "10.0.0.1", reason: "too many wrong passwords", refused: 501 }]);
  });
});
