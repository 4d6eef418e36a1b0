/* quill_override.c - the standard allocation symbols, exported by
 * libquill.so (LD_PRELOAD) and libquill.a (direct linking).
 * Not compiled into the sanitizer test builds (-DQUILL_NO_OVERRIDE). */
#include <stddef.h>
#include "../include/quill.h"

#ifndef QUILL_NO_OVERRIDE

#define QUILL_EXPORT __attribute__((visibility("default")))

QUILL_EXPORT void *malloc(size_t size) { return quill_malloc(size); }
QUILL_EXPORT void free(void *p) { quill_free(p); }
QUILL_EXPORT void cfree(void *p) { quill_free(p); }
QUILL_EXPORT void *calloc(size_t n, size_t size) { return quill_calloc(n, size); }
QUILL_EXPORT void *realloc(void *p, size_t size) { return quill_realloc(p, size); }
QUILL_EXPORT int posix_memalign(void **out, size_t align, size_t size) {
    return quill_posix_memalign(out, align, size);
}
QUILL_EXPORT void *aligned_alloc(size_t align, size_t size) { return quill_aligned_alloc(align, size); }
QUILL_EXPORT void *memalign(size_t align, size_t size) { return quill_memalign(align, size); }
QUILL_EXPORT void *valloc(size_t size) { return quill_valloc(size); }
QUILL_EXPORT void *pvalloc(size_t size) { return quill_pvalloc(size); }
QUILL_EXPORT size_t malloc_usable_size(void *p) { return quill_malloc_usable_size(p); }

#endif /* QUILL_NO_OVERRIDE */
