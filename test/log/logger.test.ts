import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileLogger, KEEP_FILES, logLine } from "../../src/log/logger.ts";

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "owl-log-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("logger", () => {
  test("log - one JSON object per line with time, level and event", () => {
    const dir = tempDir();
    const log = new FileLogger(dir);
    log.info("start", { version: "1" });
    log.warn("config", { message: "unknown key X" });
    const lines = readFileSync(join(dir, "owlcache.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ level: "info", event: "start", version: "1" });
    expect(lines[1]).toMatchObject({ level: "warn", event: "config", message: "unknown key X" });
    expect(Date.parse(lines[0].time)).toBeGreaterThan(0);
  });

  test("log - errors are written with name and message", () => {
    const dir = tempDir();
    new FileLogger(dir).error("command failed", { error: new TypeError("boom") });
    const line = JSON.parse(readFileSync(join(dir, "owlcache.log"), "utf8"));
    expect(line.error).toMatchObject({ name: "TypeError", message: "boom" });
  });

  test("log - rotates past the size limit and keeps the last 10 files", () => {
    const dir = tempDir();
    const log = new FileLogger(dir, { rotateBytes: 1000 });
    for (let i = 0; i < 400; i++) log.info("tick", { i, pad: "x".repeat(50) });
    const files = readdirSync(dir).sort();
    expect(files).toContain("owlcache.log");
    expect(files).toContain(`owlcache.log.${KEEP_FILES}`);
    expect(existsSync(join(dir, `owlcache.log.${KEEP_FILES + 1}`))).toBe(false);
    expect(files.length).toBe(KEEP_FILES + 1);
    // the newest entry is in the current file, each file under the limit
    const current = readFileSync(join(dir, "owlcache.log"), "utf8").trim().split("\n");
    expect(JSON.parse(current[current.length - 1]!).i).toBe(399);
    for (const f of files) expect(readFileSync(join(dir, f)).length).toBeLessThanOrEqual(1000);
  });

  test("log - an unwritable directory does not throw at write time; the console gets a notice and the lines", () => {
    const dir = tempDir();
    const echoed: string[] = [];
    const log = new FileLogger(dir, { echo: (line) => echoed.push(line) });
    log.info("before removal");
    expect(echoed).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
    expect(() => log.info("after removal")).not.toThrow();
    log.info("again");
    const events = echoed.map((line) => JSON.parse(line).event);
    // one notice, then every line (info too) while the file cannot take them
    expect(events).toEqual(["log file not writable", "after removal", "again"]);
    expect(JSON.parse(echoed[0]!).path).toBe(join(dir, "owlcache.log"));
  });

  test("log - rotation counts bytes, not characters", () => {
    const dir = tempDir();
    const log = new FileLogger(dir, { rotateBytes: 1000 });
    for (let i = 0; i < 100; i++) log.info("tick", { i, text: "日本".repeat(100) });
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f)).length).toBeLessThanOrEqual(1000);
  });

  test("log - a BigInt is written as its decimal string", () => {
    const dir = tempDir();
    const log = new FileLogger(dir);
    expect(() => log.info("sizes", { bytes: 12345678901234567890n, nested: { n: -7n } })).not.toThrow();
    const line = JSON.parse(readFileSync(join(dir, "owlcache.log"), "utf8"));
    expect(line).toMatchObject({ event: "sizes", bytes: "12345678901234567890", nested: { n: "-7" } });
  });

  test("log - a field JSON cannot hold is written as text; the other fields keep their values; nothing throws", () => {
    const dir = tempDir();
    const echoed: string[] = [];
    const log = new FileLogger(dir, { echo: (line) => echoed.push(line) });
    const cyclic: Record<string, unknown> = { name: "a" };
    cyclic.self = cyclic;
    const throwingToJson = { toJSON() { throw new Error("no JSON for you"); }, toString: () => "thing#1" };
    const bare = Object.create(null) as Record<string, unknown>;
    bare.loop = bare;
    expect(() => log.error("odd fields", { cyclic, throwingToJson, bare, fine: 1, big: 2n })).not.toThrow();
    const line = JSON.parse(readFileSync(join(dir, "owlcache.log"), "utf8"));
    expect(line).toMatchObject({ level: "error", event: "odd fields", fine: 1, big: "2", throwingToJson: "thing#1" });
    expect(line.cyclic).toStartWith("[unserialisable: ");
    expect(line.bare).toStartWith("[unserialisable: ");
    expect(JSON.parse(echoed[0]!).fine).toBe(1); // the console copy of an error line is the same line
  });

  test("logLine - fields that cannot even be read give one line saying so", () => {
    const fields = new Proxy({} as Record<string, unknown>, { ownKeys() { throw new Error("trap"); } });
    const line = JSON.parse(logLine("warn", "proxy", fields, new Date(0)));
    expect(line).toEqual({ time: "1970-01-01T00:00:00.000Z", level: "warn", event: "proxy", fields: "[unserialisable: trap]" });
  });
});
