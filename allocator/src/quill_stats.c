/* quill_stats.c - telemetry storage and the exit-time dump.
 * The dump is the only reader of these counters. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "../include/quill.h"
#include "quill_config.h"
#include "quill_internal.h"

quill_tcache_stats g_quill_tcache_stats[QUILL_TINY_CLASSES];
quill_class_stats g_quill_class_stats[QUILL_TINY_CLASSES];
_Atomic uint64_t g_quill_free_enter;
quill_ring_stats g_quill_ring_stats[QUILL_TINY_CLASSES];
quill_refill_stats g_quill_refill_stats[QUILL_TINY_CLASSES];
quill_mid_stats g_quill_mid_stats[QUILL_MID_CLASSES];
quill_os_stats g_quill_os_stats;
quill_diag_stats g_quill_diag;
_Atomic uint64_t g_quill_diag_free_kind;
_Atomic uint64_t g_quill_diag_large_magic;

#define QLOAD(x) ((unsigned long long)atomic_load_explicit(&(x), memory_order_relaxed))

/* snprintf into a stack buffer + write(2): no stdio buffers, no malloc */
static void quill_out(int fd, const char *buf, int n) {
    if (n > 0)
        (void)!write(fd, buf, (size_t)n);
}

void quill_stats_dump(int fd) {
    char buf[512];
    int n;
    n = snprintf(buf, sizeof buf, "[quill] stats (mode=%s)\n", quill_config_mode_name());
    quill_out(fd, buf, n);
    for (unsigned c = 0; c < QUILL_TINY_CLASSES; c++) {
        quill_tcache_stats *t = &g_quill_tcache_stats[c];
        quill_refill_stats *r = &g_quill_refill_stats[c];
        if (QLOAD(t->alloc_calls) == 0 && QLOAD(t->free_calls) == 0 && QLOAD(t->free_slow) == 0)
            continue;
        n = snprintf(buf, sizeof buf,
                     "[quill] tiny[%2u] %4u B: alloc=%llu slow=%llu free=%llu free_slow=%llu "
                     "flush=%llu remote=%llu drained=%llu calloc=%llu realloc=%llu memalign=%llu usable=%llu | "
                     "refills=%llu blocks=%llu partial=%llu carves=%llu spans=%llu\n",
                     c, g_quill_class_size[c], QLOAD(t->alloc_calls), QLOAD(t->alloc_slow),
                     QLOAD(t->free_calls), QLOAD(t->free_slow), QLOAD(t->free_flush),
                     QLOAD(t->free_remote), QLOAD(t->free_remote_drained), QLOAD(t->calloc_calls), QLOAD(t->realloc_calls),
                     QLOAD(t->memalign_calls), QLOAD(t->usable_size_calls), QLOAD(r->refills),
                     QLOAD(r->blocks), QLOAD(r->from_partial), QLOAD(r->carves), QLOAD(r->new_spans));
        quill_out(fd, buf, n);
#if QUILL_CLASS_STATS_COMPILED
        n = snprintf(buf, sizeof buf, "[quill] tiny[%2u] cache_hit=%llu cache_miss=%llu\n", c,
                     QLOAD(g_quill_class_stats[c].cache_hit), QLOAD(g_quill_class_stats[c].cache_miss));
        quill_out(fd, buf, n);
#endif
        quill_ring_stats *g = &g_quill_ring_stats[c];
        if (QLOAD(g->alloc_calls) != 0 || QLOAD(g->free_calls) != 0) {
            n = snprintf(buf, sizeof buf,
                         "[quill] ring[%2u] alloc=%llu hit=%llu miss=%llu free=%llu hit=%llu full=%llu "
                         "flush=%llu\n",
                         c, QLOAD(g->alloc_calls), QLOAD(g->alloc_hit), QLOAD(g->alloc_miss),
                         QLOAD(g->free_calls), QLOAD(g->free_hit), QLOAD(g->free_full), QLOAD(g->flush));
            quill_out(fd, buf, n);
        }
    }
    n = snprintf(buf, sizeof buf, "[quill] remote: drains=%llu blocks=%llu\n",
                 QLOAD(g_quill_refill_stats[0].remote_drains),
                 QLOAD(g_quill_refill_stats[0].drained_blocks));
    quill_out(fd, buf, n);
    for (unsigned c = 0; c < QUILL_MID_CLASSES; c++) {
        quill_mid_stats *m = &g_quill_mid_stats[c];
        if (QLOAD(m->alloc_calls) == 0 && QLOAD(m->free_calls) == 0)
            continue;
        n = snprintf(buf, sizeof buf,
                     "[quill] mid[%2u] %6u B: alloc=%llu hit=%llu pool_pop=%llu runs=%llu free=%llu "
                     "pool_push=%llu lock_spins=%llu\n",
                     c, g_quill_mid_class_size[c], QLOAD(m->alloc_calls), QLOAD(m->cache_hit),
                     QLOAD(m->pool_pop), QLOAD(m->run_carve), QLOAD(m->free_calls), QLOAD(m->pool_push),
                     QLOAD(m->lock_spins));
        quill_out(fd, buf, n);
    }
    quill_os_stats *o = &g_quill_os_stats;
    n = snprintf(buf, sizeof buf,
                 "[quill] os: init=%llu commits=%llu mmap=%llu munmap=%llu mremap=%llu madvise=%llu "
                 "span_release=%llu threads=%llu/%llu adopt=%llu large=%llu/%llu\n",
                 QLOAD(o->init_calls), QLOAD(o->arena_commits), QLOAD(o->mmap_calls),
                 QLOAD(o->munmap_calls), QLOAD(o->mremap_calls), QLOAD(o->madvise_calls),
                 QLOAD(o->span_release), QLOAD(o->thread_attach), QLOAD(o->thread_detach),
                 QLOAD(o->heap_adopt), QLOAD(o->large_alloc), QLOAD(o->large_free));
    quill_out(fd, buf, n);
    quill_diag_stats *d = &g_quill_diag;
    n = snprintf(buf, sizeof buf,
                 "[quill] diag: bad_free=%llu misaligned_free=%llu calloc_overflow=%llu "
                 "bad_alignment=%llu oom=%llu arena_full=%llu free_kind=%llu large_magic=%llu "
                 "free_enter=%llu\n",
                 QLOAD(d->bad_free), QLOAD(d->misaligned_free), QLOAD(d->calloc_overflow),
                 QLOAD(d->bad_alignment), QLOAD(d->oom), QLOAD(d->arena_full),
                 QLOAD(g_quill_diag_free_kind), QLOAD(g_quill_diag_large_magic),
                 QLOAD(g_quill_free_enter));
    quill_out(fd, buf, n);
}
