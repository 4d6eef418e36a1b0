/* quill_build_flags.h - every compile-time switch of quill in one place.
 *
 * Override any of them from the command line, e.g.
 *   make OUT=build/ab EXTRA_CFLAGS=-DQUILL_CLASS_STATS_COMPILED=1
 *
 * The *_COMPILED flags follow the atomic-prune workflow of the lab notes
 * (phases 24-29): a telemetry-only atomic family is wrapped in
 *   #if QUILL_X_COMPILED  <atomic write>  #else  (void)0;  #endif
 * and defaults to 0 (compiled out) once an A/B run says so.
 */
#ifndef QUILL_BUILD_FLAGS_H
#define QUILL_BUILD_FLAGS_H

/* ---- build flavor ----------------------------------------------------- */

/* 1 = release build: debug-only validation is compiled out. */
#ifndef QUILL_BUILD_RELEASE
# ifdef NDEBUG
#  define QUILL_BUILD_RELEASE 1
# else
#  define QUILL_BUILD_RELEASE 0
# endif
#endif

/* Per-thread debug counters (refill stages); on by default in debug builds. */
#ifndef QUILL_DEBUG_COUNTERS
# if QUILL_BUILD_RELEASE
#  define QUILL_DEBUG_COUNTERS 0
# else
#  define QUILL_DEBUG_COUNTERS 1
# endif
#endif

/* ---- telemetry compile-outs (default 0 = compiled out) ---------------- */

/* Per-class tcache hit/miss counters on the malloc fast path (cf. phase 24). */
#ifndef QUILL_CLASS_STATS_COMPILED
# define QUILL_CLASS_STATS_COMPILED 0
#endif

/* Free entry counter, executed on every free() (cf. phase 25). */
#ifndef QUILL_FREE_STATS_COMPILED
# define QUILL_FREE_STATS_COMPILED 0
#endif

/* Diagnostic counters on rare free-path edge cases (cf. phase 26). */
#ifndef QUILL_DIAG_COMPILED
# define QUILL_DIAG_COMPILED 0
#endif

/* Mid-pool lock contention counters (cf. phase 27). */
#ifndef QUILL_MID_LOCK_STATS_COMPILED
# define QUILL_MID_LOCK_STATS_COMPILED 0
#endif

/* ---- build-time structure (not telemetry) ----------------------------- */

/* When defined, the standard malloc/free symbols are not exported; only the
 * quill_* API exists (used for ASan/TSan test builds). */
/* #define QUILL_NO_OVERRIDE */

#endif /* QUILL_BUILD_FLAGS_H */
