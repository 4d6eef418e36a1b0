/* test_stress - multi-threaded stress with cross-thread frees.
 * usage: test_stress [threads=4] [rounds=4] [ops=100000]
 * Each round starts `threads` workers. Workers allocate blocks (mostly tiny,
 * some mid/large), stamp them, and pass a share of them to the next worker's
 * mailbox; the receiver checks the stamp and frees (a remote free). Blocks
 * left in mailboxes when a round ends are freed by the next round's threads,
 * after their allocating thread has exited. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include "quill.h"
#include "test_util.h"

#define MAXT 16
#define MBOX 4096

typedef struct {
    pthread_mutex_t mu;
    void *item[MBOX];
    int n;
} mailbox;

static mailbox g_box[MAXT];
static int g_threads = 4;
static long g_ops = 100000;
static _Atomic long g_bad, g_allocs, g_frees;

typedef struct {
    uint32_t magic;
    uint32_t size;
} stamp;

static void stamp_block(void *p, size_t n, uint32_t tag) {
    stamp *s = p;
    s->magic = tag;
    s->size = (uint32_t)n;
    if (n > sizeof(stamp))
        ((unsigned char *)p)[n - 1] = (unsigned char)tag;
}

static void check_and_free(void *p) {
    stamp *s = p;
    size_t n = s->size;
    if (n < sizeof(stamp) || quill_malloc_usable_size(p) < n ||
        (n > sizeof(stamp) && ((unsigned char *)p)[n - 1] != (unsigned char)s->magic))
        atomic_fetch_add(&g_bad, 1);
    quill_free(p);
    atomic_fetch_add_explicit(&g_frees, 1, memory_order_relaxed);
}

static void *worker(void *arg) {
    int id = (int)(intptr_t)arg;
    uint64_t rng = 0x9E3779B97F4A7C15ull * (uint64_t)(id + 1);
    enum { LOCAL = 512 };
    void *local[LOCAL] = {0};
    for (long i = 0; i < g_ops; i++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        unsigned r = (unsigned)(rng >> 32);
        size_t n;
        if (r % 1000 == 0)
            n = 300000 + r % 100000; /* large */
        else if (r % 50 == 0)
            n = 1025 + r % 60000; /* mid */
        else
            n = 8 + r % 1017; /* tiny */
        void *p = quill_malloc(n);
        if (p == NULL) {
            atomic_fetch_add(&g_bad, 1);
            continue;
        }
        atomic_fetch_add_explicit(&g_allocs, 1, memory_order_relaxed);
        stamp_block(p, n, (uint32_t)(id * 131 + i));
        if (r % 3 == 0) {
            /* hand it to the next thread */
            mailbox *b = &g_box[(id + 1) % g_threads];
            pthread_mutex_lock(&b->mu);
            if (b->n < MBOX) {
                b->item[b->n++] = p;
                p = NULL;
            }
            pthread_mutex_unlock(&b->mu);
        }
        if (p != NULL) {
            unsigned slot = (r >> 8) % LOCAL;
            if (local[slot])
                check_and_free(local[slot]);
            local[slot] = p;
        }
        if ((i & 63) == 0) {
            /* drain own mailbox: frees of blocks allocated elsewhere */
            mailbox *b = &g_box[id];
            void *got[MBOX];
            pthread_mutex_lock(&b->mu);
            int n2 = b->n;
            memcpy(got, b->item, (size_t)n2 * sizeof(void *));
            b->n = 0;
            pthread_mutex_unlock(&b->mu);
            for (int k = 0; k < n2; k++)
                check_and_free(got[k]);
        }
    }
    for (int k = 0; k < LOCAL; k++)
        if (local[k])
            check_and_free(local[k]);
    return NULL;
}

int main(int argc, char **argv) {
    g_threads = argc > 1 ? atoi(argv[1]) : 4;
    int rounds = argc > 2 ? atoi(argv[2]) : 4;
    g_ops = argc > 3 ? atol(argv[3]) : 100000;
    if (g_threads < 1 || g_threads > MAXT)
        g_threads = 4;
    for (int t = 0; t < MAXT; t++)
        pthread_mutex_init(&g_box[t].mu, NULL);
    for (int r = 0; r < rounds; r++) {
        pthread_t tid[MAXT];
        for (int t = 0; t < g_threads; t++)
            pthread_create(&tid[t], NULL, worker, (void *)(intptr_t)t);
        for (int t = 0; t < g_threads; t++)
            pthread_join(tid[t], NULL);
    }
    for (int t = 0; t < g_threads; t++) {
        for (int k = 0; k < g_box[t].n; k++)
            check_and_free(g_box[t].item[k]);
        g_box[t].n = 0;
    }
    CHECK(atomic_load(&g_bad) == 0);
    CHECK(atomic_load(&g_allocs) == atomic_load(&g_frees));
    printf("test_stress: threads=%d rounds=%d ops=%ld allocs=%ld frees=%ld\n", g_threads, rounds, g_ops,
           atomic_load(&g_allocs), atomic_load(&g_frees));
    return test_done("test_stress");
}
