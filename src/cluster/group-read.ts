// The group read (SPEC §7): this node answers in-process, every peer of the owlcache list is
// asked in parallel (through the answer cache, single flight and its breaker), and the answers
// are merged newest first. A skipped peer costs nothing; a slow one at most the client timeout.

import type { Clock } from "../store/types.ts";
import { parsePeerAddress, type PeerAddress } from "./address.ts";
import { AnswerCache } from "./answer-cache.ts";
import { mergeAnswers, type GroupResult, type NodeAnswer } from "./merge.ts";
import { failed, settledOutcome, type PeerOutcome } from "./peer-answer.ts";
import type { PeerBook } from "./peer-book.ts";
import type { PeerFetcher } from "./peer-client.ts";
import type { PeerList } from "./peer-list.ts";

/** This node's own value of a key. */
export interface LocalValue {
  readonly data: string;
  readonly writtenAt: number;
}

export interface GroupReaderOptions {
  readonly list: PeerList;
  /** ResponseHost:Httpport, known once the HTTP server listens */
  readonly self: () => PeerAddress;
  readonly local: (key: string) => LocalValue | undefined;
  readonly fetcher: PeerFetcher;
  readonly book: PeerBook;
  readonly clock: Clock;
  /** HttpClientRequestLocalCacheLifeTime; 0 = answers are never reused */
  readonly cacheLifetimeMs: number;
}

export class GroupReader {
  private readonly cache: AnswerCache;
  private knownPeers: Set<string>;

  constructor(private readonly options: GroupReaderOptions) {
    this.cache = new AnswerCache(options.cacheLifetimeMs, options.clock);
    options.list.onChange((list) => {
      // A peer taken off the list must not be answered from the cache afterwards.
      for (const id of this.knownPeers) if (!list.all().some((e) => e.address.hostPort === id)) this.forget(id);
      this.knownPeers = new Set(list.all().map((e) => e.address.hostPort));
    });
    this.knownPeers = new Set(options.list.all().map((e) => e.address.hostPort));
  }

  /** Reads `key` on every node, or only on `target` (this node or a listed peer). */
  async read(key: string, target?: string): Promise<GroupResult> {
    const self = this.options.self();
    let peers = this.options.list.all().map((e) => e.address).filter((a) => a.hostPort !== self.hostPort);
    let askSelf = true;
    if (target !== undefined) {
      const wanted = parsePeerAddress(target);
      if (!wanted) return { status: 500, entries: [], message: "target must be an address host:port (optionally with http:// or https://)" };
      askSelf = wanted.hostPort === self.hostPort;
      // Only listed nodes are asked: an open endpoint must not fetch arbitrary addresses (SSRF).
      peers = askSelf ? [] : peers.filter((a) => a.hostPort === wanted.hostPort);
      if (!askSelf && peers.length === 0) return { status: 500, entries: [], message: `target ${target} is not this node and not in the owlcache server list` };
    }
    const pending: (NodeAnswer | Promise<NodeAnswer>)[] = [];
    if (askSelf) pending.push({ address: self.text, outcome: this.localOutcome(key) });
    for (const peer of peers) {
      const outcome = this.ask(peer, key);
      pending.push(outcome instanceof Promise ? outcome.then((o) => ({ address: peer.text, outcome: o })) : { address: peer.text, outcome });
    }
    return mergeAnswers(await Promise.all(pending));
  }

  private localOutcome(key: string): PeerOutcome {
    const value = this.options.local(key);
    if (!value) return { kind: "missing" };
    return { kind: "value", data: value.data, writtenAt: value.writtenAt, keyCreateTime: new Date(value.writtenAt).toISOString() };
  }

  private ask(peer: PeerAddress, key: string): PeerOutcome | Promise<PeerOutcome> {
    const id = peer.hostPort;
    const known = this.cache.lookup(id, key);
    if (known) return known;
    const { book, fetcher } = this.options;
    const breaker = book.record(id).breaker;
    const probing = breaker.state() === "half-open";
    if (!breaker.tryAcquire()) return failed("skipped", book.skippedDetail(id));
    const request = settledOutcome(() => fetcher.getKey(peer, key)).then((outcome) => {
      book.report(id, outcome);
      return outcome;
    });
    // The probe of a peer that kept failing runs in the background: no reader waits on a peer
    // that is probably still down. Its answer closes the breaker for the reads that follow.
    if (probing) return failed("skipped", book.skippedDetail(id));
    return this.cache.track(id, key, request);
  }

  private forget(hostPort: string): void {
    this.cache.forgetPeer(hostPort);
  }
}
