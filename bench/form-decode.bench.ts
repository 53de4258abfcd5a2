// Decoding 16 MiB urlencoded bodies (form-decode.ts) beside Elysia's parseQuery, which the HTTP
// routes used before: POST bodies are parsed before any token check, so this is a client's
// cheapest way to hold the event loop. Min and median of 7 runs each, in milliseconds.
// `bun bench/form-decode.bench.ts`

import { parseQuery } from "elysia/parse-query";
import { decodeFormValue, parseForm } from "../src/transport/http/form-decode.ts";

const MI = 1024 * 1024;
const bodies: Record<string, string> = {
  "ASCII, one %41": "abcd".repeat(4 * MI) + "%41",
  "a%41 repeated": "a%41".repeat(4 * MI),
  "a+ repeated": "a+".repeat(8 * MI),
  "é+ repeated": "é+".repeat(8 * MI),
  "encodeURIComponent(JSON)": encodeURIComponent(JSON.stringify(Array.from({ length: 400_000 }, (_, i) => ({ k: `v${i}` })))),
};

const warm = "a=" + "x%41é+".repeat(100_000);
for (let i = 0; i < 3; i++) (parseForm(warm), parseQuery(warm));

const stat = (times: number[]): string => {
  times.sort((a, b) => a - b);
  return `${times[0]!.toFixed(0)}/${times[times.length >> 1]!.toFixed(0)}`;
};
for (const [name, value] of Object.entries(bodies)) {
  const body = `cmd=set&key=k&valuedata=${value}`;
  const runs: [string, () => unknown][] = [
    ["Elysia parseQuery", () => parseQuery(body)],
    ["decodeFormValue", () => decodeFormValue(value)],
    ["parseForm", () => parseForm(body)],
  ];
  const times = new Map<string, number[]>();
  for (let round = 0; round < 7; round++) {
    for (const [label, run] of runs) {
      const start = performance.now();
      run();
      times.set(label, [...(times.get(label) ?? []), performance.now() - start]);
    }
  }
  console.log(`${name} (${(body.length / MI).toFixed(1)} Mi chars): ${runs.map(([label]) => `${label} ${stat(times.get(label)!)}`).join(", ")} ms`);
}
