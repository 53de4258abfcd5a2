// The token signing secret: the configured one, or (when empty or the original's public default
// `hello_owlcache`) a random one generated once and kept in the data directory with mode 0600.

import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const SECRET_FILE = "owlcache.jwt_secret";
/** The original's default: anyone who read its source could forge tokens with it. */
export const OLD_DEFAULT_SECRET = "hello_owlcache";
/** 32 random bytes: the key size HS256 is designed for. */
const SECRET_BYTES = 32;

export interface ResolvedSecret {
  readonly secret: Uint8Array;
  /** the file it came from or was written to; undefined when configured */
  readonly path: string | undefined;
}

export function resolveSecret(configured: string, dataDir: string): ResolvedSecret {
  if (configured !== "" && configured !== OLD_DEFAULT_SECRET) {
    return { secret: new TextEncoder().encode(configured), path: undefined };
  }
  const path = join(dataDir, SECRET_FILE);
  if (existsSync(path)) {
    const stored = readFileSync(path, "utf8").trim();
    // A file too short to be ours (truncated, edited) is replaced rather than trusted.
    if (stored.length >= 32) return { secret: new TextEncoder().encode(stored), path };
  }
  const secret = randomBytes(SECRET_BYTES).toString("base64url");
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(path, secret + "\n", { mode: 0o600 });
  chmodSync(path, 0o600);
  return { secret: new TextEncoder().encode(secret), path };
}
