// Growing and dropping the store's own typed arrays so that the memory they leave goes back at
// once. A replaced array would otherwise stay resident until JSC's next full collection, which
// a busy store may not see for a long time (≈5 MB of old tables and timer columns at a million
// keys). Only for arrays nothing else holds a view of: detaching empties every view.

type Column = Int32Array<ArrayBuffer> | Uint32Array<ArrayBuffer> | Uint16Array<ArrayBuffer> | Uint8Array<ArrayBuffer> | Float64Array<ArrayBuffer>;

/** `array` lengthened to `length` (new elements `fill`); `array` itself is left empty. */
export function grown<T extends Column>(array: T, length: number, fill = 0): T {
  const old = array.length;
  const Type = array.constructor as new (buffer: ArrayBuffer) => T;
  // transfer() moves the contents (reallocating in place when it can) and detaches the old buffer.
  const bigger = new Type(array.buffer.transfer(length * array.BYTES_PER_ELEMENT));
  if (fill !== 0) bigger.fill(fill, old);
  return bigger;
}

/** Gives an array's memory back now; every view of it becomes empty. */
export function release(array: Column): void {
  if (!array.buffer.detached) array.buffer.transfer(0);
}
