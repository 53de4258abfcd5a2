// A real PasswordAuthenticator with its token service and throttle, for engines built in tests.

import { PasswordAuthenticator } from "../../src/auth/authenticator.ts";
import { AttemptThrottle } from "../../src/auth/throttle.ts";
import { TokenService } from "../../src/auth/tokens.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { systemClock, type Clock } from "../../src/store/types.ts";

export function testAuthenticator(clock: Clock = systemClock): PasswordAuthenticator {
  const tokens = new TokenService({ secret: crypto.getRandomValues(new Uint8Array(32)), lifetimeSeconds: 0, password: "test-password-123", clock });
  return new PasswordAuthenticator("test-password-123", tokens, new AttemptThrottle(clock), silentLogger);
}
