// The Authenticator the engine uses: constant-time password checks. Tokens are issued by the
// HTTP API's token module; without it, `pass` only unlocks the stream connection it came on.

import { CommandError } from "../commands/errors.ts";
import type { Authenticator } from "../commands/spec.ts";
import { passwordMatches } from "./password.ts";

export class PasswordAuthenticator implements Authenticator {
  constructor(private readonly password: string) {}

  verifyPassword(password: Uint8Array, _client: string): boolean {
    return passwordMatches(this.password, password);
  }

  issueToken(_client: string): string {
    throw new CommandError(500, "tokens are not available on this node");
  }
}
