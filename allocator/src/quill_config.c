/* quill_config.c - ENV gates, mode presets (QUILL_MODE) and bench profile
 * presets (QUILL_PROFILE).
 *
 * Priority, highest first:
 *   1. an individual variable set by the user (QUILL_TCACHE_MAX=...)
 *   2. QUILL_PROFILE bench presets   (applied with set-if-unset)
 *   3. QUILL_MODE presets            (applied with set-if-unset)
 *   4. the built-in default of each gate below
 *
 * Gates are read with getenv() only, so quill_config_load() is safe inside
 * malloc's one-time init. Presets call setenv(), which allocates, so they
 * run from a constructor once the allocator is usable.
 */
#include <stdlib.h>
#include <string.h>
#include "quill_config.h"
#include "quill.h"

int g_quill_front_ring_enabled = 0;
int g_quill_decommit_enabled = 1;
int g_quill_tcache_max = 64;
int g_quill_refill_batch = 32;
int g_quill_remote_drain_target = 64;
int g_quill_stats_dump = 0;

static const char *g_quill_mode_name = "balanced";

static int quill_clamp(int v, int lo, int hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

/* ---- individual gates ---------------------------------------------------- */

static int quill_env_front_ring_enabled(void) {
    const char *e = getenv("QUILL_FRONT_RING_ENABLED");
    return (e && *e && *e != '0') ? 1 : 0; /* default OFF: the seeds' Phase 29 shape */
}

static int quill_env_decommit_enabled(void) {
    const char *e = getenv("QUILL_DECOMMIT");
    return (e && *e == '0') ? 0 : 1; /* default ON: only a value starting with '0' turns it off */
}

static int quill_env_tcache_max(void) {
    const char *e = getenv("QUILL_TCACHE_MAX");
    if (e == NULL || *e == '\0')
        return 64;
    return quill_clamp(atoi(e), 4, 4096);
}

static int quill_env_refill_batch(void) {
    const char *e = getenv("QUILL_REFILL_BATCH");
    if (e == NULL || *e == '\0')
        return 32;
    return quill_clamp(atoi(e), 1, 1024);
}

static int quill_env_remote_drain_target(void) {
    const char *e = getenv("QUILL_REMOTE_DRAIN_TARGET");
    if (e == NULL || *e == '\0')
        return 64;
    return quill_clamp(atoi(e), 1, 1 << 20);
}

static int quill_env_stats_dump(void) {
    const char *e = getenv("QUILL_STATS_DUMP");
    if (e == NULL || *e == '\0')
        return 0;
    return atoi(e) != 0;
}

void quill_config_load(void) {
    g_quill_front_ring_enabled = quill_env_front_ring_enabled();
    g_quill_decommit_enabled = quill_env_decommit_enabled();
    g_quill_tcache_max = quill_env_tcache_max();
    g_quill_refill_batch = quill_env_refill_batch();
    g_quill_remote_drain_target = quill_env_remote_drain_target();
    g_quill_stats_dump = quill_env_stats_dump();
}

/* ---- presets ------------------------------------------------------------- */

/* Set a variable only when the user did not set it (setenv overwrite=0). */
static void quill_env_set_if_unset(const char *name, const char *value) {
    setenv(name, value, 0);
}

/* QUILL_MODE: five modes, each a bundle of features (seed 003). */
static void quill_mode_apply(const char *mode) {
    if (strcmp(mode, "minimal") == 0) {
        quill_env_set_if_unset("QUILL_FRONT_RING_ENABLED", "0");
        quill_env_set_if_unset("QUILL_TCACHE_MAX", "16");
        quill_env_set_if_unset("QUILL_REFILL_BATCH", "8");
        quill_env_set_if_unset("QUILL_DECOMMIT", "1");
        g_quill_mode_name = "minimal";
    } else if (strcmp(mode, "fast") == 0) {
        quill_env_set_if_unset("QUILL_FRONT_RING_ENABLED", "1");
        quill_env_set_if_unset("QUILL_TCACHE_MAX", "256");
        quill_env_set_if_unset("QUILL_REFILL_BATCH", "64");
        quill_env_set_if_unset("QUILL_DECOMMIT", "0");
        g_quill_mode_name = "fast";
    } else if (strcmp(mode, "balanced") == 0) {
        quill_env_set_if_unset("QUILL_TCACHE_MAX", "64");
        quill_env_set_if_unset("QUILL_REFILL_BATCH", "32");
        g_quill_mode_name = "balanced";
    } else if (strcmp(mode, "learning") == 0) {
        quill_env_set_if_unset("QUILL_FRONT_RING_ENABLED", "1");
        quill_env_set_if_unset("QUILL_REMOTE_DRAIN_TARGET", "16");
        quill_env_set_if_unset("QUILL_STATS_DUMP", "1");
        g_quill_mode_name = "learning";
    } else if (strcmp(mode, "research") == 0) {
        quill_env_set_if_unset("QUILL_FRONT_RING_ENABLED", "1");
        quill_env_set_if_unset("QUILL_TCACHE_MAX", "32");
        quill_env_set_if_unset("QUILL_REMOTE_DRAIN_TARGET", "8");
        quill_env_set_if_unset("QUILL_DECOMMIT", "1");
        quill_env_set_if_unset("QUILL_STATS_DUMP", "1");
        g_quill_mode_name = "research";
    }
}

/* QUILL_PROFILE: benchmark presets (seed 004). */
static void quill_profile_apply(const char *profile) {
    if (strcmp(profile, "bench_random_mixed") == 0) {
        quill_env_set_if_unset("QUILL_TCACHE_MAX", "128");
        quill_env_set_if_unset("QUILL_REFILL_BATCH", "64");
        quill_env_set_if_unset("QUILL_FRONT_RING_ENABLED", "0");
    } else if (strcmp(profile, "bench_mid_large_mt") == 0) {
        quill_env_set_if_unset("QUILL_TCACHE_MAX", "32");
        quill_env_set_if_unset("QUILL_DECOMMIT", "0");
        quill_env_set_if_unset("QUILL_REMOTE_DRAIN_TARGET", "128");
    } else if (strcmp(profile, "larson") == 0) {
        quill_env_set_if_unset("QUILL_TCACHE_MAX", "64");
        quill_env_set_if_unset("QUILL_REMOTE_DRAIN_TARGET", "16");
        quill_env_set_if_unset("QUILL_REFILL_BATCH", "16");
    }
}

void quill_config_apply_presets(void) {
    const char *profile = getenv("QUILL_PROFILE");
    const char *mode = getenv("QUILL_MODE");
    if (profile != NULL && *profile != '\0')
        quill_profile_apply(profile);
    if (mode != NULL && *mode != '\0')
        quill_mode_apply(mode);
    quill_config_load();
}

const char *quill_config_mode_name(void) {
    return g_quill_mode_name;
}

/* At exit, when QUILL_STATS_DUMP=1 (or a mode that sets it) asks for it. Here, not in
 * quill_stats.c: this file is always linked, and the call pulls quill_stats.o into a
 * static link even when every counter write is compiled out. */
__attribute__((destructor)) static void quill_stats_dtor(void) {
    if (g_quill_stats_dump)
        quill_stats_dump(2);
}
