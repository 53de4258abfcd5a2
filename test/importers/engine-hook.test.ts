// The engine's read-through hook on its own: which commands ask the loader, what they answer
// when the loader finds nothing or breaks its promise never to throw.

import { expect, test } from "bun:test";
import { Engine } from "../../src/commands/engine.ts";
import type { KeyLoader, Session } from "../../src/commands/spec.ts";
import { commandTable } from "../../src/commands/table.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { systemClock } from "../../src/store/types.ts";
import { testAuthenticator } from "../ops/auth.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function engineWith(loader: KeyLoader, errors: unknown[] = []) {
  const db = new Keyspace(new MapStore(systemClock), systemClock);
  const engine = new Engine({
    table: commandTable,
    db,
    limits: { maxKeyBytes: 4096, maxValueBytes: 1 << 20 },
    auth: testAuthenticator(),
    loader,
    onInternalError: (error) => errors.push(error),
  });
  const session: Session = { dialect: "owl", transport: "tcp", client: "127.0.0.1", canRead: true, canWrite: true };
  const run = (name: string, ...args: Uint8Array[]) => engine.execute(session, engine.lookup("owl", name), name, args);
  return { db, engine, run };
}

test("get - a hit never asks the loader and stays synchronous", () => {
  const asked: string[] = [];
  const { db, engine, run } = engineWith({ load: async (key) => (asked.push(dec(key)), false) });
  db.set(enc("k"), enc("v"));
  const reply = run("get", enc("k"));
  expect(reply instanceof Promise).toBe(false);
  expect(asked).toEqual([]);
  expect(engine.hits).toBe(1);
});

test("get - a miss asks the loader with a copy of the key, nil when it finds nothing", async () => {
  const asked: string[] = [];
  const { engine, run } = engineWith({ load: async (key) => (await Bun.sleep(5), asked.push(dec(key)), false) });
  const receiveBuffer = enc("xx-key-xx");
  const pending = run("get", receiveBuffer.subarray(3, 6));
  receiveBuffer.fill(0); // the transport reuses its buffer once execute returns
  expect(await pending).toEqual({ kind: "nil" });
  expect(asked).toEqual(["key"]);
  expect(engine.misses).toBe(1);
});

test("get - a loader that throws is a miss, logged as an internal error", async () => {
  const errors: unknown[] = [];
  const { run } = engineWith({ load: () => Promise.reject(new Error("loader bug")) }, errors);
  expect(await run("get", enc("k"))).toEqual({ kind: "nil" });
  expect(errors.length).toBe(1);
});

test("get - an imported key is answered from the keyspace; exist never reads through", async () => {
  const { db, run } = engineWith({
    load: async (key) => {
      db.set(key, enc("imported"));
      return true;
    },
  });
  expect(run("exist", enc("other"))).toEqual({ kind: "nil" });
  const reply = await run("get", enc("k"), enc("info"));
  expect(reply.kind === "bulk" && dec(reply.value)).toBe("imported");
  expect(run("get", enc("")) instanceof Promise).toBe(false); // a bad key is an error, not a load
});
