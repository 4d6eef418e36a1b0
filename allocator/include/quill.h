/* quill - a small size-class allocator with per-thread caches.
 *
 * Public API. libquill.so / libquill.a also export the standard
 * malloc/free/... symbols (see src/quill_override.c) unless built with
 * -DQUILL_NO_OVERRIDE (the sanitizer test builds do that).
 */
#ifndef QUILL_H
#define QUILL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

void  *quill_malloc(size_t size);
void   quill_free(void *ptr);
void  *quill_calloc(size_t nmemb, size_t size);
void  *quill_realloc(void *ptr, size_t size);
int    quill_posix_memalign(void **out, size_t alignment, size_t size);
void  *quill_aligned_alloc(size_t alignment, size_t size);
void  *quill_memalign(size_t alignment, size_t size);
void  *quill_valloc(size_t size);
void  *quill_pvalloc(size_t size);
size_t quill_malloc_usable_size(void *ptr);

/* Write the telemetry counters to fd (what QUILL_STATS_DUMP=1 prints at exit). */
void   quill_stats_dump(int fd);

/* Flush this thread's caches back to the shared pool (also done at thread exit). */
void   quill_thread_flush(void);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* QUILL_H */
