// Small clients for the HTTP API tests: envelope requests, a token, and raw HTTP/1.1 over a
// socket bound to a chosen local address (fetch cannot pick its source address).

import { connect } from "node:net";
import { startNode, type NodeProcess } from "../helpers/node-process.ts";
import type { Envelope } from "../helpers/owl-client.ts";

export const PASSWORD = "test-password-123";

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Envelope;
}

export async function envelopeOf(response: Response): Promise<HttpAnswer> {
  const text = await response.text();
  let body: Envelope;
  try {
    body = JSON.parse(text) as Envelope;
  } catch {
    throw new Error(`not an envelope (${response.status}): ${text.slice(0, 200)}`);
  }
  return { status: response.status, headers: response.headers, body };
}

export function getData(base: string, fields: Record<string, string>, init?: RequestInit): Promise<HttpAnswer> {
  return fetch(`${base}/data/?${new URLSearchParams(fields)}`, init).then(envelopeOf);
}

export function postForm(base: string, fields: Record<string, string>, path = "/data/"): Promise<HttpAnswer> {
  return fetch(`${base}${path}`, { method: "POST", body: new URLSearchParams(fields) }).then(envelopeOf);
}

export function postJson(base: string, fields: Record<string, unknown>, path = "/data/"): Promise<HttpAnswer> {
  return fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(fields) }).then(envelopeOf);
}

/** A real node, its HTTP base URL and a token: `({ node, base, token } = await startWithToken())` in a beforeAll. */
/** A node (from `start`, a plain one by default) and a token for it. */
export async function startWithToken(start: () => Promise<NodeProcess> = startNode): Promise<{ node: NodeProcess; base: string; token: string }> {
  const node = await start();
  const base = `http://127.0.0.1:${node.httpPort}`;
  return { node, base, token: await tokenFor(base) };
}

export async function tokenFor(base: string, password = PASSWORD): Promise<string> {
  const answer = await getData(base, { cmd: "pass", pass: password });
  if (answer.status !== 200 || typeof answer.body.Data !== "string") throw new Error(`pass failed: ${JSON.stringify(answer.body)}`);
  return answer.body.Data;
}

/**
 * One HTTP/1.1 GET over a socket bound to `localAddress` (e.g. 127.0.0.2), so the server sees
 * that address; answers the status and body text.
 */
export function rawGet(port: number, path: string, localAddress: string): Promise<{ status: number; body: string }> {
  return rawRequest(port, { path, localAddress });
}

export interface RawRequest {
  readonly method?: string;
  readonly path: string;
  /** the Host header as sent; default 127.0.0.1:port */
  readonly host?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly localAddress?: string;
}

/** One HTTP/1.1 request written by hand on a plain socket (any Host header); the status and body text. */
export function rawRequest(port: number, request: RawRequest): Promise<{ status: number; body: string }> {
  const { method = "GET", path, host = `127.0.0.1:${port}`, headers = {}, body, localAddress } = request;
  const lines = [`${method} ${path} HTTP/1.1`, `Host: ${host}`, "Connection: close", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, ...(localAddress ? { localAddress } : {}) }, () => {
      socket.write(`${lines.join("\r\n")}\r\n\r\n${body ?? ""}`);
    });
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`raw ${method} timed out`)));
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const head = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (!head) return reject(new Error(`no HTTP answer: ${text.slice(0, 200)}`));
      const split = text.indexOf("\r\n\r\n");
      let answer = text.slice(split + 4);
      if (/transfer-encoding: chunked/i.test(text.slice(0, split))) answer = unchunk(answer);
      resolve({ status: Number(head[1]), body: answer });
    });
  });
}

function unchunk(text: string): string {
  let out = "";
  let rest = text;
  for (;;) {
    const nl = rest.indexOf("\r\n");
    const size = parseInt(rest.slice(0, nl), 16);
    if (!size) return out;
    out += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 2 + size + 2);
  }
}
