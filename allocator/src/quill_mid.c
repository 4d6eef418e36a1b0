/* quill_mid.c - mid-size path (1 KiB .. 256 KiB): 32 geometric classes,
 * a small per-thread cache and a shared per-class pool under a spinlock.
 * Mid blocks are carved from runs of contiguous spans; runs are kept for
 * reuse by the same class (never returned to the OS). */
#include <string.h>
#include "quill_config.h"
#include "quill_internal.h"

#define QUILL_MID_RUN_MAX_SPANS 32

typedef struct quill_mid_pool {
    quill_lock lock;
    quill_block *free;
    quill_span *run;      /* run being carved */
    uint32_t run_carved;
    uint32_t count;
    char pad[64 - sizeof(quill_lock) - 2 * sizeof(void *) - 8];
} quill_mid_pool;

uint32_t g_quill_mid_class_size[QUILL_MID_CLASSES];
static quill_mid_pool g_quill_mid_pool[QUILL_MID_CLASSES];

void quill_mid_init(void) {
    unsigned c = 0;
    for (unsigned shift = 10; shift < 18; shift++)
        for (unsigned k = 1; k <= 4; k++)
            g_quill_mid_class_size[c++] = (1u << shift) + k * (1u << (shift - 2));
}

/* size in (1024, 256K] -> class index */
unsigned quill_mid_class(size_t size) {
    size_t s = size - 1;
    unsigned shift = 63u - (unsigned)__builtin_clzll(s);
    return (shift - 10) * 4 + (unsigned)((s >> (shift - 2)) & 3);
}

static uint32_t quill_mid_cache_max(unsigned cls) {
    uint32_t sz = g_quill_mid_class_size[cls];
    return sz <= 8192 ? 16 : (sz <= 65536 ? 8 : 2);
}

static void quill_mid_pool_lock(quill_mid_pool *mp, unsigned cls) {
    int exp = 0;
    if (atomic_compare_exchange_strong_explicit(&mp->lock.v, &exp, 1, memory_order_acquire,
                                                memory_order_relaxed))
        return;
#if QUILL_MID_LOCK_STATS_COMPILED
    atomic_fetch_add_explicit(&g_quill_mid_stats[cls].lock_spins, 1, memory_order_relaxed);
#else
    (void)0;
#endif
    quill_lock_slow(&mp->lock);
}

/* Carve a new run for a class (pool lock held). */
static int quill_mid_new_run(quill_mid_pool *mp, unsigned cls) {
    size_t bsize = g_quill_mid_class_size[cls];
    size_t bytes = bsize * 8;
    if (bytes < QUILL_SPAN_SIZE)
        bytes = QUILL_SPAN_SIZE;
    size_t nspans = (bytes + QUILL_SPAN_SIZE - 1) >> QUILL_SPAN_SHIFT;
    if (nspans > QUILL_MID_RUN_MAX_SPANS)
        nspans = QUILL_MID_RUN_MAX_SPANS;
    quill_span *s = quill_span_alloc(nspans);
    if (s == NULL)
        return 0;
    s->cls = (uint8_t)cls;
    s->block_size = (uint32_t)bsize;
    s->capacity = (uint32_t)((nspans << QUILL_SPAN_SHIFT) / bsize);
    s->nspans = (uint32_t)nspans;
    s->head_delta = 0;
    for (size_t i = 1; i < nspans; i++) {
        s[i].head_delta = (uint32_t)i;
        s[i].cls = (uint8_t)cls;
        s[i].block_size = (uint32_t)bsize;
        s[i].kind = QUILL_SPAN_MID_CONT;
    }
    s->kind = QUILL_SPAN_MID;
    mp->run = s;
    mp->run_carved = 0;
    atomic_fetch_add_explicit(&g_quill_mid_stats[cls].run_carve, 1, memory_order_relaxed);
    return 1;
}

void *quill_mid_alloc_class(unsigned cls) {
    quill_bin *bin = &t_quill.mid[cls];
    atomic_fetch_add_explicit(&g_quill_mid_stats[cls].alloc_calls, 1, memory_order_relaxed);
    quill_block *b = bin->head;
    if (b != NULL) {
        bin->head = b->next;
        bin->count--;
        atomic_fetch_add_explicit(&g_quill_mid_stats[cls].cache_hit, 1, memory_order_relaxed);
        return b;
    }
    if (QUILL_UNLIKELY(t_quill.heap == NULL) && quill_thread_attach() == NULL &&
        atomic_load_explicit(&g_quill_init_state, memory_order_acquire) != 2)
        return NULL;
    quill_mid_pool *mp = &g_quill_mid_pool[cls];
    quill_mid_pool_lock(mp, cls);
    b = mp->free;
    if (b != NULL) {
        mp->free = b->next;
        mp->count--;
        quill_lock_release(&mp->lock);
        atomic_fetch_add_explicit(&g_quill_mid_stats[cls].pool_pop, 1, memory_order_relaxed);
        return b;
    }
    if ((mp->run == NULL || mp->run_carved >= mp->run->capacity) && !quill_mid_new_run(mp, cls)) {
        quill_lock_release(&mp->lock);
        return NULL;
    }
    b = (quill_block *)(quill_span_base(mp->run) + (size_t)mp->run_carved * mp->run->block_size);
    mp->run_carved++;
    quill_lock_release(&mp->lock);
    return b;
}

void *quill_mid_alloc(size_t size) {
    return quill_mid_alloc_class(quill_mid_class(size));
}

static quill_span *quill_mid_head(quill_span *s) {
    return s - s->head_delta;
}

void quill_mid_free(quill_span *s, void *p) {
    quill_span *head = quill_mid_head(s);
    unsigned cls = head->cls;
#if !QUILL_BUILD_RELEASE
    /* debug-only: the pointer must be the start of a block of this run */
    if (((uintptr_t)p - quill_span_base(head)) % head->block_size != 0)
        __builtin_trap();
#endif
    atomic_fetch_add_explicit(&g_quill_mid_stats[cls].free_calls, 1, memory_order_relaxed);
    quill_block *b = (quill_block *)p;
    quill_bin *bin = &t_quill.mid[cls];
    if (bin->count < quill_mid_cache_max(cls) && t_quill.heap != NULL) {
        b->next = bin->head;
        bin->head = b;
        bin->count++;
        return;
    }
    quill_mid_pool *mp = &g_quill_mid_pool[cls];
    quill_mid_pool_lock(mp, cls);
    b->next = mp->free;
    mp->free = b;
    mp->count++;
    quill_lock_release(&mp->lock);
    atomic_fetch_add_explicit(&g_quill_mid_stats[cls].pool_push, 1, memory_order_relaxed);
}

size_t quill_mid_usable(quill_span *s) {
    return quill_mid_head(s)->block_size;
}

/* Thread exit: push the thread's mid cache back to the shared pools. */
void quill_mid_thread_flush(void) {
    for (unsigned cls = 0; cls < QUILL_MID_CLASSES; cls++) {
        quill_bin *bin = &t_quill.mid[cls];
        if (bin->head == NULL)
            continue;
        quill_block *first = bin->head, *last = first;
        while (last->next != NULL)
            last = last->next;
        quill_mid_pool *mp = &g_quill_mid_pool[cls];
        quill_mid_pool_lock(mp, cls);
        last->next = mp->free;
        mp->free = first;
        mp->count += bin->count;
        quill_lock_release(&mp->lock);
        bin->head = NULL;
        bin->count = 0;
    }
}

void quill_mid_lock_all(void) {
    for (unsigned c = 0; c < QUILL_MID_CLASSES; c++)
        quill_lock_acquire(&g_quill_mid_pool[c].lock);
}

void quill_mid_unlock_all(void) {
    for (unsigned c = 0; c < QUILL_MID_CLASSES; c++)
        quill_lock_release(&g_quill_mid_pool[c].lock);
}

void quill_mid_reset_locks(void) {
    for (unsigned c = 0; c < QUILL_MID_CLASSES; c++)
        atomic_store_explicit(&g_quill_mid_pool[c].lock.v, 0, memory_order_relaxed);
}
