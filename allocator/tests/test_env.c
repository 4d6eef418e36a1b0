/* test_env - ENV gates, QUILL_MODE and QUILL_PROFILE presets.
 * usage: test_env ring=0|1 [tcache=N]
 * Runs a small random-mixed loop, then checks whether the front ring (ENV
 * gate QUILL_FRONT_RING_ENABLED, default OFF) ran, by the blocks it holds:
 * ring state, not its telemetry, so the check holds with g_quill_ring_stats
 * compiled out. The ring counters are only printed. */
#include <stdint.h>
#include <string.h>
#include "quill.h"
#include "quill_config.h"
#include "quill_internal.h"
#include "quill_stats.h"
#include "test_util.h"

int main(int argc, char **argv) {
    int want_ring = -1, want_tcache = -1;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "ring=", 5) == 0)
            want_ring = atoi(argv[i] + 5);
        else if (strncmp(argv[i], "tcache=", 7) == 0)
            want_tcache = atoi(argv[i] + 7);
    }
    void *slot[64] = {0};
    uint64_t s = 1;
    for (int i = 0; i < 100000; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        unsigned k = (unsigned)(s >> 58);
        if (slot[k]) {
            quill_free(slot[k]);
            slot[k] = NULL;
        } else {
            slot[k] = quill_malloc(16 + (size_t)((s >> 20) % 1009));
        }
    }
    for (int k = 0; k < 64; k++)
        quill_free(slot[k]);
    unsigned ring_held = quill_ring_held();
    uint64_t ring_calls = 0;
    for (int c = 0; c < QUILL_TINY_CLASSES; c++)
        ring_calls += atomic_load(&g_quill_ring_stats[c].alloc_calls);
    if (want_ring >= 0) {
        CHECK(g_quill_front_ring_enabled == want_ring);
        CHECK((ring_held != 0) == (want_ring != 0));
    }
    if (want_tcache >= 0)
        CHECK(g_quill_tcache_max == want_tcache);
    printf("test_env: ring_enabled=%d ring_held=%u ring_alloc_calls=%llu tcache_max=%d\n", g_quill_front_ring_enabled,
           ring_held, (unsigned long long)ring_calls, g_quill_tcache_max);
    return test_done("test_env");
}
