// JSON-lines logger with size-based rotation (SPEC §10): owlcache.log, rotated past 5 MB,
// the last 10 files kept as owlcache.log.1 … owlcache.log.10.

import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

export const ROTATE_BYTES = 5 * 1024 * 1024;
export const KEEP_FILES = 10;

export type Level = "info" | "warn" | "error";

export interface Logger {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

export class FileLogger implements Logger {
  private readonly path: string;
  private size: number;
  /** the last write failed: lines go to the echo (every level) until one is written again */
  private failing = false;

  constructor(
    private readonly dir: string,
    private readonly options: { echo?: (line: string, level: Level) => void; rotateBytes?: number } = {},
  ) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, "owlcache.log");
    this.size = existsSync(this.path) ? statSync(this.path).size : 0;
  }

  info(event: string, fields?: Record<string, unknown>): void {
    this.write("info", event, fields);
  }

  warn(event: string, fields?: Record<string, unknown>): void {
    this.write("warn", event, fields);
  }

  error(event: string, fields?: Record<string, unknown>): void {
    this.write("error", event, fields);
  }

  private write(level: Level, event: string, fields?: Record<string, unknown>): void {
    const line = logLine(level, event, fields) + "\n";
    // (bytes, not UTF-16 units: a line of non-ASCII text must not carry a file past the limit)
    const bytes = Buffer.byteLength(line);
    try {
      if (this.size + bytes > (this.options.rotateBytes ?? ROTATE_BYTES)) this.rotate();
      appendFileSync(this.path, line);
      this.size += bytes;
      this.failing = false;
    } catch (error) {
      // A full disk or a read-only directory must not take the cache down, nor lose the lines
      // silently: the console gets one notice, then every line until the file takes them again.
      if (!this.failing) {
        this.failing = true;
        const reason = error instanceof Error ? error.message : String(error);
        this.options.echo?.(JSON.stringify({ time: new Date().toISOString(), level: "error", event: "log file not writable", path: this.path, reason }), "error");
      }
    }
    if (level !== "info" || this.failing) this.options.echo?.(line.trimEnd(), level);
  }

  private rotate(): void {
    rmSync(`${this.path}.${KEEP_FILES}`, { force: true });
    for (let i = KEEP_FILES - 1; i >= 1; i--) {
      if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
    }
    if (existsSync(this.path)) renameSync(this.path, `${this.path}.1`);
    this.size = 0;
  }
}

/**
 * One log line (JSON, no newline). Never throws: a log call must not be what crashes a request or
 * the server. A BigInt is written as its decimal string; a field JSON cannot hold (a cyclic
 * object, a toJSON or getter that throws) is written as text: String(value) when that says more
 * than "[object …]", else "[unserialisable: reason]". The other fields keep their values.
 */
export function logLine(level: Level, event: string, fields?: Record<string, unknown>, now: Date = new Date()): string {
  const head = { time: now.toISOString(), level, event };
  try {
    const record: Record<string, unknown> = { ...head, ...fields };
    try {
      return JSON.stringify(record, toJsonValue);
    } catch {
      for (const [key, value] of Object.entries(record)) {
        try {
          JSON.stringify(value, toJsonValue);
        } catch (error) {
          record[key] = asText(value, error);
        }
      }
      return JSON.stringify(record, toJsonValue);
    }
  } catch (error) {
    // (the fields themselves could not be read: a getter or a proxy that throws)
    return JSON.stringify({ ...head, fields: `[unserialisable: ${reasonOf(error)}]` });
  }
}

function toJsonValue(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

function asText(value: unknown, error: unknown): string {
  try {
    const text = String(value);
    if (!text.startsWith("[object ")) return text;
  } catch {
    // (String() throws for an object without a prototype, or with a toString that throws)
  }
  return `[unserialisable: ${reasonOf(error)}]`;
}

function reasonOf(error: unknown): string {
  try {
    return (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
  } catch {
    return "unknown";
  }
}

/** For tests and tools that need a Logger and no files. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
