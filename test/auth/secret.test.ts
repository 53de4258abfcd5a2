// The token secret: configured, or generated once into the data directory with mode 0600.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OLD_DEFAULT_SECRET, resolveSecret, SECRET_FILE } from "../../src/auth/secret.ts";

const dirs: string[] = [];
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), "owl-secret-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("secret", () => {
  test("secret - a configured secret is used as it is, nothing written", () => {
    const dir = fresh();
    const resolved = resolveSecret("my-own-secret-value", dir);
    expect(new TextDecoder().decode(resolved.secret)).toBe("my-own-secret-value");
    expect(resolved.path).toBeUndefined();
  });

  for (const configured of ["", OLD_DEFAULT_SECRET]) {
    test(`secret - ${JSON.stringify(configured)} generates one secret, mode 0600, kept across starts`, () => {
      const dir = fresh();
      const first = resolveSecret(configured, join(dir, "db"));
      expect(first.path).toBe(join(dir, "db", SECRET_FILE));
      expect(statSync(first.path!).mode & 0o777).toBe(0o600);
      expect(new TextDecoder().decode(first.secret)).not.toBe(OLD_DEFAULT_SECRET);
      expect(first.secret.length).toBeGreaterThanOrEqual(32);
      const second = resolveSecret(configured, join(dir, "db"));
      expect(second.secret).toEqual(first.secret);
    });
  }
});
