// Errors a store raises. The store does not know about protocols: the engine maps these to a
// reply (status 500, RESP prefix OOM), since commands may depend on the store but not the reverse.

/** A write the store refuses because of its memory limit; nothing was changed. */
export class StoreLimitError extends Error {
  /** the RESP error word Redis uses for the same refusal */
  readonly respPrefix = "OOM";
}

/** A single key and value larger than MaxMemory: evicting everything would not make room. */
export class ValueTooLargeError extends StoreLimitError {
  constructor(
    readonly bytes: number,
    readonly maxMemory: number,
    /** the key refused (a copy), so that loading can say which stored key no longer fits */
    readonly key: Uint8Array,
    /** what the bytes are: one entry's, or a whole command's (MSET) */
    subject = "key and value",
  ) {
    super(`value too large: ${bytes} bytes of ${subject} exceed MaxMemory (${maxMemory} bytes)`);
  }
}
