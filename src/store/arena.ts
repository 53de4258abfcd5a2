// Where the compact store keeps key and value bytes: 1 MiB ArrayBuffer pages carved into blocks of
// fixed size classes (free blocks are reused by their class, newest first), and a block of its own
// for anything larger than LARGE_BYTES. A block is addressed by one uint32, so the store's tables
// stay small. A page whose blocks are all free is let go (and its number reused): free blocks of
// one class cannot serve another, so without that, values whose sizes drift (100-byte values
// giving way to 1,000-byte ones under MaxMemory) kept every page the old sizes ever filled. A
// page that a few live blocks pin is emptied by the compactor (compactor.ts) through `evacuate`.

import { StoreLimitError } from "./errors.ts";
import { CLASS_BYTES, CLASS_COUNT, classOf, FreeStack, LARGE_BYTES } from "./size-classes.ts";
import { grown } from "./typed-arrays.ts";

/** Blocks are multiples of 8 bytes; addresses count 8-byte units, so a uint32 spans 32 GiB. */
const UNIT_SHIFT = 3;
const PAGE_SHIFT = 20;
export const PAGE_BYTES = 1 << PAGE_SHIFT;
const PAGE_UNIT_BITS = PAGE_SHIFT - UNIT_SHIFT;
const PAGE_UNITS = 1 << PAGE_UNIT_BITS;
const UNIT_MASK = PAGE_UNITS - 1;
/** page numbers fill the top bits of a uint32 address: 32 GiB of small blocks */
const MAX_PAGES = 1 << (32 - PAGE_UNIT_BITS);
/** empty pages are let go at most this often (each time is one pass over the free stacks)… */
const RELEASE_EVERY_MS = 100;
/** …when the free stacks hold more blocks than this (a pass over fewer costs well under 0.1 ms) */
const CHEAP_RELEASE_BLOCKS = 65_536;

/** what a page let go holds in `pages` until its number is reused */
const RELEASED = new Uint8Array(0);

/**
 * Free blocks one allocation looks at, at most: most free blocks of a class can be on pages the
 * compactor is emptying (under a quarter full), and dropping them all in one call held a SET for
 * milliseconds (3.6M entries: 3.8–8.5 ms). Past this it carves a new block instead.
 */
const LEAVING_DROPS_PER_ALLOC = 64;

export class Arena {
  private pages: Uint8Array[] = [];
  /** the page blocks are carved from (past its end: none yet), and where its free room starts */
  private current = -1;
  private top = PAGE_UNITS;
  /** 8-byte units of each page in blocks handed out and not yet filed as free */
  private liveUnits = new Int32Array(16);
  /** 1 for a page the compactor is emptying: its free blocks are never handed out again */
  private leaving = new Uint8Array(16);
  /** numbers of pages let go, for the next new page */
  private released: number[] = [];
  /** a page with nothing live is waiting to be let go (checked at the next reclaim) */
  private leftEmpty = false;
  /** when empty pages were last let go (performance.now()) */
  private releasedAt = -Infinity;
  private freeBlocks: FreeStack[] = Array.from({ length: CLASS_COUNT }, () => new FreeStack());
  private large: (Uint8Array | undefined)[] = [];
  private freeLarge: number[] = [];
  /** freed this turn of the event loop: reusable only once no caller can still hold a view */
  private pending = new Uint32Array(1024);
  private pendingCount = 0;
  private reclaimQueued = false;
  private largeBytes = 0;
  private readonly reclaimTask = (): void => this.reclaim();
  /** snapshots alive: while any is, freed blocks are not reused (their bytes are the snapshot's) */
  private holds = 0;

  /** Keeps every block's bytes as they are until `unhold` (a point-in-time snapshot reads them). */
  hold(): Uint8Array[] {
    this.holds++;
    return this.pages.slice();
  }

  unhold(): void {
    this.holds--;
    if (this.holds === 0 && this.pendingCount > 0 && !this.reclaimQueued) {
      this.reclaimQueued = true;
      setImmediate(this.reclaimTask);
    }
  }

  /** Bytes reserved from the system: whole pages plus large blocks. */
  get reservedBytes(): number {
    return (this.pages.length - this.released.length) * PAGE_BYTES + this.largeBytes;
  }

  /** A block for `size` bytes; the caller remembers `size`, every other call needs it again. */
  alloc(size: number): number {
    if (size > LARGE_BYTES) {
      const index = this.freeLarge.pop() ?? this.large.length;
      this.large[index] = new Uint8Array(size);
      this.largeBytes += size;
      return index;
    }
    const cls = classOf(size);
    const units = CLASS_BYTES[cls]! >>> UNIT_SHIFT;
    const free = this.freeBlocks[cls]!;
    for (let looked = 0; free.count > 0 && looked < LEAVING_DROPS_PER_ALLOC; looked++) {
      const address = free.addresses[--free.count]!;
      const page = address >>> PAGE_UNIT_BITS;
      // (dropped from the stack: a page being emptied must not fill up again behind the compactor;
      // the ones past the cap are dropped by later allocations, or when their page is let go)
      if (this.leaving[page] !== 0) continue;
      this.liveUnits[page]! += units;
      return address;
    }
    if (this.top + units > PAGE_UNITS) this.newPage();
    const address = (this.current << PAGE_UNIT_BITS) | this.top;
    this.top += units;
    this.liveUnits[this.current]! += units;
    return address >>> 0;
  }

  /**
   * Gives a block back. It is reused only from the next turn of the event loop (setImmediate), so
   * a value view handed out earlier stays intact while the command, its batch, and any promise
   * continuations of the current turn (an HTTP handler awaiting `execute`) are answered.
   */
  free(address: number, size: number): void {
    if (size > LARGE_BYTES) {
      // Views of the old array keep it alive; the index can be reused at once.
      this.large[address] = undefined;
      this.largeBytes -= size;
      this.freeLarge.push(address);
      return;
    }
    this.pending[this.pendingCount++] = address;
    this.pending[this.pendingCount++] = classOf(size);
    if (this.pendingCount === this.pending.length) this.growPending();
    if (!this.reclaimQueued) {
      this.reclaimQueued = true;
      setImmediate(this.reclaimTask);
    }
  }

  /** Whether a snapshot holds blocks' bytes in place (then nothing may move). */
  get held(): boolean {
    return this.holds > 0;
  }

  /**
   * Pages with some but fewer than `maxUnits` live 8-byte units, not the one being carved and not
   * already being emptied: the ones worth emptying.
   */
  sparsePages(maxUnits: number): number[] {
    const found: number[] = [];
    for (let page = 0; page < this.pages.length; page++) {
      const live = this.liveUnits[page]!;
      if (live > 0 && live < maxUnits && page !== this.current && this.leaving[page] === 0 && this.pages[page] !== RELEASED) found.push(page);
    }
    return found;
  }

  /**
   * Marks pages to be emptied: none of their free blocks is handed out again (alloc drops them
   * from the stacks as it meets them: no pass over the stacks now), so once the compactor has
   * moved their live blocks and the last one is filed free, they are let go.
   */
  evacuate(pages: number[]): void {
    for (const page of pages) this.leaving[page] = 1;
  }

  /** Whether a small block (≤ LARGE_BYTES) is on a page being emptied. */
  isLeaving(address: number): boolean {
    return this.leaving[address >>> PAGE_UNIT_BITS] !== 0;
  }

  /**
   * Lets go of pages left empty while releases were rate-limited. The compactor's tick: otherwise
   * only a later free would (a quiet store frees nothing, and kept the pages).
   */
  tidy(): void {
    if (!this.leftEmpty || this.holds > 0 || this.pendingCount > 0) return;
    const now = performance.now();
    if (now - this.releasedAt < RELEASE_EVERY_MS) return;
    this.releasedAt = now;
    this.releaseEmptyPages();
  }

  /** The page (or own array) holding a block. */
  bytesOf(address: number, size: number): Uint8Array {
    return size > LARGE_BYTES ? this.large[address]! : this.pages[address >>> PAGE_UNIT_BITS]!;
  }

  /** The page holding a small block (≤ LARGE_BYTES). */
  page(address: number): Uint8Array {
    return this.pages[address >>> PAGE_UNIT_BITS]!;
  }

  /** 8-byte units in a page: live counts are in these */
  static readonly PAGE_UNITS = PAGE_UNITS;

  /** The page (of a list from `hold`) holding a small block, and the block's offset in it. */
  static pageIndex(address: number): number {
    return address >>> PAGE_UNIT_BITS;
  }

  static pageOffset(address: number): number {
    return (address & UNIT_MASK) << UNIT_SHIFT;
  }

  /** Offset of a block inside `bytesOf`. */
  offsetOf(address: number, size: number): number {
    return size > LARGE_BYTES ? 0 : (address & UNIT_MASK) << UNIT_SHIFT;
  }

  /** Drops everything. Views handed out before keep their (now detached from us) pages alive. */
  clear(): void {
    this.pages = [];
    this.current = -1;
    this.top = PAGE_UNITS;
    this.liveUnits = new Int32Array(16);
    this.leaving = new Uint8Array(16);
    this.released = [];
    this.leftEmpty = false;
    this.releasedAt = -Infinity;
    this.freeBlocks = Array.from({ length: CLASS_COUNT }, () => new FreeStack());
    this.large = [];
    this.freeLarge = [];
    this.largeBytes = 0;
    this.pendingCount = 0;
  }

  /**
   * Files the blocks freed so far for reuse now: only when no caller holds a view of a block
   * (loading at start, which frees a block per overwrite within one turn). A snapshot still holds.
   */
  settle(): void {
    if (this.holds === 0) this.reclaim();
  }

  /**
   * Files the blocks freed since the last reclaim on their free stacks, and lets go of every page
   * (but the one being carved) that no longer holds a live block.
   */
  private reclaim(): void {
    this.reclaimQueued = false;
    if (this.holds > 0) return; // unhold() queues the reclaim again
    const pending = this.pending;
    const free = this.freeBlocks;
    const live = this.liveUnits;
    let emptied = this.leftEmpty;
    for (let i = 0; i < this.pendingCount; i += 2) {
      const address = pending[i]!;
      const cls = pending[i + 1]!;
      const page = address >>> PAGE_UNIT_BITS;
      if (this.leaving[page] === 0) free[cls]!.push(address);
      if ((live[page]! -= CLASS_BYTES[cls]! >>> UNIT_SHIFT) === 0 && page !== this.current) emptied = true;
    }
    this.pendingCount = 0;
    if (!emptied) return;
    // One pass over the free stacks lets go of every empty page at once. When the stacks are long
    // (millions of free blocks after many deletes) and pages empty turn after turn (a wave of
    // expiries), the pass runs at most every RELEASE_EVERY_MS; the pages wait for a later reclaim.
    const now = performance.now();
    if (this.freeCount() > CHEAP_RELEASE_BLOCKS && now - this.releasedAt < RELEASE_EVERY_MS) {
      this.leftEmpty = true;
      return;
    }
    this.releasedAt = now;
    this.releaseEmptyPages();
  }

  /** Free blocks on the stacks, all classes. */
  freeCount(): number {
    let count = 0;
    for (const stack of this.freeBlocks) count += stack.count;
    return count;
  }

  /**
   * Lets go of the pages with no live block: their free blocks leave the free stacks (one pass
   * over them), and the page numbers wait for the next new page. Rare: a page empties only once
   * every block carved from it is free at once.
   */
  private releaseEmptyPages(): void {
    this.leftEmpty = false;
    const live = this.liveUnits;
    const pages = this.pages;
    const gone = new Uint8Array(pages.length);
    for (let page = 0; page < pages.length; page++) {
      if (live[page] !== 0 || page === this.current || pages[page] === RELEASED) continue;
      gone[page] = 1;
      pages[page] = RELEASED;
      this.leaving[page] = 0;
      this.released.push(page);
    }
    for (const stack of this.freeBlocks) {
      const addresses = stack.addresses;
      let kept = 0;
      for (let i = 0; i < stack.count; i++) {
        const address = addresses[i]!;
        if (gone[address >>> PAGE_UNIT_BITS] === 0) addresses[kept++] = address;
      }
      stack.count = kept;
    }
  }

  private growPending(): void {
    this.pending = grown(this.pending, this.pending.length * 2);
  }

  private newPage(): void {
    // A page left with nothing live (its blocks were freed while it was still being carved) is
    // let go at the next reclaim; the others go when their last block is filed as free.
    if (this.current >= 0 && this.liveUnits[this.current] === 0) this.leftEmpty = true;
    const page = new Uint8Array(new ArrayBuffer(PAGE_BYTES));
    const reused = this.released.pop();
    if (reused !== undefined) {
      this.pages[reused] = page;
      this.current = reused;
    } else {
      if (this.pages.length === MAX_PAGES) throw new StoreLimitError(`the arena is full (${MAX_PAGES} pages of ${PAGE_BYTES} bytes)`);
      this.current = this.pages.length;
      this.pages.push(page);
      if (this.current >= this.liveUnits.length) {
        this.liveUnits = grown(this.liveUnits, this.liveUnits.length * 2);
        this.leaving = grown(this.leaving, this.liveUnits.length);
      }
    }
    this.top = 0;
  }
}
