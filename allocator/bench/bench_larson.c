/* bench_larson - larson-style server simulation with cross-thread frees.
 * usage: bench_larson [threads=2] [rounds=20] [ops_per_round=50000] [slots=1000] [seed=42]
 * Each round starts `threads` workers. Every worker inherits the slot array
 * of another worker from the previous round (so it frees blocks allocated by
 * a thread that has exited or is still running), replaces random slots with
 * new blocks (16..512 B), then hands its array on. */
#include <pthread.h>
#include <string.h>
#include "bench_common.h"

typedef struct {
    void **slots;
    long nslots;
    long ops;
    uint64_t seed;
} larson_arg;

static void *larson_worker(void *argp) {
    larson_arg *a = argp;
    uint64_t rng = a->seed;
    for (long i = 0; i < a->ops; i++) {
        uint64_t r = bench_rand(&rng);
        long idx = (long)(r % (uint64_t)a->nslots);
        free(a->slots[idx]);
        size_t size = 16 + (size_t)((r >> 32) % (512 - 16 + 1));
        char *p = malloc(size);
        if (p == NULL)
            abort();
        p[0] = (char)i;
        a->slots[idx] = p;
    }
    return NULL;
}

int main(int argc, char **argv) {
    long threads = bench_arg(argc, argv, 1, 2);
    long rounds = bench_arg(argc, argv, 2, 20);
    long ops = bench_arg(argc, argv, 3, 50000);
    long nslots = bench_arg(argc, argv, 4, 1000);
    uint64_t seed = (uint64_t)bench_arg(argc, argv, 5, 42);
    if (threads <= 0 || threads > 64 || rounds <= 0 || ops <= 0 || nslots <= 0) {
        fprintf(stderr, "usage: %s [threads] [rounds] [ops_per_round] [slots] [seed]\n", argv[0]);
        return 2;
    }
    void **arrays[64];
    for (long t = 0; t < threads; t++)
        arrays[t] = calloc((size_t)nslots, sizeof(void *));
    pthread_t tid[64];
    larson_arg args[64];
    double t0 = bench_now();
    for (long r = 0; r < rounds; r++) {
        for (long t = 0; t < threads; t++) {
            args[t].slots = arrays[(t + r) % threads]; /* rotate: cross-thread frees */
            args[t].nslots = nslots;
            args[t].ops = ops;
            args[t].seed = (seed ? seed : 1) * 0x9E3779B97F4A7C15ull + (uint64_t)(r * threads + t) + 1;
            pthread_create(&tid[t], NULL, larson_worker, &args[t]);
        }
        for (long t = 0; t < threads; t++)
            pthread_join(tid[t], NULL);
    }
    double t1 = bench_now();
    for (long t = 0; t < threads; t++) {
        for (long i = 0; i < nslots; i++)
            free(arrays[t][i]);
        free(arrays[t]);
    }
    char params[160];
    snprintf(params, sizeof params, "threads=%ld rounds=%ld ops=%ld slots=%ld seed=%llu", threads, rounds,
             ops, nslots, (unsigned long long)seed);
    bench_report("larson", params, (uint64_t)(threads * rounds * ops), t1 - t0);
    return 0;
}
