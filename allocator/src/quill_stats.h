/* quill_stats.h - telemetry counters. Every counter here is TELEMETRY:
 * it is only written with relaxed atomics and only read by quill_stats_dump().
 * (The one queue-length counter that drives flow control is NOT here: see
 * quill_heap.remote_len in quill_internal.h.)
 */
#ifndef QUILL_STATS_H
#define QUILL_STATS_H

#include <stdatomic.h>
#include <stdint.h>
#include "quill_build_flags.h"

#define QUILL_TINY_CLASSES 20
#define QUILL_MID_CLASSES  32

/* HOT, not yet compiled out: per-class tcache counters (written from
 * quill_malloc.c and quill_tiny.c / quill_remote.c). */
typedef struct quill_tcache_stats {
    _Atomic uint64_t alloc_calls;
    _Atomic uint64_t alloc_slow;
    _Atomic uint64_t free_calls;
    _Atomic uint64_t free_slow;
    _Atomic uint64_t free_flush;
    _Atomic uint64_t free_remote;
    _Atomic uint64_t free_remote_drained;
    _Atomic uint64_t calloc_calls;
    _Atomic uint64_t realloc_calls;
    _Atomic uint64_t memalign_calls;
    _Atomic uint64_t usable_size_calls;
} quill_tcache_stats;
extern quill_tcache_stats g_quill_tcache_stats[QUILL_TINY_CLASSES];

/* HOT, already compiled out behind QUILL_CLASS_STATS_COMPILED. */
typedef struct quill_class_stats {
    _Atomic uint64_t cache_hit;
    _Atomic uint64_t cache_miss;
} quill_class_stats;
extern quill_class_stats g_quill_class_stats[QUILL_TINY_CLASSES];

/* HOT, already compiled out behind QUILL_FREE_STATS_COMPILED. */
extern _Atomic uint64_t g_quill_free_enter;

/* HOT-looking but ENV-gated OFF by default (QUILL_FRONT_RING_ENABLED=0):
 * front ring counters. They never execute unless the ring is enabled. */
typedef struct quill_ring_stats {
    _Atomic uint64_t alloc_calls;
    _Atomic uint64_t alloc_hit;
    _Atomic uint64_t alloc_miss;
    _Atomic uint64_t free_calls;
    _Atomic uint64_t free_hit;
    _Atomic uint64_t free_full;
    _Atomic uint64_t flush;
} quill_ring_stats;
extern quill_ring_stats g_quill_ring_stats[QUILL_TINY_CLASSES];

/* WARM: refill path counters. */
typedef struct quill_refill_stats {
    _Atomic uint64_t refills;
    _Atomic uint64_t blocks;
    _Atomic uint64_t from_partial;
    _Atomic uint64_t carves;
    _Atomic uint64_t new_spans;
    _Atomic uint64_t remote_drains;
    _Atomic uint64_t drained_blocks;
} quill_refill_stats;
extern quill_refill_stats g_quill_refill_stats[QUILL_TINY_CLASSES];

/* WARM: mid path counters. */
typedef struct quill_mid_stats {
    _Atomic uint64_t alloc_calls;
    _Atomic uint64_t cache_hit;
    _Atomic uint64_t pool_pop;
    _Atomic uint64_t run_carve;
    _Atomic uint64_t free_calls;
    _Atomic uint64_t pool_push;
    _Atomic uint64_t lock_spins;
} quill_mid_stats;
extern quill_mid_stats g_quill_mid_stats[QUILL_MID_CLASSES];

/* COLD: OS interaction and lifecycle. */
typedef struct quill_os_stats {
    _Atomic uint64_t init_calls;
    _Atomic uint64_t arena_commits;
    _Atomic uint64_t mmap_calls;
    _Atomic uint64_t munmap_calls;
    _Atomic uint64_t mremap_calls;
    _Atomic uint64_t madvise_calls;
    _Atomic uint64_t span_release;
    _Atomic uint64_t thread_attach;
    _Atomic uint64_t thread_detach;
    _Atomic uint64_t heap_adopt;
    _Atomic uint64_t large_alloc;
    _Atomic uint64_t large_free;
} quill_os_stats;
extern quill_os_stats g_quill_os_stats;

/* Diagnostics: only error branches touch these. */
typedef struct quill_diag_stats {
    _Atomic uint64_t bad_free;
    _Atomic uint64_t misaligned_free;
    _Atomic uint64_t calloc_overflow;
    _Atomic uint64_t bad_alignment;
    _Atomic uint64_t oom;
    _Atomic uint64_t arena_full;
} quill_diag_stats;
extern quill_diag_stats g_quill_diag;

/* Diagnostics compiled out behind QUILL_DIAG_COMPILED. */
extern _Atomic uint64_t g_quill_diag_free_kind;
extern _Atomic uint64_t g_quill_diag_large_magic;

#endif /* QUILL_STATS_H */
