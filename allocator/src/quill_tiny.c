/* quill_tiny.c - tiny classes (16..1024 B): WARM refill path, tcache flush,
 * span bookkeeping and per-thread heap lifecycle. The HOT fast paths live in
 * quill_malloc.c. */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "quill_config.h"
#include "quill_internal.h"

QUILL_TLS quill_tls t_quill;

const uint32_t g_quill_class_size[QUILL_TINY_CLASSES] = {
    16,  32,  48,  64,  80,  96,  112, 128, 160, 192,
    224, 256, 320, 384, 448, 512, 640, 768, 896, 1024,
};

/* index: (size + 15) / 16 */
const uint8_t g_quill_size_class[QUILL_TINY_MAX / 16 + 1] = {
    0,  0,  1,  2,  3,  4,  5,  6,  7,                  /* 0..128   */
    8,  8,  9,  9,  10, 10, 11, 11,                     /* ..256    */
    12, 12, 12, 12, 13, 13, 13, 13,                     /* ..384    */
    14, 14, 14, 14, 15, 15, 15, 15,                     /* ..512    */
    16, 16, 16, 16, 16, 16, 16, 16,                     /* ..640    */
    17, 17, 17, 17, 17, 17, 17, 17,                     /* ..768    */
    18, 18, 18, 18, 18, 18, 18, 18,                     /* ..896    */
    19, 19, 19, 19, 19, 19, 19, 19,                     /* ..1024   */
};

static quill_lock g_quill_heap_lock;
static quill_heap *g_quill_abandoned;
static pthread_key_t g_quill_tls_key;
static int g_quill_tls_key_ok;

#if QUILL_DEBUG_COUNTERS
/* refill stage counters: 0 = partial span, 1 = carve, 2 = new span, 3 = drain */
static QUILL_TLS uint64_t t_quill_dbg_refill_stage[4];
#endif

/* ---- span bookkeeping ---------------------------------------------------- */

static void quill_partial_push(quill_heap *h, quill_span *s) {
    unsigned cls = s->cls;
    s->prev = NULL;
    s->next = h->partial[cls];
    if (s->next)
        s->next->prev = s;
    h->partial[cls] = s;
    s->in_partial = 1;
}

static void quill_partial_remove(quill_heap *h, quill_span *s) {
    unsigned cls = s->cls;
    if (s->prev)
        s->prev->next = s->next;
    else
        h->partial[cls] = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
    s->in_partial = 0;
}

#if !QUILL_BUILD_RELEASE
/* Debug-only: full consistency check of a span's free list (O(n)). */
static void quill_debug_validate_span(const quill_span *s) {
    uintptr_t base = quill_span_base(s);
    uint32_t n = 0;
    for (const quill_block *b = s->free_list; b != NULL; b = b->next) {
        uintptr_t off = (uintptr_t)b - base;
        if (off >= (uintptr_t)s->capacity * s->block_size || off % s->block_size != 0 ||
            ++n > s->capacity)
            __builtin_trap();
    }
}
#endif

/* Give one block back to its span (owner thread only). */
void quill_span_return_block(quill_heap *h, quill_span *s, quill_block *b) {
    b->next = s->free_list;
    s->free_list = b;
    s->used--;
    if (s->used == 0 && h->active[s->cls] != s) {
        if (s->in_partial)
            quill_partial_remove(h, s);
        quill_span_free(s);
        return;
    }
    if (!s->in_partial && h->active[s->cls] != s)
        quill_partial_push(h, s);
}

static quill_span *quill_span_acquire_tiny(quill_heap *h, unsigned cls) {
    quill_span *s = quill_span_alloc(1);
    if (s == NULL)
        return NULL;
    s->cls = (uint8_t)cls;
    s->block_size = g_quill_class_size[cls];
    s->capacity = (uint32_t)(QUILL_SPAN_SIZE / s->block_size);
    s->carved = 0;
    s->used = 0;
    s->free_list = NULL;
    s->in_partial = 0;
    s->nspans = 1;
    s->head_delta = 0;
    atomic_store_explicit(&s->owner, h, memory_order_relaxed);
    s->kind = QUILL_SPAN_TINY;
    atomic_fetch_add_explicit(&g_quill_refill_stats[cls].new_spans, 1, memory_order_relaxed);
    return s;
}

/* ---- refill (WARM) ------------------------------------------------------- */

static uint32_t quill_tiny_refill(quill_heap *h, unsigned cls) {
    quill_bin *bin = &t_quill.bins[cls];
    uint32_t want = (uint32_t)g_quill_refill_batch;
    if (want > bin->max)
        want = bin->max;
    if (want == 0)
        want = 1;
    uint32_t got = 0;
    quill_block *head = bin->head;

    while (got < want) {
        quill_span *s = h->partial[cls];
        if (s != NULL) {
#if !QUILL_BUILD_RELEASE
            quill_debug_validate_span(s);
#endif
            while (got < want && s->free_list != NULL) {
                quill_block *b = s->free_list;
                s->free_list = b->next;
                b->next = head;
                head = b;
                s->used++;
                got++;
            }
            if (s->free_list == NULL)
                quill_partial_remove(h, s);
            atomic_fetch_add_explicit(&g_quill_refill_stats[cls].from_partial, 1, memory_order_relaxed);
#if QUILL_DEBUG_COUNTERS
            t_quill_dbg_refill_stage[0]++;
#endif
            continue;
        }
        s = h->active[cls];
        if (s != NULL && s->carved < s->capacity) {
            uint32_t n = s->capacity - s->carved;
            if (n > want - got)
                n = want - got;
            char *p = (char *)quill_span_base(s) + (size_t)s->carved * s->block_size;
            for (uint32_t i = 0; i < n; i++) {
                quill_block *b = (quill_block *)(p + (size_t)(n - 1 - i) * s->block_size);
                b->next = head;
                head = b;
            }
            s->carved += n;
            s->used += (int32_t)n;
            got += n;
            atomic_fetch_add_explicit(&g_quill_refill_stats[cls].carves, 1, memory_order_relaxed);
#if QUILL_DEBUG_COUNTERS
            t_quill_dbg_refill_stage[1]++;
#endif
            continue;
        }
        if (atomic_load_explicit(&h->remote_head, memory_order_relaxed) != NULL) {
            bin->head = head;
            bin->count += got;
            got = 0;
            quill_remote_drain(h, 1);
            head = bin->head;
#if QUILL_DEBUG_COUNTERS
            t_quill_dbg_refill_stage[3]++;
#endif
            if (head != NULL)
                break;
        }
        /* retire the exhausted active span; it rejoins via partial when blocks return */
        if (s != NULL) {
            h->active[cls] = NULL;
            if (s->used == 0)
                quill_span_free(s);
            else if (s->free_list != NULL && !s->in_partial)
                quill_partial_push(h, s);
            if (h->partial[cls] != NULL)
                continue;
        }
        s = quill_span_acquire_tiny(h, cls);
        if (s == NULL)
            break;
        h->active[cls] = s;
#if QUILL_DEBUG_COUNTERS
        t_quill_dbg_refill_stage[2]++;
#endif
    }
    bin->head = head;
    bin->count += got;
    atomic_fetch_add_explicit(&g_quill_refill_stats[cls].refills, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&g_quill_refill_stats[cls].blocks, got, memory_order_relaxed);
    return bin->count;
}

void *quill_tiny_alloc_slow(unsigned cls) {
    quill_heap *h = t_quill.heap;
    if (QUILL_UNLIKELY(h == NULL)) {
        h = quill_thread_attach();
        if (h == NULL)
            return quill_large_alloc(g_quill_class_size[cls], QUILL_MIN_ALIGN);
    }
    quill_bin *bin = &t_quill.bins[cls];
    atomic_fetch_add_explicit(&g_quill_tcache_stats[cls].alloc_slow, 1, memory_order_relaxed);
#if QUILL_CLASS_STATS_COMPILED
    atomic_fetch_add_explicit(&g_quill_class_stats[cls].cache_miss, 1, memory_order_relaxed);
#else
    (void)0;
#endif
    /* Drain the remote-free queue once it is long enough (flow control). */
    if (atomic_load_explicit(&h->remote_len, memory_order_relaxed) >= g_quill_remote_drain_target)
        quill_remote_drain(h, 1);
    if (bin->head == NULL && quill_tiny_refill(h, cls) == 0) {
        /* arena exhausted: fall back to an individually mapped block */
        return quill_large_alloc(g_quill_class_size[cls], QUILL_MIN_ALIGN);
    }
    quill_block *b = bin->head;
    bin->head = b->next;
    bin->count--;
    return b;
}

/* Move blocks from the tcache bin back to their spans until `keep` remain. */
void quill_tiny_flush_bin(quill_heap *h, unsigned cls, uint32_t keep) {
    quill_bin *bin = &t_quill.bins[cls];
    while (bin->count > keep) {
        quill_block *b = bin->head;
        bin->head = b->next;
        bin->count--;
        quill_span_return_block(h, quill_span_of(b), b);
    }
}

/* free() slow path for a tiny block: tcache full, remote owner, or no heap. */
void quill_tiny_free_slow(quill_span *s, void *p) {
    unsigned cls = s->cls;
    quill_heap *owner = atomic_load_explicit(&s->owner, memory_order_relaxed);
    quill_heap *h = t_quill.heap;
    atomic_fetch_add_explicit(&g_quill_tcache_stats[cls].free_slow, 1, memory_order_relaxed);
    if (owner != h || h == NULL) {
        quill_remote_free(owner, s, p);
        return;
    }
    quill_bin *bin = &t_quill.bins[cls];
    if (bin->count >= bin->max) {
        atomic_fetch_add_explicit(&g_quill_tcache_stats[cls].free_flush, 1, memory_order_relaxed);
        quill_tiny_flush_bin(h, cls, bin->max / 2);
    }
    quill_block *b = (quill_block *)p;
    b->next = bin->head;
    bin->head = b;
    bin->count++;
}

/* ---- heap lifecycle (COLD) ----------------------------------------------- */

static void quill_tls_key_init(void) {
    if (pthread_key_create(&g_quill_tls_key, quill_thread_detach) == 0)
        g_quill_tls_key_ok = 1;
}

quill_heap *quill_thread_attach(void) {
    if (atomic_load_explicit(&g_quill_init_state, memory_order_acquire) != 2 && !quill_init())
        return NULL;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, quill_tls_key_init);

    t_quill.tid = (uintptr_t)syscall(SYS_gettid);
    /* owner_tid changes only under g_quill_heap_lock, so that
     * "owner_tid == 0" <=> "heap is on the abandoned list" under the lock */
    quill_lock_acquire(&g_quill_heap_lock);
    quill_heap *h = g_quill_abandoned;
    if (h != NULL) {
        g_quill_abandoned = h->next_free;
        h->next_free = NULL;
        atomic_store_explicit(&h->owner_tid, t_quill.tid, memory_order_release);
    }
    quill_lock_release(&g_quill_heap_lock);
    if (h != NULL) {
        atomic_fetch_add_explicit(&g_quill_os_stats.heap_adopt, 1, memory_order_relaxed);
    } else {
        h = (quill_heap *)quill_meta_alloc(sizeof(quill_heap));
        if (h == NULL)
            return NULL;
        atomic_store_explicit(&h->owner_tid, t_quill.tid, memory_order_release);
    }
    for (unsigned c = 0; c < QUILL_TINY_CLASSES; c++) {
        uint32_t max = (uint32_t)g_quill_tcache_max;
        if (g_quill_class_size[c] > 256 && max > 32)
            max /= 2; /* keep fewer big blocks per thread */
        t_quill.bins[c].max = max;
    }
    t_quill.heap = h;
    if (g_quill_tls_key_ok)
        pthread_setspecific(g_quill_tls_key, h);
    atomic_fetch_add_explicit(&g_quill_os_stats.thread_attach, 1, memory_order_relaxed);
    if (atomic_load_explicit(&h->remote_head, memory_order_relaxed) != NULL)
        quill_remote_drain(h, 0);
    return h;
}

/* Thread exit (pthread key destructor): give everything back, abandon heap. */
void quill_thread_detach(void *arg) {
    quill_heap *h = (quill_heap *)arg;
    if (h == NULL || t_quill.heap != h)
        return;
    quill_ring_flush(h);
    for (unsigned c = 0; c < QUILL_TINY_CLASSES; c++)
        quill_tiny_flush_bin(h, c, 0);
    quill_remote_drain(h, 0);
    quill_mid_thread_flush();
    for (unsigned c = 0; c < QUILL_TINY_CLASSES; c++) {
        quill_span *s = h->active[c];
        if (s == NULL)
            continue;
        h->active[c] = NULL;
        if (s->used == 0)
            quill_span_free(s);
        else if (s->free_list != NULL && !s->in_partial)
            quill_partial_push(h, s);
    }
    for (unsigned c = 0; c < QUILL_TINY_CLASSES; c++)
        t_quill.bins[c].max = 0;
    t_quill.heap = NULL;
    quill_lock_acquire(&g_quill_heap_lock);
    atomic_store_explicit(&h->owner_tid, 0, memory_order_release);
    h->next_free = g_quill_abandoned;
    g_quill_abandoned = h;
    quill_lock_release(&g_quill_heap_lock);
    atomic_fetch_add_explicit(&g_quill_os_stats.thread_detach, 1, memory_order_relaxed);
}

/* A remote free into an abandoned heap: nobody drains that queue until a new
 * thread adopts the heap, so return the block to its span directly. Holding
 * g_quill_heap_lock while owner_tid == 0 means nobody can adopt the heap. */
int quill_heap_reclaim_abandoned(quill_heap *h, quill_span *s, void *p) {
    int done = 0;
    quill_lock_acquire(&g_quill_heap_lock);
    if (atomic_load_explicit(&h->owner_tid, memory_order_acquire) == 0) {
        quill_span_return_block(h, s, (quill_block *)p);
        done = 1;
    }
    quill_lock_release(&g_quill_heap_lock);
    return done;
}

void quill_heap_lock_all(void) {
    quill_lock_acquire(&g_quill_heap_lock);
}

void quill_heap_unlock_all(void) {
    quill_lock_release(&g_quill_heap_lock);
}

void quill_heap_reset_locks(void) {
    atomic_store_explicit(&g_quill_heap_lock.v, 0, memory_order_relaxed);
}
