import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../src/config/keys.ts";
import { loadConfig, type ConfigSources } from "../../src/config/load.ts";
import { runMain } from "../helpers/node-process.ts";

function load(file: string | undefined, argv: string[] = [], env: Record<string, string> = {}) {
  const sources: ConfigSources = { argv, env, readFile: () => file };
  return loadConfig(sources);
}

describe("config", () => {
  test("config - defaults without a file, with a warning", () => {
    const loaded = load(undefined);
    expect(loaded.config.Host).toBe("127.0.0.1");
    expect(loaded.config.Tcpport).toBe(7720);
    expect(loaded.config.CloseTcp).toBe(true);
    expect(loaded.warnings.join()).toContain("not found");
  });

  test("config - the original's file format: comments, sections, Key Value", () => {
    const loaded = load("# comment\n[Server]\nTcpport 9000\nHost   0.0.0.0\nPass abcdefghijk\nTonken_expire_time 30\n\n");
    expect(loaded.config.Tcpport).toBe(9000);
    expect(loaded.config.Host).toBe("0.0.0.0");
    expect(loaded.config.Pass).toBe("abcdefghijk");
    expect(loaded.config.Tonken_expire_time).toBe(30);
  });

  test("config - Token_expire_time is accepted as an alias", () => {
    expect(load("Token_expire_time 12\n").config.Tonken_expire_time).toBe(12);
  });

  test("config - an unknown key is a warning naming it, not a failure", () => {
    const loaded = load("Tcpport 9000\nNoSuchKey 1\n");
    expect(loaded.warnings.some((w) => w.includes("NoSuchKey") && w.includes(":2"))).toBe(true);
  });

  test("config - a bad value names the key, the line and what is allowed", () => {
    expect(() => load("\n\nHttpport abc\n", [])).toThrow(ConfigError);
    try {
      load("\n\nHttpport abc\n");
    } catch (error) {
      expect(String(error)).toContain("config/owlcache.conf:3");
      expect(String(error)).toContain("Httpport");
      expect(String(error)).toContain("an integer from 0 to 65535");
    }
    expect(() => load("Task_DataBackup -5\n")).toThrow(/Task_DataBackup/);
    expect(() => load("Appendfsync sometimes\n")).toThrow(/always, everysec, no/);
    expect(() => load("CloseTcp yes\n")).toThrow(/0 or 1/);
  });

  test("config - a short or all-digit password is refused", () => {
    expect(() => load("Pass short\n")).toThrow(/at least 10/);
    expect(() => load("Pass 123456789012\n")).toThrow(/digits/);
  });

  test("config - precedence: flag beats env beats file", () => {
    const file = "Httpport 1000\nTcpport 1000\nRespport 1000\n";
    const env = { OWL_HTTPPORT: "2000", OWL_TCPPORT: "2000" };
    const loaded = load(file, ["--set", "Httpport=3000"], env);
    expect(loaded.config.Httpport).toBe(3000);
    expect(loaded.config.Tcpport).toBe(2000);
    expect(loaded.config.Respport).toBe(1000);
  });

  test("config - the original's flags with one or two dashes", () => {
    const loaded = load(undefined, ["-host", "127.0.0.5", "--log=/tmp/x", "-pass", "abcdefghij1"]);
    expect(loaded.config.Host).toBe("127.0.0.5");
    expect(loaded.config.Logfile).toBe("/tmp/x");
    expect(loaded.config.Pass).toBe("abcdefghij1");
  });

  test("config - --help, --version, --repair and unknown flags", () => {
    expect(load(undefined, ["--help"]).action).toBe("help");
    expect(load(undefined, ["-version"]).action).toBe("version");
    expect(load(undefined, ["--repair"]).repair).toBe(true);
    expect(() => load(undefined, ["--bogus"])).toThrow(/unknown flag/);
    expect(() => load(undefined, ["--set", "Nope=1"])).toThrow(/known key/);
    expect(() => load(undefined, ["-config"])).toThrow(/needs a value/);
    // --help and --version answer even when the file or the environment would not load
    expect(load("Httpport abc\n", ["--help", "-config", "/nowhere"]).action).toBe("help");
    expect(load(undefined, ["--version"], { OWL_TCPPORT: "abc" }).action).toBe("version");
  });

  test("config - a stray argument is named by its place, never echoed (it may be half a password)", () => {
    expect(() => load(undefined, ["-pass", "my", "secret-part"])).toThrow("unexpected argument (the 3rd, not a flag; a value with spaces must be quoted as one argument)");
    let message = "";
    try {
      load(undefined, ["-host", "127.0.0.1", "zq-stray", "oops-secret"]);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("the 3rd");
    expect(message).not.toContain("zq-stray");
    expect(() => load(undefined, ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"])).toThrow("the 1st");
  });

  test("config - a named config file that does not exist is an error", () => {
    expect(() => loadConfig({ argv: ["-config", "/nope.conf"], env: {}, readFile: () => undefined })).toThrow(/not found/);
  });

  test("config - a bad environment value names the variable", () => {
    expect(() => load(undefined, [], { OWL_TCPPORT: "70000" })).toThrow(/OWL_TCPPORT/);
  });
});

describe("config - through the real process", () => {
  test("start - a bad value exits non-zero with the key in the message", async () => {
    const { code, stderr } = await runMain(["--set", "Tcpport=abc"]);
    expect(code).not.toBe(0);
    expect(stderr).toContain("Tcpport");
  });

  test("start - --version and --help", async () => {
    const version = await runMain(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await runMain(["-help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Tcpport");
    expect(help.stdout).toContain("expire <key> <seconds>");
  });
});
