/* quill_config.h - runtime ENV gates, read once and cached in statics. */
#ifndef QUILL_CONFIG_H
#define QUILL_CONFIG_H

/* QUILL_FRONT_RING_ENABLED (default 0 = OFF): per-thread front ring. */
extern int g_quill_front_ring_enabled;
/* QUILL_DECOMMIT (default 1 = ON): madvise(MADV_DONTNEED) empty spans. */
extern int g_quill_decommit_enabled;
/* QUILL_TCACHE_MAX (numeric, default 64): per-class tcache capacity. */
extern int g_quill_tcache_max;
/* QUILL_REFILL_BATCH (numeric, default 32): blocks moved per refill. */
extern int g_quill_refill_batch;
/* QUILL_REMOTE_DRAIN_TARGET (numeric, default 64): remote queue length
 * at which the owner drains. */
extern int g_quill_remote_drain_target;
/* QUILL_STATS_DUMP (default 0): dump telemetry at exit. */
extern int g_quill_stats_dump;

static inline int quill_front_ring_enabled(void) {
    return g_quill_front_ring_enabled;
}

/* Reads every gate (getenv only: no allocation). Called from quill_init(). */
void quill_config_load(void);
/* Applies QUILL_PROFILE / QUILL_MODE presets (set-if-unset), then reloads. */
void quill_config_apply_presets(void);
/* Name of the active mode (for the stats dump). */
const char *quill_config_mode_name(void);

#endif /* QUILL_CONFIG_H */
