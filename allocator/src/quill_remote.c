/* quill_remote.c - cross-thread frees: a lock-free remote-free queue per
 * heap (Treiber stack: CAS-loop push, exchange-all pop by the owner). */
#include "quill_config.h"
#include "quill_internal.h"

/* Called by a thread that frees a tiny block owned by another heap. */
void quill_remote_free(quill_heap *owner, quill_span *s, void *p) {
    quill_block *b = (quill_block *)p;
    unsigned cls = s->cls;
    if (QUILL_UNLIKELY(owner == NULL)) {
        /* span not owned: double free or foreign pointer */
        atomic_fetch_add_explicit(&g_quill_diag.bad_free, 1, memory_order_relaxed);
        return;
    }
    /* owner thread id 0: the owner exited and the heap waits for adoption */
    if (atomic_load_explicit(&owner->owner_tid, memory_order_acquire) == 0 &&
        quill_heap_reclaim_abandoned(owner, s, p))
        return;
    quill_block *old = atomic_load_explicit(&owner->remote_head, memory_order_relaxed);
    do {
        b->next = old;
    } while (!atomic_compare_exchange_weak_explicit(&owner->remote_head, &old, b,
                                                    memory_order_release, memory_order_relaxed));
    /* Looks like a telemetry counter, but quill_tiny_alloc_slow() compares it
     * with g_quill_remote_drain_target to decide when to drain (phase 28). */
    atomic_fetch_add_explicit(&owner->remote_len, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&g_quill_tcache_stats[cls].free_remote, 1, memory_order_relaxed);
}

/* Owner side: take the whole queue and put each block back into the tcache
 * (to_cache) or into its span. Returns the number of blocks drained. */
uint32_t quill_remote_drain(quill_heap *h, int to_cache) {
    quill_block *list = atomic_exchange_explicit(&h->remote_head, NULL, memory_order_acquire);
    uint32_t n = 0;
#if !QUILL_BUILD_RELEASE
    /* debug-only: only the owner thread may drain its own queue */
    if (atomic_load_explicit(&h->owner_tid, memory_order_relaxed) != t_quill.tid)
        __builtin_trap();
#endif
    while (list != NULL) {
        quill_block *b = list;
        list = b->next;
        quill_span *s = quill_span_of(b);
        unsigned cls = s->cls;
        quill_bin *bin = &t_quill.bins[cls];
        if (to_cache && bin->count < bin->max) {
            atomic_fetch_add_explicit(&g_quill_tcache_stats[cls].free_remote_drained, 1, memory_order_relaxed);
            b->next = bin->head;
            bin->head = b;
            bin->count++;
        } else {
            quill_span_return_block(h, s, b);
        }
        n++;
    }
    if (n != 0) {
        atomic_fetch_sub_explicit(&h->remote_len, (int32_t)n, memory_order_relaxed);
        atomic_fetch_add_explicit(&g_quill_refill_stats[0].remote_drains, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&g_quill_refill_stats[0].drained_blocks, n, memory_order_relaxed);
    }
    return n;
}
