/* quill_ring.c - optional per-thread front ring in front of the tcache.
 *
 * ENV gate QUILL_FRONT_RING_ENABLED, default OFF. Its counters
 * (g_quill_ring_stats) are telemetry on a hot-looking path that does not run
 * in the default configuration: compiling them out changes nothing until the
 * gate is turned on (the phase-29 lesson).
 */
#include "quill_config.h"
#include "quill_internal.h"

typedef struct quill_ring {
    void *slot[QUILL_RING_CAP];
    uint32_t n;
} quill_ring;

static QUILL_TLS quill_ring t_quill_ring[QUILL_TINY_CLASSES];

void *quill_ring_alloc(unsigned cls) {
    quill_ring *r = &t_quill_ring[cls];
    atomic_fetch_add_explicit(&g_quill_ring_stats[cls].alloc_calls, 1, memory_order_relaxed);
    if (r->n != 0) {
        atomic_fetch_add_explicit(&g_quill_ring_stats[cls].alloc_hit, 1, memory_order_relaxed);
        return r->slot[--r->n];
    }
    atomic_fetch_add_explicit(&g_quill_ring_stats[cls].alloc_miss, 1, memory_order_relaxed);
    return NULL;
}

int quill_ring_free(unsigned cls, void *p) {
    quill_ring *r = &t_quill_ring[cls];
    atomic_fetch_add_explicit(&g_quill_ring_stats[cls].free_calls, 1, memory_order_relaxed);
    if (r->n < QUILL_RING_CAP) {
        r->slot[r->n++] = p;
        atomic_fetch_add_explicit(&g_quill_ring_stats[cls].free_hit, 1, memory_order_relaxed);
        return 1;
    }
    atomic_fetch_add_explicit(&g_quill_ring_stats[cls].free_full, 1, memory_order_relaxed);
    return 0;
}

/* Thread exit / explicit flush: give ring blocks back to their spans. */
void quill_ring_flush(quill_heap *h) {
    for (unsigned cls = 0; cls < QUILL_TINY_CLASSES; cls++) {
        quill_ring *r = &t_quill_ring[cls];
        if (r->n == 0)
            continue;
        atomic_fetch_add_explicit(&g_quill_ring_stats[cls].flush, 1, memory_order_relaxed);
        while (r->n != 0) {
            quill_block *b = (quill_block *)r->slot[--r->n];
            quill_span_return_block(h, quill_span_of(b), b);
        }
    }
}

unsigned quill_ring_held(void) {
    unsigned held = 0;
    for (unsigned cls = 0; cls < QUILL_TINY_CLASSES; cls++)
        held += t_quill_ring[cls].n;
    return held;
}
