// Signed tokens (SPEC §5): HS256 JWTs made with jose, carrying the client address they were
// issued to (`addr`), the issue time, a fingerprint of the password they were issued under (`pwf`)
// and, when Tonken_expire_time > 0, the expiry. A token is checked against the node's current
// configuration, not only the one that issued it: a changed password or a shorter lifetime ends
// tokens issued before. jose is imported when a token is first issued or checked: a node nobody
// logs in to never loads it.

import { createHmac, timingSafeEqual } from "node:crypto";
import type { Clock } from "../store/types.ts";

const ALGORITHM = "HS256";
const ISSUER = "owlcache";
/** Verified tokens remembered so that each write does not redo the HMAC; bounded. */
const CACHE_SIZE = 4096;
/**
 * Keeps the fingerprint's HMAC apart from the JWT signatures made with the same secret (their
 * input is base64url text, which never holds this label's space or NUL).
 */
const FINGERPRINT_LABEL = "owlcache password fingerprint\0";
/** 128 bits: enough that no other password matches by chance, short enough for every request. */
const FINGERPRINT_BYTES = 16;

let joseModule: Promise<typeof import("jose")> | undefined;
const jose = (): Promise<typeof import("jose")> => (joseModule ??= import("jose"));

interface CachedToken {
  readonly addr: string;
  /** ms; 0 = never. Already the earlier of the token's `exp` and the current lifetime's limit. */
  readonly expiresAt: number;
}

export interface TokenServiceOptions {
  readonly secret: Uint8Array;
  /** seconds; 0 = tokens never expire */
  readonly lifetimeSeconds: number;
  /** the node's password: tokens issued under another one are refused */
  readonly password: string;
  readonly clock: Clock;
}

/**
 * A keyed fingerprint of the password: tokens can be told apart by password without carrying it,
 * and without the secret nobody can test guesses of the password against a token.
 */
export function passwordFingerprint(secret: Uint8Array, password: string): string {
  return createHmac("sha256", secret).update(FINGERPRINT_LABEL).update(password).digest().subarray(0, FINGERPRINT_BYTES).toString("base64url");
}

export class TokenService {
  private readonly cache = new Map<string, CachedToken>();
  private readonly fingerprint: string;

  constructor(private readonly options: TokenServiceOptions) {
    this.fingerprint = passwordFingerprint(options.secret, options.password);
  }

  /** True when this service issues and accepts tokens for `password` (a wiring check). */
  issuesFor(password: string): boolean {
    return sameText(passwordFingerprint(this.options.secret, password), this.fingerprint);
  }

  async issue(client: string): Promise<string> {
    const { SignJWT } = await jose();
    // JWT times are whole seconds. Rounded up, so that a token lives at least the configured
    // lifetime (rounded down, it lived between N − 1 and N seconds) and exp = iat + lifetime.
    const issuedAt = Math.ceil(this.options.clock.now() / 1000);
    const jwt = new SignJWT({ addr: client, pwf: this.fingerprint }).setProtectedHeader({ alg: ALGORITHM, typ: "JWT" }).setIssuer(ISSUER).setIssuedAt(issuedAt);
    if (this.options.lifetimeSeconds > 0) jwt.setExpirationTime(issuedAt + this.options.lifetimeSeconds);
    return jwt.sign(this.options.secret);
  }

  /**
   * True when the token is ours, issued under the current password, to `client`, and within both
   * its own expiry and the current lifetime. Never throws. Only tokens that passed every check
   * are cached, with the expiry those checks gave; the expiry is compared on every use.
   */
  async verify(token: string | undefined, client: string): Promise<boolean> {
    if (!token) return false;
    const now = this.options.clock.now();
    let entry = this.cache.get(token);
    if (!entry) {
      const checked = await this.check(token, now);
      if (!checked) return false;
      entry = checked;
      if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(token, entry);
    }
    if (entry.expiresAt !== 0 && now >= entry.expiresAt) {
      this.cache.delete(token);
      return false;
    }
    return sameText(entry.addr, client);
  }

  private async check(token: string, now: number): Promise<CachedToken | undefined> {
    const { errors, jwtVerify } = await jose();
    try {
      const { payload } = await jwtVerify(token, this.options.secret, {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        currentDate: new Date(now),
        clockTolerance: 0,
      });
      if (typeof payload.addr !== "string" || typeof payload.iat !== "number") return undefined;
      // Missing (a token of an older build) counts as different: it cannot prove its password.
      if (typeof payload.pwf !== "string" || !sameText(payload.pwf, this.fingerprint)) return undefined;
      return { addr: payload.addr, expiresAt: this.expiresAt(payload.iat, payload.exp) };
    } catch (error) {
      if (error instanceof errors.JOSEError || error instanceof TypeError) return undefined;
      throw error;
    }
  }

  /**
   * When a token stops being valid, in ms (0 = never): its own `exp`, but with a lifetime set now,
   * no later than `iat` + that lifetime, so a token issued while tokens lived longer (or forever)
   * does not outlive the current setting.
   */
  private expiresAt(iat: number, exp: unknown): number {
    const own = typeof exp === "number" ? exp * 1000 : 0;
    const lifetime = this.options.lifetimeSeconds;
    if (lifetime <= 0) return own;
    const limit = (iat + lifetime) * 1000;
    return own === 0 ? limit : Math.min(own, limit);
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
