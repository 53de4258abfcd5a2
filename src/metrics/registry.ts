// The node's Prometheus registry (prom-client, which runs on Bun). Two kinds of metric: pushed
// (a counter some part increments when something happens: auth failures, peer failures) and
// pulled (read from the engine, store or servers when /metrics is scraped, so hot paths keep
// plain integer counters and pay nothing for metrics).

import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";

export type Labels = Record<string, string>;
/** What a pulled metric reads at scrape time: one value, or one per label set. */
export type Reading = number | Iterable<readonly [Labels, number]>;

const HEAP_SPACE_METRICS = ["nodejs_heap_space_size_total_bytes", "nodejs_heap_space_size_used_bytes", "nodejs_heap_space_size_available_bytes"];
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export class Metrics {
  readonly registry = new Registry();
  private readonly pushed = new Map<string, Counter | Gauge>();

  constructor(options: { processMetrics?: boolean } = {}) {
    // process_* (CPU, RSS, open fds) and nodejs_* (heap, GC, event-loop delay) as exporters
    // usually have them.
    if (options.processMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry });
      // On Bun, v8.getHeapSpaceStatistics walks the JSC heap: ~8 ms of blocked event loop per
      // scrape for numbers (V8 heap spaces) that mean little here. The nodejs_heap_size_* totals stay.
      for (const name of HEAP_SPACE_METRICS) this.registry.removeSingleMetric(name);
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * A counter other parts increment, created on first ask; asking again with the same name
   * returns the same counter (so main.ts and a module can both name it).
   */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.pushedMetric(name, () => new Counter({ name, help, labelNames, registers: [this.registry] })) as Counter;
  }

  /** A gauge other parts set, created on first ask. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.pushedMetric(name, () => new Gauge({ name, help, labelNames, registers: [this.registry] })) as Gauge;
  }

  /** A counter whose value is read at scrape time from a running total kept elsewhere. */
  pulledCounter(name: string, help: string, labelNames: readonly string[], read: () => Reading): void {
    checkName(name);
    new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        apply(read(), (labels, value) => this.inc(labels, Math.max(0, value)));
      },
    });
  }

  /** A gauge read at scrape time. */
  pulledGauge(name: string, help: string, labelNames: readonly string[], read: () => Reading): void {
    checkName(name);
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        apply(read(), (labels, value) => this.set(labels, value));
      },
    });
  }

  private pushedMetric(name: string, make: () => Counter | Gauge): Counter | Gauge {
    checkName(name);
    let metric = this.pushed.get(name);
    if (!metric) {
      metric = make();
      this.pushed.set(name, metric);
    }
    return metric;
  }
}

function checkName(name: string): void {
  if (!NAME.test(name)) throw new Error(`bad metric name ${JSON.stringify(name)}`);
}

function apply(reading: Reading, set: (labels: Labels, value: number) => void): void {
  if (typeof reading === "number") set({}, reading);
  else for (const [labels, value] of reading) set(labels, value);
}
