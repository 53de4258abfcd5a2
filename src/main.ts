// Composition root: read the config, build the parts, start the servers, handle signals.

import { existsSync, readFileSync } from "node:fs";
import { PasswordAuthenticator } from "./auth/authenticator.ts";
import { resolvePassword } from "./auth/password.ts";
import { resolveSecret } from "./auth/secret.ts";
import { AttemptThrottle } from "./auth/throttle.ts";
import { TokenService } from "./auth/tokens.ts";
import { banner, helpText } from "./cli.ts";
import { Engine } from "./commands/engine.ts";
import { commandTable } from "./commands/table.ts";
import { ConfigError } from "./config/keys.ts";
import { loadConfig, type LoadedConfig } from "./config/load.ts";
import { createReadThrough } from "./importers/from-config.ts";
import { FileLogger } from "./log/logger.ts";
import { countingAuthenticator } from "./metrics/auth-failures.ts";
import { authFailureCounter } from "./metrics/owl-metrics.ts";
import { Metrics } from "./metrics/registry.ts";
import { startOps } from "./ops/wiring.ts";
import { Keyspace } from "./store/keyspace.ts";
import { CompactStore } from "./store/compact-store.ts";
import { systemClock } from "./store/types.ts";
import { startOwlServer } from "./transport/owl-server.ts";
import type { StreamServer } from "./transport/stream-server.ts";
import { HttpStartError, startHttpServer, type HttpServer } from "./transport/http/app.ts";
import { VERSION } from "./version.ts";

/** How often the timer wheel is advanced: expired keys are freed within this (SPEC: ≤ 1 s). */
const EXPIRY_INTERVAL_MS = 100;

function readConfig(): LoadedConfig {
  try {
    return loadConfig({
      argv: process.argv.slice(2),
      env: process.env,
      readFile: (path) => (existsSync(path) ? readFileSync(path, "utf8") : undefined),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`owlcache: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

async function main(): Promise<void> {
  const loaded = readConfig();
  if (loaded.action === "version") {
    console.log(VERSION);
    return;
  }
  if (loaded.action === "help") {
    console.log(helpText(commandTable));
    return;
  }
  const { config } = loaded;
  const log = new FileLogger(config.Logfile, { echo: (line) => console.error(line) });
  for (const warning of loaded.warnings) log.warn("config", { message: warning });

  const clock = systemClock;
  const startedAt = clock.now();
  const keyspace = new Keyspace(new CompactStore(clock, { maxMemory: config.MaxMemory }), clock);
  // ops (issue 9): metrics registry and read-through loader, needed by the engine
  const metrics = new Metrics();
  let readThrough: ReturnType<typeof createReadThrough>;
  try {
    readThrough = createReadThrough(config, { db: keyspace, clock, log });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`owlcache: ${error.message}`);
    process.exit(2);
  }
  const { password, generated } = resolvePassword(config.Pass, config.DBfile);
  const tokens = new TokenService({ secret: resolveSecret(config.Tonken_jwt_secret, config.DBfile).secret, lifetimeSeconds: config.Tonken_expire_time, clock });
  const engine = new Engine({
    table: commandTable,
    db: keyspace,
    limits: { maxKeyBytes: config.MaxKeyBytes, maxValueBytes: config.MaxValueBytes },
    auth: countingAuthenticator(new PasswordAuthenticator(password, tokens, new AttemptThrottle(clock), log), authFailureCounter(metrics)),
    onInternalError: (error, command) => log.error("command failed", { command, error }),
    loader: readThrough,
  });
  const ops = startOps({
    metrics,
    engine,
    store: keyspace.store,
    log,
    version: VERSION,
    startedAt,
    now: () => clock.now(),
    memoryLogMinutes: config.Task_MemoryInfoToLog,
    readThrough,
  });
  const streamAuth = config.TcpAuth === "1" || (config.TcpAuth === "auto" && !isLoopback(config.Host));

  const servers: StreamServer[] = [];
  const lines: [string, string][] = [];
  if (config.CloseTcp) {
    const owl = startOwlServer({
      engine,
      hostname: config.Host,
      port: config.Tcpport,
      responseHost: config.ResponseHost,
      maxLineBytes: config.MaxLineBytes,
      requireAuth: streamAuth,
    });
    servers.push(owl);
    ops.addConnections("tcp", () => owl.connections);
    lines.push(["tcp", `${config.Host}:${owl.port}${streamAuth ? "  (pass required)" : ""}`]);
  }
  // HTTP/HTTPS API (issue 3): other modules add their routes through `plugins`.
  let http: HttpServer;
  try {
    http = startHttpServer({ engine, config, log, tokens, plugins: [ops.routes], clock, startedAt });
  } catch (error) {
    if (!(error instanceof HttpStartError)) throw error;
    console.error(`owlcache: ${error.message}`);
    process.exit(2);
  }
  lines.push(["http", http.url], ["docs", http.docsUrl]);
  ops.setAddress(`${config.ResponseHost}:${http.port}`);
  lines.push(["data", config.DBfile], ["logs", config.Logfile]);

  const expiry = setInterval(() => keyspace.store.advance(clock.now()), EXPIRY_INTERVAL_MS);

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    await Promise.all([...servers.map((server) => server.stop()), http.stop()]);
    clearInterval(expiry);
    ops.stop();
    log.info("stopped", { keys: keyspace.store.size });
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));

  // Last: whoever waits for the banner may signal us at once.
  process.stdout.write(banner({ lines, generatedPassword: generated ? password : undefined }));
  log.info("start", { version: VERSION, addresses: Object.fromEntries(lines) });
}

await main();
