import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePeerAddress } from "../../src/cluster/address.ts";
import { LIST_FILES, PeerList, PeerListError, PeerLists } from "../../src/cluster/peer-list.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "owl-peers-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const addr = (text: string) => parsePeerAddress(text)!;

describe("peer list files", () => {
  test("lists - missing files are empty lists", () => {
    const lists = PeerLists.load(tempDir());
    expect(lists.owlcache.all()).toEqual([]);
    expect(lists.gossip.all()).toEqual([]);
  });

  test("lists - add saves at once in the original format, mode 0600, no temp file left", () => {
    const dir = tempDir();
    const lists = PeerLists.load(dir);
    lists.owlcache.add(addr("127.0.0.1:7723"), "peer-secret-1");
    lists.gossip.add(addr("https://10.0.0.2:7721"));
    const path = join(dir, LIST_FILES.owlcache);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual([{ Cmd: "", Address: "127.0.0.1:7723", Pass: "peer-secret-1", Token: "" }]);
    expect(readFileSync(path, "utf8").startsWith('[{"Cmd":"","Address":"127.0.0.1:7723","Pass":"peer-secret-1","Token":""}]')).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, LIST_FILES.gossip), "utf8"))[0].Address).toBe("https://10.0.0.2:7721");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  test("lists - a restart reads what was saved; delete saves too", () => {
    const dir = tempDir();
    const first = PeerLists.load(dir);
    first.owlcache.add(addr("127.0.0.1:1"));
    first.owlcache.add(addr("http://127.0.0.1:2"));
    first.owlcache.delete(addr("127.0.0.1:1"));
    const second = PeerLists.load(dir);
    expect(second.owlcache.all().map((e) => e.address.text)).toEqual(["http://127.0.0.1:2"]);
  });

  test("lists - adding an address already listed replaces it (same host:port, any scheme)", () => {
    const list = PeerLists.load(tempDir()).owlcache;
    expect(list.add(addr("127.0.0.1:1"), "a")).toBe("added");
    expect(list.add(addr("http://localhost:1"), "b")).toBe("updated");
    expect(list.all().map((e) => [e.address.text, e.pass])).toEqual([["http://localhost:1", "b"]]);
    expect(list.delete(addr("127.0.0.1:9"))).toBe(false);
  });

  test("lists - re-adding a listed peer without a pass keeps its stored Pass and Token; a new pass replaces them", () => {
    const dir = tempDir();
    const path = join(dir, LIST_FILES.owlcache);
    writeFileSync(path, JSON.stringify([{ Cmd: "", Address: "127.0.0.1:7723", Pass: "stored-pass", Token: "stored-token" }]));
    const list = PeerList.load("owlcache", path);
    expect(list.add(addr("http://127.0.0.1:7723"))).toBe("updated");
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual([{ Cmd: "", Address: "http://127.0.0.1:7723", Pass: "stored-pass", Token: "stored-token" }]);
    list.add(addr("127.0.0.1:7723"), "stored-pass"); // the same pass: its token still holds
    expect(list.all().map((e) => [e.pass, e.token])).toEqual([["stored-pass", "stored-token"]]);
    list.add(addr("127.0.0.1:7723"), "new-pass"); // a token got with the old pass is dropped
    expect(list.all().map((e) => [e.pass, e.token])).toEqual([["new-pass", ""]]);
    list.add(addr("127.0.0.1:7723"), ""); // an empty pass is a pass: it clears the stored one
    expect(list.all().map((e) => [e.pass, e.token])).toEqual([["", ""]]);
    expect(list.add(addr("127.0.0.1:7724"))).toBe("added");
    expect(list.get(addr("127.0.0.1:7724"))).toMatchObject({ pass: "", token: "" });
  });

  test("lists - the original's files load: null, empty, scheme or not, duplicates once", () => {
    const dir = tempDir();
    const path = join(dir, "x.json");
    writeFileSync(path, "null");
    expect(PeerList.load("owlcache", path).all()).toEqual([]);
    writeFileSync(path, '[{"Cmd":"","Address":"http://127.0.0.1:7723","Pass":"p","Token":"t"},{"Address":"127.0.0.1:7723"},{"Address":"127.0.0.1:7724"}]');
    const list = PeerList.load("owlcache", path);
    expect(list.all().map((e) => e.address.text)).toEqual(["http://127.0.0.1:7723", "127.0.0.1:7724"]);
    expect(list.all()[0]!.pass).toBe("p");
  });

  test("lists - a damaged file is an error naming the file, never silently emptied", () => {
    const dir = tempDir();
    const path = join(dir, LIST_FILES.owlcache);
    for (const bad of ["[{", '{"Address":"a:1"}', '[{"Address":"no-port"}]', "[7]"]) {
      writeFileSync(path, bad);
      expect(() => PeerLists.load(dir)).toThrow(PeerListError);
      expect(() => PeerLists.load(dir)).toThrow(path);
      expect(readFileSync(path, "utf8")).toBe(bad);
    }
  });

  test("lists - a failed save leaves the list as it was and says so", () => {
    const dir = tempDir();
    // A regular file where the data directory should be: the write fails, even for root.
    writeFileSync(join(dir, "blocked"), "");
    const list = new PeerList("owlcache", join(dir, "blocked", LIST_FILES.owlcache), [{ address: addr("127.0.0.1:1"), pass: "", token: "" }]);
    expect(() => list.add(addr("127.0.0.1:2"))).toThrow();
    expect(list.all().map((e) => e.address.text)).toEqual(["127.0.0.1:1"]);
    expect(existsSync(join(dir, "blocked"))).toBe(true);
  });

  test("lists - onChange is told about every change", () => {
    const list = PeerLists.load(tempDir()).gossip;
    const seen: number[] = [];
    list.onChange((l) => seen.push(l.size));
    list.add(addr("127.0.0.1:1"));
    list.add(addr("127.0.0.1:2"));
    list.delete(addr("127.0.0.1:1"));
    expect(seen).toEqual([1, 2, 1]);
  });
});
