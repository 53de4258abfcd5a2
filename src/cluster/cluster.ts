// The cluster as main.ts builds it: both peer lists, the peer client, the per-peer health book,
// the group reader and the health report, configured from the node's Config.

import type { Config } from "../config/keys.ts";
import type { Logger } from "../log/logger.ts";
import type { Clock } from "../store/types.ts";
import { parsePeerAddress, type PeerAddress } from "./address.ts";
import { GroupReader, type LocalValue } from "./group-read.ts";
import { ClusterHealth } from "./health.ts";
import { PeerBook } from "./peer-book.ts";
import { PeerClient, type PeerFetcher } from "./peer-client.ts";
import { PeerLists } from "./peer-list.ts";

/**
 * The largest envelope a healthy peer sends for the largest key and value: JSON escaping turns a
 * byte into at most six (a control byte is `\u0001`; an invalid UTF-8 byte becomes U+FFFD, three),
 * and the key is echoed too; 64 KiB covers the rest (field names, ResponseHost, time). Anything
 * longer is not an owlcache answer (or comes from a peer configured for larger values).
 */
export function maxAnswerBytes(maxValueBytes: number, maxKeyBytes: number): number {
  return MAX_ESCAPE * (maxValueBytes + maxKeyBytes) + 64 * 1024;
}

/** bytes of JSON one byte of a key or value becomes at most */
const MAX_ESCAPE = 6;

export type ClusterConfig = Pick<
  Config,
  | "DBfile"
  | "ResponseHost"
  | "Open_Https"
  | "HttpsClient_InsecureSkipVerify"
  | "HttpClientRequestTimeout"
  | "HttpClientRequestLocalCacheLifeTime"
  | "HttpClient_Request_Max_Error_Number"
  | "HttpClient_Request_Timeout_Sleeptime"
  | "MaxValueBytes"
  | "MaxKeyBytes"
>;

export interface ClusterOptions {
  readonly config: ClusterConfig;
  readonly local: (key: string) => LocalValue | undefined;
  readonly clock: Clock;
  readonly log: Logger;
  /** tests: another way to reach peers */
  readonly fetcher?: PeerFetcher;
  /** told of every failed peer request (metrics) */
  readonly onPeerFailure?: (hostPort: string) => void;
}

export class Cluster {
  readonly lists: PeerLists;
  readonly book: PeerBook;
  readonly fetcher: PeerFetcher;
  readonly reader: GroupReader;
  readonly health: ClusterHealth;
  private selfAddress: PeerAddress;
  private readonly responseHost: string;

  /** Loads the list files; throws PeerListError when one is damaged. */
  constructor(options: ClusterOptions) {
    const { config, clock, log } = options;
    this.responseHost = config.ResponseHost;
    this.selfAddress = ownAddress(config.ResponseHost, 0);
    this.lists = PeerLists.load(config.DBfile);
    this.book = new PeerBook(
      { maxErrors: config.HttpClient_Request_Max_Error_Number, sleepMs: config.HttpClient_Request_Timeout_Sleeptime * 1000 },
      clock,
      log,
      options.onPeerFailure,
    );
    this.fetcher =
      options.fetcher ??
      new PeerClient({
        timeoutMs: config.HttpClientRequestTimeout,
        maxAnswerBytes: maxAnswerBytes(config.MaxValueBytes, config.MaxKeyBytes),
        https: config.Open_Https,
        insecureSkipVerify: config.HttpsClient_InsecureSkipVerify,
      });
    this.reader = new GroupReader({
      list: this.lists.owlcache,
      self: () => this.selfAddress,
      local: options.local,
      fetcher: this.fetcher,
      book: this.book,
      clock,
      cacheLifetimeMs: config.HttpClientRequestLocalCacheLifeTime,
    });
    // A peer taken off both lists is forgotten (its breaker and last failure): gossip peers come
    // and go, and their records stayed for good. One still on the other list keeps its record.
    const listed = () => new Set([...this.lists.owlcache.all(), ...this.lists.gossip.all()].map((e) => e.address.hostPort));
    for (const list of [this.lists.owlcache, this.lists.gossip]) list.onChange(() => this.book.retain(listed()));
    this.health = new ClusterHealth(this.lists, this.book, this.fetcher, clock, () => this.selfAddress.hostPort);
  }

  /** This node's address (ResponseHost:Httpport); set once the HTTP server has its port. */
  get self(): PeerAddress {
    return this.selfAddress;
  }

  setHttpPort(port: number): void {
    this.selfAddress = ownAddress(this.responseHost, port);
  }
}

function ownAddress(host: string, port: number): PeerAddress {
  const text = host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
  // A port of 0 (not listening yet) cannot be parsed as a peer address; it matches no peer.
  return parsePeerAddress(text) ?? { text, scheme: undefined, hostPort: text.toLowerCase() };
}
