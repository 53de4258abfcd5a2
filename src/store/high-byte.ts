// Millisecond times kept as their low 32 bits plus one byte for the rest, counted from a base
// near the store's start: the slot rows' write times and the timer wheel's due times. Any time
// the byte cannot express (FAR) is kept aside whole by its owner.

const TWO_32 = 0x100000000;
/** the byte of a time kept aside */
export const FAR = 0xff;

/** The byte for a time whose bits 32 and up are `high` (≥ 0): 0 for 0, else 1 + (high - base) up to 254, else FAR. */
export function highByte(high: number, base: number): number {
  if (high === 0) return 0;
  const byte = high - base + 1;
  return byte >= 1 && byte < FAR ? byte : FAR;
}

/** The time from its byte (not FAR) and its low 32 bits. */
export function fromHighByte(byte: number, base: number, low: number): number {
  return byte === 0 ? low : (base + byte - 1) * TWO_32 + low;
}
