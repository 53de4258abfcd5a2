// Node-style system errors (EADDRINUSE, EACCES, EISDIR…): their code, for messages that name
// what went wrong without a stack trace.

/** The error's system code (`EACCES`), or undefined when it has none. */
export function errorCode(error: unknown): string | undefined {
  return error instanceof Error && "code" in error ? String(error.code) : undefined;
}

/** "EACCES: permission denied" from a Node system error (its code and its text without the code); undefined for other errors. */
export function systemErrorText(error: unknown): string | undefined {
  if (!(error instanceof Error && "code" in error && typeof error.code === "string")) return undefined;
  return `${error.code}: ${error.message.replace(/^[A-Z]+: /, "")}`;
}
