#!/usr/bin/env bash
# SQLite against PostgreSQL, one run: get_order_info on random ids, the first get_order_list page
# and a page at depth 90% (limit 50), served by
#   1. one `patrol serve` on a SQLite file seeded with PG_ORDERS orders (seed 7),
#   2. one `patrol serve` on a PostgreSQL database seeded the same way,
#   3. two `patrol serve` on that same PostgreSQL database, the load split between them,
# always within the same core budget: everything serving (patrol, and PostgreSQL's processes)
# pinned to core 0, wrk on core 1. Prints a markdown table; bench/run.sh calls it, and it runs
# alone too.
#
# PG_ORDERS is bench/run.sh's million by default (seeding PostgreSQL writes a batch of orders in
# one statement per table: about 11,000 orders a second with PostgreSQL on the same core).
#
# The PostgreSQL cluster is a throwaway one of .ci/postgres (fsync off; installed from Debian's
# packages when missing), stopped at the end.
#
# Settings (environment): PG_ORDERS (1000000), DURATION seconds per load (10), CONNECTIONS (32;
# split in two halves for two servers), WORK (bench/work), PATROL (the binary; default: this
# checkout's release build, built first).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ORDERS=${PG_ORDERS:-1000000}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
WORK=${WORK:-$ROOT/bench/work}
DEEP=$(( ORDERS * 9 / 10 ))
PORTS=(18084 18085)
CORPID=wwpatroldemo000001
SECRET=patrol-demo-secret-0123456789abcdefghijklmno
PATROL_GIVEN=${PATROL:-}
PATROL=${PATROL:-$ROOT/target/release/patrol}
WALK=$ROOT/target/release/examples/bench_walk
mkdir -p "$WORK"
# shellcheck source=bench/lib.sh
source bench/lib.sh
# Built each time (nothing to do when up to date), so the figures are of the code checked out;
# PATROL=/path/to/patrol measures another build.
[ -n "${PATROL_GIVEN:-}" ] || cargo build --release --locked -p patrol --bin patrol >&2
cargo build --release --locked -p patrol-client --example bench_walk >&2

pids=()
export PATROL_PG_DIR=$WORK/pg
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    .ci/postgres stop
}
trap cleanup EXIT

say "seed $ORDERS orders into SQLite"
rm -rf "$WORK"/compare.db*
"$PATROL" seed --orders "$ORDERS" --seed 7 --database "sqlite://$WORK/compare.db" --quiet >&2
sample_ids "$WORK/compare.db" "$WORK/compare-ids.txt"

say "PostgreSQL (core 0)"
.ci/postgres stop
rm -rf "$PATROL_PG_DIR" "$WORK/pg-media"
PG_URL=$(.ci/postgres)
PG_BIN=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
PG_PORT=$(echo "$PG_URL" | sed -E 's|.*:([0-9]+)/.*|\1|')
postmaster=$(head -1 "$PATROL_PG_DIR/data/postmaster.pid")
# The postmaster and the processes it has: each new backend is forked from it, pinned the same.
for pid in "$postmaster" $(pgrep -P "$postmaster"); do taskset -a -p -c 0 "$pid" >/dev/null; done
PG_DB=${PG_URL%/postgres}/bench
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres bench

say "seed $ORDERS orders into PostgreSQL"
seed_start=$(date +%s.%N)
taskset -c 0 "$PATROL" seed --orders "$ORDERS" --seed 7 --database "$PG_DB" \
    --media-dir "$WORK/pg-media" --quiet >&2
pg_seed_seconds=$(python3 -c "print($(date +%s.%N) - $seed_start)")
echo "seeded in $pg_seed_seconds s" >&2

# serve NAME DATABASE PORT [MEDIA_DIR]: a server on core 0; its pid in $served.
serve() {
    local name=$1 database=$2 port=$3 media=${4:-}
    local args=(--database "$database" --listen "127.0.0.1:$port")
    [ -n "$media" ] && args+=(--media-dir "$media")
    RUST_LOG=warn PATROL_ADMIN_KEY=bench taskset -c 0 "$PATROL" serve "${args[@]}" \
        >/dev/null 2>"$WORK/serve-$name.log" &
    served=$!; pids+=("$served")
    for _ in $(seq 200); do
        curl -s -o /dev/null "http://127.0.0.1:$port/cgi-bin/gettoken" && return 0
        sleep 0.1
    done
    echo "patrol serve ($name) did not start:" >&2; cat "$WORK/serve-$name.log" >&2; exit 1
}
stop() { kill "$1"; wait "$1" 2>/dev/null || true; }
token() { curl -s "http://127.0.0.1:$1/cgi-bin/gettoken?corpid=$CORPID&corpsecret=$SECRET" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'; }

# measure COLUMN PORT...: the three loads against the servers on PORTs (the connections split
# evenly between them), into result[COLUMN-load]. The deep cursor comes from a walk of the
# first server (a cursor is its database's).
declare -A result
measure() {
    local column=$1; shift
    local ports=("$@") count=$#
    local token; token=$(token "${ports[0]}")
    if [ "$count" = 1 ]; then
        result[$column-walk]=$(taskset -c 1 "$WALK" "http://127.0.0.1:${ports[0]}" "$CORPID" "$SECRET" \
            "$DEEP" "$WORK/deep_cursor-$column")
        echo "${result[$column-walk]}" >&2
    fi
    local cursor; cursor=$(cat "$WORK/deep_cursor-${column%%-*}")
    wrk_ids_script "$WORK/pg-info.lua" "$WORK/compare-ids.txt" '"{\"order_id\":\"" .. id .. "\"}"'
    wrk_ids_script "$WORK/pg-first.lua" "$WORK/compare-ids.txt" '"{\"limit\":50}"'
    wrk_ids_script "$WORK/pg-deep.lua" "$WORK/compare-ids.txt" "'{\"limit\":50,\"cursor\":\"$cursor\"}'"
    for load in info first deep; do
        local path=get_order_list; [ "$load" = info ] && path=get_order_info
        local files=() loads=() i=0
        for port in "${ports[@]}"; do
            taskset -c 1 wrk -t1 -c$(( CONNECTIONS / count )) -d"${DURATION}s" --latency \
                -s "$WORK/pg-$load.lua" \
                "http://127.0.0.1:$port/cgi-bin/report/patrol/$path?access_token=$token" \
                >"$WORK/wrk-$column-$load-$i.txt" 2>&1 &
            loads+=($!); files+=("$WORK/wrk-$column-$load-$i.txt"); i=$((i + 1))
        done
        wait "${loads[@]}"
        result[$column-$load]=$(wrk_summary "${files[@]}")
        echo "$column $load: ${result[$column-$load]}" >&2
    done
}

say "SQLite, one server"
serve sqlite "sqlite://$WORK/compare.db" "${PORTS[0]}"; sqlite_pid=$served
measure sqlite "${PORTS[0]}"
stop "$sqlite_pid"

say "PostgreSQL, one server"
serve pg1 "$PG_DB" "${PORTS[0]}" "$WORK/pg-media"; first=$served
first_id=$(head -1 "$WORK/compare-ids.txt")
check=$(curl -s -X POST "http://127.0.0.1:${PORTS[0]}/cgi-bin/report/patrol/get_order_info?access_token=$(token "${PORTS[0]}")" \
    -d "{\"order_id\":\"$first_id\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["errcode"])')
[ "$check" = 0 ] || { echo "order $first_id of the SQLite sample is not in PostgreSQL" >&2; exit 1; }
measure pg "${PORTS[0]}"

say "PostgreSQL, two servers"
serve pg2 "$PG_DB" "${PORTS[1]}" "$WORK/pg-media"
measure pg-two "${PORTS[0]}" "${PORTS[1]}"

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
pg_version=$("$PG_BIN/postgres" --version | awk '{print $3}')
python3 - "$ORDERS" "$pg_seed_seconds" "$CONNECTIONS" "$DURATION" "$cpu" "$pg_version" \
    "${result[sqlite-info]}" "${result[sqlite-first]}" "${result[sqlite-deep]}" \
    "${result[pg-info]}" "${result[pg-first]}" "${result[pg-deep]}" \
    "${result[pg-two-info]}" "${result[pg-two-first]}" "${result[pg-two-deep]}" \
    "${result[sqlite-walk]}" "${result[pg-walk]}" <<'PY'
import datetime, sys
(orders, seed_s, conns, duration, cpu, pg_version, *rest) = sys.argv[1:]
cells, walks = rest[:9], rest[9:]
orders = int(orders)
loads = ["get_order_info, random ids", "get_order_list, first page, limit 50",
         f"get_order_list, depth {orders * 9 // 10:,}, limit 50"]
columns = ["SQLite, 1 server", f"PostgreSQL {pg_version}, 1 server",
           f"PostgreSQL {pg_version}, 2 servers"]
def cell(text):
    rps, p50, p99 = text.split()[:3]
    return f"{float(rps):,.0f}/s, p50 {float(p50):.2f}, p99 {float(p99):.2f}" + (" ERRORS" if "ERRORS" in text else "")
print(f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {cpu}, {orders:,} "
      f"orders (seed 7); patrol and PostgreSQL pinned to core 0, wrk (1 thread, {conns} connections "
      f"in all, {duration} s) on core 1, loopback; latencies in ms.\n")
print("| load | " + " | ".join(columns) + " |")
print("| --- | ---: | ---: | ---: |")
for i, load in enumerate(loads):
    print(f"| {load} | " + " | ".join(cell(cells[c * 3 + i]) for c in range(3)) + " |")
print()
print(f"- seeding {orders:,} orders into PostgreSQL (`patrol seed`, pinned to core 0): {float(seed_s):.1f} s "
      f"({orders / float(seed_s):,.0f} orders/s)")
print(f"- client walk, SQLite: {walks[0]}")
print(f"- client walk, PostgreSQL: {walks[1]}")
PY
