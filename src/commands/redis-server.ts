// Redis server commands: INFO, COMMAND (what redis-cli and client libraries ask at start) and
// CONFIG GET for the two settings redis-benchmark reads.

import { CommandError } from "./errors.ts";
import { isWord } from "./redis-args.ts";
import { redisConnectionCommands, REDIS_COMPAT_VERSION } from "./redis-connection.ts";
import { globMatch } from "./redis-glob.ts";
import { redisKeyCommands } from "./redis-keys.ts";
import { bulkText, mapReply } from "./redis-reply.ts";
import { redisStringCommands } from "./redis-strings.ts";
import { array, int, NIL, simple, type Reply } from "./reply.ts";
import type { CommandContext, CommandSpec } from "./spec.ts";
import { asciiLower, fromUtf8, utf8 } from "../store/bytes.ts";
import { VERSION } from "../version.ts";

/** Key positions (first, last, step) for COMMAND INFO; commands not listed take no keys. */
const KEY_POSITIONS: Record<string, [number, number, number]> = {
  get: [1, 1, 1], set: [1, 1, 1], incr: [1, 1, 1], decr: [1, 1, 1], incrby: [1, 1, 1], decrby: [1, 1, 1],
  append: [1, 1, 1], strlen: [1, 1, 1], expire: [1, 1, 1], pexpire: [1, 1, 1], ttl: [1, 1, 1],
  pttl: [1, 1, 1], persist: [1, 1, 1], mget: [1, -1, 1], del: [1, -1, 1], exists: [1, -1, 1], mset: [1, -1, 2],
};

function allRedisCommands(): readonly CommandSpec[] {
  return [...redisStringCommands, ...redisKeyCommands, ...redisConnectionCommands, ...redisServerCommands];
}

/** One COMMAND INFO entry as Redis 7 shapes it (name, arity, flags, keys, categories, …). */
function commandInfo(spec: CommandSpec): Reply {
  const arity = spec.minArgs === spec.maxArgs ? spec.minArgs + 1 : -(spec.minArgs + 1);
  const [first, last, step] = KEY_POSITIONS[spec.name] ?? [0, 0, 0];
  const flags = [spec.write ? "write" : "readonly"];
  if (spec.public) flags.push("no_auth");
  return array([
    bulkText(spec.name), int(arity), array(flags.map(simple)), int(first), int(last), int(step),
    array([]), array([]), array([]), array([]),
  ]);
}

function command(_ctx: CommandContext, args: Uint8Array[]): Reply {
  const specs = allRedisCommands();
  if (args.length === 0) return array(specs.map(commandInfo));
  const sub = args[0]!;
  if (isWord(sub, "count") && args.length === 1) return int(specs.length);
  if (isWord(sub, "info")) {
    return array(args.slice(1).map((name) => {
      const spec = specs.find((s) => s.name === asciiLower(name));
      return spec ? commandInfo(spec) : NIL;
    }));
  }
  if (isWord(sub, "docs")) return mapReply([]); // no docs: redis-cli falls back to its own help
  if (isWord(sub, "list") && args.length === 1) return array(specs.map((s) => bulkText(s.name)));
  throw new CommandError(500, `unknown subcommand or wrong number of arguments for '${fromUtf8(sub)}'. Try COMMAND HELP.`);
}

/** The settings CONFIG GET reports: snapshots and the append log are owlcache's own (SPEC §6). */
const CONFIG_VALUES: [string, string][] = [["save", ""], ["appendonly", "no"], ["databases", "1"]];

function config(_ctx: CommandContext, args: Uint8Array[]): Reply {
  const sub = args[0]!;
  if (!isWord(sub, "get")) throw new CommandError(500, `unknown subcommand '${fromUtf8(sub)}'. Try CONFIG HELP.`);
  if (args.length < 2) throw new CommandError(500, "wrong number of arguments for 'config|get' command");
  const items: Reply[] = [];
  for (const [name, value] of CONFIG_VALUES) {
    if (args.slice(1).some((pattern) => globMatch(pattern, utf8(name)))) items.push(bulkText(name), bulkText(value));
  }
  return mapReply(items);
}

/** INFO's sections in redis-server's order: [name, lines]. */
function infoSections(db: CommandContext["db"]): [string, string[]][] {
  const stats = db.store.stats();
  return [
    ["server", [`redis_version:${REDIS_COMPAT_VERSION}`, `owlcache_version:${VERSION}`, "redis_mode:standalone", `process_id:${process.pid}`, `uptime_in_seconds:${Math.floor(process.uptime())}`]],
    ["memory", [`used_memory:${process.memoryUsage().rss}`, `used_memory_dataset:${stats.bytes}`]],
    ["persistence", ["loading:0"]],
    ["stats", [`expired_keys:${stats.expired}`, `evicted_keys:${stats.evicted}`]],
    ["keyspace", stats.keys > 0 ? [`db0:keys=${stats.keys},expires=${stats.expires},avg_ttl=0`] : []],
  ];
}

/** Section names that mean every section (redis-server's `all`, `everything` and `default`). */
const ALL_SECTIONS = new Set(["all", "everything", "default"]);

/** INFO [section ...]: the named sections (case-insensitive; unknown ones add nothing), else all. */
function info({ db }: CommandContext, args: Uint8Array[]): Reply {
  const wanted = new Set(args.map((a) => asciiLower(a)));
  const all = wanted.size === 0 || [...wanted].some((name) => ALL_SECTIONS.has(name));
  const lines: string[] = [];
  for (const [name, body] of infoSections(db)) {
    if (!all && !wanted.has(name)) continue;
    lines.push(`# ${name[0]!.toUpperCase()}${name.slice(1)}`, ...body, "");
  }
  return bulkText(lines.join("\r\n"));
}

export const redisServerCommands: readonly CommandSpec[] = [
  { name: "info", dialects: ["resp"], minArgs: 0, maxArgs: Infinity, write: false, usage: "[section ...]", summary: "Server facts in redis-server's INFO format.", run: info },
  { name: "command", dialects: ["resp"], minArgs: 0, maxArgs: Infinity, write: false, usage: "[COUNT | INFO name ... | DOCS | LIST]", summary: "Describes the Redis-dialect commands.", run: command },
  { name: "config", dialects: ["resp"], minArgs: 1, maxArgs: Infinity, write: false, usage: "GET parameter ...", summary: "Reads a few settings (save, appendonly, databases).", run: config },
];
