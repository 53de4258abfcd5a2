// Builds the one frozen Config from the conf file, OWL_* environment variables and command-line
// flags (flags beat env, env beats file). Pure but for the injected file reader.

import { ConfigError, defaults, findKey, parseValue, type Config, type ConfigKey } from "./keys.ts";

export const DEFAULT_CONFIG_PATH = "config/owlcache.conf";

export type StartAction = "run" | "help" | "version";

export interface LoadedConfig {
  readonly action: StartAction;
  readonly config: Config;
  readonly configPath: string | undefined;
  readonly warnings: readonly string[];
  /** --repair: keep every whole record of a damaged data file */
  readonly repair: boolean;
}

export interface ConfigSources {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** file text, or undefined when the file does not exist */
  readonly readFile: (path: string) => string | undefined;
}

/** Flags of the original, each mapped to its key; all accept one or two dashes. */
const FLAG_KEYS: Record<string, ConfigKey> = { host: "Host", log: "Logfile", pass: "Pass" };

/** Parses the conf file format of the original: `Key Value` lines, `#` comments, `[Section]`. */
export function parseConfFile(text: string, path: string, warnings: string[]): Map<ConfigKey, unknown> {
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
      warnings.push(`${where}: unknown key ${name} ignored`);
      continue;
    }
    values.set(key, parseValue(key, raw, where));
  }
  return values;
}

interface ParsedArgs {
  action: StartAction;
  configPath: string | undefined;
  repair: boolean;
  values: Map<ConfigKey, unknown>;
}

function parseArgs(argv: readonly string[]): ParsedArgs {
  const parsed: ParsedArgs = { action: "run", configPath: undefined, repair: false, values: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-")) throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}; see --help`);
    const [rawName, inline] = splitOnce(arg.replace(/^--?/, ""), "=");
    const name = rawName.toLowerCase();
    if (name === "help" || name === "h") parsed.action = "help";
    else if (name === "version" || name === "v") parsed.action = "version";
    else if (name === "repair") parsed.repair = true;
    else {
      if (name !== "config" && name !== "set" && !FLAG_KEYS[name]) throw new ConfigError(`unknown flag ${arg}; see --help`);
      const value = inline ?? argv[++i];
      if (value === undefined) throw new ConfigError(`flag -${rawName} needs a value`);
      if (name === "config") parsed.configPath = value;
      else if (name === "set") {
        const [keyName, keyValue] = splitOnce(value, "=");
        const key = findKey(keyName);
        if (!key || keyValue === undefined) throw new ConfigError(`--set ${value}: expected Key=Value with a known key`);
        parsed.values.set(key, parseValue(key, keyValue, `--set ${keyName}`));
      } else {
        const key = FLAG_KEYS[name]!;
        parsed.values.set(key, parseValue(key, value, `flag -${rawName}`));
      }
    }
  }
  return parsed;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i === -1 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

function envValues(env: ConfigSources["env"], warnings: string[]): Map<ConfigKey, unknown> {
  const values = new Map<ConfigKey, unknown>();
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("OWL_") || raw === undefined) continue;
    const key = findKey(name.slice(4));
    if (!key) {
      warnings.push(`environment: unknown key ${name} ignored`);
      continue;
    }
    values.set(key, parseValue(key, raw, `environment ${name}`));
  }
  return values;
}

/** Throws ConfigError naming the key, where it came from and what is allowed. */
export function loadConfig(sources: ConfigSources): LoadedConfig {
  const warnings: string[] = [];
  const args = parseArgs(sources.argv);
  const merged = defaults();
  const path = args.configPath ?? DEFAULT_CONFIG_PATH;
  const text = sources.readFile(path);
  if (text === undefined) {
    if (args.configPath !== undefined) throw new ConfigError(`config file ${path} not found`);
    warnings.push(`config file ${path} not found; using defaults`);
  } else {
    for (const [key, value] of parseConfFile(text, path, warnings)) merged[key] = value;
  }
  for (const [key, value] of envValues(sources.env, warnings)) merged[key] = value;
  for (const [key, value] of args.values) merged[key] = value;
  const config = Object.freeze(merged) as unknown as Config;
  checkCombinations(config);
  return { action: args.action, config, configPath: text === undefined ? undefined : path, warnings, repair: args.repair };
}

function checkCombinations(config: Config): void {
  if (config.Pass !== "" && (config.Pass.length < 10 || /^\d+$/.test(config.Pass))) {
    throw new ConfigError("Pass: a password needs at least 10 characters and must not be all digits");
  }
  if (config.Open_Https && (config.Https_CertFile === "" || config.Https_KeyFile === "")) {
    throw new ConfigError("Open_Https 1 needs Https_CertFile and Https_KeyFile");
  }
}
