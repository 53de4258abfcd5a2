import { describe, expect, test } from "bun:test";
import { isLoopbackHost } from "../../src/auth/loopback.ts";

// TcpAuth "auto" asks for a password on any Host that is not loopback: a wrong "true" would open a
// public listener without one, so anything unclear is not loopback.
const LOOPBACK = ["127.0.0.1", "127.0.0.0", "127.1.2.3", "127.255.255.255", "::1", "[::1]", "localhost", "LOCALHOST", "LocalHost", "::ffff:127.0.0.1", "::FFFF:127.9.8.7"];
const NOT_LOOPBACK = [
  "127.example.com", "127.0.0.1.example.com", "127.0.0.1.nip.io", "127.0.0", "127.1", "127.0.0.256", "127.0.0.1.", "127.0.0.-1", "127.00.0.1", "127.0x1.0.1",
  "0x7f.0.0.1", "128.0.0.1", "10.0.0.1", "0.0.0.0", "", " 127.0.0.1", "127.0.0.1 ", "::", "::2", "[::1", "::1]", "::ffff:10.0.0.1", "::ffff:127.0.0.256", "::ffff:127.example.com",
  "localhost.", "localhost.example.com", "mylocalhost", "example.com", "192.168.1.1", "fe80::1",
];

describe("loopback hosts", () => {
  test("isLoopbackHost - true for 127.x.y.z, ::1, [::1], localhost and ::ffff:127.x.y.z", () => {
    for (const host of LOOPBACK) expect([host, isLoopbackHost(host)]).toEqual([host, true]);
  });

  test("isLoopbackHost - false for everything else, names that only start like one included", () => {
    for (const host of NOT_LOOPBACK) expect([host, isLoopbackHost(host)]).toEqual([host, false]);
  });
});
