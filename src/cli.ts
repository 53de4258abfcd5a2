// Start-up text: --help (generated from the config keys and the command table) and the banner.

import type { CommandSpec } from "./commands/spec.ts";
import { describeKeys } from "./config/keys.ts";
import { VERSION } from "./version.ts";

export function helpText(table: readonly CommandSpec[]): string {
  const commands = (dialect: "owl" | "resp") =>
    table
      .filter((spec) => spec.dialects.includes(dialect))
      .map((spec) => `  ${`${spec.name} ${spec.usage}`.padEnd(38)} ${spec.summary}`)
      .join("\n");
  return `owlcache ${VERSION} — a decentralised key/value memory cache

Usage: bun run start [flags]

Flags (one or two dashes):
  -config PATH          config file [config/owlcache.conf]
  -host IP              listen address (Host)
  -log DIR              log directory (Logfile)
  -pass PASSWORD        password (Pass)
  --set Key=Value       any config key below; also OWL_<KEY>=Value in the environment
  --repair              start from a damaged data file, keeping every whole record
  --help, --version

Config keys [default]:
${describeKeys()}

Owl commands (TCP text protocol, HTTP cmd=):
${commands("owl")}
${table.some((s) => s.dialects.includes("resp")) ? `\nRedis-protocol commands:\n${commands("resp")}\n` : ""}`;
}

export interface BannerInfo {
  readonly lines: readonly [string, string][];
  readonly generatedPassword?: string;
}

export function banner(info: BannerInfo): string {
  const rows = info.lines.map(([label, value]) => `  ${label.padEnd(9)} ${value}`);
  if (info.generatedPassword) rows.push(`  password  ${info.generatedPassword}  (generated; shown once, kept in the data directory)`);
  return `owlcache ${VERSION} on Bun ${Bun.version}\n${rows.join("\n")}\n`;
}
