import { describe, expect, test } from "bun:test";
import { baseUrl, parsePeerAddress, sameNode } from "../../src/cluster/address.ts";

describe("peer address", () => {
  test("address - host:port with or without scheme", () => {
    expect(parsePeerAddress("127.0.0.1:7723")).toEqual({ text: "127.0.0.1:7723", scheme: undefined, hostPort: "127.0.0.1:7723" });
    expect(parsePeerAddress("http://127.0.0.1:7723")?.scheme).toBe("http");
    expect(parsePeerAddress("HTTPS://Node-1.example:443/")).toEqual({ text: "HTTPS://Node-1.example:443", scheme: "https", hostPort: "node-1.example:443" });
    expect(parsePeerAddress("[::1]:7721")?.hostPort).toBe("[::1]:7721");
  });

  test("address - host names with underscores (Docker compose service names) are addresses", () => {
    expect(parsePeerAddress("owl_node_1:7721")).toEqual({ text: "owl_node_1:7721", scheme: undefined, hostPort: "owl_node_1:7721" });
    expect(parsePeerAddress("http://Owl_Cache.my_net:7721/")?.hostPort).toBe("owl_cache.my_net:7721");
    expect(new URL(baseUrl(parsePeerAddress("owl_node_1:7721")!, false)).host).toBe("owl_node_1:7721");
    for (const bad of ["_owl:7721", "owl_:7721", "owl node:7721"]) expect(parsePeerAddress(bad)).toBeUndefined();
  });

  test("address - refuses paths, queries, other schemes, bad ports", () => {
    for (const bad of ["", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "ftp://a:1", "a:1/data", "a:1?x", "user@a:1", "http://a:1/x", " : "]) {
      expect(parsePeerAddress(bad)).toBeUndefined();
    }
  });

  test("address - localhost and 127.0.0.1 are the same node; scheme does not matter", () => {
    expect(sameNode(parsePeerAddress("localhost:1")!, parsePeerAddress("https://127.0.0.1:1")!)).toBe(true);
    expect(sameNode(parsePeerAddress("127.0.0.1:1")!, parsePeerAddress("127.0.0.1:2")!)).toBe(false);
  });

  test("address - the node's scheme applies when the address has none", () => {
    expect(baseUrl(parsePeerAddress("127.0.0.1:1")!, true)).toBe("https://127.0.0.1:1");
    expect(baseUrl(parsePeerAddress("http://127.0.0.1:1")!, true)).toBe("http://127.0.0.1:1");
    expect(baseUrl(parsePeerAddress("127.0.0.1:1")!, false)).toBe("http://127.0.0.1:1");
  });
});
