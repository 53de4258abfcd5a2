// Signed tokens (SPEC §5): HS256 JWTs made with jose, carrying the client address they were
// issued to (`addr`), the issue time and, when Tonken_expire_time > 0, the expiry. jose is
// imported when a token is first issued or checked: a node nobody logs in to never loads it.

import { timingSafeEqual } from "node:crypto";
import type { Clock } from "../store/types.ts";

const ALGORITHM = "HS256";
const ISSUER = "owlcache";
/** Verified tokens remembered so that each write does not redo the HMAC; bounded. */
const CACHE_SIZE = 4096;

let joseModule: Promise<typeof import("jose")> | undefined;
const jose = (): Promise<typeof import("jose")> => (joseModule ??= import("jose"));

interface CachedToken {
  readonly addr: string;
  /** ms; 0 = never */
  readonly expiresAt: number;
}

export interface TokenServiceOptions {
  readonly secret: Uint8Array;
  /** seconds; 0 = tokens never expire */
  readonly lifetimeSeconds: number;
  readonly clock: Clock;
}

export class TokenService {
  private readonly cache = new Map<string, CachedToken>();

  constructor(private readonly options: TokenServiceOptions) {}

  async issue(client: string): Promise<string> {
    const { SignJWT } = await jose();
    const nowSeconds = Math.floor(this.options.clock.now() / 1000);
    const jwt = new SignJWT({ addr: client }).setProtectedHeader({ alg: ALGORITHM, typ: "JWT" }).setIssuer(ISSUER).setIssuedAt(nowSeconds);
    if (this.options.lifetimeSeconds > 0) jwt.setExpirationTime(nowSeconds + this.options.lifetimeSeconds);
    return jwt.sign(this.options.secret);
  }

  /** True when the token is ours, unexpired and was issued to `client`. Never throws. */
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
      return { addr: payload.addr, expiresAt: typeof payload.exp === "number" ? payload.exp * 1000 : 0 };
    } catch (error) {
      if (error instanceof errors.JOSEError || error instanceof TypeError) return undefined;
      throw error;
    }
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
