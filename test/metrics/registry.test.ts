// The registry loads prom-client on the first scrape: what was counted or defined before and
// after it must all be there, and counters refuse what prom-client's refuse.

import { expect, test } from "bun:test";
import { Metrics } from "../../src/metrics/registry.ts";
import { parseExposition } from "./exposition.ts";

test("metrics registry - counts pushed before the first scrape are kept; families defined after it appear", async () => {
  const metrics = new Metrics({ processMetrics: false });
  const failures = metrics.counter("owl_test_failures_total", "Failures.", ["reason"]);
  failures.inc({ reason: "a" });
  failures.inc({ reason: "a" }, 2);
  failures.inc({ reason: "b" });
  const plain = metrics.counter("owl_test_plain_total", "No labels.");
  const first = parseExposition(await metrics.render());
  expect(first.value("owl_test_failures_total", { reason: "a" })).toBe(3);
  expect(first.value("owl_test_failures_total", { reason: "b" })).toBe(1);
  expect(first.value("owl_test_plain_total")).toBe(0);
  expect(first.types.get("owl_test_failures_total")).toBe("counter");
  plain.inc(5);
  metrics.pulledGauge("owl_test_late", "Defined after the first scrape.", [], () => 7);
  const later = parseExposition(await metrics.render());
  expect(later.value("owl_test_plain_total")).toBe(5);
  expect(later.value("owl_test_late")).toBe(7);
  expect(metrics.counter("owl_test_plain_total", "again")).toBe(plain);
  expect(metrics.contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
});

test("metrics registry - a counter refuses unknown labels and going down", () => {
  const counter = new Metrics({ processMetrics: false }).counter("owl_test_total", "Test.", ["peer"]);
  expect(() => counter.inc({ other: "x" })).toThrow(/label/);
  expect(() => counter.inc({ peer: "x" }, -1)).toThrow();
});
