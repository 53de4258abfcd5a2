// The last resort, in a process of its own (bun test keeps its own handlers): a timer's task that
// throws and a promise nobody awaited are logged, and the process goes on with its work.

import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../..");

test("last resort - an exception escaping a timer and an unhandled rejection are logged; the process goes on", async () => {
  const dir = mkdtempSync(join(tmpdir(), "owl-last-resort-"));
  try {
    const script = join(dir, "main.ts");
    await Bun.write(
      script,
      `import { FileLogger } from ${JSON.stringify(join(ROOT, "src/log/logger.ts"))};
import { logEscapedErrors } from ${JSON.stringify(join(ROOT, "src/log/last-resort.ts"))};
logEscapedErrors(new FileLogger(${JSON.stringify(dir)}));
setTimeout(() => { throw new Error("a task that failed"); }, 1);
setTimeout(() => void Promise.reject(new Error("nobody awaited this")), 2);
setTimeout(() => console.log("still serving"), 50);
`,
    );
    const proc = Bun.spawn(["bun", script], { stdout: "pipe", stderr: "pipe" });
    const [code, out] = await Promise.all([proc.exited, new Response(proc.stdout).text()]);
    expect(out).toBe("still serving\n");
    expect(code).toBe(0);
    const lines = readFileSync(join(dir, "owlcache.log"), "utf8").trim().split("\n").map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: "error", event: "internal error", kind: "uncaught exception" });
    expect(JSON.stringify(lines[0].error)).toContain("a task that failed");
    expect(lines[1]).toMatchObject({ level: "error", event: "internal error", kind: "unhandled rejection" });
    expect(JSON.stringify(lines[1].error)).toContain("nobody awaited this");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
