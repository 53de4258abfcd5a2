// What a peer said about one key, checked before use: a peer's body is untrusted input, so
// anything that is not a well-formed envelope of a `get` becomes a "bad answer" failure.

export type FailureReason = "timeout" | "refused" | "bad answer" | "tls" | "error" | "skipped";

export type PeerOutcome =
  | { readonly kind: "value"; readonly data: string; readonly keyCreateTime: string; readonly writtenAt: number }
  | { readonly kind: "missing" }
  | {
      readonly kind: "failed";
      readonly reason: FailureReason;
      readonly message: string;
      /**
       * The peer answered, at once and well; only this answer was refused for what it holds (a
       * declared length over the limit): no mark against the peer's health (PeerBook.report).
       */
      readonly peerAnswered?: true;
    };

export type FailedOutcome = Extract<PeerOutcome, { kind: "failed" }>;

export function failed(reason: FailureReason, detail: string): FailedOutcome {
  return { kind: "failed", reason, message: `${reason}: ${detail}` };
}

/**
 * The outcome of asking a peer, never a rejection: a throw, synchronous or not, is a failure
 * like any other. A breaker's probe must always be settled, or the peer stays skipped for good.
 */
export function settledOutcome(ask: () => PeerOutcome | Promise<PeerOutcome>): Promise<PeerOutcome> {
  return Promise.try(ask).catch((error: unknown) => failed("error", error instanceof Error ? error.message : String(error)));
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$/;

/**
 * Milliseconds since the epoch of an RFC 3339 time, sub-millisecond digits kept as a fraction
 * (Go writes nanoseconds); NaN when it is not one. Date.parse is not used: its acceptance of
 * odd formats differs between engines, and the original's bug was exactly a time-parsing one.
 */
export function parseRfc3339(text: string): number {
  const m = RFC3339.exec(text);
  if (!m) return NaN;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) return NaN;
  // Date.UTC maps years 0-99 to 19xx; Go's zero time is year 1.
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s), 0);
  let ms = date.getTime();
  if (frac) ms += Number(`0.${frac}`) * 1000;
  if (zone !== "Z" && zone !== "z") {
    const sign = zone![0] === "-" ? -1 : 1;
    ms -= sign * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4, 6))) * 60_000;
  }
  return ms;
}

/** Reads a peer's `/data/?cmd=get` envelope, which came with HTTP status `httpStatus`. */
export function parseGetAnswer(body: string, httpStatus = 200): PeerOutcome {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return failed("bad answer", notEnvelope("not JSON", body, httpStatus));
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return failed("bad answer", notEnvelope("not a JSON envelope", body, httpStatus));
  const env = parsed as Record<string, unknown>;
  if (env.Status === 404) return { kind: "missing" };
  if (env.Status !== 200) {
    const why = typeof env.Message === "string" ? `: ${env.Message.slice(0, 200)}` : "";
    return failed("bad answer", typeof env.Status === "number" ? `peer answered Status ${env.Status}${why}` : "no Status in the envelope");
  }
  if (typeof env.Data !== "string") return failed("bad answer", "Data is not a string");
  if (typeof env.KeyCreateTime !== "string") return failed("bad answer", "KeyCreateTime is not a string");
  const writtenAt = parseRfc3339(env.KeyCreateTime);
  if (Number.isNaN(writtenAt)) return failed("bad answer", "KeyCreateTime is not an RFC 3339 time");
  return { kind: "value", data: env.Data, keyCreateTime: env.KeyCreateTime, writtenAt };
}

/** characters of a body that is not an envelope quoted with an error status */
const QUOTED_BODY_CHARS = 100;

/**
 * Why a body is no envelope. With an error status, that status says more than the body (a crash's
 * 500, a proxy's 502 page), so it leads, with the start of the body on one line.
 */
function notEnvelope(what: string, body: string, httpStatus: number): string {
  if (httpStatus === 200) return what;
  const start = body.slice(0, QUOTED_BODY_CHARS).replace(/\s+/g, " ").trim();
  return `peer answered HTTP ${httpStatus}, ${what}${start === "" ? "" : ` (${JSON.stringify(start)})`}`;
}
