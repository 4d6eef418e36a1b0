#!/bin/sh
# LD_PRELOAD smoke: real programs must give byte-identical output with and
# without libquill.so preloaded.
# usage: preload_smoke.sh path/to/libquill.so [workdir]
# Prints one "PASS name" / "FAIL name" line per case; exit status = failures.
set -u
LIB=$1
WORK=${2:-$(mktemp -d /tmp/quill-smoke.XXXXXX)}
mkdir -p "$WORK"
case $LIB in /*) ;; *) LIB=$(pwd)/$LIB ;; esac
export LC_ALL=C
fails=0

need() {
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "FAIL missing tool '$1' (install it with: apt-get install -y $2)"
        fails=$((fails + 1))
        return 1
    fi
}

# run NAME CMD...: compare stdout and exit status, with and without preload
run() {
    name=$1
    shift
    "$@" >"$WORK/$name.ref" 2>"$WORK/$name.ref.err"
    rc1=$?
    LD_PRELOAD=$LIB "$@" >"$WORK/$name.out" 2>"$WORK/$name.out.err"
    rc2=$?
    if [ $rc1 -eq $rc2 ] && cmp -s "$WORK/$name.ref" "$WORK/$name.out"; then
        echo "PASS $name ($(wc -c <"$WORK/$name.out") bytes, rc=$rc1)"
    else
        echo "FAIL $name (rc $rc1 vs $rc2; see $WORK/$name.*)"
        fails=$((fails + 1))
    fi
}

# 0. the library really is in use: the stats dump appears on stderr
if LD_PRELOAD=$LIB QUILL_STATS_DUMP=1 /bin/true 2>&1 | grep -q '^\[quill\] stats'; then
    echo "PASS preload-active"
else
    echo "FAIL preload-active (QUILL_STATS_DUMP=1 printed nothing)"
    fails=$((fails + 1))
fi

# 1. ls -lR over a large tree
need ls coreutils && run ls_lR ls -lR /usr/include

# 2. python3 with heavy allocation (dicts, lists, strings, big buffers, threads)
if need python3 python3; then
    cat >"$WORK/alloc.py" <<'PY'
import hashlib, threading
d = {}
for i in range(200000):
    d["k%d" % i] = [i, str(i) * (i % 7), {"x": i}]
lst = sorted(d.items(), key=lambda kv: (len(kv[1][1]), kv[0]))
blob = bytearray()
for i in range(2000):
    blob += bytes([i % 251]) * (i * 37 % 5000)
big = [bytes(300000 + i) for i in range(20)]
out = []
def work(n):
    s = []
    for i in range(50000):
        s.append(("%d-%d" % (n, i)) * 3)
    out.append(len("".join(s)))
ts = [threading.Thread(target=work, args=(n,)) for n in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
h = hashlib.sha256()
for k, v in lst[:1000]:
    h.update(k.encode())
h.update(blob)
print(len(d), len(lst), len(blob), sum(len(b) for b in big), sorted(out), h.hexdigest())
PY
    run python3_alloc python3 "$WORK/alloc.py"
    # fork + exec + threads under the preloaded allocator
    cat >"$WORK/fork.py" <<'PY'
import os, subprocess, threading
res = []
def work(n):
    data = [str(i) * 10 for i in range(20000)]
    r = subprocess.run(["sort", "-n"], input="\n".join(str((i * 7919) % 1000) for i in range(3000)),
                       capture_output=True, text=True)
    res.append((n, len(data), r.stdout.count("\n")))
ts = [threading.Thread(target=work, args=(n,)) for n in range(3)]
[t.start() for t in ts]
[t.join() for t in ts]
pid = os.fork()
if pid == 0:
    x = [bytes(i % 3000) for i in range(20000)]
    os._exit(0 if len(x) == 20000 else 1)
_, st = os.waitpid(pid, 0)
print(sorted(res), os.WEXITSTATUS(st))
PY
    run python3_fork python3 "$WORK/fork.py"
fi

# 3. gcc compiling a file (compare the produced object's checksum)
if need gcc gcc && need sha256sum coreutils; then
    SRC=$(cd "$(dirname "$0")/.." && pwd)
    cat >"$WORK/gcc_case.sh" <<SH
#!/bin/sh
set -e
gcc -O2 -std=gnu11 -I$SRC/include -I$SRC/src -c $SRC/src/quill_malloc.c -o "\$1"
sha256sum <"\$1"
SH
    run gcc_compile sh "$WORK/gcc_case.sh" "$WORK/gcc_out.o"
fi

# 4. sort on a large file (deterministic input)
if need sort coreutils && need awk mawk; then
    awk 'BEGIN { s = 12345; for (i = 0; i < 300000; i++) { s = (s * 1103515245 + 12345) % 2147483648;
         printf "%d line-%d %s\n", s % 100000, i, substr("abcdefghijklmnopqrstuvwxyz", 1 + s % 26) } }' \
        >"$WORK/big.txt"
    run sort_big sort "$WORK/big.txt"
    run sort_parallel sort --parallel=2 -S 8M -k2,2 -t ' ' "$WORK/big.txt"
fi

echo "preload smoke: $fails failed"
exit $fails
