#!/usr/bin/env python3
"""Generate the pattern -> file:line map of README.md from the sources.

  pattern_map.py            print the map
  pattern_map.py --update   rewrite the block between the map markers in README.md
  pattern_map.py --check    exit 1 if README.md's map is stale (run by `make test`)
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (section, description, file, regex, all_matches)
PATTERNS = [
    ("Telemetry: HOT", "per-class tcache counters `g_quill_tcache_stats` - NOT yet compiled out (every write site)",
     "src/*.c", r"atomic_fetch_add_explicit\(&g_quill_tcache_stats\[", True),
    ("Telemetry: HOT", "`g_quill_class_stats` hit/miss - already compiled out (`#if QUILL_CLASS_STATS_COMPILED ... #else (void)0; #endif`; the quill_stats.c hit is the dump reading them)",
     "src/*.c", r"^#if QUILL_CLASS_STATS_COMPILED", True),
    ("Telemetry: HOT", "`g_quill_free_enter` - already compiled out (`QUILL_FREE_STATS_COMPILED`)",
     "src/quill_malloc.c", r"^#if QUILL_FREE_STATS_COMPILED", False),
    ("Telemetry: HOT-looking, ENV-gated OFF", "front ring counters `g_quill_ring_stats` (run only with QUILL_FRONT_RING_ENABLED=1)",
     "src/quill_ring.c", r"atomic_fetch_add_explicit\(&g_quill_ring_stats\[", True),
    ("Telemetry: WARM", "refill counters `g_quill_refill_stats`",
     "src/quill_tiny.c", r"atomic_fetch_add_explicit\(&g_quill_refill_stats\[cls\]\.refills", False),
    ("Telemetry: WARM", "mid path counters `g_quill_mid_stats`",
     "src/quill_mid.c", r"atomic_fetch_add_explicit\(&g_quill_mid_stats\[cls\]\.alloc_calls", False),
    ("Telemetry: WARM", "mid lock counter - already compiled out (`QUILL_MID_LOCK_STATS_COMPILED`)",
     "src/quill_mid.c", r"^#if QUILL_MID_LOCK_STATS_COMPILED", False),
    ("Telemetry: COLD", "init counter",
     "src/quill_malloc.c", r"g_quill_os_stats\.init_calls", False),
    ("Telemetry: COLD", "mmap counter",
     "src/quill_os.c", r"g_quill_os_stats\.mmap_calls, 1", False),
    ("Telemetry: COLD", "madvise counter (empty span decommit)",
     "src/quill_os.c", r"g_quill_os_stats\.madvise_calls", False),
    ("Telemetry: diagnostics", "calloc overflow (error branch only)",
     "src/quill_malloc.c", r"g_quill_diag\.calloc_overflow", False),
    ("Telemetry: diagnostics", "bad alignment (error branch only)",
     "src/quill_malloc.c", r"g_quill_diag\.bad_alignment", False),
    ("Telemetry: diagnostics", "bad free (error branch only)",
     "src/quill_malloc.c", r"g_quill_diag\.bad_free", False),
    ("Telemetry: diagnostics", "diag counters already compiled out (`QUILL_DIAG_COMPILED`)",
     "src/*.c", r"^#if QUILL_DIAG_COMPILED", True),
    ("Stats dump", "`quill_stats_dump()` - the only reader of the telemetry",
     "src/quill_stats.c", r"^void quill_stats_dump\(", False),
    ("Stats dump", "exit-time destructor, gated by QUILL_STATS_DUMP",
     "src/quill_config.c", r"__attribute__\(\(destructor\)\)", False),
    ("Correctness atomics", "remote-free queue: CAS-loop push",
     "src/quill_remote.c", r"atomic_compare_exchange_weak_explicit\(&owner->remote_head", False),
    ("Correctness atomics", "remote-free queue: owner takes the whole list",
     "src/quill_remote.c", r"atomic_exchange_explicit\(&h->remote_head", False),
    ("Correctness atomics", "PHASE-28 TRAP: `remote_len` incremented like a counter...",
     "src/quill_remote.c", r"atomic_fetch_add_explicit\(&owner->remote_len", False),
    ("Correctness atomics", "...but compared with `g_quill_remote_drain_target` in flow control",
     "src/quill_tiny.c", r"remote_len, memory_order_relaxed\) >= g_quill_remote_drain_target", False),
    ("Correctness atomics", "init-once flag `g_quill_init_state` (CAS 0 -> 1, then 2)",
     "src/quill_malloc.c", r"atomic_compare_exchange_strong_explicit\(&g_quill_init_state", False),
    ("Correctness atomics", "owner thread id set on attach/adopt",
     "src/quill_tiny.c", r"atomic_store_explicit\(&h->owner_tid, t_quill\.tid", False),
    ("Correctness atomics", "owner thread id tested in the remote free (abandoned heap?)",
     "src/quill_remote.c", r"atomic_load_explicit\(&owner->owner_tid", False),
    ("Correctness atomics", "span owner compared on the free fast path",
     "src/quill_malloc.c", r"atomic_load_explicit\(&s->owner, memory_order_relaxed\) == t_quill\.heap", False),
    ("ENV gates", "QUILL_FRONT_RING_ENABLED - default OFF (phase-29 trap)",
     "src/quill_config.c", r'getenv\("QUILL_FRONT_RING_ENABLED"\)', False),
    ("ENV gates", "...its use on the malloc fast path",
     "src/quill_malloc.c", r"if \(QUILL_UNLIKELY\(quill_front_ring_enabled\(\)\)\)", False),
    ("ENV gates", "QUILL_DECOMMIT - default ON",
     "src/quill_config.c", r'getenv\("QUILL_DECOMMIT"\)', False),
    ("ENV gates", "...its use (madvise of empty spans)",
     "src/quill_os.c", r"g_quill_decommit_enabled &&", False),
    ("ENV gates", "QUILL_TCACHE_MAX - numeric knob (default 64)",
     "src/quill_config.c", r'getenv\("QUILL_TCACHE_MAX"\)', False),
    ("ENV gates", "QUILL_REFILL_BATCH - numeric knob (default 32)",
     "src/quill_config.c", r'getenv\("QUILL_REFILL_BATCH"\)', False),
    ("ENV gates", "QUILL_REMOTE_DRAIN_TARGET - numeric knob (default 64)",
     "src/quill_config.c", r'getenv\("QUILL_REMOTE_DRAIN_TARGET"\)', False),
    ("ENV gates", "QUILL_STATS_DUMP - default OFF",
     "src/quill_config.c", r'getenv\("QUILL_STATS_DUMP"\)', False),
    ("ENV gates", "QUILL_MODE - mode presets minimal/fast/balanced/learning/research",
     "src/quill_config.c", r"^static void quill_mode_apply\(", False),
    ("ENV gates", "QUILL_PROFILE - bench profile presets",
     "src/quill_config.c", r"^static void quill_profile_apply\(", False),
    ("ENV gates", "set-if-unset helper (`setenv(name, value, 0)`)",
     "src/quill_config.c", r"^static void quill_env_set_if_unset\(", False),
    ("ENV gates", "presets applied from a constructor (setenv allocates)",
     "src/quill_malloc.c", r"quill_config_apply_presets\(\);", False),
    ("Build flags", "build-flags header: QUILL_BUILD_RELEASE",
     "src/quill_build_flags.h", r"^#ifndef QUILL_BUILD_RELEASE", False),
    ("Build flags", "QUILL_DEBUG_COUNTERS",
     "src/quill_build_flags.h", r"^#ifndef QUILL_DEBUG_COUNTERS", False),
    ("Build flags", "QUILL_CLASS_STATS_COMPILED (default 0)",
     "src/quill_build_flags.h", r"^#ifndef QUILL_CLASS_STATS_COMPILED", False),
    ("Build flags", "QUILL_FREE_STATS_COMPILED (default 0)",
     "src/quill_build_flags.h", r"^#ifndef QUILL_FREE_STATS_COMPILED", False),
    ("Build flags", "QUILL_DIAG_COMPILED (default 0)",
     "src/quill_build_flags.h", r"^#ifndef QUILL_DIAG_COMPILED", False),
    ("Build flags", "QUILL_MID_LOCK_STATS_COMPILED (default 0)",
     "src/quill_build_flags.h", r"^#ifndef QUILL_MID_LOCK_STATS_COMPILED", False),
    ("Release hygiene", "debug-only validation, correctly guarded by `#if !QUILL_BUILD_RELEASE` (refill)",
     "src/quill_tiny.c", r"^\s+quill_debug_validate_span\(s\);", False),
    ("Release hygiene", "debug counters guarded by `#if QUILL_DEBUG_COUNTERS`",
     "src/quill_tiny.c", r"t_quill_dbg_refill_stage\[0\]\+\+", False),
    ("Release hygiene", "hot-path diagnostic NOT guarded (runs in release builds)",
     "src/quill_malloc.c", r"^\s+quill_debug_check_free\(s, p\);", False),
    ("Allocator", "malloc fast path (TLS tcache pop)",
     "src/quill_malloc.c", r"^void \*quill_malloc\(size_t size\)", False),
    ("Allocator", "free fast path (span lookup, owner check, tcache push)",
     "src/quill_malloc.c", r"^void quill_free\(void \*p\)", False),
    ("Allocator", "batch refill from spans / shared span pool",
     "src/quill_tiny.c", r"^static uint32_t quill_tiny_refill\(", False),
    ("Allocator", "thread exit: flush and abandon the heap (pthread key destructor)",
     "src/quill_tiny.c", r"^void quill_thread_detach\(", False),
    ("Allocator", "mid path",
     "src/quill_mid.c", r"^void \*quill_mid_alloc_class\(", False),
    ("Allocator", "large path (mmap + header, small reuse cache)",
     "src/quill_large.c", r"^static void \*quill_large_alloc_impl\(", False),
    ("Allocator", "exported malloc/free/... symbols",
     "src/quill_override.c", r"^QUILL_EXPORT void \*malloc\(", False),
]


def find(pattern, regex, all_matches):
    import glob
    hits = []
    for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
        rel = os.path.relpath(path, ROOT)
        for i, line in enumerate(open(path), 1):
            if re.search(regex, line):
                hits.append("%s:%d" % (rel, i))
                if not all_matches:
                    return hits
    return hits


def render():
    out = ["| Area | Pattern | Where |", "|---|---|---|"]
    missing = []
    for section, desc, pattern, regex, all_matches in PATTERNS:
        hits = find(pattern, regex, all_matches)
        if not hits:
            missing.append(desc)
        out.append("| %s | %s | %s |" % (section, desc, ", ".join("`%s`" % h for h in hits) or "MISSING"))
    return "\n".join(out) + "\n", missing


def main():
    text, missing = render()
    readme = os.path.join(ROOT, "README.md")
    begin, end = "<!-- map:begin -->\n", "<!-- map:end -->"
    if "--update" in sys.argv or "--check" in sys.argv:
        cur = open(readme).read()
        a, b = cur.index(begin) + len(begin), cur.index(end)
        new = cur[:a] + text + cur[b:]
        if "--update" in sys.argv:
            open(readme, "w").write(new)
        elif new != cur:
            print("README.md pattern map is stale: run scripts/pattern_map.py --update")
            return 1
    else:
        sys.stdout.write(text)
    if missing:
        print("missing patterns: %s" % "; ".join(missing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
