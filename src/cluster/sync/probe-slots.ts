// The per-bucket tables of TombTable: open addressing with linear probing, each slot holding a
// tombstone id + 1 (0: empty), placed from the low bits of its key's hash.

/** Places `id` (whose key hashes to `hash`) in the first empty slot of its run. */
export function placeId(slots: Int32Array, hash: number, id: number): void {
  const mask = slots.length - 1;
  let slot = hash & mask;
  while (slots[slot] !== 0) slot = (slot + 1) & mask;
  slots[slot] = id + 1;
}

/** Empties a slot, moving back later entries of its run that would no longer be found. */
export function unplaceId(slots: Int32Array, hole: number, hashOf: (id: number) => number): void {
  const mask = slots.length - 1;
  for (let slot = (hole + 1) & mask; slots[slot] !== 0; slot = (slot + 1) & mask) {
    const id = slots[slot]! - 1;
    const home = hashOf(id) & mask;
    // the entry stays unless its home lies cyclically outside (hole, slot]
    const stays = hole < slot ? home > hole && home <= slot : home > hole || home <= slot;
    if (!stays) {
      slots[hole] = slots[slot]!;
      hole = slot;
    }
  }
  slots[hole] = 0;
}

/** A table of `size` slots holding the entries of `old`. */
export function resizedSlots(old: Int32Array, size: number, hashOf: (id: number) => number): Int32Array {
  const slots = new Int32Array(size);
  for (let slot = 0; slot < old.length; slot++) {
    const entry = old[slot]!;
    if (entry !== 0) placeId(slots, hashOf(entry - 1), entry - 1);
  }
  return slots;
}
