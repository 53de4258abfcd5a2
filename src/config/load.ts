// Builds the one frozen Config from the conf file, OWL_* environment variables and command-line
// flags (flags beat env, env beats file). Pure but for the injected file reader.

import { ConfigError, defaults, findKey, parseValue, type Config, type ConfigKey } from "./keys.ts";
import { errorCode } from "../common/system-error.ts";

export const DEFAULT_CONFIG_PATH = "config/owlcache.conf";

export type StartAction = "run" | "help" | "version";

export interface LoadedConfig {
  readonly action: StartAction;
  readonly config: Config;
  readonly configPath: string | undefined;
  readonly warnings: readonly string[];
  /** --repair: keep every whole record of a damaged data file */
  readonly repair: boolean;
  /** where each key that is not a default was set: "path:line", "environment OWL_X", "--set X" */
  readonly origins: Readonly<Partial<Record<ConfigKey, string>>>;
}

export interface ConfigSources {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** file text, or undefined when the file does not exist */
  readonly readFile: (path: string) => string | undefined;
}

/** Flags of the original, each mapped to its key; all accept one or two dashes. */
const FLAG_KEYS: Record<string, ConfigKey> = { host: "Host", log: "Logfile", pass: "Pass" };

/**
 * The warning or error for a name that is no key. Only the key part (before the first `=` or
 * space) is named: `Pass=secret` on one line is an unknown key to the parser, and its value must
 * not reach the log or the console. A known key written with `=` gets the hint it needs.
 */
function unknownKey(where: string, name: string, spaceSeparated: boolean): string {
  const keyPart = name.split(/[=\s]/, 1)[0]!;
  const known = findKey(keyPart);
  if (known && name.includes("=") && spaceSeparated) return `${where}: unknown key; to set ${known}, write "${known} value": the separator is a space, not "="`;
  return `${where}: unknown key ${keyPart}`;
}

/** Parses the conf file format of the original: `Key Value` lines, `#` comments, `[Section]`. */
export function parseConfFile(text: string, path: string, warnings: string[], origins: Partial<Record<ConfigKey, string>> = {}): Map<ConfigKey, unknown> {
  const values = new Map<ConfigKey, unknown>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#") || (line.startsWith("[") && line.endsWith("]"))) continue;
    const match = /^(\S+)(?:\s+(.*))?$/.exec(line)!;
    const name = match[1]!;
    const raw = match[2] ?? "";
    const key = findKey(name);
    const where = `${path}:${i + 1}`;
    if (!key) {
      warnings.push(`${unknownKey(where, name, true)} ignored`);
      continue;
    }
    values.set(key, parseValue(key, raw, where));
    origins[key] = where;
  }
  return values;
}

interface ParsedArgs {
  action: StartAction;
  configPath: string | undefined;
  repair: boolean;
  values: Map<ConfigKey, unknown>;
  origins: Partial<Record<ConfigKey, string>>;
}

function parseArgs(argv: readonly string[]): ParsedArgs {
  const parsed: ParsedArgs = { action: "run", configPath: undefined, repair: false, values: new Map(), origins: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    // Named by its place only: a stray word is often the rest of an unquoted value (`-pass my secret`).
    if (!arg.startsWith("-")) throw new ConfigError(`unexpected argument (the ${ordinal(i + 1)}, not a flag; a value with spaces must be quoted as one argument); see --help`);
    const [rawName, inline] = splitOnce(arg.replace(/^--?/, ""), "=");
    const name = rawName.toLowerCase();
    if (name === "help" || name === "h") parsed.action = "help";
    else if (name === "version" || name === "v") parsed.action = "version";
    else if (name === "repair") parsed.repair = true;
    else {
      // The flag's name only: `--pas=secret` must not print the secret.
      if (name !== "config" && name !== "set" && !FLAG_KEYS[name]) throw new ConfigError(`unknown flag -${rawName}; see --help`);
      const value = inline ?? argv[++i];
      if (value === undefined) throw new ConfigError(`flag -${rawName} needs a value`);
      if (name === "config") parsed.configPath = value;
      else if (name === "set") {
        const [keyName, keyValue] = splitOnce(value, "=");
        const key = findKey(keyName);
        // Only the key part is named: what follows it may be a password.
        const keyPart = keyName.split(/\s/, 1)[0]!;
        if (!key && findKey(keyPart)) throw new ConfigError(`--set ${keyPart}: expected Key=Value, with "=" between them`);
        if (!key) throw new ConfigError(`--set: unknown key ${keyPart}; expected Key=Value with a known key`);
        if (keyValue === undefined) throw new ConfigError(`--set ${keyName}: expected Key=Value`);
        parsed.values.set(key, parseValue(key, keyValue, `--set ${keyName}`));
        parsed.origins[key] = `--set ${keyName}`;
      } else {
        const key = FLAG_KEYS[name]!;
        parsed.values.set(key, parseValue(key, value, `flag -${rawName}`));
        parsed.origins[key] = `flag -${rawName}`;
      }
    }
  }
  return parsed;
}

function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? "th" : ["th", "st", "nd", "rd"][n % 10] ?? "th";
  return `${n}${suffix}`;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i === -1 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

function envValues(env: ConfigSources["env"], warnings: string[], origins: Partial<Record<ConfigKey, string>>): Map<ConfigKey, unknown> {
  const values = new Map<ConfigKey, unknown>();
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("OWL_") || raw === undefined) continue;
    const key = findKey(name.slice(4));
    if (!key) {
      warnings.push(`${unknownKey("environment", name, false)} ignored`);
      continue;
    }
    values.set(key, parseValue(key, raw, `environment ${name}`));
    origins[key] = `environment ${name}`;
  }
  return values;
}

/** Throws ConfigError naming the key, where it came from and what is allowed. */
export function loadConfig(sources: ConfigSources): LoadedConfig {
  const warnings: string[] = [];
  const args = parseArgs(sources.argv);
  const merged = defaults();
  // --help and --version answer whatever the file and environment hold (a broken file included).
  if (args.action !== "run") return { action: args.action, config: Object.freeze(merged) as unknown as Config, configPath: undefined, warnings, repair: false, origins: {} };
  const path = args.configPath ?? DEFAULT_CONFIG_PATH;
  const text = readConfFile(sources, path);
  const fileOrigins: Partial<Record<ConfigKey, string>> = {};
  const envOrigins: Partial<Record<ConfigKey, string>> = {};
  if (text === undefined) {
    if (args.configPath !== undefined) throw new ConfigError(`config file ${path} not found`);
    warnings.push(`config file ${path} not found; using defaults`);
  } else {
    for (const [key, value] of parseConfFile(text, path, warnings, fileOrigins)) merged[key] = value;
  }
  for (const [key, value] of envValues(sources.env, warnings, envOrigins)) merged[key] = value;
  for (const [key, value] of args.values) merged[key] = value;
  // The same order as the values: the origin of the value that won.
  const origins = Object.freeze({ ...fileOrigins, ...envOrigins, ...args.origins });
  const config = Object.freeze(merged) as unknown as Config;
  checkCombinations(config, origins);
  warnings.push(...likelyMistakes(config, origins));
  return { action: args.action, config, configPath: text === undefined ? undefined : path, warnings, repair: args.repair, origins };
}

/** The file's text; a path that cannot be read (a directory, no permission) is a ConfigError. */
function readConfFile(sources: ConfigSources, path: string): string | undefined {
  try {
    return sources.readFile(path);
  } catch (error) {
    const code = errorCode(error) ?? String(error);
    throw new ConfigError(`config file ${path} cannot be read (${code === "EISDIR" ? "it is a directory" : code})`);
  }
}

/** Where a key's value was set, as a prefix for a message about it ("" for a default). */
function setAt(origins: LoadedConfig["origins"], key: ConfigKey): string {
  return origins[key] ? `${origins[key]}: ` : "";
}

/**
 * A timeout under this many ms is most likely seconds: the Go original's users may write 3 for
 * 3 s, and no peer answers a request over HTTP within a few milliseconds reliably.
 */
const LIKELY_SECONDS_BELOW_MS = 100;

/** Settings that start the node but are probably not what was meant: warnings, not errors. */
function likelyMistakes(config: Config, origins: LoadedConfig["origins"]): string[] {
  const mistakes: string[] = [];
  const timeout = config.HttpClientRequestTimeout;
  if (timeout < LIKELY_SECONDS_BELOW_MS) {
    mistakes.push(`${setAt(origins, "HttpClientRequestTimeout")}HttpClientRequestTimeout ${timeout} is in milliseconds; did you mean ${timeout * 1000}?`);
  }
  return mistakes;
}

function checkCombinations(config: Config, origins: LoadedConfig["origins"]): void {
  // Named by where it was set, as a bad value is; never with the password itself.
  const at = (key: ConfigKey) => setAt(origins, key);
  if (config.Pass !== "" && (config.Pass.length < 10 || /^\d+$/.test(config.Pass))) {
    throw new ConfigError(`${at("Pass")}Pass: a password needs at least 10 characters and must not be all digits`, "Pass");
  }
  if (config.Open_Https && (config.Https_CertFile === "" || config.Https_KeyFile === "")) {
    throw new ConfigError(`${at("Open_Https")}Open_Https 1 needs Https_CertFile and Https_KeyFile`, "Open_Https");
  }
}
