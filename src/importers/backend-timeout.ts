// The error a read-through backend fails with when it does not answer in time.

export class BackendTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}
