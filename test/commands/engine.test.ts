import { describe, expect, test } from "bun:test";
import { Engine } from "../../src/commands/engine.ts";
import { CommandError } from "../../src/commands/errors.ts";
import { OK, type Reply } from "../../src/commands/reply.ts";
import type { CommandSpec, Session } from "../../src/commands/spec.ts";
import { commandTable } from "../../src/commands/table.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { ManualClock } from "../../src/store/types.ts";

const enc = new TextEncoder();
const clock = new ManualClock();
const internalErrors: string[] = [];
const broken: CommandSpec = {
  name: "broken",
  dialects: ["owl"],
  minArgs: 0,
  maxArgs: 0,
  write: false,
  summary: "throws a bug, for the engine test",
  usage: "",
  run: () => {
    throw new TypeError("bug");
  },
};
const engine = new Engine({
  table: [...commandTable.filter((s) => s.dialects.includes("owl")), broken],
  db: new Keyspace(new MapStore(clock), clock),
  limits: { maxKeyBytes: 16, maxValueBytes: 8 },
  auth: { verifyPassword: (p) => new TextDecoder().decode(p) === "secret-pass", issueToken: () => "token" },
  onInternalError: (_e, name) => internalErrors.push(name),
});
const session = (over: Partial<Session> = {}): Session => ({ dialect: "owl", transport: "tcp", client: "127.0.0.1", canRead: true, canWrite: true, ...over });
const run = (s: Session, name: string, ...args: string[]) =>
  engine.execute(s, engine.lookup("owl", name), name, args.map((a) => enc.encode(a))) as Reply;
const status = (r: Reply) => (r.kind === "error" ? r.error.status : r.kind === "nil" ? 404 : 200);

describe("engine", () => {
  test("engine - a session shared by two engines reads each engine's own keyspace", () => {
    const other = new Engine({
      table: commandTable.filter((s) => s.dialects.includes("owl")),
      db: new Keyspace(new MapStore(clock), clock),
      limits: { maxKeyBytes: 64, maxValueBytes: 64 },
      auth: { verifyPassword: () => false, issueToken: () => "token" },
    });
    const shared = session();
    const get = (e: Engine) => e.execute(shared, e.lookup("owl", "get"), "get", [enc.encode("shared-key")]) as Reply;
    expect(status(run(shared, "set", "shared-key", "one"))).toBe(200);
    expect(status(get(engine))).toBe(200);
    expect(status(get(other))).toBe(404); // not the first engine's keyspace, though the session has run there
    expect(status(other.execute(shared, other.lookup("owl", "set"), "set", [enc.encode("shared-key"), enc.encode("two".repeat(5))]) as Reply)).toBe(200); // other's limits
    expect(status(get(other))).toBe(200);
    expect(status(run(shared, "set", "shared-key", "two".repeat(5)))).toBe(500); // and back to the first's limits
  });
  test("engine - arity is checked before the handler", () => {
    expect(status(run(session(), "expire", "k"))).toBe(500);
    expect(status(run(session(), "delete", "a", "b"))).toBe(500);
  });
  test("engine - unknown commands are 501", () => {
    expect(status(run(session(), "nope"))).toBe(501);
  });
  test("engine - writes need write permission, reads read permission", () => {
    expect(status(run(session({ canWrite: false }), "set", "k", "v"))).toBe(401);
    expect(status(run(session({ canWrite: false }), "get", "k"))).toBe(404);
    expect(status(run(session({ canRead: false, canWrite: false }), "get", "k"))).toBe(401);
  });
  test("engine - pass runs unauthenticated and unlocks the session", () => {
    const s = session({ canRead: false, canWrite: false });
    expect(status(run(s, "pass", "wrong"))).toBe(401);
    expect(run(s, "pass", "secret-pass")).toEqual(OK);
    expect(s.canWrite).toBe(true);
  });
  test("engine - limits on key and value sizes answer 500", () => {
    expect(status(run(session(), "set", "k".repeat(17), "v"))).toBe(500);
    expect(status(run(session(), "set", "k", "123456789"))).toBe(500);
    expect(status(run(session(), "set", "k", "12345678"))).toBe(200);
  });
  test("engine - a bug in a handler is a 500 reply and a log call, never a crash", () => {
    const reply = run(session(), "broken");
    expect(reply.kind === "error" && reply.error instanceof CommandError && reply.error.status === 500).toBe(true);
    expect(internalErrors).toEqual(["broken"]);
  });
  test("engine - counts calls per command", () => {
    const before = engine.calls.get("exist") ?? 0;
    run(session(), "exist", "k");
    expect(engine.calls.get("exist")).toBe(before + 1);
  });
  test("engine - set with exptime (HTTP's third argument) sets value and TTL at once", () => {
    run(session(), "set", "t", "v", "10");
    const entry = engine.db.get(enc.encode("t"));
    expect(entry?.expiresAt).toBe(clock.now() + 10_000);
    clock.tick(10_001);
    expect(status(run(session(), "get", "t"))).toBe(404);
  });
});

describe("engine lookup", () => {
  test("lookup - by bytes is case-insensitive and exact", () => {
    expect(engine.lookupBytes("owl", enc.encode("GeT"))?.name).toBe("get");
    expect(engine.lookupBytes("owl", enc.encode("gets"))).toBeUndefined();
    expect(engine.lookupBytes("owl", enc.encode("ge"))).toBeUndefined();
    expect(engine.lookupBytes("owl", new Uint8Array(0))).toBeUndefined();
    expect(engine.lookupBytes("owl", enc.encode("x".repeat(100)))).toBeUndefined();
    expect(engine.lookupBytes("resp", enc.encode("get"))).toBeUndefined();
  });
});
