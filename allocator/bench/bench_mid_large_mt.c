/* bench_mid_large_mt - threads allocating mid/large blocks (8 KiB..512 KiB).
 * usage: bench_mid_large_mt [threads=2] [cycles=200000] [working_set=256] [seed=42]
 * cycles is per thread; reported ops are summed over threads. */
#include <pthread.h>
#include <string.h>
#include "bench_common.h"

typedef struct {
    long cycles;
    long ws;
    uint64_t seed;
} worker_arg;

static void *worker(void *argp) {
    worker_arg *a = argp;
    void **slots = calloc((size_t)a->ws, sizeof(void *));
    uint64_t rng = a->seed;
    for (long i = 0; i < a->cycles; i++) {
        uint64_t r = bench_rand(&rng);
        size_t idx = (size_t)(r % (uint64_t)a->ws);
        if (slots[idx] != NULL) {
            free(slots[idx]);
            slots[idx] = NULL;
        } else {
            /* mostly mid sizes, 1 in 16 large */
            size_t size = ((r >> 40) & 15) == 0 ? (256u << 10) + ((r >> 20) % (256u << 10))
                                                 : 8192 + (size_t)((r >> 20) % (120u << 10));
            char *p = malloc(size);
            if (p == NULL)
                abort();
            p[0] = 1;
            p[size / 2] = 2;
            p[size - 1] = 3;
            slots[idx] = p;
        }
    }
    for (long i = 0; i < a->ws; i++)
        free(slots[i]);
    free(slots);
    return NULL;
}

int main(int argc, char **argv) {
    long threads = bench_arg(argc, argv, 1, 2);
    long cycles = bench_arg(argc, argv, 2, 200000);
    long ws = bench_arg(argc, argv, 3, 256);
    uint64_t seed = (uint64_t)bench_arg(argc, argv, 4, 42);
    if (threads <= 0 || threads > 256 || cycles <= 0 || ws <= 0) {
        fprintf(stderr, "usage: %s [threads] [cycles] [working_set] [seed]\n", argv[0]);
        return 2;
    }
    pthread_t tid[256];
    worker_arg args[256];
    double t0 = bench_now();
    for (long t = 0; t < threads; t++) {
        args[t].cycles = cycles;
        args[t].ws = ws;
        args[t].seed = (seed ? seed : 1) * 0x9E3779B97F4A7C15ull + (uint64_t)t + 1;
        pthread_create(&tid[t], NULL, worker, &args[t]);
    }
    for (long t = 0; t < threads; t++)
        pthread_join(tid[t], NULL);
    double t1 = bench_now();
    char params[128];
    snprintf(params, sizeof params, "threads=%ld cycles=%ld ws=%ld seed=%llu", threads, cycles, ws,
             (unsigned long long)seed);
    bench_report("mid_large_mt", params, (uint64_t)(threads * cycles), t1 - t0);
    return 0;
}
