// The node's Prometheus registry (prom-client, which runs on Bun). Two kinds of metric: pushed
// (a counter some part increments when something happens: auth failures, peer failures) and
// pulled (read from the engine, store or servers when /metrics is scraped, so hot paths keep
// plain integer counters and pay nothing for metrics).
//
// prom-client itself (~10 MB of memory with the Node modules it pulls in) is imported on the first
// scrape: until then a pushed counter is a Map of label sets, and each family is a definition
// waiting to be registered. So the process_*/nodejs_* collectors start with the first scrape too:
// their GC and event-loop-delay figures cover the time since then (CPU, memory and file
// descriptors are read from the process at each scrape, as before).

import type { Registry } from "prom-client";

export type Labels = Record<string, string>;
/** What a pulled metric reads at scrape time: one value, or one per label set. */
export type Reading = number | Iterable<readonly [Labels, number]>;

/** A counter that other parts increment (prom-client's `inc`, without the import). */
export interface Counter {
  inc(labels?: Labels | number, value?: number): void;
}

type PromClient = typeof import("prom-client");

const HEAP_SPACE_METRICS = ["nodejs_heap_space_size_total_bytes", "nodejs_heap_space_size_used_bytes", "nodejs_heap_space_size_available_bytes"];
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
/** prom-client's Registry.PROMETHEUS_CONTENT_TYPE (the text format 0.0.4) */
const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A family to register with prom-client on the first scrape. */
type Definition = (client: PromClient, registry: Registry) => void;

export class Metrics {
  private readonly definitions: Definition[] = [];
  private readonly pushed = new Map<string, PushedCounter>();
  private registry: Promise<Registry> | undefined;
  /** set once prom-client is loaded and every definition so far registered */
  private loaded: { client: PromClient; registry: Registry } | undefined;

  constructor(private readonly options: { processMetrics?: boolean } = {}) {}

  get contentType(): string {
    return CONTENT_TYPE;
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  async render(): Promise<string> {
    this.registry ??= this.load();
    return (await this.registry).metrics();
  }

  /**
   * A counter other parts increment, created on first ask; asking again with the same name
   * returns the same counter (so main.ts and a module can both name it).
   */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    checkName(name);
    let counter = this.pushed.get(name);
    if (!counter) {
      const created = new PushedCounter(name, labelNames);
      this.pushed.set(name, created);
      this.pulledCounter(name, help, labelNames, () => created.readings());
      counter = created;
    }
    return counter;
  }

  /** A counter whose value is read at scrape time from a running total kept elsewhere. */
  pulledCounter(name: string, help: string, labelNames: readonly string[], read: () => Reading): void {
    checkName(name);
    this.define((client, registry) => {
      new client.Counter({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          apply(read(), (labels, value) => this.inc(labels, Math.max(0, value)));
        },
      });
    });
  }

  /** A gauge read at scrape time. */
  pulledGauge(name: string, help: string, labelNames: readonly string[], read: () => Reading): void {
    checkName(name);
    this.define((client, registry) => {
      new client.Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          apply(read(), (labels, value) => this.set(labels, value));
        },
      });
    });
  }

  private define(definition: Definition): void {
    // Defined after the first scrape: registered at once.
    if (this.loaded) definition(this.loaded.client, this.loaded.registry);
    else this.definitions.push(definition);
  }

  private async load(): Promise<Registry> {
    const client = await import("prom-client");
    const registry = new client.Registry();
    // process_* (CPU, RSS, open fds) and nodejs_* (heap, GC, event-loop delay) as exporters
    // usually have them.
    if (this.options.processMetrics ?? true) {
      client.collectDefaultMetrics({ register: registry });
      // On Bun, v8.getHeapSpaceStatistics walks the JSC heap: ~8 ms of blocked event loop per
      // scrape for numbers (V8 heap spaces) that mean little here. The nodejs_heap_size_* totals stay.
      for (const name of HEAP_SPACE_METRICS) registry.removeSingleMetric(name);
    }
    for (const definition of this.definitions) definition(client, registry);
    this.definitions.length = 0;
    this.loaded = { client, registry };
    return registry;
  }
}

/** Counts by label set until a scrape reads them; refuses what prom-client's `inc` refuses. */
class PushedCounter implements Counter {
  private readonly counts = new Map<string, { labels: Labels; value: number }>();

  constructor(
    private readonly name: string,
    private readonly labelNames: readonly string[],
  ) {}

  inc(labels?: Labels | number, value = 1): void {
    if (typeof labels === "number") [labels, value] = [{}, labels];
    labels ??= {};
    for (const label of Object.keys(labels)) {
      if (!this.labelNames.includes(label)) throw new Error(`Added label "${label}" is not included in initial labelset: ${JSON.stringify(this.labelNames)}`);
    }
    if (!Number.isFinite(value) || value < 0) throw new Error(`${this.name}: a counter only goes up by a finite amount (${value})`);
    const key = JSON.stringify(this.labelNames.map((label) => labels[label] ?? null));
    const entry = this.counts.get(key);
    if (entry) entry.value += value;
    else this.counts.set(key, { labels: { ...labels }, value });
  }

  *readings(): Iterable<readonly [Labels, number]> {
    for (const { labels, value } of this.counts.values()) yield [labels, value];
  }
}

function checkName(name: string): void {
  if (!NAME.test(name)) throw new Error(`bad metric name ${JSON.stringify(name)}`);
}

function apply(reading: Reading, set: (labels: Labels, value: number) => void): void {
  if (typeof reading === "number") set({}, reading);
  else for (const [labels, value] of reading) set(labels, value);
}
