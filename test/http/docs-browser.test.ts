// The /swagger docs page in a real headless Chromium with every non-local request blocked: it must
// render the /data/ operations from the node's own assets. Takes a screenshot: into
// docs/swagger.png with UPDATE_SCREENSHOT=1 (a plain test run leaves the committed image alone).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";
import { hasChromium, CHROMIUM, launchChromium, type Browser } from "../helpers/chromium.ts";
import { removeDir, startNode, type NodeProcess } from "../helpers/node-process.ts";

const SCREENSHOT = process.env.UPDATE_SCREENSHOT === "1" ? join(import.meta.dir, "../../docs/swagger.png") : join(tmpdir(), `owl-swagger-${process.pid}.png`);
const available = hasChromium;
if (!available) console.warn(`docs-browser: SKIPPED — ${CHROMIUM} is not installed (apt-get install -y chromium); CI installs it.`);

describe.skipIf(!available)("swagger page in Chromium", () => {
  let node: NodeProcess;
  let browser: BrowserContext;
  let chromiumBrowser: Browser | undefined;

  beforeAll(async () => {
    node = await startNode();
    chromiumBrowser = await launchChromium({ width: 1280, height: 1100 });
    browser = chromiumBrowser.context;
  }, 60_000);

  afterAll(async () => {
    await chromiumBrowser?.close();
    await node?.stop();
    if (node) removeDir(node.dir);
    if (process.env.UPDATE_SCREENSHOT !== "1") rmSync(SCREENSHOT, { force: true });
  });

  test("swagger - renders the /data/ operations with no request leaving the node", async () => {
    const page = await browser.newPage();
    const outside: string[] = [];
    const local = `http://127.0.0.1:${node.httpPort}/`;
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(local) || url.startsWith("data:")) return route.continue();
      outside.push(url);
      return route.abort();
    });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    await page.goto(`${local}swagger`, { waitUntil: "load" });
    const getOp = page.locator(".opblock-get .opblock-summary-path", { hasText: "/data/" });
    const postOp = page.locator(".opblock-post .opblock-summary-path", { hasText: "/data/" });
    await getOp.first().waitFor({ timeout: 20_000 });
    await postOp.first().waitFor({ timeout: 20_000 });
    expect(await page.locator(".opblock-get .opblock-summary-path", { hasText: "/health" }).count()).toBe(1);
    expect(await page.locator(".info .title").innerText()).toContain("owlcache");
    // open GET /data/ so the screenshot shows the documented fields
    await getOp.first().click();
    await page.locator(".parameters .parameter__name", { hasText: "valuedata" }).first().waitFor({ timeout: 10_000 });
    const png = await page.screenshot({ path: SCREENSHOT, fullPage: false });
    expect(png.length).toBeGreaterThan(10_000);
    await postOp.first().click();
    await page.locator(".opblock-post .body-param-content-type, .opblock-post .opblock-section-request-body").first().waitFor({ timeout: 10_000 });
    expect(await page.getByText("Could not render").count()).toBe(0);
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
