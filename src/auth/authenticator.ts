// The Authenticator the engine uses: constant-time password checks with wrong-attempt
// throttling per client address, and signed tokens from the TokenService.

import { CommandError } from "../commands/errors.ts";
import type { Authenticator } from "../commands/spec.ts";
import type { Logger } from "../log/logger.ts";
import { passwordMatches } from "./password.ts";
import type { AttemptThrottle } from "./throttle.ts";
import type { TokenService } from "./tokens.ts";

export class PasswordAuthenticator implements Authenticator {
  constructor(
    private readonly password: string,
    private readonly tokens: TokenService,
    private readonly throttle: AttemptThrottle,
    private readonly log: Logger,
  ) {
    // Tokens carry a fingerprint of the password they were issued under: a token service built
    // for another password would issue tokens that it then refuses.
    if (!tokens.issuesFor(password)) throw new Error("the token service was built for another password");
  }

  verifyPassword(password: Uint8Array, client: string): boolean {
    const wait = this.throttle.retryAfter(client);
    if (wait > 0) {
      // (one line per address a minute at most, with how many attempts it stands for)
      const refused = this.throttle.recordRefusal(client);
      if (refused > 0) this.log.warn("auth refused", { client, reason: "too many wrong passwords", refused });
      throw new CommandError(401, `too many wrong passwords from this address; try again in ${Math.ceil(wait / 1000)} s`);
    }
    if (passwordMatches(this.password, password)) return true;
    this.throttle.recordFailure(client);
    this.log.warn("auth failed", { client }); // never the password itself
    return false;
  }

  issueToken(client: string): Promise<string> {
    return this.tokens.issue(client);
  }
}
