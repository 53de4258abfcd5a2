// Composition root: read the config, build the parts, start the servers, handle signals.

import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { PasswordAuthenticator } from "./auth/authenticator.ts";
import { isLoopbackHost } from "./auth/loopback.ts";
import { PASSWORD_FILE, resolvePassword } from "./auth/password.ts";
import { resolveSecret } from "./auth/secret.ts";
import { AttemptThrottle } from "./auth/throttle.ts";
import { TokenService } from "./auth/tokens.ts";
import { banner, helpText } from "./cli.ts";
import { Cluster } from "./cluster/cluster.ts";
import { PeerListError } from "./cluster/peer-list.ts";
import { Engine } from "./commands/engine.ts";
import { commandTable } from "./commands/table.ts";
import { ConfigError, type Config, type ConfigKey } from "./config/keys.ts";
import { loadConfig, type LoadedConfig } from "./config/load.ts";
import { FileLogger } from "./log/logger.ts";
import { logEscapedErrors } from "./log/last-resort.ts";
import { countingAuthenticator } from "./metrics/auth-failures.ts";
import { authFailureCounter } from "./metrics/owl-metrics.ts";
import { Metrics } from "./metrics/registry.ts";
import { startOps } from "./ops/wiring.ts";
import { Keyspace } from "./store/keyspace.ts";
import { claimDataDir, DataDirError } from "./persistence/data-dir.ts";
import { LoadError } from "./persistence/loader.ts";
import { Persistence } from "./persistence/persistence.ts";
import { ReplayClock } from "./persistence/replay-clock.ts";
import { CompactStore } from "./store/compact-store.ts";
import { systemClock } from "./store/types.ts";
import { startOwlServer } from "./transport/owl-server.ts";
import type { StreamServer } from "./transport/connections.ts";
import { clientLimits } from "./transport/client-limits.ts";
import { HttpStartError, startHttpServer, type HttpServer } from "./transport/http/server.ts";
import { clientAddress } from "./transport/http/client-address.ts";
import { makeTokenCheck } from "./transport/http/request-token.ts";
import { fromUtf8, utf8 } from "./store/bytes.ts";
import type { Sync } from "./cluster/sync/wire.ts";
import { VERSION } from "./version.ts";
import { errorCode } from "./common/system-error.ts";

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
    if (error instanceof ConfigError) startFailed(error.message);
    throw error;
  }
}

/** The exit code of a start stopped by a bad setting, as for config errors. */
const BAD_SETTING_EXIT = 2;

function startFailed(message: string): never {
  console.error(`owlcache: ${message}`);
  process.exit(BAD_SETTING_EXIT);
}

type Origins = LoadedConfig["origins"];

/** "where: message" when the key was set in a file, env or flag and the message does not say so. */
function located(origins: Origins, key: ConfigKey | undefined, message: string): string {
  const where = key && origins[key];
  return where && !message.startsWith(where) ? `${where}: ${message}` : message;
}

/**
 * Runs a start-up step; an error of the expected kind (a bad setting, a damaged list file, an
 * unreadable certificate) stops the start with its message and exit code 2, anything else is a bug.
 */
function orExit<T>(step: () => T, expected: abstract new (...args: never[]) => Error, origins: Origins = {}): T {
  try {
    return step();
  } catch (error) {
    if (!(error instanceof expected)) throw error;
    startFailed(error instanceof ConfigError ? located(origins, error.key, error.message) : error.message);
  }
}

/**
 * Starts a stream server; Bun.listen's failure is a bad setting, not a stack trace: a taken port
 * names the port's key, anything else (an address this machine does not have, a name that does
 * not resolve) names Host.
 */
function listenOrExit<T>(portKey: "Tcpport" | "Respport", config: Config, origins: Origins, start: () => T): T {
  try {
    return start();
  } catch (error) {
    const code = errorCode(error);
    if (!(error instanceof Error) || (code === undefined && !error.message.startsWith("Failed to listen"))) throw error;
    const key = code === "EADDRINUSE" ? portKey : "Host";
    const reason = code === "EADDRINUSE" ? "EADDRINUSE: the port is taken" : (code ?? error.message);
    startFailed(located(origins, key, `cannot listen on ${config.Host}:${config[portKey]} for ${portKey}: ${key} ${config[key]} (${reason})`));
  }
}

/** The log directory; one that cannot be made (a file is in the way) is a bad Logfile. */
function openLog(config: Config, origins: Origins): FileLogger {
  try {
    return new FileLogger(config.Logfile, { echo: (line) => console.error(line) });
  } catch (error) {
    const code = errorCode(error);
    if (code === undefined) throw error;
    startFailed(located(origins, "Logfile", `Logfile ${config.Logfile} cannot be the log directory (${code})`));
  }
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
  const { config, origins } = loaded;
  const log = openLog(config, origins);
  /** A failure after the log is open: in the log and on stderr, then exit 1. */
  const fatal: (event: string, message: string) => never = (event, message) => {
    log.error(event, { message });
    console.error(`owlcache: ${message}`);
    process.exit(1);
  };
  for (const warning of loaded.warnings) log.warn("config", { message: warning });
  // Before anything reads or writes DBfile (the password, the secret, the data files): a
  // writable directory that no other server uses.
  try {
    if (!claimDataDir(config.DBfile).locked) log.warn("data directory", { message: `${config.DBfile} is not locked: flock(2) is not available here` });
  } catch (error) {
    if (!(error instanceof DataDirError)) throw error;
    fatal("data directory", error.message);
  }

  // The store's clock: replay of the append log holds it at each write's time (see ReplayClock).
  const clock = new ReplayClock(systemClock);
  const startedAt = clock.now();
  const keyspace = new Keyspace(new CompactStore(clock, { maxMemory: config.MaxMemory }), clock);
  // ops (issue 9): metrics registry and read-through loader, needed by the engine
  const metrics = new Metrics();
  // Modules of features that are off are not imported at all: read-through, RESP, sync.
  const readThrough =
    config.Get_data_from_redis || config.Get_data_from_memcache
      ? await import("./importers/from-config.ts").then(({ createReadThrough }) => orExit(() => createReadThrough(config, { db: keyspace, clock, log }), ConfigError, origins))
      : undefined;
  const { password, generated } = resolvePassword(config.Pass, config.DBfile);
  // SPEC §5: a generated password is shown once, in the banner. When this start fails before the
  // banner (a port taken, a bad certificate), the file it just wrote is removed, so the next
  // start generates one and shows it, instead of keeping a password nobody has seen.
  let bannerShown = false;
  if (generated) {
    process.on("exit", () => {
      if (!bannerShown) rmSync(join(config.DBfile, PASSWORD_FILE), { force: true });
    });
  }
  const tokens = new TokenService({ secret: resolveSecret(config.Tonken_jwt_secret, config.DBfile).secret, lifetimeSeconds: config.Tonken_expire_time, password, clock });
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
  const persistence = new Persistence({
    dir: config.DBfile,
    keyspace,
    clock,
    engine,
    log,
    appendonly: config.Appendonly,
    appendfsync: config.Appendfsync,
    intervalMs: (config.Task_DataBackupSeconds || config.Task_DataBackup * 60) * 1000,
    repair: loaded.repair,
    // With sync, its tombstones and flush watermark are saved and restored with the data.
    tombGraceMs: config.GroupDataSync ? config.GossipTombstoneTTL * 1000 : undefined,
    onSnapshot: (report) => ops.owlMetrics.recordSnapshot(report),
    onFatal: (message) => fatal("fatal", message),
  });
  // Load before any server starts, so no request sees a half-loaded keyspace.
  let restored;
  try {
    restored = await persistence.open((records) => {
      log.info("loading", { records });
      console.error(`owlcache: loading… ${records} records`);
    });
  } catch (error) {
    // A damaged file (LoadError names file and offset) or an unusable data directory.
    const message = error instanceof LoadError ? error.message : `data directory ${config.DBfile}: ${String(error)}`;
    fatal("load failed", message);
  }
  const { keys, expired, evicted, ms } = restored;
  log.info("loaded", { keys, expired, evicted, snapshotRecords: restored.snapshotRecords, logRecords: restored.logRecords, ms: Math.round(ms) });
  const streamAuth = config.TcpAuth === "1" || (config.TcpAuth === "auto" && !isLoopbackHost(config.Host));

  const servers: StreamServer[] = [];
  const lines: [string, string][] = [];
  // Stream clients: how many (the open-files limit) and how much unfinished input they may hold.
  const { budget, inputs } = clientLimits(config.MaxInputBufferBytes, log, metrics);
  // Cluster (issue 5): peer lists from DBfile, group reads, /server/, peers on /health.
  const cluster = orExit(
    () =>
      new Cluster({
        config,
        clock,
        log,
        local: (key) => {
          const entry = keyspace.get(utf8(key));
          return entry && { data: fromUtf8(entry.value), writtenAt: entry.writtenAt };
        },
        onPeerFailure: (peer) => ops.owlMetrics.peerFailures.inc({ peer }),
      }),
    PeerListError,
  );
  // Route plugins are built when the HTTP server first needs its Elysia app (transport/http/server.ts).
  const clusterPlugin = async () =>
    (await import("./cluster/routes.ts")).clusterRoutes({
      cluster,
      checkToken: makeTokenCheck(tokens),
      clientAddress,
      responseHost: () => cluster.self.text,
      maxKeyBytes: config.MaxKeyBytes,
    });

  // Sync (issue 8): after the load, so its digest is seeded from what was restored; peers are
  // the `gossip` list (changes through /server/ take effect within a quarter second).
  // Its modules are imported only when it is on.
  const sync: Sync | undefined = config.GroupDataSync
    ? await import("./cluster/sync/wire.ts").then(({ createSync }) =>
        orExit(
          () =>
            createSync(config, keyspace, { list: () => cluster.lists.gossip.all().map((entry) => entry.address.text) }, log, {
              loaded: restored.tombs,
              journal: persistence.journal,
            }),
          ConfigError,
        ),
      )
    : undefined;
  if (sync) persistence.setTombSource(() => sync.node.replica.captureTombs());

  // The servers listen only now: a node restarted during a peer's flush has sync hide what the
  // flush covers from here on (FlushSweep.resume), and no client may read it before.
  if (config.CloseTcp) {
    const owl = listenOrExit("Tcpport", config, origins, () =>
      startOwlServer({
        engine,
        hostname: config.Host,
        port: config.Tcpport,
        responseHost: config.ResponseHost,
        maxLineBytes: config.MaxLineBytes,
        requireAuth: streamAuth,
        budget,
        inputs,
      }),
    );
    servers.push(owl);
    ops.addConnections("tcp", () => owl.connections);
    lines.push(["tcp", `${config.Host}:${owl.port}${streamAuth ? "  (pass required)" : ""}`]);
  }

  // HTTP/HTTPS API (issue 3): other modules add their routes through `plugins`.
  const http: HttpServer = orExit(
    () =>
      startHttpServer({
        engine,
        config,
        log,
        tokens,
        plugins: [ops.routes, clusterPlugin, ...(sync ? [sync.routes.plugin] : [])],
        directPosts: sync?.routes.post,
        clock,
        startedAt,
        peers: () => cluster.health.peers(),
        sync: sync && (() => sync.health()),
        persistence: () => persistence.status(),
      }),
    HttpStartError,
  );
  cluster.setHttpPort(http.port);
  sync?.start(http.port);
  ops.setPeers(() => cluster.health.snapshot());
  lines.push(["http", http.url], ["docs", http.docsUrl]);
  ops.setAddress(`${config.ResponseHost}:${http.port}`);
  if (config.Respport > 0) {
    const { startRespServer } = await import("./transport/resp-server.ts");
    const resp = listenOrExit("Respport", config, origins, () =>
      startRespServer({
        engine,
        hostname: config.Host,
        port: config.Respport,
        requireAuth: streamAuth,
        // a bulk string may hold the largest value, and always a key
        limits: { maxBulkBytes: Math.max(config.MaxValueBytes, config.MaxKeyBytes) + 1024 },
        budget,
        inputs,
      }),
    );
    servers.push(resp);
    ops.addConnections("resp", () => resp.connections);
    lines.push(["resp", `${config.Host}:${resp.port}${streamAuth ? "  (AUTH required)" : ""}`]);
  }
  const dropped = [expired > 0 ? `${expired} expired while down` : "", evicted > 0 ? `${evicted} evicted: over MaxMemory` : ""].filter(Boolean);
  lines.push(["restored", `${keys} keys in ${Math.round(ms)} ms${dropped.length > 0 ? ` (${dropped.join(", ")})` : ""}`]);
  lines.push(["data", config.DBfile], ["logs", config.Logfile]);

  const expiry = setInterval(() => keyspace.store.advance(clock.now()), EXPIRY_INTERVAL_MS);

  // Graceful stop (SPEC §1): stop accepting, finish in-flight requests, final snapshot, exit 0.
  // Clients get STOP_GRACE_MS (2 s) to finish, TCP, RESP and HTTP alike; then their connections
  // are closed (a client that never finishes its request used to hold an HTTP stop ~12 s).
  // SIGHUP (the terminal went away) stops the same way: it used to kill the node without the
  // final snapshot. A second signal while waiting for clients closes their connections at once
  // and goes straight to the final snapshot (exit 1): without Appendonly, the writes since the
  // last snapshot live only in memory, so exiting before it would lose acknowledged writes. A
  // signal during the final snapshot exits at once (exit 1): the snapshot file is replaced
  // atomically, so the previous one stays whole, and with Appendonly every acknowledged write is
  // already in the log (written before its reply); without it, the writes since the last
  // snapshot are lost, and the log line says so.
  /** "forcing": a second signal came while draining; it closes the connections and saves, not the first */
  let phase: "running" | "draining" | "forcing" | "saving" = "running";
  const save = async (code: number): Promise<void> => {
    phase = "saving";
    sync?.stop();
    clearInterval(expiry);
    ops.stop();
    try {
      if (!(await persistence.close())) code = 1;
    } catch (error) {
      log.error("final snapshot failed", { error });
      code = 1;
    }
    log.info("stopped", { keys: keyspace.store.size });
    process.exit(code);
  };
  const stop = async (signal: string): Promise<void> => {
    if (phase === "running") {
      phase = "draining";
      log.info("stopping", { signal });
      await Promise.all([...servers.map((server) => server.stop()), http.stop()]);
      if (phase === "draining") await save(0);
    } else if (phase === "draining") {
      phase = "forcing";
      log.warn("stopping now", { signal, message: "second signal: open connections closed without waiting; writing the final snapshot" });
      // Closing the connections also settles the graceful stop above, which sees "forcing" and
      // leaves the final snapshot to this one.
      await Promise.all([...servers.map((server) => server.stop(0)), http.stop(0)]);
      await save(1);
    } else {
      const lost = config.Appendonly ? "none: every acknowledged write is in the append log" : "writes since the last snapshot (Appendonly is off)";
      log.error("stopped without the final snapshot", { signal, message: `another signal while stopping; lost: ${lost}` });
      process.exit(1);
    }
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stop(signal));

  // The banner last: whoever waits for it may signal at once, and the handlers must be in place.
  process.stdout.write(banner({ lines, generatedPassword: generated ? password : undefined }));
  bannerShown = true;
  log.info("start", { version: VERSION, addresses: Object.fromEntries(lines) });
  // Only now: a failure while starting must still end the process (exit 1), not leave a node half up.
  logEscapedErrors(log);
}

await main();
