// Peer addresses as the lists hold them: `host:port`, optionally with `http://` or `https://`.
// Parsing is strict so a list entry can never point a request at a path or another scheme.

export interface PeerAddress {
  /** as written in the list (what answers show) */
  readonly text: string;
  /** the scheme written, or undefined: then the node's own (Open_Https) decides */
  readonly scheme: "http" | "https" | undefined;
  /** lower-cased `host:port`, the identity used to compare addresses */
  readonly hostPort: string;
}

// A host name may hold `_`: DNS names do not, but Docker compose service names (owl_node_1) do,
// and resolvers answer them.
const ADDRESS = /^(?:(https?):\/\/)?(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9._-]{0,251}[a-z0-9])?):(\d{1,5})\/?$/i;

/** The address, or undefined when it is not `[scheme://]host:port` with a port from 1 to 65535. */
export function parsePeerAddress(text: string): PeerAddress | undefined {
  const trimmed = text.trim();
  const match = ADDRESS.exec(trimmed);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  const scheme = match[1]?.toLowerCase() as "http" | "https" | undefined;
  return { text: trimmed.replace(/\/$/, ""), scheme, hostPort: `${canonicalHost(match[2]!)}:${port}` };
}

// "localhost" and 127.0.0.1 name the same node; treating them alike stops a node asking itself.
function canonicalHost(host: string): string {
  const lower = host.toLowerCase();
  return lower === "localhost" ? "127.0.0.1" : lower;
}

/** Whether two addresses name the same node (scheme ignored). */
export function sameNode(a: PeerAddress, b: PeerAddress): boolean {
  return a.hostPort === b.hostPort;
}

/** The base URL to reach a peer; `https` is the scheme used when the address names none. */
export function baseUrl(address: PeerAddress, https: boolean): string {
  return `${address.scheme ?? (https ? "https" : "http")}://${address.hostPort}`;
}
