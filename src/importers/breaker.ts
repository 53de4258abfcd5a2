// A backend's health for read-through: after `maxErrors` failures in a row it is skipped for
// `sleepMs` (HttpClient_Request_Max_Error_Number / _Timeout_Sleeptime), then one request probes it.
// Time comes from an injected clock so tests move it by hand.

import type { Clock } from "../store/types.ts";

export class BackendTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

export type BackendState = "up" | "failing" | "down";

export interface BreakerTransition {
  readonly from: BackendState;
  readonly to: BackendState;
  readonly failures: number;
}

export class Breaker {
  /** failures in a row */
  failures = 0;
  private openUntil = 0;
  private probing = false;

  constructor(
    private readonly maxErrors: number,
    private readonly sleepMs: number,
    private readonly clock: Clock,
  ) {}

  get state(): BackendState {
    return this.failures === 0 ? "up" : this.failures < this.maxErrors ? "failing" : "down";
  }

  /** Would `allow` say yes? (No side effect: does not take the probe.) */
  get open(): boolean {
    return this.failures < this.maxErrors || (!this.probing && this.clock.now() >= this.openUntil);
  }

  /** May the backend be asked now? While down, one probe is let through once the sleep is over. */
  allow(): boolean {
    if (this.failures < this.maxErrors) return true;
    if (this.probing || this.clock.now() < this.openUntil) return false;
    this.probing = true;
    return true;
  }

  /** Returns the change of state, if any, so the caller logs once per change. */
  succeeded(): BreakerTransition | undefined {
    const from = this.state;
    this.failures = 0;
    this.probing = false;
    return from === "up" ? undefined : { from, to: "up", failures: 0 };
  }

  failed(): BreakerTransition | undefined {
    const from = this.state;
    this.failures++;
    this.probing = false;
    if (this.failures >= this.maxErrors) this.openUntil = this.clock.now() + this.sleepMs;
    const to = this.state;
    return from === to ? undefined : { from, to, failures: this.failures };
  }

  /** When a down backend may be probed again (ms since the epoch), 0 when not down. */
  get retryAt(): number {
    return this.state === "down" ? this.openUntil : 0;
  }
}
