// The owl command cases every transport must answer the same way: the TCP runner sends
// `tcpLine(c)`, the HTTP runner sends `httpFields(c)` (plus a token for writes). Cases run in
// order against one fresh node, so earlier cases set up later ones.

import { commandTable } from "../../src/commands/table.ts";

export interface OwlCase {
  /** "COMMAND - behaviour" */
  readonly name: string;
  readonly cmd: string;
  /** positional arguments as over TCP; over HTTP they fill the spec's `httpArgs` fields in order */
  readonly args: readonly string[];
  readonly status: 200 | 401 | 404 | 500 | 501;
  /** the expected Data; absent = not checked */
  readonly data?: unknown;
  /** a case only one transport can express (a newline in a value, `get k info`) */
  readonly only?: "tcp" | "http";
}

export const owlCases: readonly OwlCase[] = [
  { name: "ping - answers PONG", cmd: "ping", args: [], status: 200, data: "PONG" },
  { name: "ping - echoes its text", cmd: "ping", args: ["hello"], status: 200, data: "hello" },
  { name: "PING - command names are case-insensitive", cmd: "PING", args: [], status: 200, data: "PONG" },
  { name: "get - a missing key is 404 NOT_FOUND", cmd: "get", args: ["nokey"], status: 404, data: null },
  { name: "set - stores a value", cmd: "set", args: ["hello", "world"], status: 200, data: null },
  { name: "get - answers the stored value", cmd: "get", args: ["hello"], status: 200, data: "world" },
  { name: "get - with info answers the value too", cmd: "get", args: ["hello", "info"], status: 200, data: "world", only: "tcp" },
  { name: "exist - 200 for a stored key", cmd: "exist", args: ["hello"], status: 200 },
  { name: "exist - 404 for a missing key", cmd: "exist", args: ["nokey"], status: 404 },
  { name: "set - keeps spaces in the value", cmd: "set", args: ["spaced", "a b  c "], status: 200 },
  { name: "get - spaces come back unchanged", cmd: "get", args: ["spaced"], status: 200, data: "a b  c " },
  { name: "set - a value with % and quotes", cmd: "set", args: ["pct", `100% "quoted" 'single' \\ %s %d`], status: 200 },
  { name: "get - % and quotes come back unchanged", cmd: "get", args: ["pct"], status: 200, data: `100% "quoted" 'single' \\ %s %d` },
  { name: "set - a non-ASCII value", cmd: "set", args: ["utf", "héllo wörld ✓ 日本語 🦉"], status: 200 },
  { name: "get - non-ASCII comes back unchanged", cmd: "get", args: ["utf"], status: 200, data: "héllo wörld ✓ 日本語 🦉" },
  { name: "set - a non-ASCII key", cmd: "set", args: ["clé", "v"], status: 200 },
  { name: "get - a non-ASCII key", cmd: "get", args: ["clé"], status: 200, data: "v" },
  { name: "set - a value with newlines", cmd: "set", args: ["lines", "one\ntwo\r\nthree"], status: 200, only: "http" },
  { name: "get - newlines come back unchanged", cmd: "get", args: ["lines"], status: 200, data: "one\ntwo\r\nthree", only: "http" },
  { name: "set - without a value stores the empty value", cmd: "set", args: ["empty"], status: 200 },
  { name: "get - the empty value is not missing", cmd: "get", args: ["empty"], status: 200, data: "" },
  { name: "expire - sets a time to live", cmd: "expire", args: ["hello", "100"], status: 200 },
  { name: "expire - 0 removes the time to live", cmd: "expire", args: ["hello", "0"], status: 200 },
  { name: "expire - a missing key is 404", cmd: "expire", args: ["nokey", "10"], status: 404 },
  { name: "expire - a non-integer is 500", cmd: "expire", args: ["hello", "abc"], status: 500 },
  { name: "expire - a negative number is 500", cmd: "expire", args: ["hello", "-1"], status: 500 },
  { name: "expire - without seconds is 500", cmd: "expire", args: ["hello"], status: 500 },
  { name: "get - the key survives the failed expires", cmd: "get", args: ["hello"], status: 200, data: "world" },
  { name: "delete - an existing key is 200", cmd: "delete", args: ["hello"], status: 200 },
  { name: "delete - a missing key is 404", cmd: "delete", args: ["hello"], status: 404 },
  { name: "get - a deleted key is 404", cmd: "get", args: ["hello"], status: 404, data: null },
  { name: "get - without a key is 500", cmd: "get", args: [], status: 500 },
  { name: "delete - without a key is 500", cmd: "delete", args: [], status: 500 },
  { name: "exist - without a key is 500", cmd: "exist", args: [], status: 500 },
  { name: "set - without a key is 500", cmd: "set", args: [], status: 500 },
  { name: "pass - a wrong password is 401", cmd: "pass", args: ["wrong-password-0"], status: 401 },
  { name: "unknown - an unknown command is 501", cmd: "frobnicate", args: ["x"], status: 501 },
];

/** The request line over TCP (without the newline). */
export function tcpLine(c: OwlCase): string {
  return [c.cmd, ...c.args].join(" ");
}

/** The request fields over HTTP: the arguments placed in the spec's fields. */
export function httpFields(c: OwlCase): Record<string, string> {
  const spec = commandTable.find((s) => s.dialects.includes("owl") && s.name === c.cmd.toLowerCase());
  const fields: Record<string, string> = { cmd: c.cmd };
  const names = spec?.httpArgs ?? [];
  c.args.forEach((arg, i) => {
    const name = names[i];
    if (name) fields[name] = arg;
  });
  return fields;
}

/** Whether the case changes data (the HTTP runner adds a token). */
export function isWrite(c: OwlCase): boolean {
  return commandTable.find((s) => s.dialects.includes("owl") && s.name === c.cmd.toLowerCase())?.write ?? false;
}
