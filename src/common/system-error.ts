// Node-style system errors (EADDRINUSE, EACCES, EISDIR…): their code, for messages that name
// what went wrong without a stack trace.

/** The error's system code (`EACCES`), or undefined when it has none. */
export function errorCode(error: unknown): string | undefined {
  return error instanceof Error && "code" in error ? String(error.code) : undefined;
}
