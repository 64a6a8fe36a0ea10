#!/usr/bin/env bash
# The cost of durability: admin reports (one write transaction each) against `patrol serve`
# with --durability full (the default: the WAL is synced at every commit) and normal (synced at
# checkpoints only), each on a fresh SQLite file in WORK. Prints a markdown table; bench/run.sh
# calls it, and it runs alone too (release build, wrk and taskset on PATH).
#
# Settings (environment): DURATION seconds per load (10), CONNECTIONS (32), WORK (bench/work).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
WORK=${WORK:-$ROOT/bench/work}
PORT=18083
CORPID=wwpatroldemo000001
PATROL=$ROOT/target/release/patrol
mkdir -p "$WORK"
# shellcheck source=bench/lib.sh
source bench/lib.sh
[ -x "$PATROL" ] || cargo build --release --locked -p patrol --bin patrol >&2

cat >"$WORK/report.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench"
wrk.body = '{"description":"井盖缺失","grid_id":"xihu-beishan-shuguang","reporter":"zhangwei"}'
LUA

# load MODE CONNECTIONS: "rps p50 p99" of admin reports.
load() {
    local mode=$1 connections=$2 db="$WORK/writes-$1.db"
    rm -rf "$db" "$db"-*
    RUST_LOG=warn PATROL_ADMIN_KEY=bench taskset -c 0 "$PATROL" serve --demo --database "sqlite://$db" \
        --durability "$mode" --listen 127.0.0.1:$PORT >/dev/null 2>"$WORK/writes-$mode.log" &
    local pid=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/cgi-bin/gettoken" && break
        sleep 0.1
    done
    taskset -c 1 wrk -t1 -c"$connections" -d"${DURATION}s" --latency -s "$WORK/report.lua" \
        "http://127.0.0.1:$PORT/admin/v1/corps/$CORPID/orders" >"$WORK/wrk-writes-$mode-$connections.txt" 2>&1
    kill "$pid"; wait "$pid" 2>/dev/null || true
    wrk_summary "$WORK/wrk-writes-$mode-$connections.txt"
}

declare -A result
for mode in full normal; do
    for connections in 1 "$CONNECTIONS"; do
        result[$mode-$connections]=$(load "$mode" "$connections")
        echo "writes $mode, $connections connections: ${result[$mode-$connections]}" >&2
    done
done

python3 - "$CONNECTIONS" "$DURATION" "$(df -h "$WORK" | awk 'NR==2 {print $1}')" \
    "${result[full-1]}" "${result[normal-1]}" "${result[full-$CONNECTIONS]}" "${result[normal-$CONNECTIONS]}" <<'PY'
import sys
conns, duration, device, full1, normal1, fulln, normaln = sys.argv[1:]
def parse(r):
    rps, p50, p99 = r.split()[:3]
    return float(rps), float(p50), float(p99)
print(f"Admin reports (`POST /admin/v1/corps/{{corpid}}/orders`, one write transaction each) on a "
      f"fresh SQLite file on {device}, {duration} s per load, server on core 0, wrk on core 1.\n")
print("| durability | connections | reports/s | p50 ms | p99 ms | full / normal |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for c, full, normal in [("1", full1, normal1), (conns, fulln, normaln)]:
    f, n = parse(full), parse(normal)
    print(f"| full | {c} | {f[0]:,.0f} | {f[1]:.3f} | {f[2]:.3f} | {f[0] / n[0]:.2f} |")
    print(f"| normal | {c} | {n[0]:,.0f} | {n[1]:.3f} | {n[2]:.3f} | |")
PY
