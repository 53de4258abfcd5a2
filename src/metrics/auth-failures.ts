// Counts refused passwords for /metrics by wrapping the engine's Authenticator, so the auth module
// needs no knowledge of metrics. (Rejected tokens are counted where HTTP checks them.)

import { CommandError } from "../commands/errors.ts";
import type { Authenticator } from "../commands/spec.ts";
import type { Counter } from "./registry.ts";

export function countingAuthenticator(inner: Authenticator, failures: Counter): Authenticator {
  return {
    verifyPassword(password, client) {
      try {
        const ok = inner.verifyPassword(password, client);
        if (!ok) failures.inc({ reason: "password" });
        return ok;
      } catch (error) {
        if (error instanceof CommandError && error.status === 401) failures.inc({ reason: "throttled" });
        throw error;
      }
    },
    issueToken: (client) => inner.issueToken(client),
  };
}
