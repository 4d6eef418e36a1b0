/* bench_random_mixed - single thread, random sizes 16..1024 B.
 * usage: bench_random_mixed [cycles=10000000] [working_set=256] [seed=42]
 * Each cycle picks a random slot: frees it if used, else allocates into it. */
#include <string.h>
#include "bench_common.h"

int main(int argc, char **argv) {
    long cycles = bench_arg(argc, argv, 1, 10000000);
    long ws = bench_arg(argc, argv, 2, 256);
    uint64_t seed = (uint64_t)bench_arg(argc, argv, 3, 42);
    if (cycles <= 0 || ws <= 0) {
        fprintf(stderr, "usage: %s [cycles] [working_set] [seed]\n", argv[0]);
        return 2;
    }
    void **slots = calloc((size_t)ws, sizeof(void *));
    uint64_t rng = seed ? seed : 1;
    uint64_t checksum = 0;
    double t0 = bench_now();
    for (long i = 0; i < cycles; i++) {
        uint64_t r = bench_rand(&rng);
        size_t idx = (size_t)(r % (uint64_t)ws);
        if (slots[idx] != NULL) {
            checksum += *(unsigned char *)slots[idx];
            free(slots[idx]);
            slots[idx] = NULL;
        } else {
            size_t size = 16 + (size_t)((r >> 32) % (1024 - 16 + 1));
            unsigned char *p = malloc(size);
            if (p == NULL) {
                fprintf(stderr, "malloc failed\n");
                return 1;
            }
            p[0] = (unsigned char)i;
            p[size - 1] = (unsigned char)(i >> 8);
            slots[idx] = p;
        }
    }
    double t1 = bench_now();
    for (long i = 0; i < ws; i++)
        free(slots[i]);
    free(slots);
    char params[128];
    snprintf(params, sizeof params, "cycles=%ld ws=%ld seed=%llu (chk %llu)", cycles, ws,
             (unsigned long long)seed, (unsigned long long)(checksum & 0xffff));
    bench_report("random_mixed", params, (uint64_t)cycles, t1 - t0);
    return 0;
}
