/* quill_malloc.c - public API and the HOT fast paths of malloc/free. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include "../include/quill.h"
#include "quill_config.h"
#include "quill_internal.h"

/* init-once flag: 0 = not started, 1 = in progress, 2 = ready */
_Atomic int g_quill_init_state;

int quill_init(void) {
    int expected = 0;
    if (atomic_compare_exchange_strong_explicit(&g_quill_init_state, &expected, 1,
                                                memory_order_acq_rel, memory_order_acquire)) {
        quill_config_load(); /* getenv only: no allocation, no stdio */
        quill_mid_init();
        if (!quill_os_arena_init()) {
            atomic_store_explicit(&g_quill_init_state, 0, memory_order_release);
            return 0;
        }
        atomic_fetch_add_explicit(&g_quill_os_stats.init_calls, 1, memory_order_relaxed);
        atomic_store_explicit(&g_quill_init_state, 2, memory_order_release);
        return 1;
    }
    while (atomic_load_explicit(&g_quill_init_state, memory_order_acquire) == 1)
        sched_yield();
    return atomic_load_explicit(&g_quill_init_state, memory_order_acquire) == 2;
}

/* Release-build diagnostic on the free fast path. Not wrapped in
 * #if !QUILL_BUILD_RELEASE, so it runs (and costs) in release builds too. */
__attribute__((noinline, cold)) static void quill_debug_report_free(const void *p) {
    atomic_fetch_add_explicit(&g_quill_diag.misaligned_free, 1, memory_order_relaxed);
}

static inline void quill_debug_check_free(const quill_span *s, const void *p) {
    if (QUILL_UNLIKELY(((uintptr_t)p & (QUILL_MIN_ALIGN - 1)) != 0 || s->cls >= QUILL_TINY_CLASSES))
        quill_debug_report_free(p);
}

/* ---- malloc / free fast paths (HOT) -------------------------------------- */

/* QUILL_FRONT_RING_ENABLED=1 only: ring first, then the tcache. */
__attribute__((noinline)) static void *quill_malloc_ring_path(unsigned cls) {
    void *r = quill_ring_alloc(cls);
    if (r != NULL)
        return r;
    quill_bin *bin = &t_quill.bins[cls];
    quill_block *b = bin->head;
    if (b != NULL) {
        bin->head = b->next;
        bin->count--;
        return b;
    }
    return quill_tiny_alloc_slow(cls);
}

__attribute__((noinline)) static void quill_free_ring_path(unsigned cls, void *p) {
    if (quill_ring_free(cls, p))
        return;
    quill_bin *bin = &t_quill.bins[cls];
    if (bin->count < bin->max) {
        quill_block *b = (quill_block *)p;
        b->next = bin->head;
        bin->head = b;
        bin->count++;
        return;
    }
    quill_free_slow(p);
}

__attribute__((noinline)) static void *quill_malloc_big(size_t size) {
    if (size <= QUILL_MID_MAX) {
        void *p = quill_mid_alloc(size);
        if (p != NULL)
            return p;
    }
    void *p = quill_large_alloc(size, QUILL_MIN_ALIGN);
    if (p == NULL) {
        atomic_fetch_add_explicit(&g_quill_diag.oom, 1, memory_order_relaxed);
        errno = ENOMEM;
    }
    return p;
}

void *quill_malloc(size_t size) {
    if (QUILL_LIKELY(size <= QUILL_TINY_MAX)) {
        unsigned cls = quill_tiny_class(size);
        if (QUILL_UNLIKELY(quill_front_ring_enabled()))
            return quill_malloc_ring_path(cls);
        quill_bin *bin = &t_quill.bins[cls];
        quill_block *b = bin->head;
        if (QUILL_LIKELY(b != NULL)) {
            bin->head = b->next;
            bin->count--;
            atomic_fetch_add_explicit(&g_quill_tcache_stats[cls].alloc_calls, 1, memory_order_relaxed);
#if QUILL_CLASS_STATS_COMPILED
            atomic_fetch_add_explicit(&g_quill_class_stats[cls].cache_hit, 1, memory_order_relaxed);
#else
            (void)0;
#endif
            return b;
        }
        return quill_tiny_alloc_slow(cls);
    }
    return quill_malloc_big(size);
}

void quill_free(void *p) {
#if QUILL_FREE_STATS_COMPILED
    atomic_fetch_add_explicit(&g_quill_free_enter, 1, memory_order_relaxed);
#else
    (void)0;
#endif
    uintptr_t off = (uintptr_t)p - g_quill_arena_base;
    if (QUILL_LIKELY(off < g_quill_arena_size)) {
        quill_span *s = &g_quill_spans[off >> QUILL_SPAN_SHIFT];
        if (QUILL_LIKELY(s->kind == QUILL_SPAN_TINY &&
                         atomic_load_explicit(&s->owner, memory_order_relaxed) == t_quill.heap)) {
            unsigned cls = s->cls;
            quill_debug_check_free(s, p);
            if (QUILL_UNLIKELY(quill_front_ring_enabled())) {
                quill_free_ring_path(cls, p);
                return;
            }
            quill_bin *bin = &t_quill.bins[cls];
            if (QUILL_LIKELY(bin->count < bin->max)) {
                quill_block *b = (quill_block *)p;
                b->next = bin->head;
                bin->head = b;
                bin->count++;
                atomic_fetch_add_explicit(&g_quill_tcache_stats[cls].free_calls, 1, memory_order_relaxed);
                return;
            }
        }
    }
    quill_free_slow(p);
}

void quill_free_slow(void *p) {
    if (p == NULL)
        return;
    quill_span *s = quill_span_of(p);
    if (s == NULL) {
        quill_large_free(p);
        return;
    }
    switch (s->kind) {
    case QUILL_SPAN_TINY:
        quill_tiny_free_slow(s, p);
        return;
    case QUILL_SPAN_MID:
    case QUILL_SPAN_MID_CONT:
        quill_mid_free(s, p);
        return;
    default:
        /* free of a pointer inside an unused span: double free / wild pointer */
        atomic_fetch_add_explicit(&g_quill_diag.bad_free, 1, memory_order_relaxed);
#if QUILL_DIAG_COMPILED
        atomic_fetch_add_explicit(&g_quill_diag_free_kind, 1, memory_order_relaxed);
#else
        (void)0;
#endif
        return;
    }
}

/* ---- the rest of the API -------------------------------------------------- */

size_t quill_malloc_usable_size(void *p) {
    if (p == NULL)
        return 0;
    quill_span *s = quill_span_of(p);
    if (s == NULL)
        return quill_large_usable(p);
    if (s->kind == QUILL_SPAN_TINY) {
        atomic_fetch_add_explicit(&g_quill_tcache_stats[s->cls].usable_size_calls, 1, memory_order_relaxed);
        return g_quill_class_size[s->cls];
    }
    if (s->kind == QUILL_SPAN_MID || s->kind == QUILL_SPAN_MID_CONT)
        return quill_mid_usable(s);
    return 0;
}

void *quill_calloc(size_t n, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        atomic_fetch_add_explicit(&g_quill_diag.calloc_overflow, 1, memory_order_relaxed);
        errno = ENOMEM;
        return NULL;
    }
    if (total <= QUILL_TINY_MAX)
        atomic_fetch_add_explicit(&g_quill_tcache_stats[quill_tiny_class(total)].calloc_calls, 1,
                                  memory_order_relaxed);
    if (total > QUILL_MID_MAX) {
        /* a fresh mapping is already zero: skip the large cache and memset */
        void *big = quill_large_alloc_zeroed(total);
        if (big == NULL) {
            atomic_fetch_add_explicit(&g_quill_diag.oom, 1, memory_order_relaxed);
            errno = ENOMEM;
        }
        return big;
    }
    void *p = quill_malloc(total);
    if (p == NULL)
        return NULL;
    memset(p, 0, total);
    return p;
}

void *quill_realloc(void *p, size_t size) {
    if (p == NULL)
        return quill_malloc(size);
    if (size == 0) {
        quill_free(p); /* glibc semantics: free and return NULL */
        return NULL;
    }
    size_t old = quill_malloc_usable_size(p);
    if (size <= QUILL_TINY_MAX)
        atomic_fetch_add_explicit(&g_quill_tcache_stats[quill_tiny_class(size)].realloc_calls, 1,
                                  memory_order_relaxed);
    if (size <= old && size >= old / 2)
        return p; /* fits, and not too wasteful: keep it */
    if (old > QUILL_MID_MAX && size > QUILL_MID_MAX && quill_span_of(p) == NULL) {
        void *q = quill_large_realloc(p, size);
        if (q != NULL)
            return q;
    }
    void *q = quill_malloc(size);
    if (q == NULL)
        return NULL;
    memcpy(q, p, old < size ? old : size);
    quill_free(p);
    return q;
}

static int quill_is_pow2(size_t x) {
    return x != 0 && (x & (x - 1)) == 0;
}

static size_t quill_next_pow2(size_t x) {
    if (x <= 1)
        return 1;
    return (size_t)1 << (64 - __builtin_clzll(x - 1));
}

/* alignment must be a power of two here */
static void *quill_aligned_impl(size_t align, size_t size) {
    if (align <= QUILL_MIN_ALIGN)
        return quill_malloc(size);
    if (size > (size_t)PTRDIFF_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    size_t need = size > align ? size : align;
    /* power-of-two classes are naturally aligned inside 64 KiB spans/runs */
    if (need <= QUILL_TINY_MAX) {
        size_t cls_size = quill_next_pow2(need);
        atomic_fetch_add_explicit(&g_quill_tcache_stats[quill_tiny_class(cls_size)].memalign_calls, 1,
                                  memory_order_relaxed);
        return quill_malloc(cls_size);
    }
    if (need <= QUILL_MID_MAX && align <= QUILL_SPAN_SIZE) {
        void *p = quill_mid_alloc(quill_next_pow2(need));
        if (p != NULL)
            return p;
    }
    return quill_large_alloc(size, align);
}

int quill_posix_memalign(void **out, size_t align, size_t size) {
    if (!quill_is_pow2(align) || align % sizeof(void *) != 0) {
        atomic_fetch_add_explicit(&g_quill_diag.bad_alignment, 1, memory_order_relaxed);
        return EINVAL;
    }
    int saved = errno;
    void *p = quill_aligned_impl(align, size);
    if (p == NULL) {
        errno = saved;
        return ENOMEM;
    }
    *out = p;
    return 0;
}

void *quill_aligned_alloc(size_t align, size_t size) {
    if (!quill_is_pow2(align)) {
        atomic_fetch_add_explicit(&g_quill_diag.bad_alignment, 1, memory_order_relaxed);
        errno = EINVAL;
        return NULL;
    }
    return quill_aligned_impl(align, size);
}

void *quill_memalign(size_t align, size_t size) {
    if (align > (size_t)1 << 62) {
        errno = EINVAL;
        return NULL;
    }
    if (!quill_is_pow2(align))
        align = quill_next_pow2(align); /* glibc rounds up */
    return quill_aligned_impl(align, size);
}

void *quill_valloc(size_t size) {
    return quill_aligned_impl(4096, size);
}

void *quill_pvalloc(size_t size) {
    if (size > (size_t)PTRDIFF_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    size_t rounded = (size + 4095) & ~(size_t)4095;
    return quill_aligned_impl(4096, rounded ? rounded : 4096);
}

void quill_thread_flush(void) {
    quill_heap *h = t_quill.heap;
    if (h == NULL)
        return;
    quill_ring_flush(h);
    for (unsigned c = 0; c < QUILL_TINY_CLASSES; c++)
        quill_tiny_flush_bin(h, c, 0);
    quill_remote_drain(h, 0);
    quill_mid_thread_flush();
}

/* ---- fork and presets ----------------------------------------------------- */

static void quill_atfork_prepare(void) {
    quill_heap_lock_all();
    quill_mid_lock_all();
    quill_large_lock_all();
    quill_os_lock_all();
}

static void quill_atfork_parent(void) {
    quill_os_unlock_all();
    quill_large_unlock_all();
    quill_mid_unlock_all();
    quill_heap_unlock_all();
}

static void quill_atfork_child(void) {
    quill_os_reset_locks();
    quill_large_reset_lock();
    quill_mid_reset_locks();
    quill_heap_reset_locks();
}

__attribute__((constructor)) static void quill_ctor(void) {
    if (atomic_load_explicit(&g_quill_init_state, memory_order_acquire) != 2)
        quill_init();
    pthread_atfork(quill_atfork_prepare, quill_atfork_parent, quill_atfork_child);
    /* presets use setenv(), which may call malloc: safe now, not inside init */
    quill_config_apply_presets();
    if (t_quill.heap != NULL) {
        for (unsigned c = 0; c < QUILL_TINY_CLASSES; c++) {
            uint32_t max = (uint32_t)g_quill_tcache_max;
            if (g_quill_class_size[c] > 256 && max > 32)
                max /= 2;
            t_quill.bins[c].max = max;
        }
    }
}
