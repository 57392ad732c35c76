// countRandoms of src/randoms/count.ts, line for line in C: what the bench's `kernel-ns`
// row holds our kernel against (built with cc -O3). Prints the best ns per draw of 5 runs
// of 1e8 draws, and their sum, so that no compiler can skip the work.
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define RANGE 1000
static inline uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

__attribute__((noinline)) static void count(int64_t n, uint32_t s[4], uint32_t raw[1024]) {
  memset(raw, 0, 1024 * sizeof *raw);
  uint32_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
  for (int64_t drawn = 0; drawn < n;) {
    uint32_t out = rotl(s1 * 5u, 7) * 9u, t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
    uint32_t a = out >> 22;
    if (drawn < n - 2) {
      uint32_t b = (out >> 12) & 1023u, c = (out >> 2) & 1023u;
      raw[a]++; raw[b]++; raw[c]++;
      drawn += (a < RANGE) + (b < RANGE) + (c < RANGE);
    } else if (a < RANGE) { raw[a]++; drawn++; }
  }
  s[0] = s0; s[1] = s1; s[2] = s2; s[3] = s3;
}

int main(void) {
  static uint32_t raw[1024];
  uint32_t seed[4] = {0x9e3779b9, 0x243f6a88, 0xb7e15162, 0x12345678};
  const int64_t n = 100000000;
  double best = 1e9;
  uint64_t sum = 0;
  for (int run = 0; run < 5; run++) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    count(n, seed, raw);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
    if (ns < best) best = ns;
    for (int i = 0; i < RANGE; i++) sum += raw[i];
  }
  printf("%.4f %llu\n", best, (unsigned long long)sum);
  return 0;
}
