#!/usr/bin/env python3
"""quill performance script (python3 stdlib only).

1. Builds the release variant, runs bench_random_mixed for quill and for the
   system allocator (glibc) interleaved N times in the same run, prints both
   medians and the ratio quill/glibc.
2. callgrind instruction counts (Ir) on a fixed small workload:
     a) default build                       vs  QUILL_CLASS_STATS_COMPILED=1
        (hot family that is already compiled out, compiled back in)
     b) default build                       vs  the g_quill_tcache_stats family
        wrapped in #if QUILL_TCACHE_STATS_COMPILED / #else (void)0; / #endif
        (what the alloc-lens quick fix does; done on a copy under /tmp)

usage: bench.py [--runs N] [--cycles N] [--ws N] [--seed N] [--out DIR] [--no-callgrind]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def build(out, extra="", root=ROOT):
    cmd = ["make", "-C", root, "-j2", "OUT=" + out, "libs", "benches"]
    if extra:
        cmd.append("EXTRA_CFLAGS=" + extra)
    sh(cmd)


def throughput(binary, args):
    r = sh([binary] + [str(a) for a in args])
    m = re.search(r"^Throughput = (\d+) ops/s$", r.stdout, re.M)
    if not m:
        sys.exit("no Throughput line from %s: %r" % (binary, r.stdout))
    return int(m.group(1))


def callgrind_ir(binary, args):
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is missing: apt-get install -y valgrind")
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + os.path.join(d, "cg.out"),
                            binary] + [str(a) for a in args], text=True, capture_output=True)
        m = re.search(r"Collected : (\d+)", r.stderr)
        if r.returncode != 0 or not m:
            sys.exit("callgrind failed: %s" % r.stderr[-2000:])
        return int(m.group(1))


def wrap_family(src_dir, family, flag):
    """Wrap every write site of `family` in #if flag / #else (void)0; / #endif."""
    sites = 0
    pat = re.compile(r"^([ \t]*)(atomic_fetch_(?:add|sub)_explicit\(&" + re.escape(family) + r"\[.*?\);)[ \t]*\n",
                     re.M | re.S)
    for name in sorted(os.listdir(src_dir)):
        if not name.endswith(".c"):
            continue
        path = os.path.join(src_dir, name)
        text = open(path).read()

        def repl(m):
            ind = m.group(1)
            return "#if %s\n%s%s\n#else\n%s(void)0;\n#endif\n" % (flag, ind, m.group(2), ind)

        new, n = pat.subn(repl, text)
        if n:
            sites += n
            new = new.replace('#include "quill_internal.h"',
                              '#include "quill_internal.h"\n#ifndef %s\n#define %s 0\n#endif' % (flag, flag), 1)
            open(path, "w").write(new)
    return sites


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--cycles", type=int, default=20000000)
    ap.add_argument("--ws", type=int, default=256)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--cg-cycles", type=int, default=200000)
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--sweep", default="64,1024,8192",
                    help="extra working-set sizes, 3 interleaved runs each ('' to skip)")
    a = ap.parse_args()

    out = os.path.abspath(a.out)
    build(out)
    q = os.path.join(out, "bench_random_mixed_quill")
    s = os.path.join(out, "bench_random_mixed_system")
    args = [a.cycles, a.ws, a.seed]
    qs, ss = [], []
    throughput(q, [100000, a.ws, a.seed])  # warm-up
    throughput(s, [100000, a.ws, a.seed])
    for i in range(a.runs):
        qs.append(throughput(q, args))
        ss.append(throughput(s, args))
    mq, ms = statistics.median(qs), statistics.median(ss)
    print("random_mixed single thread: cycles=%d ws=%d seed=%d, %d interleaved runs each"
          % (a.cycles, a.ws, a.seed, a.runs))
    print("  quill runs : %s" % " ".join("%.2fM" % (x / 1e6) for x in qs))
    print("  glibc runs : %s" % " ".join("%.2fM" % (x / 1e6) for x in ss))
    print("  quill median: %d ops/s" % mq)
    print("  glibc median: %d ops/s" % ms)
    print("  ratio quill/glibc: %.3f" % (mq / ms))
    sweep = [int(x) for x in a.sweep.split(",") if x.strip()]
    for ws in sweep:
        qx, sx = [], []
        for i in range(3):
            qx.append(throughput(q, [a.cycles // 2, ws, a.seed]))
            sx.append(throughput(s, [a.cycles // 2, ws, a.seed]))
        print("  ws=%-6d quill median %d, glibc median %d, ratio %.3f (3 runs each, cycles=%d)"
              % (ws, statistics.median(qx), statistics.median(sx),
                 statistics.median(qx) / statistics.median(sx), a.cycles // 2))
    sys.stdout.flush()
    if a.no_callgrind:
        return

    cg_args = [a.cg_cycles, a.ws, a.seed]
    print("callgrind Ir, bench_random_mixed_quill %s:" % " ".join(map(str, cg_args)))
    base_ir = callgrind_ir(q, cg_args)
    print("  default build (QUILL_CLASS_STATS_COMPILED=0)      Ir = %d" % base_ir)
    out_in = out + "-class-stats-in"
    build(out_in, "-DQUILL_CLASS_STATS_COMPILED=1")
    in_ir = callgrind_ir(os.path.join(out_in, "bench_random_mixed_quill"), cg_args)
    print("  QUILL_CLASS_STATS_COMPILED=1 (compiled in)        Ir = %d  delta %+.2f%%"
          % (in_ir, 100.0 * (in_ir - base_ir) / base_ir))
    with tempfile.TemporaryDirectory(prefix="quill-quickfix-") as tmp:
        copy = os.path.join(tmp, "allocator")
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("build", ".git"))
        n = wrap_family(os.path.join(copy, "src"), "g_quill_tcache_stats", "QUILL_TCACHE_STATS_COMPILED")
        out_fix = os.path.join(tmp, "build")
        build(out_fix, root=copy)
        fix_ir = callgrind_ir(os.path.join(out_fix, "bench_random_mixed_quill"), cg_args)
    print("  g_quill_tcache_stats compiled out (%d sites)       Ir = %d  delta %+.2f%%"
          % (n, fix_ir, 100.0 * (fix_ir - base_ir) / base_ir))


if __name__ == "__main__":
    main()
