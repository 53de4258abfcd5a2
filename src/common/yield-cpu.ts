// Offers the CPU to other runnable processes (sched_yield(2) through bun:ffi). It returns at once
// when nothing else waits for this core. Where libc cannot be opened (not glibc Linux) it does
// nothing: yielding is a courtesy to processes sharing the core, never needed for correctness.

import { dlopen, FFIType } from "bun:ffi";

function open(): (() => number) | undefined {
  try {
    return dlopen("libc.so.6", { sched_yield: { args: [], returns: FFIType.i32 } }).symbols.sched_yield as () => number;
  } catch {
    return undefined;
  }
}

const schedYield = open();

/** Whether `yieldCpu` makes the system call (false: libc could not be opened, it does nothing). */
export const yieldsForReal = schedYield !== undefined;

export function yieldCpu(): void {
  schedYield?.();
}
