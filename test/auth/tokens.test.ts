// TokenService with a manual clock: issue, verify, and every way a token must be refused.

import { describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { OLD_DEFAULT_SECRET } from "../../src/auth/secret.ts";
import { TokenService } from "../../src/auth/tokens.ts";
import { ManualClock } from "../../src/store/types.ts";

const SECRET = new TextEncoder().encode("a-test-secret-of-thirty-two-bytes!");

function service(lifetimeSeconds = 0, clock = new ManualClock()) {
  return { tokens: new TokenService({ secret: SECRET, lifetimeSeconds, clock }), clock };
}

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
    const payload = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;
    expect(payload).toMatchObject({ addr: "10.1.2.3", iat: Math.floor(clock.now() / 1000) });
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
});
