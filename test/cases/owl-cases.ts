// One table of owl-command cases, run over every transport that speaks the owl dialect (TCP text
// lines and HTTP cmd= requests), so both prove the same behaviour of the same engine.

import { expect } from "bun:test";
import { encodeCommand, type RawClient } from "../resp/helpers.ts";

export interface OwlCase {
  /** "COMMAND - behaviour" */
  readonly name: string;
  /** commands run first, as [cmd, key, value?] (an expire's value is its seconds) */
  readonly setup?: readonly (readonly [string, string, string?])[];
  readonly cmd: string;
  readonly key?: string;
  /** `valuedata` over HTTP; the rest of the line after the key over TCP */
  readonly value?: string;
  /** seconds, for expire (and set over HTTP) */
  readonly exptime?: string;
  /** TCP only: the exact request line, when it cannot be built from the fields */
  readonly line?: string;
  readonly status: number;
  /** expected Data; omitted = not checked */
  readonly data?: unknown;
  /**
   * a follow-up get of `key` and its expected status/data; `ttl`: the key's time to live in
   * seconds right after the case, -1 for none (read with PTTL over RESP on the same node: the
   * owl envelope does not show it; see expectTtl)
   */
  readonly then?: { readonly status: number; readonly data?: unknown; readonly ttl?: number };
  readonly only?: "tcp" | "http";
}

const specials = ['100% sure', 'say "hi"', "back\\slash", "日本語 ✓ ü", "%s %d %%", "<script>alert(1)</script>", "a b  c   "];

export const owlCases: readonly OwlCase[] = [
  { name: "set - stores a value and get returns it", cmd: "set", key: "c-set", value: "world", status: 200, data: null, then: { status: 200, data: "world" } },
  { name: "get - a missing key is 404 NOT_FOUND", cmd: "get", key: "c-missing", status: 404, data: null },
  { name: "get - info returns the value too", setup: [["set", "c-info", "v"]], cmd: "get", key: "c-info", line: "get c-info info", status: 200, data: "v", only: "tcp" },
  { name: "get - without a key is 500", cmd: "get", line: "get", status: 500 },
  { name: "get - a key over 4096 bytes is 500", cmd: "get", key: "k".repeat(4097), status: 500 },
  { name: "set - without a value stores the empty value", cmd: "set", key: "c-empty", line: "set c-empty", status: 200, then: { status: 200, data: "" }, only: "tcp" },
  { name: "set - an empty valuedata stores the empty value", cmd: "set", key: "c-empty-http", value: "", status: 200, then: { status: 200, data: "" }, only: "http" },
  { name: "set - keeps the value byte for byte with no line ending appended", cmd: "set", key: "c-exact", value: "world", status: 200, then: { status: 200, data: "world" } },
  ...specials.map((value, i): OwlCase => ({
    name: `set - value ${JSON.stringify(value)} travels intact`,
    cmd: "set",
    key: `c-special-${i}`,
    value,
    status: 200,
    then: { status: 200, data: value },
  })),
  { name: "set - without a key is 500", cmd: "set", line: "set", status: 500 },
  { name: "expire - without seconds is 500 and the server keeps serving", setup: [["set", "c-exp1", "v"]], cmd: "expire", key: "c-exp1", line: "expire c-exp1", status: 500, then: { status: 200, data: "v" } },
  { name: "expire - a missing key is 404", cmd: "expire", key: "c-exp-missing", exptime: "10", status: 404 },
  { name: "expire - a non-integer is 500", setup: [["set", "c-exp2", "v"]], cmd: "expire", key: "c-exp2", exptime: "abc", status: 500 },
  { name: "expire - a negative number is 500", setup: [["set", "c-exp3", "v"]], cmd: "expire", key: "c-exp3", exptime: "-1", status: 500 },
  { name: "expire - a fraction is 500", setup: [["set", "c-exp4", "v"]], cmd: "expire", key: "c-exp4", exptime: "1.5", status: 500 },
  { name: "expire - seconds > 0 sets a time to live", setup: [["set", "c-exp5", "v"]], cmd: "expire", key: "c-exp5", exptime: "100", status: 200, then: { status: 200, data: "v", ttl: 100 } },
  { name: "expire - 0 removes the time to live", setup: [["set", "c-exp6", "v"], ["expire", "c-exp6", "100"]], cmd: "expire", key: "c-exp6", exptime: "0", status: 200, then: { status: 200, data: "v", ttl: -1 } },
  // Seconds are read as Go's strconv.Atoi read them in the original: a sign, digits, leading zeros.
  // (The key has a time to live of 100 s first, so that reading the seconds as 0 shows too.)
  ...([["+5", 5], ["05", 5], ["+0", -1], ["-0", -1], ["007", 7]] as const).map(([exptime, ttl], i): OwlCase => ({
    name: `expire - seconds ${JSON.stringify(exptime)} are read as Go's Atoi reads them (${ttl < 0 ? "no time to live" : `${ttl} s`})`,
    setup: [["set", `c-atoi-${i}`, "v"], ["expire", `c-atoi-${i}`, "100"]],
    cmd: "expire",
    key: `c-atoi-${i}`,
    exptime,
    status: 200,
    then: { status: 200, data: "v", ttl },
  })),
  ...["5s", "0x5", "+", "-", "+-5", "1_0"].map((exptime, i): OwlCase => ({
    name: `expire - seconds ${JSON.stringify(exptime)} are 500`,
    setup: [["set", `c-not-atoi-${i}`, "v"]],
    cmd: "expire",
    key: `c-not-atoi-${i}`,
    exptime,
    status: 500,
    then: { status: 200, data: "v" },
  })),
  // (over TCP a space is a word's end: spaces in seconds only reach the parser over HTTP)
  ...[" 5", "5 "].map((exptime, i): OwlCase => ({ name: `expire - seconds ${JSON.stringify(exptime)} are 500`, setup: [["set", `c-not-atoi-sp${i}`, "v"]], cmd: "expire", key: `c-not-atoi-sp${i}`, exptime, status: 500, only: "http" })),
  { name: "expire - an empty exptime is 500", setup: [["set", "c-not-atoi-empty", "v"]], cmd: "expire", key: "c-not-atoi-empty", exptime: "", status: 500, only: "http" },
  { name: 'set - exptime "+5" is read as Go\'s Atoi reads it (5 s)', cmd: "set", key: "c-set-atoi", value: "v", exptime: "+5", status: 200, then: { status: 200, data: "v", ttl: 5 }, only: "http" },
  { name: 'set - exptime "05" is read as Go\'s Atoi reads it (5 s)', cmd: "set", key: "c-set-atoi0", value: "v", exptime: "05", status: 200, then: { status: 200, data: "v", ttl: 5 }, only: "http" },
  { name: 'set - exptime "5s" is 500 and stores nothing', cmd: "set", key: "c-set-not-atoi", value: "v", exptime: "5s", status: 500, then: { status: 404 }, only: "http" },
  // Clients that pad their lines: trailing spaces end no word (set keeps its value byte for byte).
  { name: "get - trailing spaces after the key are ignored", setup: [["set", "c-pad", "v"]], cmd: "get", key: "c-pad", line: "get c-pad ", status: 200, data: "v", only: "tcp" },
  { name: "get - several trailing spaces and a CR are ignored", setup: [["set", "c-pad2", "v"]], cmd: "get", key: "c-pad2", line: "get c-pad2   \r", status: 200, data: "v", only: "tcp" },
  { name: "get - trailing spaces after info are ignored", setup: [["set", "c-pad3", "v"]], cmd: "get", key: "c-pad3", line: "get c-pad3 info  ", status: 200, data: "v", only: "tcp" },
  { name: "get - only spaces after the name is still no key (500)", cmd: "get", line: "get   ", status: 500, only: "tcp" },
  { name: "exist - trailing spaces after the key are ignored", setup: [["set", "c-pad-ex", "v"]], cmd: "exist", key: "c-pad-ex", line: "exist c-pad-ex ", status: 200, only: "tcp" },
  { name: "delete - trailing spaces after the key are ignored", setup: [["set", "c-pad-del", "v"]], cmd: "delete", key: "c-pad-del", line: "delete c-pad-del  ", status: 200, then: { status: 404 }, only: "tcp" },
  { name: "expire - trailing spaces after the seconds are ignored", setup: [["set", "c-pad-exp", "v"]], cmd: "expire", key: "c-pad-exp", line: "expire c-pad-exp 100 ", status: 200, then: { status: 200, data: "v", ttl: 100 }, only: "tcp" },
  { name: "set - trailing spaces stay part of the value", cmd: "set", key: "c-pad-set", line: "set c-pad-set v  ", status: 200, then: { status: 200, data: "v  " }, only: "tcp" },
  { name: "delete - an existing key is 200 and gone after", setup: [["set", "c-del", "v"]], cmd: "delete", key: "c-del", status: 200, then: { status: 404 } },
  { name: "delete - a missing key is 404", cmd: "delete", key: "c-del-missing", status: 404 },
  { name: "exist - an existing key is 200", setup: [["set", "c-ex", "v"]], cmd: "exist", key: "c-ex", status: 200 },
  { name: "exist - a missing key is 404", cmd: "exist", key: "c-ex-missing", status: 404 },
  { name: "ping - answers PONG", cmd: "ping", status: 200, data: "PONG" },
  { name: "ping - echoes its text", cmd: "ping", value: "hello there", line: "ping hello there", status: 200, data: "hello there" },
  { name: "pass - a wrong password is 401 NOT_PASS", cmd: "pass", line: "pass not-the-password", status: 401, only: "tcp" },
  { name: "unknown - an unknown command is 501 UNKNOWN_COMMAND", cmd: "frobnicate", key: "x", status: 501 },
  { name: "unknown - command names are case-insensitive", setup: [["set", "c-case", "v"]], cmd: "GET", key: "c-case", status: 200, data: "v" },
];

/** The TCP request line of a case. */
export function tcpLine(c: { cmd: string; key?: string; value?: string; exptime?: string; line?: string }): string {
  if (c.line !== undefined) return c.line;
  const parts = [c.cmd];
  if (c.key !== undefined) parts.push(c.key);
  if (c.exptime !== undefined) parts.push(c.exptime);
  else if (c.value !== undefined) parts.push(c.value);
  return parts.join(" ");
}

/**
 * Checks a key's time to live against a case's `then.ttl`, asking PTTL over RESP on the same
 * node: -1 exactly, or within the second before `ttl` (the time the requests took), which tells
 * 5 from 4 or 6 and from no time to live.
 */
export async function expectTtl(resp: RawClient, key: string, ttl: number): Promise<void> {
  await resp.send(encodeCommand(["PTTL", key]));
  const reply = await resp.readReply();
  expect(reply).toMatch(/^:-?\d+\r\n$/);
  const pttl = Number(reply.slice(1, -2));
  if (ttl < 0) return void expect(pttl).toBe(-1);
  expect(pttl).toBeLessThanOrEqual(ttl * 1000);
  expect(pttl).toBeGreaterThan(ttl * 1000 - 1000);
}
