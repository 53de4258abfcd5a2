// An in-process HTTP app over a fresh keyspace with a manual clock, for tests where the port is
// not the point (app.handle): expiry, CORS headers, the OpenAPI document.

import { PasswordAuthenticator } from "../../src/auth/authenticator.ts";
import { AttemptThrottle } from "../../src/auth/throttle.ts";
import { TokenService } from "../../src/auth/tokens.ts";
import { Engine } from "../../src/commands/engine.ts";
import { commandTable } from "../../src/commands/table.ts";
import { defaults, type Config } from "../../src/config/keys.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { ManualClock } from "../../src/store/types.ts";
import { createHttpApp } from "../../src/transport/http/app.ts";
import { PASSWORD } from "./http-helpers.ts";

export function makeApp(overrides: Partial<Record<keyof Config, unknown>> = {}) {
  const config = { ...defaults(), Pass: PASSWORD, ...overrides } as unknown as Config;
  const clock = new ManualClock();
  const keyspace = new Keyspace(new MapStore(clock), clock);
  const tokens = new TokenService({ secret: new TextEncoder().encode("a-test-secret-of-thirty-two-bytes!"), lifetimeSeconds: config.Tonken_expire_time, password: config.Pass, clock });
  const engine = new Engine({
    table: commandTable,
    db: keyspace,
    limits: { maxKeyBytes: config.MaxKeyBytes, maxValueBytes: config.MaxValueBytes },
    auth: new PasswordAuthenticator(config.Pass, tokens, new AttemptThrottle(clock), silentLogger),
  });
  const app = createHttpApp({ engine, config, log: silentLogger, tokens, plugins: [], clock });
  /** app.handle with a path like "/data/?cmd=get&key=a" */
  const request = (path: string, init?: RequestInit): Promise<Response> => app.handle(new Request(`http://localhost${path}`, init));
  return { app, clock, keyspace, tokens, engine, request };
}
