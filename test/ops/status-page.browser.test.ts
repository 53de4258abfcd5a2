// The status page in a real headless Chromium (Debian's chromium, driven by playwright-core):
// it loads with no external request and no CSP violation, its figures match /health, and the
// ops-per-second chart draws. Takes a screenshot: into docs/status-page.png with
// UPDATE_SCREENSHOT=1 (so a plain test run leaves the committed image alone), else a temp file.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Elysia } from "elysia";
import type { BrowserContext } from "playwright-core";
import { hasChromium, CHROMIUM, launchChromium, type Browser } from "../helpers/chromium.ts";
import { opsRoutes } from "../../src/ops/routes.ts";
import { opsNode } from "./harness.ts";
import { OwlClient } from "../helpers/owl-client.ts";
import { removeDir, startNode, type NodeProcess } from "../helpers/node-process.ts";

const SCREENSHOT = process.env.UPDATE_SCREENSHOT === "1" ? join(import.meta.dir, "../../docs/status-page.png") : join(tmpdir(), `owl-status-page-${process.pid}.png`);
if (!hasChromium) console.warn(`status page tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

interface Health {
  version: string;
  keys: number;
  memory: { rss: number; heapUsed: number; storeBytes: number };
}

describe.skipIf(!hasChromium)("status page in Chromium", () => {
  let node: NodeProcess;
  let browser: BrowserContext;
  let chromiumBrowser: Browser | undefined;
  let base: string;

  beforeAll(async () => {
    node = await startNode();
    base = `http://127.0.0.1:${node.httpPort}`;
    chromiumBrowser = await launchChromium({ width: 1100, height: 760 });
    browser = chromiumBrowser.context;
  }, 60_000);

  afterAll(async () => {
    await chromiumBrowser?.close();
    await node?.stop();
    if (node) removeDir(node.dir);
  });

  test("GET /ui - figures match /health, the chart draws, nothing external is loaded", async () => {
    // Some keys and a few seconds of traffic for the chart.
    const owl = await OwlClient.connect(node.tcpPort);
    for (let i = 0; i < 120; i++) owl.write(`set status:key:${i} ${"v".repeat(i)}\n`);
    for (let i = 0; i < 120; i++) await owl.reply();
    const until = Date.now() + 3500;
    while (Date.now() < until) {
      owl.write("get status:key:1\nexist status:key:2\n");
      await owl.reply();
      await owl.reply();
    }

    const page = await browser.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on("request", (request) => requests.push(request.url()));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));
    await page.goto(`${base}/ui`);
    await page.waitForSelector("body[data-loaded='1']", { timeout: 10_000 });
    const health = (await (await fetch(`${base}/health`)).json()) as Health;

    const figure = async (id: string) => Number(await page.getAttribute(`#${id}`, "data-value"));
    expect(await figure("keys")).toBe(health.keys);
    expect(health.keys).toBe(120);
    expect(await figure("bytes-used")).toBe(health.memory.storeBytes);
    const rss = await figure("rss");
    expect(Math.abs(rss - health.memory.rss) / health.memory.rss).toBeLessThan(0.25);
    expect(await page.textContent("#version")).toBe(health.version);
    expect(await page.textContent("#node")).toBe(`127.0.0.1:${node.httpPort}`);
    expect(await page.textContent("#keys")).toBe("120");
    expect(await page.isVisible("#no-peers")).toBe(true);
    expect(await page.getAttribute("a[href='/swagger']", "href")).toBe("/swagger");

    const samples = Number(await page.getAttribute("#ops-chart", "data-samples"));
    expect(samples).toBeGreaterThanOrEqual(2);
    const points = (await page.getAttribute("#ops-chart polyline", "points"))!.trim().split(" ");
    expect(points.length).toBe(samples);
    const heights = points.map((p) => Number(p.split(",")[1]));
    expect(Math.min(...heights)).toBeLessThan(Math.max(...heights)); // traffic shows as a rise

    const png = await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(png.length).toBeGreaterThan(10_000);
    if (process.env.UPDATE_SCREENSHOT !== "1") rmSync(SCREENSHOT, { force: true });
    expect(requests.every((url) => url.startsWith(base))).toBe(true);
    expect(problems).toEqual([]);
    owl.close();
    await page.close();
  }, 60_000);

  test("GET /ui - peers and read-through backends are listed, their text never runs as HTML", async () => {
    const n = opsNode([
      { address: "127.0.0.1:7731", ok: true },
      { address: "<img src=x onerror=\"document.title='owned'\">", ok: false, message: "<b>timeout</b> after 2700 ms" },
    ]);
    const server = new Elysia().use(opsRoutes({ metrics: n.metrics, status: n.status })).listen({ hostname: "127.0.0.1", port: 0 });
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${server.server!.port}/ui`);
      await page.waitForSelector("body[data-loaded='1']", { timeout: 10_000 });
      expect(await page.isVisible("#no-peers")).toBe(false);
      const rows = await page.$$eval("#peers tr", (trs) =>
        trs.map((tr) => Array.from((tr as unknown as { children: ArrayLike<{ textContent: string | null }> }).children, (td) => td.textContent)),
      );
      expect(rows).toEqual([
        ["127.0.0.1:7731", "answering", ""],
        ["<img src=x onerror=\"document.title='owned'\">", "not answering", "<b>timeout</b> after 2700 ms"],
      ]);
      expect(await page.title()).toBe("owlcache status");
      expect(await page.$("#peers img")).toBeNull();
      expect(await page.isVisible("#backends-card")).toBe(false); // no read-through configured
    } finally {
      await page.close();
      await server.stop(true);
    }
  }, 60_000);
});
