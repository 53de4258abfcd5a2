// The limits the stream servers of a node share, built for main.ts with what they say in the
// log and in /metrics: how many clients (the open-files limit, connection-budget.ts) and how
// much unfinished input they may hold together (input-budget.ts).

import type { Logger } from "../log/logger.ts";
import type { Metrics } from "../metrics/registry.ts";
import { ConnectionBudget, openFilesLimit, streamConnectionBudget, TOO_MANY_CLIENTS } from "./connection-budget.ts";
import { InputBudget } from "./input-budget.ts";

/** Fewer stream connections than this allowed by the open-files limit: said in the log at the start. */
const LOW_CONNECTION_BUDGET = 1000;
/** Clients turned away or closed: a log line of each kind at most this often. */
const LOG_EVERY_MS = 60_000;

export interface ClientLimits {
  readonly budget: ConnectionBudget;
  readonly inputs: InputBudget;
}

export function clientLimits(maxInputBufferBytes: number, log: Logger, metrics: Metrics): ClientLimits {
  const openFiles = openFilesLimit();
  const refusals = rateLimited();
  const budget = new ConnectionBudget(streamConnectionBudget(openFiles), (refused) => {
    if (!refusals()) return;
    log.warn("connections", { message: `${TOO_MANY_CLIENTS}: a TCP or RESP client was turned away (${refused} since the start; ${budget.limit} allowed by the open-files limit ${openFiles})` });
  });
  if (budget.limit < LOW_CONNECTION_BUDGET) {
    log.warn("connections", { message: `the open-files limit (${openFiles}) leaves room for ${budget.limit} TCP and RESP clients; raise it (ulimit -n) for more` });
  }
  const evictions = rateLimited();
  const inputs = new InputBudget(maxInputBufferBytes || Infinity, (evicted, bytes) => {
    if (!evictions()) return;
    log.warn("connections", { message: `a TCP or RESP client holding ${bytes} bytes of incomplete requests was closed: all clients together were over MaxInputBufferBytes ${maxInputBufferBytes} (${evicted} since the start)` });
  });
  metrics.pulledGauge("owl_client_input_bytes", "Bytes TCP and RESP clients hold in requests not yet complete (at most MaxInputBufferBytes).", [], () => inputs.total);
  metrics.pulledCounter("owl_client_input_closed_total", "TCP and RESP clients closed because all clients held more than MaxInputBufferBytes.", [], () => inputs.evicted);
  return { budget, inputs };
}

/** True at most once per LOG_EVERY_MS. */
function rateLimited(): () => boolean {
  let last = -Infinity;
  return () => {
    if (performance.now() - last < LOG_EVERY_MS) return false;
    last = performance.now();
    return true;
  };
}
