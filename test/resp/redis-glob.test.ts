// The KEYS / SCAN MATCH glob matcher, case by case as redis-server's stringmatchlen.

import { expect, test } from "bun:test";
import { globMatch } from "../../src/commands/redis-glob.ts";

const enc = new TextEncoder();
const m = (pattern: string, subject: string) => globMatch(enc.encode(pattern), enc.encode(subject));

test("glob - star, question mark and literals", () => {
  expect(m("*", "")).toBe(true);
  expect(m("*", "anything")).toBe(true);
  expect(m("h?llo", "hello")).toBe(true);
  expect(m("h?llo", "hllo")).toBe(false);
  expect(m("h*llo", "hllo")).toBe(true);
  expect(m("h*llo", "heeeello")).toBe(true);
  expect(m("user:*:name", "user:42:name")).toBe(true);
  expect(m("user:*:name", "user:42:age")).toBe(false);
  expect(m("a**b", "axxb")).toBe(true);
  expect(m("abc", "abcd")).toBe(false);
  expect(m("abc*", "abc")).toBe(true);
  expect(m("", "")).toBe(true);
  expect(m("", "a")).toBe(false);
});

test("glob - classes, negation, ranges and escapes", () => {
  expect(m("h[ae]llo", "hello")).toBe(true);
  expect(m("h[ae]llo", "hillo")).toBe(false);
  expect(m("h[^e]llo", "hallo")).toBe(true);
  expect(m("h[^e]llo", "hello")).toBe(false);
  expect(m("h[a-b]llo", "hbllo")).toBe(true);
  expect(m("h[b-a]llo", "hallo")).toBe(true); // reversed range
  expect(m("k[0-9]", "k5")).toBe(true);
  expect(m("a\\*b", "a*b")).toBe(true);
  expect(m("a\\*b", "axb")).toBe(false);
  expect(m("[\\]]", "]")).toBe(true);
  expect(m("[abc", "a")).toBe(true); // unterminated class: the rest is the class
});

test("glob - an abusive pattern ends quickly", () => {
  const started = performance.now();
  expect(m("a*".repeat(40) + "b", "a".repeat(200))).toBe(false);
  expect(performance.now() - started).toBeLessThan(1000);
});
