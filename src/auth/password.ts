// The node's password: from config, or generated once and kept in the data directory (mode 0600),
// and compared in constant time.

import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../common/atomic-file.ts";
import { join } from "node:path";

export const PASSWORD_FILE = "owlcache.password";

export interface ResolvedPassword {
  readonly password: string;
  /** true on the first start without a configured password: print it once */
  readonly generated: boolean;
}

export function resolvePassword(configured: string, dataDir: string): ResolvedPassword {
  if (configured !== "") return { password: configured, generated: false };
  const path = join(dataDir, PASSWORD_FILE);
  if (existsSync(path)) {
    const stored = readFileSync(path, "utf8").trim();
    if (stored.length >= 10) return { password: stored, generated: false };
  }
  // 18 random bytes → 24 base64url characters: never all digits in practice, checked anyway.
  let password = randomBytes(18).toString("base64url");
  while (/^\d+$/.test(password)) password = randomBytes(18).toString("base64url");
  // Atomic (a crash never leaves a half-written file) and mode 0600 from the first byte.
  writeFileAtomic(path, password + "\n", 0o600);
  return { password, generated: true };
}

/** Constant-time equality whatever the lengths: both sides are hashed first. */
export function passwordMatches(expected: string, given: Uint8Array): boolean {
  const a = createHash("sha256").update(expected).digest();
  const b = createHash("sha256").update(given).digest();
  return timingSafeEqual(a, b);
}
