import { expect, test } from "bun:test";
import { parseExposition } from "./exposition.ts";

test("exposition check - accepts the format and refuses what Prometheus refuses", () => {
  const good = parseExposition(
    '# HELP a_total Things.\n# TYPE a_total counter\na_total{x="1",y="q\\"\\\\\\n"} 3\na_total{x="2"} 4 1700000000000\n# TYPE g gauge\ng NaN\ng{k="v"} -Inf\n',
  );
  expect(good.value("a_total", { x: "1", y: 'q"\\\n' })).toBe(3);
  expect(good.value("g")).toBeNaN();
  for (const bad of [
    "a 1", // no newline
    "a b\n",
    "a{x=1} 1\n",
    "a{x=\"1\"} 1\na{x=\"1\"} 2\n",
    "# TYPE a counter\na -1\n",
    "# TYPE a counter\n# TYPE a counter\n",
    "# TYPE a bogus\n",
    "a 1\nb 1\na{x=\"2\"} 1\n",
    "1a 1\n",
    'a{x="\\t"} 1\n',
  ]) {
    expect(() => parseExposition(bad)).toThrow();
  }
});
