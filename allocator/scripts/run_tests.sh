#!/bin/sh
# Full test suite of the quill allocator (what `make test` runs).
#   unit + env + bench smoke on the release build, the debug build,
#   ASan+UBSan and TSan builds (each in its own OUT subdirectory),
#   Makefile flag-dependency check, LD_PRELOAD smoke.
# Ends with "allocator: N passed, M failed" and exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-build}
MAKE=${MAKE:-make}
CC=${CC:-cc}
JOBS=${JOBS:-2}
LOG=$OUT/test-logs
mkdir -p "$LOG"
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "PASS $1"; }
ko() { failed=$((failed + 1)); echo "FAIL $1"; }

# step NAME CMD...: run, log output, count
step() {
    name=$1
    shift
    if "$@" >"$LOG/$name.log" 2>&1; then
        ok "$name"
    else
        ko "$name (log: $LOG/$name.log)"
        tail -n 15 "$LOG/$name.log" | sed 's/^/    /'
    fi
}

need_tool() {
    if command -v "$1" >/dev/null 2>&1; then return 0; fi
    ko "missing tool '$1': install it with: apt-get install -y $2"
    return 1
}

build() { # build NAME OUTDIR [make args...]
    name=$1
    dir=$2
    shift 2
    step "build-$name" $MAKE -j"$JOBS" OUT="$dir" CC="$CC" "$@"
}

bench_line() { # bench_line BIN ARGS...: must print exactly one Throughput line
    "$@" >"$LOG/bench.tmp" 2>&1 || return 1
    cat "$LOG/bench.tmp"
    [ "$(grep -c '^Throughput = [0-9][0-9]* ops/s$' "$LOG/bench.tmp")" -eq 1 ]
}

env_case() { # env_case NAME "VAR=val ..." test_env-args
    name=$1
    vars=$2
    shift 2
    step "env-$name" env $vars "$OUT/tests/test_env" "$@"
}

need_tool make make || true
need_tool "$CC" gcc || true

# ---- release build ---------------------------------------------------------
build release "$OUT"
step unit-api "$OUT/tests/test_api"
step stress-mt "$OUT/tests/test_stress" 4 4 100000
env_case default "" ring=0 tcache=64
env_case ring-on "QUILL_FRONT_RING_ENABLED=1" ring=1
env_case tcache-knob "QUILL_TCACHE_MAX=100" ring=0 tcache=100
env_case mode-fast "QUILL_MODE=fast" ring=1 tcache=256
env_case mode-override "QUILL_MODE=fast QUILL_FRONT_RING_ENABLED=0" ring=0 tcache=256
env_case mode-minimal "QUILL_MODE=minimal" ring=0 tcache=16
env_case profile-random-mixed "QUILL_PROFILE=bench_random_mixed" ring=0 tcache=128
env_case profile-beats-mode "QUILL_PROFILE=bench_random_mixed QUILL_MODE=fast" ring=0 tcache=128
step stress-ring-small-drain env QUILL_FRONT_RING_ENABLED=1 QUILL_REMOTE_DRAIN_TARGET=2 QUILL_TCACHE_MAX=8 \
    "$OUT/tests/test_stress" 3 3 50000
for v in quill system; do
    step "bench-random_mixed-$v" bench_line "$OUT/bench_random_mixed_$v" 200000 256 1
    step "bench-mid_large_mt-$v" bench_line "$OUT/bench_mid_large_mt_$v" 2 20000 128 1
    step "bench-larson-$v" bench_line "$OUT/bench_larson_$v" 2 4 20000 500 1
done
# The dump itself (its os: line is always there), not a telemetry family: with every counter
# compiled out the tiny lines are gone, and the dump must still run.
step stats-dump sh -c "QUILL_STATS_DUMP=1 '$OUT/bench_random_mixed_quill' 10000 64 1 2>&1 | grep -q '^\[quill\] os: '"

# ---- Makefile: flag changes rebuild, no-op rebuild compiles nothing ---------
flagcheck() {
    d=$OUT/flagcheck
    $MAKE -j"$JOBS" OUT="$d" CC="$CC" libs >/dev/null || return 1
    n0=$($MAKE OUT="$d" CC="$CC" libs | grep -c -- ' -c ')
    n1=$($MAKE -j"$JOBS" OUT="$d" CC="$CC" EXTRA_CFLAGS=-DQUILL_CLASS_STATS_COMPILED=1 libs | grep -c -- ' -c ')
    n2=$($MAKE OUT="$d" CC="$CC" EXTRA_CFLAGS=-DQUILL_CLASS_STATS_COMPILED=1 libs | grep -c -- ' -c ')
    nsrc=$(ls src/*.c | wc -l)
    echo "no-op rebuild compiled $n0, flag change compiled $n1 of $nsrc, repeat compiled $n2"
    [ "$n0" -eq 0 ] && [ "$n1" -eq "$nsrc" ] && [ "$n2" -eq 0 ]
}
step make-flag-deps flagcheck

# ---- debug flavor (debug-only validation compiled in) -------------------------
build debug "$OUT/debug" BUILD_FLAVOR=debug
step debug-unit-api "$OUT/debug/tests/test_api"
step debug-stress-mt "$OUT/debug/tests/test_stress" 4 2 50000

# ---- ASan + UBSan -------------------------------------------------------------
san_ok() { # toolchain supports -fsanitize=$1 ?
    printf 'int main(void){return 0;}\n' >"$LOG/san.c"
    "$CC" -fsanitize="$1" "$LOG/san.c" -o "$LOG/san.out" >/dev/null 2>&1
}
if san_ok address,undefined; then
    build asan "$OUT/asan" SANITIZE=address
    step asan-unit-api "$OUT/asan/tests/test_api"
    step asan-stress-mt "$OUT/asan/tests/test_stress" 4 3 100000
    step asan-env-ring env QUILL_FRONT_RING_ENABLED=1 "$OUT/asan/tests/test_env" ring=1
else
    ko "asan: $CC cannot link -fsanitize=address,undefined (apt-get install -y libasan8 libubsan1)"
fi

# ---- TSan ---------------------------------------------------------------------
tsan_run() {
    "$@" && return 0
    # some kernels use more ASLR bits than gcc-12's TSan supports: retry without ASLR
    if command -v setarch >/dev/null 2>&1; then setarch "$(uname -m)" -R "$@"; else return 1; fi
}
if san_ok thread; then
    build tsan "$OUT/tsan" SANITIZE=thread
    step tsan-stress-mt tsan_run "$OUT/tsan/tests/test_stress" 4 4 100000
    step tsan-stress-ring tsan_run env QUILL_FRONT_RING_ENABLED=1 QUILL_REMOTE_DRAIN_TARGET=4 \
        "$OUT/tsan/tests/test_stress" 3 2 30000
else
    ko "tsan: $CC cannot link -fsanitize=thread (apt-get install -y libtsan2)"
fi

# ---- LD_PRELOAD smoke -----------------------------------------------------------
if [ -f "$OUT/libquill.so" ]; then
    sh scripts/preload_smoke.sh "$OUT/libquill.so" "$LOG/smoke" >"$LOG/preload.log" 2>&1
    while read -r status rest; do
        case $status in
        PASS) ok "preload: $rest" ;;
        FAIL) ko "preload: $rest" ;;
        esac
    done <"$LOG/preload.log"
else
    ko "preload: $OUT/libquill.so was not built"
fi

# ---- README pattern map matches the sources --------------------------------------
if need_tool python3 python3; then
    step readme-pattern-map python3 scripts/pattern_map.py --check
fi

echo "allocator: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
