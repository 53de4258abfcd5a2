// The round loop of the side-by-side micro-benchmarks (bench/*-compare.ts): variants take turns,
// round after round, so that the machine's drift hits them alike. Each round runs a variant for
// `ms`, `perTurn` operations per turn of the event loop (freed store blocks are reused from the
// next turn, as in the server). Prints each variant's median and best, in nanoseconds per operation.

export interface SideBySideOptions {
  readonly rounds: number;
  readonly ms: number;
  readonly perTurn: number;
  /** what an operation is, for the printed lines ("set") */
  readonly unit: string;
}

/** `variants`: a name and an operation that takes the running operation count. */
export async function sideBySide(variants: readonly [string, (n: number) => void][], options: SideBySideOptions): Promise<void> {
  const results = new Map<string, number[]>();
  for (let round = 0; round < options.rounds; round++) {
    for (const [name, op] of variants) {
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < options.ms) {
        for (let i = 0; i < options.perTurn; i++, n++) op(n);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const list = results.get(name) ?? [];
      list.push(((performance.now() - t0) * 1e6) / n);
      results.set(name, list);
    }
  }
  const width = Math.max(...variants.map(([name]) => name.length));
  for (const [name, list] of results) {
    list.sort((a, b) => a - b);
    console.log(`${name.padEnd(width)}  median ${list[list.length >> 1]!.toFixed(0)} ns/${options.unit}, best ${list[0]!.toFixed(0)}`);
  }
}
