// How much of a core's cache a process still has after it was away: random 8-byte reads and
// writes over a buffer of MB MiB, in batches of BATCH x 8 accesses, with a pause of GAP_US
// microseconds between batches: slept, or with "spin" spent counting in a register (no memory,
// no system call). Prints the time per access inside the batches only. On a core of its own, a
// 1 MiB buffer stays in L2 through such a pause; on this VM even a spun pause of 0.5 ms leaves it
// colder (bench/README, eighth session): something outside the guest uses the core's L2 meanwhile.
// That is the per-record toll a sync peer pays between batches.
// Build and run: gcc -O2 -o /tmp/cache-toll bench/cache-toll.c
//                taskset -c 1 /tmp/cache-toll MB BATCH GAP_US ITERATIONS [spin]
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: cache-toll MB BATCH GAP_US ITERATIONS [spin]\n");
    return 2;
  }
  size_t n = (size_t)atoi(argv[1]) * 1024 * 1024 / 8;
  int batch = atoi(argv[2]), gap = atoi(argv[3]), iterations = atoi(argv[4]);
  int spin = argc > 5 && argv[5][0] == 's';
  if (n == 0 || batch <= 0 || gap < 0 || iterations <= 5) {
    fprintf(stderr, "MB and BATCH must be > 0, GAP_US >= 0, ITERATIONS > 5\n");
    return 2;
  }
  uint64_t *a = malloc(n * 8);
  if (!a) return 1;
  for (size_t i = 0; i < n; i++) a[i] = i * 2654435761u;
  uint64_t x = 88172645463325252ull, sum = 0;
  double total = 0;
  volatile long counter;
  // counting loops per microsecond, for "spin"
  double c0 = now_us();
  for (long k = 0; k < 50000000; k++) counter = k;
  double loops_per_us = 50000000 / (now_us() - c0);
  for (int it = 0; it < iterations; it++) {
    if (gap && spin) {
      for (long k = 0, end = (long)(gap * loops_per_us); k < end; k++) counter = k;
    } else if (gap) {
      struct timespec ts = {gap / 1000000, (gap % 1000000) * 1000L};
      nanosleep(&ts, 0);
    }
    double t0 = now_us();
    for (int r = 0; r < batch * 8; r++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      size_t j = x % n;
      sum += a[j];
      a[j] = sum;
    }
    if (it >= 5) total += now_us() - t0; // the first five batches warm up
  }
  (void)counter;
  printf("%d MiB, batches of %d x 8, gap %d us %s: %.1f ns per access (%llu)\n", atoi(argv[1]), batch, gap,
         spin ? "spun" : "slept", total / (iterations - 5) / batch / 8 * 1000, (unsigned long long)(sum & 1));
  return 0;
}
