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

void *quill_large_alloc(size_t size, size_t align) {
    size_t page = quill_page_size();
    if (align < QUILL_MIN_ALIGN)
        align = QUILL_MIN_ALIGN;
    size_t extra = QUILL_LARGE_HDR + (align > QUILL_LARGE_HDR ? align : 0);
    if (size > (size_t)PTRDIFF_MAX - extra - page) {
        errno = ENOMEM;
        return NULL;
    }
    size_t len = (size + extra + page - 1) & ~(page - 1);
    void *base = quill_os_map(len);
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
