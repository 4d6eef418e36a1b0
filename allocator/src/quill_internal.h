/* quill_internal.h - shared types of the quill allocator.
 *
 * Memory layout:
 *  - One big arena (reserved PROT_NONE at init, committed in chunks) holds
 *    all tiny (16..1024 B) and mid (..256 KiB) blocks. It is cut into 64 KiB
 *    spans; a side table g_quill_spans[] describes each span, so free() finds
 *    the owner of any arena pointer with one subtraction and one shift.
 *  - Large blocks (> 256 KiB, or big alignments) are mmap'd individually and
 *    carry a 64-byte header just below the user pointer.
 */
#ifndef QUILL_INTERNAL_H
#define QUILL_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "quill_build_flags.h"
#include "quill_stats.h"

#define QUILL_LIKELY(x)   __builtin_expect(!!(x), 1)
#define QUILL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define QUILL_TLS __thread __attribute__((tls_model("initial-exec")))

#define QUILL_SPAN_SHIFT 16
#define QUILL_SPAN_SIZE  ((size_t)1 << QUILL_SPAN_SHIFT)
#define QUILL_TINY_MAX   1024
#define QUILL_MID_MAX    ((size_t)256 * 1024)
#define QUILL_LARGE_HDR  64
#define QUILL_MIN_ALIGN  16
#define QUILL_RING_CAP   8

typedef struct quill_block {
    struct quill_block *next;
} quill_block;

enum {
    QUILL_SPAN_FREE = 0,
    QUILL_SPAN_TINY = 1,
    QUILL_SPAN_MID = 2,
    QUILL_SPAN_MID_CONT = 3,
};

struct quill_heap;

/* Span descriptor (side table entry). kind/cls/block_size/owner are read by
 * any thread that frees a block of the span; the rest is owner-private. */
typedef struct quill_span {
    _Atomic(struct quill_heap *) owner; /* CORRECTNESS: owning heap */
    uint8_t kind;
    uint8_t cls;
    uint8_t in_partial;
    uint8_t pad0;
    uint32_t head_delta;  /* MID_CONT: distance to the run head */
    uint32_t block_size;
    uint32_t capacity;
    uint32_t carved;
    int32_t used;         /* blocks handed out (tcache + user) */
    uint32_t nspans;
    uint32_t pad1;
    quill_block *free_list;
    struct quill_span *next;
    struct quill_span *prev;
} quill_span;

/* Per-thread heap. Heaps are never unmapped: at thread exit a heap is
 * abandoned and later adopted by a new thread. */
typedef struct quill_heap {
    /* remote-free queue: other threads push here with a CAS loop */
    _Atomic(quill_block *) remote_head;
    /* queue length; compared against g_quill_remote_drain_target to decide
     * when the owner drains (flow control, not telemetry) */
    _Atomic int32_t remote_len;
    int32_t pad0;
    _Atomic uintptr_t owner_tid; /* 0 = abandoned */
    char pad1[64 - 3 * sizeof(uintptr_t)];
    /* owner-private */
    quill_span *active[QUILL_TINY_CLASSES];
    quill_span *partial[QUILL_TINY_CLASSES];
    struct quill_heap *next_free;
} quill_heap;

typedef struct quill_bin {
    quill_block *head;
    uint32_t count;
    uint32_t max;
} quill_bin;

/* Thread-local state: the fast path only touches this. */
typedef struct quill_tls {
    quill_bin bins[QUILL_TINY_CLASSES];
    quill_bin mid[QUILL_MID_CLASSES];
    quill_heap *heap;
    uintptr_t tid;
} quill_tls;

extern QUILL_TLS quill_tls t_quill;

/* arena (written once under the init-once flag) */
extern uintptr_t g_quill_arena_base;
extern size_t g_quill_arena_size;
extern quill_span *g_quill_spans;

extern const uint8_t g_quill_size_class[QUILL_TINY_MAX / 16 + 1];
extern const uint32_t g_quill_class_size[QUILL_TINY_CLASSES];
extern uint32_t g_quill_mid_class_size[QUILL_MID_CLASSES];

static inline unsigned quill_tiny_class(size_t size) {
    return g_quill_size_class[(size + 15) >> 4];
}

static inline quill_span *quill_span_of(const void *p) {
    uintptr_t off = (uintptr_t)p - g_quill_arena_base;
    if (off >= g_quill_arena_size)
        return NULL;
    return &g_quill_spans[off >> QUILL_SPAN_SHIFT];
}

static inline uintptr_t quill_span_base(const quill_span *s) {
    return g_quill_arena_base + ((uintptr_t)(s - g_quill_spans) << QUILL_SPAN_SHIFT);
}

/* simple spinlock (no pthread dependency inside the allocator) */
typedef struct { _Atomic int v; } quill_lock;
void quill_lock_slow(quill_lock *l);
static inline void quill_lock_acquire(quill_lock *l) {
    int exp = 0;
    if (QUILL_LIKELY(atomic_compare_exchange_weak_explicit(&l->v, &exp, 1, memory_order_acquire,
                                                           memory_order_relaxed)))
        return;
    quill_lock_slow(l);
}
static inline void quill_lock_release(quill_lock *l) {
    atomic_store_explicit(&l->v, 0, memory_order_release);
}

/* quill_malloc.c */
int quill_init(void);
extern _Atomic int g_quill_init_state;
void quill_free_slow(void *p);

/* quill_os.c */
int quill_os_arena_init(void);
quill_span *quill_span_alloc(size_t nspans);
void quill_span_free(quill_span *s);
void *quill_meta_alloc(size_t size);
void *quill_os_map(size_t len);
void quill_os_unmap(void *p, size_t len);
void quill_os_lock_all(void);
void quill_os_unlock_all(void);
void quill_os_reset_locks(void);

/* quill_tiny.c */
void *quill_tiny_alloc_slow(unsigned cls);
void quill_tiny_free_slow(quill_span *s, void *p);
void quill_tiny_flush_bin(quill_heap *h, unsigned cls, uint32_t keep);
void quill_span_return_block(quill_heap *h, quill_span *s, quill_block *b);
quill_heap *quill_thread_attach(void);
void quill_thread_detach(void *arg);
int quill_heap_reclaim_abandoned(quill_heap *h, quill_span *s, void *p);
void quill_heap_lock_all(void);
void quill_heap_unlock_all(void);
void quill_heap_reset_locks(void);

/* quill_remote.c */
void quill_remote_free(quill_heap *owner, quill_span *s, void *p);
uint32_t quill_remote_drain(quill_heap *h, int to_cache);

/* quill_ring.c (front ring, ENV-gated, default OFF) */
void *quill_ring_alloc(unsigned cls);
int quill_ring_free(unsigned cls, void *p);
void quill_ring_flush(quill_heap *h);
/* Blocks the calling thread's front rings hold now (for tests: ring state, not telemetry). */
unsigned quill_ring_held(void);

/* quill_mid.c */
void quill_mid_init(void);
unsigned quill_mid_class(size_t size);
void *quill_mid_alloc(size_t size);
void *quill_mid_alloc_class(unsigned cls);
void quill_mid_free(quill_span *s, void *p);
size_t quill_mid_usable(quill_span *s);
void quill_mid_thread_flush(void);
void quill_mid_lock_all(void);
void quill_mid_unlock_all(void);
void quill_mid_reset_locks(void);

/* quill_large.c */
void *quill_large_alloc(size_t size, size_t align);
void *quill_large_alloc_zeroed(size_t size);
void quill_large_lock_all(void);
void quill_large_unlock_all(void);
void quill_large_reset_lock(void);
int quill_large_free(void *p);
size_t quill_large_usable(void *p);
void *quill_large_realloc(void *p, size_t size);

#endif /* QUILL_INTERNAL_H */
