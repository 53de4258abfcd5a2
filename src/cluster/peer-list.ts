// The two peer lists (SPEC §6/§7): `owlcache` (group reads) and `gossip` (sync), each kept in
// DBfile in the original's JSON format, loaded at start and written atomically on every change.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parsePeerAddress, type PeerAddress } from "./address.ts";
import { writeFileAtomic } from "../common/atomic-file.ts";

export type GroupType = "owlcache" | "gossip";
export const GROUP_TYPES: readonly GroupType[] = ["owlcache", "gossip"];

export const LIST_FILES: Record<GroupType, string> = {
  owlcache: "server_group_config.json",
  gossip: "server_group_gossip_config.json",
};

export interface PeerEntry {
  readonly address: PeerAddress;
  /** the peer's password as configured; kept in the file, never shown in an answer */
  readonly pass: string;
  readonly token: string;
}

/** The original's file record: `{"Cmd":"","Address":"127.0.0.1:7723","Pass":"","Token":""}`. */
interface FileRecord {
  Cmd: string;
  Address: string;
  Pass: string;
  Token: string;
}

/** A list file that cannot be read as the original's format (the node refuses to start). */
export class PeerListError extends Error {}

export type ListListener = (list: PeerList) => void;

export class PeerList {
  private entries: readonly PeerEntry[];
  private listeners: ListListener[] = [];

  constructor(
    readonly type: GroupType,
    readonly path: string,
    entries: readonly PeerEntry[] = [],
  ) {
    this.entries = entries;
  }

  /** Reads the file; a missing file is an empty list, a damaged one a PeerListError naming it. */
  static load(type: GroupType, path: string): PeerList {
    if (!existsSync(path)) return new PeerList(type, path);
    return new PeerList(type, path, parseListFile(readFileSync(path, "utf8"), path));
  }

  all(): readonly PeerEntry[] {
    return this.entries;
  }

  get size(): number {
    return this.entries.length;
  }

  get(address: PeerAddress): PeerEntry | undefined {
    return this.entries.find((entry) => entry.address.hostPort === address.hostPort);
  }

  /**
   * Adds a peer, or replaces the entry with the same host:port. Saved before it takes effect.
   * With no `pass` (the field was absent), a listed peer keeps its stored Pass and Token: an
   * `add` that only changes the scheme must not wipe them. A new pass drops the stored Token,
   * which was got with the old one.
   */
  add(address: PeerAddress, pass?: string): "added" | "updated" {
    const existing = this.get(address);
    const kept = existing !== undefined && (pass === undefined || pass === existing.pass);
    const entry: PeerEntry = { address, pass: pass ?? existing?.pass ?? "", token: kept ? existing.token : "" };
    const next = existing
      ? this.entries.map((e) => (e === existing ? entry : e))
      : [...this.entries, entry];
    this.commit(next);
    return existing ? "updated" : "added";
  }

  /** Removes a peer; false when it was not listed. */
  delete(address: PeerAddress): boolean {
    const existing = this.get(address);
    if (!existing) return false;
    this.commit(this.entries.filter((e) => e !== existing));
    return true;
  }

  /** Called after every change (sync uses it to follow its list). */
  onChange(listener: ListListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Writes the list to its file (also the periodic Task_ServerListBackup). */
  save(): void {
    writeFileAtomic(this.path, serializeList(this.entries));
  }

  // The file is written first: if the disk refuses, the change is not made and the caller says so.
  private commit(next: readonly PeerEntry[]): void {
    writeFileAtomic(this.path, serializeList(next));
    this.entries = next;
    for (const listener of this.listeners) listener(this);
  }
}

export function serializeList(entries: readonly PeerEntry[]): string {
  const records: FileRecord[] = entries.map((e) => ({ Cmd: "", Address: e.address.text, Pass: e.pass, Token: e.token }));
  return JSON.stringify(records) + "\n";
}

export function parseListFile(text: string, path: string): PeerEntry[] {
  if (text.trim() === "" || text.trim() === "null") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new PeerListError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw new PeerListError(`${path}: expected a JSON array of {"Address":…} records`);
  const entries: PeerEntry[] = [];
  parsed.forEach((record: unknown, index) => {
    if (typeof record !== "object" || record === null) throw new PeerListError(`${path}: entry ${index} is not an object`);
    const r = record as Record<string, unknown>;
    const address = typeof r.Address === "string" ? parsePeerAddress(r.Address) : undefined;
    if (!address) throw new PeerListError(`${path}: entry ${index} has no valid Address (host:port, optionally with http:// or https://)`);
    // Duplicates (same host:port) would ask one node twice: the first one wins.
    if (entries.some((e) => e.address.hostPort === address.hostPort)) return;
    entries.push({ address, pass: typeof r.Pass === "string" ? r.Pass : "", token: typeof r.Token === "string" ? r.Token : "" });
  });
  return entries;
}

/** Both lists of a node, files in the data directory. */
export class PeerLists {
  constructor(
    readonly owlcache: PeerList,
    readonly gossip: PeerList,
  ) {}

  static load(dataDir: string): PeerLists {
    return new PeerLists(
      PeerList.load("owlcache", join(dataDir, LIST_FILES.owlcache)),
      PeerList.load("gossip", join(dataDir, LIST_FILES.gossip)),
    );
  }

  of(type: GroupType): PeerList {
    return type === "gossip" ? this.gossip : this.owlcache;
  }
}
