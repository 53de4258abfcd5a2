// Real owlcache processes wired into a cluster for the process tests: start nodes, write values,
// manage peer lists through /server/ and read through /group_data/.

import { startNode, removeDir, type NodeProcess, type StartOptions } from "../helpers/node-process.ts";
import { envelopeOf, tokenFor, type HttpAnswer } from "../http/http-helpers.ts";

/** Short enough to keep the suite fast, long enough for a loaded 2-core machine. */
export const PEER_TIMEOUT_MS = 300;

export interface ClusterNode {
  readonly node: NodeProcess;
  readonly address: string;
  readonly base: string;
  token: string;
}

export const CLUSTER_SETTINGS = {
  HttpClientRequestTimeout: PEER_TIMEOUT_MS,
  HttpClientRequestLocalCacheLifeTime: 0,
  HttpClient_Request_Max_Error_Number: 2,
  HttpClient_Request_Timeout_Sleeptime: 1,
};

/** fetch that also accepts the tests' self-signed certificates. */
function call(url: string, init: RequestInit = {}): Promise<HttpAnswer> {
  return fetch(url, { ...init, tls: { rejectUnauthorized: false } } as RequestInit).then(envelopeOf);
}

const post = (node: ClusterNode, path: string, fields: Record<string, string>) => call(`${node.base}${path}`, { method: "POST", body: new URLSearchParams(fields) });

export async function startClusterNode(options: StartOptions = {}, scheme = "http"): Promise<ClusterNode> {
  const node = await startNode({ ...options, set: { ...CLUSTER_SETTINGS, ...options.set } });
  const base = `${scheme}://127.0.0.1:${node.httpPort}`;
  const answer = await call(`${base}/data/?cmd=pass&pass=test-password-123`);
  return { node, address: `127.0.0.1:${node.httpPort}`, base, token: String(answer.body.Data) };
}

export async function stopAll(nodes: readonly ClusterNode[]): Promise<void> {
  await Promise.all(
    nodes.map(async (n) => {
      n.node.kill("SIGCONT"); // a frozen node would never see the SIGTERM
      await n.node.stop();
      removeDir(n.node.dir);
    }),
  );
}

export function serverCmd(node: ClusterNode, fields: Record<string, string>, withToken = true): Promise<HttpAnswer> {
  return post(node, "/server/", withToken ? { ...fields, token: node.token } : fields);
}

export async function addPeers(node: ClusterNode, ...addresses: string[]): Promise<void> {
  for (const address of addresses) {
    const answer = await serverCmd(node, { cmd: "add", address });
    if (answer.status !== 200) throw new Error(`add ${address}: ${JSON.stringify(answer.body)}`);
  }
}

/** Sets a value and returns its KeyCreateTime as the node reports it. */
export async function setValue(node: ClusterNode, key: string, value: string): Promise<string> {
  const set = await post(node, "/data/", { cmd: "set", key, valuedata: value, token: node.token });
  if (set.status !== 200) throw new Error(`set failed: ${JSON.stringify(set.body)}`);
  const got = await call(`${node.base}/data/?${new URLSearchParams({ cmd: "get", key })}`);
  return got.body.KeyCreateTime;
}

export interface GroupEntry {
  Address: string;
  Data: string | null;
  KeyCreateTime: string;
  Status: number;
  Message?: string;
}

export async function groupGet(node: ClusterNode, key: string, target?: string): Promise<HttpAnswer & { entries: GroupEntry[]; ms: number }> {
  const fields: Record<string, string> = { cmd: "get", key };
  if (target) fields.target = target;
  const started = performance.now();
  const answer = await call(`${node.base}/group_data/?${new URLSearchParams(fields)}`);
  const ms = performance.now() - started;
  return { ...answer, entries: (answer.body.Data as GroupEntry[] | null) ?? [], ms };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export { tokenFor };
