/* quill_large.c - large blocks (> 256 KiB or alignment > 64 KiB): one mmap
 * each, with a 64-byte header right below the user pointer. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "quill_internal.h"

#define QUILL_LARGE_MAGIC 0x71756c6c4c415247ull /* "qullLARG" */

typedef struct quill_large_hdr {
    uint64_t magic;
    void *map_base;
    size_t map_len;
    size_t usable;
    uint64_t pad[4];
} quill_large_hdr;

_Static_assert(sizeof(quill_large_hdr) == QUILL_LARGE_HDR, "large header size");

static size_t quill_page_size(void) {
    return 4096;
}

/* A few recently freed mappings are kept for reuse, so that programs that
 * free and reallocate big buffers do not pay mmap + page faults every time. */
#define QUILL_LARGE_CACHE_SLOTS 16
#define QUILL_LARGE_CACHE_BYTES ((size_t)64 << 20)
#define QUILL_LARGE_CACHE_MAX_BLOCK ((size_t)16 << 20)

typedef struct {
    void *base;
    size_t len;
} quill_large_slot;

static quill_lock g_quill_large_lock;
static quill_large_slot g_quill_large_cache[QUILL_LARGE_CACHE_SLOTS];
static unsigned g_quill_large_cache_n;
static size_t g_quill_large_cache_bytes;

/* best fit among cached mappings of len..2*len bytes */
static void *quill_large_cache_take(size_t len, size_t *got_len) {
    void *base = NULL;
    quill_lock_acquire(&g_quill_large_lock);
    unsigned best = QUILL_LARGE_CACHE_SLOTS;
    for (unsigned i = 0; i < g_quill_large_cache_n; i++) {
        size_t l = g_quill_large_cache[i].len;
        if (l >= len && l <= 2 * len && (best == QUILL_LARGE_CACHE_SLOTS || l < g_quill_large_cache[best].len))
            best = i;
    }
    if (best != QUILL_LARGE_CACHE_SLOTS) {
        base = g_quill_large_cache[best].base;
        *got_len = g_quill_large_cache[best].len;
        g_quill_large_cache_bytes -= *got_len;
        g_quill_large_cache[best] = g_quill_large_cache[--g_quill_large_cache_n];
    }
    quill_lock_release(&g_quill_large_lock);
    return base;
}

static int quill_large_cache_put(void *base, size_t len) {
    int kept = 0;
    if (len > QUILL_LARGE_CACHE_MAX_BLOCK)
        return 0;
    quill_lock_acquire(&g_quill_large_lock);
    if (g_quill_large_cache_n < QUILL_LARGE_CACHE_SLOTS &&
        g_quill_large_cache_bytes + len <= QUILL_LARGE_CACHE_BYTES) {
        g_quill_large_cache[g_quill_large_cache_n].base = base;
        g_quill_large_cache[g_quill_large_cache_n].len = len;
        g_quill_large_cache_n++;
        g_quill_large_cache_bytes += len;
        kept = 1;
    }
    quill_lock_release(&g_quill_large_lock);
    return kept;
}

void quill_large_lock_all(void) {
    quill_lock_acquire(&g_quill_large_lock);
}

void quill_large_unlock_all(void) {
    quill_lock_release(&g_quill_large_lock);
}

void quill_large_reset_lock(void) {
    atomic_store_explicit(&g_quill_large_lock.v, 0, memory_order_relaxed);
}

/* zeroed = 1: the caller needs zeroed memory (calloc): only fresh mappings. */
static void *quill_large_alloc_impl(size_t size, size_t align, int zeroed) {
    size_t page = quill_page_size();
    if (align < QUILL_MIN_ALIGN)
        align = QUILL_MIN_ALIGN;
    size_t extra = QUILL_LARGE_HDR + (align > QUILL_LARGE_HDR ? align : 0);
    if (size > (size_t)PTRDIFF_MAX - extra - page) {
        errno = ENOMEM;
        return NULL;
    }
    size_t len = (size + extra + page - 1) & ~(page - 1);
    void *base = NULL;
    if (!zeroed && align <= QUILL_LARGE_HDR) {
        size_t got = 0;
        base = quill_large_cache_take(len, &got);
        if (base != NULL)
            len = got;
    }
    if (base == NULL)
        base = quill_os_map(len);
    if (base == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    uintptr_t user = ((uintptr_t)base + QUILL_LARGE_HDR + align - 1) & ~(uintptr_t)(align - 1);
    quill_large_hdr *h = (quill_large_hdr *)(user - QUILL_LARGE_HDR);
    h->magic = QUILL_LARGE_MAGIC;
    h->map_base = base;
    h->map_len = len;
    h->usable = (uintptr_t)base + len - user;
    atomic_fetch_add_explicit(&g_quill_os_stats.large_alloc, 1, memory_order_relaxed);
    return (void *)user;
}

void *quill_large_alloc(size_t size, size_t align) {
    return quill_large_alloc_impl(size, align, 0);
}

void *quill_large_alloc_zeroed(size_t size) {
    return quill_large_alloc_impl(size, QUILL_MIN_ALIGN, 1);
}

static quill_large_hdr *quill_large_hdr_of(void *p) {
    quill_large_hdr *h = (quill_large_hdr *)((uintptr_t)p - QUILL_LARGE_HDR);
    if (((uintptr_t)p & (QUILL_MIN_ALIGN - 1)) != 0 || h->magic != QUILL_LARGE_MAGIC) {
#if QUILL_DIAG_COMPILED
        atomic_fetch_add_explicit(&g_quill_diag_large_magic, 1, memory_order_relaxed);
#else
        (void)0;
#endif
        return NULL;
    }
    return h;
}

int quill_large_free(void *p) {
    quill_large_hdr *h = quill_large_hdr_of(p);
    if (h == NULL) {
        atomic_fetch_add_explicit(&g_quill_diag.bad_free, 1, memory_order_relaxed);
        return 0;
    }
    h->magic = 0;
    atomic_fetch_add_explicit(&g_quill_os_stats.large_free, 1, memory_order_relaxed);
    if (!quill_large_cache_put(h->map_base, h->map_len))
        quill_os_unmap(h->map_base, h->map_len);
    return 1;
}

size_t quill_large_usable(void *p) {
    quill_large_hdr *h = quill_large_hdr_of(p);
    return h ? h->usable : 0;
}

/* Grow or shrink a large block in place or by mremap. NULL = caller copies. */
void *quill_large_realloc(void *p, size_t size) {
    quill_large_hdr *h = quill_large_hdr_of(p);
    size_t page = quill_page_size();
    if (h == NULL || (uintptr_t)h != (uintptr_t)h->map_base)
        return NULL; /* over-aligned block: let the caller copy */
    if (size > (size_t)PTRDIFF_MAX - QUILL_LARGE_HDR - page)
        return NULL;
    size_t len = (size + QUILL_LARGE_HDR + page - 1) & ~(page - 1);
    if (len == h->map_len)
        return p;
    void *nb = mremap(h->map_base, h->map_len, len, MREMAP_MAYMOVE);
    if (nb == MAP_FAILED)
        return NULL;
    atomic_fetch_add_explicit(&g_quill_os_stats.mremap_calls, 1, memory_order_relaxed);
    h = (quill_large_hdr *)nb;
    h->map_base = nb;
    h->map_len = len;
    h->usable = len - QUILL_LARGE_HDR;
    return (char *)nb + QUILL_LARGE_HDR;
}
