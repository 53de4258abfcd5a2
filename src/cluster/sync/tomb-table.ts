// Sync's tombstones without an object or a string per tombstone: each is an id into typed-array
// columns (write time, share, key hash, origin, key slot), its key's bytes in a KeySlab, found by
// key through a small open-addressing table per digest bucket. Freed ids are reused and pages left
// empty at the end given back: ~59 bytes a tombstone with a 16-byte key, against ~167 for a Map
// entry holding an object and a key string.

import { murmur3Binary } from "../../common/murmur3.ts";
import { KEY_CHUNK_BYTES, KeySlab } from "./key-slab.ts";
import { placeId, resizedSlots, unplaceId } from "./probe-slots.ts";

/** ids per page of columns: pages are added as ids run out, never copied to grow */
const PAGE_SHIFT = 12;
const PAGE_IDS = 1 << PAGE_SHIFT;
const PAGE_MASK = PAGE_IDS - 1;
/** a bucket's table starts this small and doubles past 3/4 full, halves below 1/8 */
const MIN_SLOTS = 8;
/** end of the free-id list (linked through the `loc` column of free ids) */
const NO_ID = 0xffffffff;
/** ids whose key is looked at per `trim` while the slab empties chunks: ~0.1 ms */
const MOVE_IDS = 4096;

interface Page {
  /** write time of the version the tombstone stands for; NaN while the id is free */
  readonly at: Float64Array;
  readonly share: Uint32Array;
  /** the key's hash (murmur3, the table's seed): a probe passes other keys by it without reading
   * their bytes, and a removal or a table's resize needs no rehash of any key */
  readonly hash: Uint32Array;
  readonly origin: Uint16Array;
  readonly length: Uint32Array;
  /** the key's slot in the slab; for a free id, the next free id */
  readonly loc: Uint32Array;
}

export class TombTable {
  /** tombstones held */
  count = 0;
  /** per bucket: tombstones held in it */
  readonly inBucket: Uint32Array;
  /** per bucket: slots holding id + 1 (0: empty), linear probing from the key hash's low bits */
  private readonly slots: (Int32Array | undefined)[];
  private pages: Page[] = [];
  /** ids below this were handed out at least once */
  private nextId = 0;
  /**
   * Free ids, first in first out (linked through `loc`): after a burst laid and freed in about id
   * order, later tombstones take the lowest ids first and the pages at the end empty out, so
   * `trim` can give them back.
   */
  private freeId = NO_ID;
  private freeTail = NO_ID;
  /** per page: ids in it holding a tombstone */
  private pageLive: number[] = [];
  private keys = new KeySlab();
  /** while the slab is evacuating: the next id whose key is moved out of the chunks it empties */
  private moveCursor = 0;
  private readonly bucketShift: number;

  /** `buckets` (a power of two) by the top bits of murmur3(key, `seed`), as the digest's. */
  constructor(buckets: number, private readonly seed: number) {
    this.inBucket = new Uint32Array(buckets);
    this.slots = new Array<Int32Array | undefined>(buckets).fill(undefined);
    this.bucketShift = 32 - Math.log2(buckets);
  }

  /** The id of a key's tombstone (key as a binary string), or -1. */
  find(bucket: number, key: string, hash = murmur3Binary(key, this.seed)): number {
    const slots = this.slots[bucket];
    if (slots === undefined) return -1;
    const mask = slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[slot]!;
      if (entry === 0) return -1;
      const id = entry - 1;
      const page = this.pages[id >>> PAGE_SHIFT]!;
      const i = id & PAGE_MASK;
      if (page.hash[i] === hash && page.length[i] === key.length && this.keys.equals(page.loc[i]!, key)) return id;
    }
  }

  /** Adds a tombstone of a key that has none (`hash`: murmur3 of its bytes, the table's seed). */
  add(bucket: number, key: string, hash: number, at: number, origin: number, share: number): number {
    // `remove` finds the bucket from the hash: a caller that passed another would leave an id
    // that no probe finds (a bug; refused here rather than met as a loop later)
    if (bucket !== hash >>> this.bucketShift) throw new Error(`TombTable.add: bucket ${bucket} is not the key hash's (${hash >>> this.bucketShift})`);
    const id = this.newId();
    const page = this.pages[id >>> PAGE_SHIFT]!;
    const i = id & PAGE_MASK;
    page.at[i] = at;
    page.origin[i] = origin;
    page.share[i] = share;
    page.hash[i] = hash;
    page.length[i] = key.length;
    const loc = this.keys.alloc(key.length);
    page.loc[i] = loc;
    this.keys.write(loc, key);
    let slots = this.slots[bucket];
    if (slots === undefined) slots = this.slots[bucket] = new Int32Array(MIN_SLOTS);
    else if ((this.inBucket[bucket]! + 1) * 4 > slots.length * 3) slots = this.resize(bucket, slots.length * 2);
    placeId(slots, hash, id);
    this.inBucket[bucket]!++;
    this.count++;
    return id;
  }

  /** Gives a tombstone a new version in place (the key deleted again). */
  update(id: number, at: number, origin: number, share: number): void {
    const page = this.pages[id >>> PAGE_SHIFT]!;
    const i = id & PAGE_MASK;
    page.at[i] = at;
    page.origin[i] = origin;
    page.share[i] = share;
  }

  /** Removes a tombstone (its id and key slot are reused by later ones); returns its bucket. */
  remove(id: number): number {
    const page = this.pages[id >>> PAGE_SHIFT]!;
    const i = id & PAGE_MASK;
    const hash = page.hash[i]!;
    const bucket = hash >>> this.bucketShift;
    const slots = this.slots[bucket]!;
    const mask = slots.length - 1;
    let slot = hash & mask;
    while (slots[slot] !== id + 1) {
      if (slots[slot] === 0) throw new Error(`TombTable.remove: tombstone ${id} is not in its bucket's table`); // (a bug: never loop)
      slot = (slot + 1) & mask;
    }
    unplaceId(slots, slot, this.hashOf);
    this.keys.free(page.loc[i]!, page.length[i]!);
    page.at[i] = NaN;
    page.loc[i] = NO_ID;
    if (this.freeTail === NO_ID) this.freeId = id;
    else this.pages[this.freeTail >>> PAGE_SHIFT]!.loc[this.freeTail & PAGE_MASK] = id;
    this.freeTail = id;
    this.pageLive[id >>> PAGE_SHIFT]!--;
    this.count--;
    const left = --this.inBucket[bucket]!;
    // a bucket without tombstones takes the digest's fast paths (no table at all)
    if (left === 0) this.slots[bucket] = undefined;
    else if (slots.length > MIN_SLOTS && left * 8 < slots.length) this.resize(bucket, slots.length / 2);
    // the last one gone: give back every page and chunk (ids restart; slices check `at`), unless
    // they are only the first page and chunk: a quiet node going between 0 and 1 tombstone would
    // otherwise make both again for each first one
    if (this.count === 0 && (this.pageCount > 1 || this.keys.bytes > KEY_CHUNK_BYTES)) this.clear();
    return bucket;
  }

  /** Ids below this were handed out (a walk of every id stops there). */
  get idEnd(): number {
    return this.nextId;
  }

  /** The write time of tombstone `id`; NaN for an id that is free or was never handed out. */
  at(id: number): number {
    return id < this.nextId ? this.pages[id >>> PAGE_SHIFT]!.at[id & PAGE_MASK]! : NaN;
  }

  origin(id: number): number {
    return this.pages[id >>> PAGE_SHIFT]!.origin[id & PAGE_MASK]!;
  }

  share(id: number): number {
    return this.pages[id >>> PAGE_SHIFT]!.share[id & PAGE_MASK]!;
  }

  /** The key of tombstone `id` as a binary string. */
  key(id: number): string {
    const page = this.pages[id >>> PAGE_SHIFT]!;
    return this.keys.read(page.loc[id & PAGE_MASK]!, page.length[id & PAGE_MASK]!);
  }

  /** The ids of a bucket's tombstones (a copy: the caller may remove them as it goes). */
  idsIn(bucket: number): number[] {
    const ids: number[] = [];
    const slots = this.slots[bucket];
    if (slots !== undefined) {
      for (let slot = 0; slot < slots.length; slot++) if (slots[slot] !== 0) ids.push(slots[slot]! - 1);
    }
    return ids;
  }

  /** Pages of ids handed out so far: the parts a walk in id order (`idsOfPage`) takes. */
  get pageCount(): number {
    return this.pages.length;
  }

  /**
   * The ids of tombstones held in a page of ids. A walk of every tombstone in this order reads
   * the columns and the key chunks front to back, mostly as they were laid, where a walk by
   * bucket jumps across all of them (a million: ~4x slower, every read a cache miss).
   */
  idsOfPage(page: number): number[] {
    const ids: number[] = [];
    const at = this.pages[page]?.at;
    if (at === undefined) return ids;
    const first = page << PAGE_SHIFT;
    for (let i = 0, end = Math.min(PAGE_IDS, this.nextId - first); i < end; i++) if (at[i] === at[i]) ids.push(first + i);
    return ids;
  }

  /** Bytes of typed arrays held (columns, bucket tables, key chunks), for tests and benches. */
  get footprint(): number {
    let bytes = this.keys.bytes + this.pages.length * PAGE_IDS * 26;
    for (const slots of this.slots) bytes += slots?.byteLength ?? 0;
    return bytes;
  }

  /**
   * An independent copy: typed arrays copied whole (a million tombstones: ~60 MB in ~20 ms, where
   * reading each one's key into a string takes ~200 ms).
   */
  clone(): TombTable {
    const copy = new TombTable(this.inBucket.length, this.seed);
    copy.count = this.count;
    copy.inBucket.set(this.inBucket);
    for (let bucket = 0; bucket < this.slots.length; bucket++) copy.slots[bucket] = this.slots[bucket]?.slice();
    copy.pages = this.pages.map((p) => ({ at: p.at.slice(), share: p.share.slice(), hash: p.hash.slice(), origin: p.origin.slice(), length: p.length.slice(), loc: p.loc.slice() }));
    copy.nextId = this.nextId;
    copy.freeId = this.freeId;
    copy.freeTail = this.freeTail;
    copy.pageLive = this.pageLive.slice();
    copy.keys = this.keys.clone();
    copy.moveCursor = this.moveCursor;
    return copy;
  }

  /**
   * Gives back the pages of ids at the end that hold no tombstone, and the key chunks likewise,
   * once they are at least half of all (the walk of the free list it takes is then paid for by
   * the removals that emptied them). Ids past the new end may still be listed in a slice: they
   * read as free (`at` is NaN) until handed out again. Key chunks left holding few keys (a burst
   * gone, later keys of other lengths laid past it) are emptied a few thousand ids per call, and
   * given back once every id was looked at.
   */
  trim(): void {
    this.trimPages();
    this.moveKeys();
    this.keys.trim();
  }

  /** Moves the keys of the next ids out of the chunks the slab empties, if it is emptying some. */
  private moveKeys(): void {
    if (!this.keys.evacuating) {
      if (!this.keys.evacuate()) return;
      this.moveCursor = 0;
    }
    const end = Math.min(this.nextId, this.moveCursor + MOVE_IDS);
    for (let id = this.moveCursor; id < end; id++) {
      const page = this.pages[id >>> PAGE_SHIFT]!;
      const i = id & PAGE_MASK;
      // (a free id's `loc` links the free list: only held ones have a key)
      if (page.at[i] === page.at[i]) page.loc[i] = this.keys.relocate(page.loc[i]!, page.length[i]!);
    }
    this.moveCursor = end;
    if (end >= this.nextId) this.keys.endEvacuation();
  }

  private trimPages(): void {
    let keep = this.pages.length;
    while (keep > 0 && this.pageLive[keep - 1] === 0) keep--;
    if (keep === this.pages.length || (this.pages.length - keep) * 2 < this.pages.length) return;
    const limit = keep << PAGE_SHIFT;
    let head = NO_ID;
    let tail = NO_ID;
    for (let id = this.freeId; id !== NO_ID; ) {
      const loc = this.pages[id >>> PAGE_SHIFT]!.loc;
      const next = loc[id & PAGE_MASK]!;
      if (id < limit) {
        if (tail === NO_ID) head = id;
        else this.pages[tail >>> PAGE_SHIFT]!.loc[tail & PAGE_MASK] = id;
        tail = id;
      }
      id = next;
    }
    if (tail !== NO_ID) this.pages[tail >>> PAGE_SHIFT]!.loc[tail & PAGE_MASK] = NO_ID;
    this.freeId = head;
    this.freeTail = tail;
    this.pages.length = keep;
    this.pageLive.length = keep;
    this.nextId = limit;
  }

  /** Forgets every tombstone. */
  clear(): void {
    this.count = 0;
    this.inBucket.fill(0);
    this.slots.fill(undefined);
    this.pages = [];
    this.nextId = 0;
    this.freeId = this.freeTail = NO_ID;
    this.pageLive = [];
    this.keys.clear();
  }

  private newId(): number {
    if (this.freeId !== NO_ID) {
      const id = this.freeId;
      this.freeId = this.pages[id >>> PAGE_SHIFT]!.loc[id & PAGE_MASK]!;
      if (this.freeId === NO_ID) this.freeTail = NO_ID;
      this.pageLive[id >>> PAGE_SHIFT]!++;
      return id;
    }
    const id = this.nextId++;
    if ((id & PAGE_MASK) === 0) {
      this.pageLive.push(0);
      this.pages.push({
        at: new Float64Array(PAGE_IDS),
        share: new Uint32Array(PAGE_IDS),
        hash: new Uint32Array(PAGE_IDS),
        origin: new Uint16Array(PAGE_IDS),
        length: new Uint32Array(PAGE_IDS),
        loc: new Uint32Array(PAGE_IDS),
      });
    }
    this.pageLive[id >>> PAGE_SHIFT]!++;
    return id;
  }

  private resize(bucket: number, size: number): Int32Array {
    return (this.slots[bucket] = resizedSlots(this.slots[bucket]!, size, this.hashOf));
  }

  private readonly hashOf = (id: number): number => this.pages[id >>> PAGE_SHIFT]!.hash[id & PAGE_MASK]!;
}
