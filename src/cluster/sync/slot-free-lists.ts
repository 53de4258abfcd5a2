// The free slots of a KeySlab, one list per slot size, first in first out, linked through the
// first word of each free slot (the slab reads and writes those words for it).

/** sizes up to this many units (1 KiB keys) keep their lists' ends in typed arrays */
const SMALL_UNITS = 256;
/** no slot (end of a list); never a real loc, which the slab's chunk limit keeps below it */
export const NONE = 0xffffffff;

export class SlotFreeLists {
  private readonly smallHead = new Uint32Array(SMALL_UNITS + 1).fill(NONE);
  private readonly smallTail = new Uint32Array(SMALL_UNITS + 1).fill(NONE);
  private readonly bigHead = new Map<number, number>();
  private readonly bigTail = new Map<number, number>();

  /** `link(loc)`: the word a free slot at `loc` holds; `setLink` writes it. */
  constructor(
    private readonly link: (loc: number) => number,
    private readonly setLink: (loc: number, next: number) => void,
  ) {}

  /** The oldest free slot of this size, taken off its list, or NONE. */
  pop(units: number): number {
    const head = this.headOf(units);
    if (head === NONE) return NONE;
    const next = this.link(head);
    if (units <= SMALL_UNITS) {
      this.smallHead[units] = next;
      if (next === NONE) this.smallTail[units] = NONE;
    } else this.setEnds(units, next, next === NONE ? NONE : this.bigTail.get(units)!);
    return head;
  }

  /** Puts a slot at the end of its size's list. */
  push(loc: number, units: number): void {
    this.setLink(loc, NONE);
    const tail = units <= SMALL_UNITS ? this.smallTail[units]! : (this.bigTail.get(units) ?? NONE);
    if (tail === NONE) this.setEnds(units, loc, loc);
    else {
      this.setLink(tail, loc);
      if (units <= SMALL_UNITS) this.smallTail[units] = loc;
      else this.bigTail.set(units, loc);
    }
  }

  /** Drops the free slots for which `drop(loc)` holds (in chunks given back or being emptied). */
  dropWhere(drop: (loc: number) => boolean): void {
    for (let units = 1; units <= SMALL_UNITS; units++) if (this.smallHead[units] !== NONE) this.dropOfSize(units, drop);
    for (const units of [...this.bigHead.keys()]) this.dropOfSize(units, drop);
  }

  /** The same lists as `other` (whose slots' links the caller copied along with its chunks). */
  copyFrom(other: SlotFreeLists): void {
    this.smallHead.set(other.smallHead);
    this.smallTail.set(other.smallTail);
    for (const [units, loc] of other.bigHead) this.bigHead.set(units, loc);
    for (const [units, loc] of other.bigTail) this.bigTail.set(units, loc);
  }

  clear(): void {
    this.smallHead.fill(NONE);
    this.smallTail.fill(NONE);
    this.bigHead.clear();
    this.bigTail.clear();
  }

  private headOf(units: number): number {
    return units <= SMALL_UNITS ? this.smallHead[units]! : (this.bigHead.get(units) ?? NONE);
  }

  private setEnds(units: number, head: number, tail: number): void {
    if (units <= SMALL_UNITS) {
      this.smallHead[units] = head;
      this.smallTail[units] = tail;
    } else if (head === NONE) {
      this.bigHead.delete(units);
      this.bigTail.delete(units);
    } else {
      this.bigHead.set(units, head);
      this.bigTail.set(units, tail);
    }
  }

  private dropOfSize(units: number, drop: (loc: number) => boolean): void {
    let head = NONE;
    let tail = NONE;
    for (let loc = this.headOf(units); loc !== NONE; ) {
      const next = this.link(loc);
      if (!drop(loc)) {
        if (tail === NONE) head = loc;
        else this.setLink(tail, loc);
        tail = loc;
      }
      loc = next;
    }
    if (tail !== NONE) this.setLink(tail, NONE);
    this.setEnds(units, head, tail);
  }
}
