// TokenService with a manual clock: issue, verify, and every way a token must be refused.

import { describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { PasswordAuthenticator } from "../../src/auth/authenticator.ts";
import { OLD_DEFAULT_SECRET } from "../../src/auth/secret.ts";
import { AttemptThrottle } from "../../src/auth/throttle.ts";
import { passwordFingerprint, TokenService } from "../../src/auth/tokens.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { ManualClock } from "../../src/store/types.ts";

const SECRET = new TextEncoder().encode("a-test-secret-of-thirty-two-bytes!");
const PASSWORD = "test-password-123";

function service(lifetimeSeconds = 0, clock = new ManualClock(), password = PASSWORD) {
  return { tokens: new TokenService({ secret: SECRET, lifetimeSeconds, password, clock }), clock };
}

const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;

describe("tokens", () => {
  test("tokens - a token verifies for the address it was issued to", async () => {
    const { tokens } = service();
    const token = await tokens.issue("127.0.0.1");
    expect(await tokens.verify(token, "127.0.0.1")).toBe(true);
    expect(await tokens.verify(token, "127.0.0.1")).toBe(true); // cached path
  });

  test("tokens - carries the address, the issue time and no expiry when the lifetime is 0", async () => {
    const { tokens, clock } = service();
    const token = await tokens.issue("10.1.2.3");
    const payload = payloadOf(token);
    expect(payload).toMatchObject({ addr: "10.1.2.3", iat: Math.floor(clock.now() / 1000), pwf: passwordFingerprint(SECRET, PASSWORD) });
    expect(JSON.stringify(payload)).not.toContain(PASSWORD);
    expect(payload.exp).toBeUndefined();
    const header = JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()) as Record<string, unknown>;
    expect(header.alg).toBe("HS256");
  });

  test("tokens - refused from another address", async () => {
    const { tokens } = service();
    const token = await tokens.issue("127.0.0.1");
    expect(await tokens.verify(token, "127.0.0.2")).toBe(false);
  });

  test("tokens - refused once expired, even after it was cached", async () => {
    const { tokens, clock } = service(60);
    const token = await tokens.issue("127.0.0.1");
    expect(await tokens.verify(token, "127.0.0.1")).toBe(true);
    clock.tick(59_999);
    expect(await tokens.verify(token, "127.0.0.1")).toBe(true);
    clock.tick(1);
    expect(await tokens.verify(token, "127.0.0.1")).toBe(false);
  });

  test("tokens - a forged payload or signature is refused", async () => {
    const { tokens } = service();
    const token = await tokens.issue("127.0.0.1");
    const [head, , sig] = token.split(".");
    const forgedPayload = Buffer.from(JSON.stringify({ addr: "127.0.0.2", iss: "owlcache", iat: 1 })).toString("base64url");
    expect(await tokens.verify(`${head}.${forgedPayload}.${sig}`, "127.0.0.2")).toBe(false);
    expect(await tokens.verify(`${token.slice(0, -2)}AA`, "127.0.0.1")).toBe(false);
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${forgedPayload}.`;
    expect(await tokens.verify(none, "127.0.0.2")).toBe(false);
  });

  test("tokens - a token signed with the old default secret hello_owlcache is refused", async () => {
    const { tokens, clock } = service();
    const old = await new SignJWT({ addr: "127.0.0.1" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("owlcache")
      .setIssuedAt(Math.floor(clock.now() / 1000))
      .sign(new TextEncoder().encode(OLD_DEFAULT_SECRET));
    expect(await tokens.verify(old, "127.0.0.1")).toBe(false);
  });

  test("tokens - garbage, empty and missing tokens are refused without throwing", async () => {
    const { tokens } = service();
    for (const bad of [undefined, "", "x", "a.b.c", "....", "eyJ.eyJ.x"]) expect(await tokens.verify(bad, "127.0.0.1")).toBe(false);
  });

  test("tokens - lives at least the lifetime: the issue time is rounded up to the second", async () => {
    const { tokens, clock } = service(2, new ManualClock(1_800_000_000_900)); // 0.9 s into a second
    const token = await tokens.issue("127.0.0.1");
    expect(payloadOf(token)).toMatchObject({ iat: 1_800_000_001, exp: 1_800_000_003 });
    clock.tick(2_099); // 2.099 s later: the exp of the rounded-down time (…002) has passed
    expect(await tokens.verify(token, "127.0.0.1")).toBe(true);
    clock.tick(1);
    expect(await tokens.verify(token, "127.0.0.1")).toBe(false);
  });

  test("tokens - a token issued under another password, or with no fingerprint, is refused", async () => {
    const clock = new ManualClock();
    const before = await service(0, clock, "old-password-123").tokens.issue("127.0.0.1");
    const { tokens } = service(0, clock, "new-password-456");
    expect(await tokens.verify(before, "127.0.0.1")).toBe(false);
    expect(await tokens.verify(await tokens.issue("127.0.0.1"), "127.0.0.1")).toBe(true);
    // signed with the right secret by an older build: no pwf claim
    const unmarked = await new SignJWT({ addr: "127.0.0.1" }).setProtectedHeader({ alg: "HS256" }).setIssuer("owlcache").setIssuedAt(Math.floor(clock.now() / 1000)).sign(SECRET);
    expect(await tokens.verify(unmarked, "127.0.0.1")).toBe(false);
    expect(tokens.issuesFor("new-password-456")).toBe(true);
    expect(tokens.issuesFor("old-password-123")).toBe(false);
  });

  test("tokens - a token issued with no expiry ends at iat + the current lifetime, also once cached", async () => {
    const clock = new ManualClock();
    const forever = await service(0, clock).tokens.issue("127.0.0.1");
    expect(payloadOf(forever).exp).toBeUndefined();
    const { tokens } = service(2, clock); // the node restarted with Tonken_expire_time 2
    expect(await tokens.verify(forever, "127.0.0.1")).toBe(true); // now cached
    clock.tick(1_999);
    expect(await tokens.verify(forever, "127.0.0.1")).toBe(true);
    clock.tick(1);
    expect(await tokens.verify(forever, "127.0.0.1")).toBe(false);
  });

  test("tokens - a longer expiry is cut to iat + the current lifetime; a shorter one is kept", async () => {
    const clock = new ManualClock();
    const long = await service(3600, clock).tokens.issue("127.0.0.1");
    const short = await service(1, clock).tokens.issue("127.0.0.1");
    const { tokens } = service(2, clock);
    clock.tick(999);
    expect(await tokens.verify(short, "127.0.0.1")).toBe(true);
    clock.tick(1);
    expect(await tokens.verify(short, "127.0.0.1")).toBe(false);
    expect(await tokens.verify(long, "127.0.0.1")).toBe(true);
    clock.tick(1000);
    expect(await tokens.verify(long, "127.0.0.1")).toBe(false);
  });

  test("authenticator - refuses a token service built for another password", () => {
    const { tokens } = service(0, new ManualClock(), "one-password-123");
    expect(() => new PasswordAuthenticator("another-password-4", tokens, new AttemptThrottle(new ManualClock()), silentLogger)).toThrow("another password");
  });
});
