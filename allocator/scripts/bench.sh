#!/bin/sh
# Wrapper: see bench.py (builds, runs quill vs glibc interleaved, prints the
# ratio, then the callgrind Ir comparison).
exec python3 "$(dirname "$0")/bench.py" "$@"
