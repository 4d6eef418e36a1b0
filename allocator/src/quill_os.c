/* quill_os.c - COLD path: arena reservation, commit, span pool, mmap. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "quill_config.h"
#include "quill_internal.h"

#define QUILL_COMMIT_CHUNK ((size_t)4 << 20)
#define QUILL_KEEP_COMMITTED_SPANS 16

uintptr_t g_quill_arena_base;
size_t g_quill_arena_size;
quill_span *g_quill_spans;

static quill_lock g_quill_span_lock;
static uintptr_t g_quill_arena_next;      /* bump pointer */
static uintptr_t g_quill_arena_committed; /* end of committed prefix */
static quill_span *g_quill_span_pool;     /* free single spans */
static size_t g_quill_span_pool_len;

static quill_lock g_quill_meta_lock;
static char *g_quill_meta_cur;
static size_t g_quill_meta_left;

void quill_lock_slow(quill_lock *l) {
    for (;;) {
        int exp = 0;
        if (atomic_load_explicit(&l->v, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_weak_explicit(&l->v, &exp, 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return;
        sched_yield();
    }
}

void *quill_os_map(size_t len) {
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        atomic_fetch_add_explicit(&g_quill_diag.oom, 1, memory_order_relaxed);
        return NULL;
    }
    atomic_fetch_add_explicit(&g_quill_os_stats.mmap_calls, 1, memory_order_relaxed);
    return p;
}

void quill_os_unmap(void *p, size_t len) {
    atomic_fetch_add_explicit(&g_quill_os_stats.munmap_calls, 1, memory_order_relaxed);
    munmap(p, len);
}

int quill_os_arena_init(void) {
    static const size_t sizes[] = {(size_t)16 << 30, (size_t)4 << 30, (size_t)1 << 30,
                                   (size_t)256 << 20};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t sz = sizes[i];
        void *p = mmap(NULL, sz + QUILL_SPAN_SIZE, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            continue;
        size_t nspans = sz >> QUILL_SPAN_SHIFT;
        void *meta = mmap(NULL, nspans * sizeof(quill_span), PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (meta == MAP_FAILED) {
            munmap(p, sz + QUILL_SPAN_SIZE);
            continue;
        }
        uintptr_t base = ((uintptr_t)p + QUILL_SPAN_SIZE - 1) & ~(uintptr_t)(QUILL_SPAN_SIZE - 1);
        g_quill_spans = (quill_span *)meta;
        g_quill_arena_base = base;
        g_quill_arena_size = sz;
        g_quill_arena_next = base;
        g_quill_arena_committed = base;
        atomic_fetch_add_explicit(&g_quill_os_stats.mmap_calls, 2, memory_order_relaxed);
        return 1;
    }
    atomic_fetch_add_explicit(&g_quill_diag.oom, 1, memory_order_relaxed);
    return 0;
}

/* Allocate nspans contiguous spans. Single spans come from the pool first. */
quill_span *quill_span_alloc(size_t nspans) {
    quill_lock_acquire(&g_quill_span_lock);
    if (nspans == 1 && g_quill_span_pool != NULL) {
        quill_span *s = g_quill_span_pool;
        g_quill_span_pool = s->next;
        g_quill_span_pool_len--;
        quill_lock_release(&g_quill_span_lock);
        s->next = s->prev = NULL;
        return s;
    }
    size_t bytes = nspans << QUILL_SPAN_SHIFT;
    uintptr_t end = g_quill_arena_base + g_quill_arena_size;
    if (g_quill_arena_next + bytes > end || g_quill_arena_next + bytes < g_quill_arena_next) {
        quill_lock_release(&g_quill_span_lock);
        atomic_fetch_add_explicit(&g_quill_diag.arena_full, 1, memory_order_relaxed);
        return NULL;
    }
    uintptr_t start = g_quill_arena_next;
    if (start + bytes > g_quill_arena_committed) {
        uintptr_t want = (start + bytes + QUILL_COMMIT_CHUNK - 1) & ~(uintptr_t)(QUILL_COMMIT_CHUNK - 1);
        if (want > end)
            want = end;
        if (mprotect((void *)g_quill_arena_committed, want - g_quill_arena_committed,
                     PROT_READ | PROT_WRITE) != 0) {
            quill_lock_release(&g_quill_span_lock);
            atomic_fetch_add_explicit(&g_quill_diag.oom, 1, memory_order_relaxed);
            return NULL;
        }
        atomic_fetch_add_explicit(&g_quill_os_stats.arena_commits, 1, memory_order_relaxed);
        g_quill_arena_committed = want;
    }
    g_quill_arena_next = start + bytes;
    quill_lock_release(&g_quill_span_lock);
    quill_span *s = &g_quill_spans[(start - g_quill_arena_base) >> QUILL_SPAN_SHIFT];
    s->next = s->prev = NULL;
    s->nspans = (uint32_t)nspans;
    return s;
}

/* Return an empty tiny span to the shared pool. */
void quill_span_free(quill_span *s) {
    atomic_store_explicit(&s->owner, NULL, memory_order_relaxed);
    s->kind = QUILL_SPAN_FREE;
    s->free_list = NULL;
    s->used = 0;
    s->carved = 0;
    s->in_partial = 0;
    atomic_fetch_add_explicit(&g_quill_os_stats.span_release, 1, memory_order_relaxed);
    quill_lock_acquire(&g_quill_span_lock);
    int decommit = g_quill_decommit_enabled && g_quill_span_pool_len >= QUILL_KEEP_COMMITTED_SPANS;
    s->next = g_quill_span_pool;
    g_quill_span_pool = s;
    g_quill_span_pool_len++;
    if (decommit) {
        /* still holding the lock: nobody can take the span while we drop its pages */
        madvise((void *)quill_span_base(s), QUILL_SPAN_SIZE, MADV_DONTNEED);
        atomic_fetch_add_explicit(&g_quill_os_stats.madvise_calls, 1, memory_order_relaxed);
    }
    quill_lock_release(&g_quill_span_lock);
}

/* Internal metadata (heaps): bump allocation from mmap'd chunks, never freed. */
void *quill_meta_alloc(size_t size) {
    size = (size + 63) & ~(size_t)63;
    quill_lock_acquire(&g_quill_meta_lock);
    if (g_quill_meta_left < size) {
        size_t chunk = size > 65536 ? size : 65536;
        void *p = quill_os_map(chunk);
        if (p == NULL) {
            quill_lock_release(&g_quill_meta_lock);
            return NULL;
        }
        g_quill_meta_cur = (char *)p;
        g_quill_meta_left = chunk;
    }
    void *r = g_quill_meta_cur;
    g_quill_meta_cur += size;
    g_quill_meta_left -= size;
    quill_lock_release(&g_quill_meta_lock);
    return r; /* fresh mmap memory is zeroed */
}

void quill_os_lock_all(void) {
    quill_lock_acquire(&g_quill_meta_lock);
    quill_lock_acquire(&g_quill_span_lock);
}

void quill_os_unlock_all(void) {
    quill_lock_release(&g_quill_span_lock);
    quill_lock_release(&g_quill_meta_lock);
}

void quill_os_reset_locks(void) {
    atomic_store_explicit(&g_quill_span_lock.v, 0, memory_order_relaxed);
    atomic_store_explicit(&g_quill_meta_lock.v, 0, memory_order_relaxed);
}
