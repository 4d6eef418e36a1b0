/* bench_common.h - timing, RNG and the result line shared by the benchmarks.
 * Every benchmark prints exactly one machine-readable line
 *   Throughput = <integer> ops/s
 * plus one human-readable line. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* xorshift64* */
static inline uint64_t bench_rand(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static inline long bench_arg(int argc, char **argv, int i, long def) {
    return argc > i ? strtol(argv[i], NULL, 10) : def;
}

static inline void bench_report(const char *name, const char *params, uint64_t ops, double secs) {
    if (secs <= 0)
        secs = 1e-9;
    double tput = (double)ops / secs;
    printf("Throughput = %llu ops/s\n", (unsigned long long)tput);
    printf("%s: %s: %llu ops in %.3f s = %.2f M ops/s\n", name, params, (unsigned long long)ops, secs,
           tput / 1e6);
}

#endif
