// Redis_Addr may carry credentials (redis://:PW@host:port); they must not reach log lines,
// /metrics or the status page through the backend's name.

import { expect, test } from "bun:test";
import { redactedAddress } from "../../src/importers/from-config.ts";
import { setup } from "./harness.ts";

const PW = "RedisSecretPw99";

test("read-through - a Redis_Addr with credentials is redacted in the backend's name and its log lines", async () => {
  // Port 1 on loopback refuses: the failure is logged with the backend's name.
  const t = setup({ Get_data_from_redis: true, Redis_Addr: `redis://user:${PW}@127.0.0.1:1`, HttpClientRequestTimeout: 300 });
  await t.get("a");
  await t.get("b");
  t.loader.close();
  const seen = JSON.stringify([t.lines, t.loader.stats()]);
  expect(seen).toContain("redis://***@127.0.0.1:1");
  expect(seen).not.toContain(PW);
});

test("read-through - redactedAddress leaves addresses without credentials alone", () => {
  expect(redactedAddress("127.0.0.1:6379")).toBe("127.0.0.1:6379");
  expect(redactedAddress("redis://127.0.0.1:6379/2")).toBe("redis://127.0.0.1:6379/2");
  expect(redactedAddress(`rediss://:${PW}@h:1/0`)).toBe("rediss://***@h:1/0");
});
