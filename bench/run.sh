#!/usr/bin/env bash
# patrol's benchmark harness: one command, documented in bench/README.md.
#
# Builds release, seeds ORDERS orders with `patrol seed` (timed), serves them with `patrol serve`
# pinned to core 0 and loads it from core 1 with wrk over loopback; serves the exact bytes of the
# same answers from nginx (static files, same pinning) as the ceiling; serves a 10,000-order
# dataset from json-server (npm) the same way; walks every order with patrol-client; prints a
# table and writes it to bench/results/latest.md; then the cost of durability (bench/writes.sh)
# and SQLite against PostgreSQL, one and two servers on one database (bench/postgres.sh).
#
# Settings (environment): ORDERS (default 1000000), DURATION seconds per load (10),
# CONNECTIONS (32), WORK directory for data and tools (bench/work); PG_ORDERS (1000000) for
# bench/postgres.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ORDERS=${ORDERS:-1000000}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
WORK=${WORK:-$ROOT/bench/work}
DEEP=$(( ORDERS * 9 / 10 ))
PATROL_PORT=18080 NGINX_PORT=18081 JSON_SERVER_PORT=18082
CORPID=wwpatroldemo000001
SECRET=patrol-demo-secret-0123456789abcdefghijklmno
mkdir -p "$WORK" bench/results
# shellcheck source=bench/lib.sh
source bench/lib.sh
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

say "tools"
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
command -v taskset >/dev/null || need+=(util-linux)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; fi
if [ ! -x "$WORK/json-server/node_modules/.bin/json-server" ]; then
    mkdir -p "$WORK/json-server"
    (cd "$WORK/json-server" && npm init -y >/dev/null && npm install --silent json-server@0.17.4 >/dev/null)
fi
cores=$(nproc)
[ "$cores" -ge 2 ] || { echo "the harness needs 2 cores (one for the server, one for the load)" >&2; exit 1; }

say "build"
cargo build --release --locked -p patrol --bin patrol >&2
cargo build --release --locked -p patrol-client --example bench_walk >&2
PATROL=$ROOT/target/release/patrol
WALK=$ROOT/target/release/examples/bench_walk

say "seed $ORDERS orders"
rm -rf "$WORK"/bench.db*
seed_start=$(date +%s.%N)
"$PATROL" seed --orders "$ORDERS" --seed 7 --database "sqlite://$WORK/bench.db" --quiet >&2
seed_seconds=$(echo "$(date +%s.%N) - $seed_start" | bc -l 2>/dev/null || python3 -c "print($(date +%s.%N) - $seed_start)")

say "serve (core 0)"
RUST_LOG=warn taskset -c 0 "$PATROL" serve --database "sqlite://$WORK/bench.db" \
    --listen 127.0.0.1:$PATROL_PORT --admin-key bench >/dev/null 2>"$WORK/serve.log" &
server_pid=$!; pids+=("$server_pid")
for _ in $(seq 100); do curl -s "http://127.0.0.1:$PATROL_PORT/" >/dev/null 2>&1 && break; sleep 0.1; done
BASE=http://127.0.0.1:$PATROL_PORT
TOKEN=$(curl -s "$BASE/cgi-bin/gettoken?corpid=$CORPID&corpsecret=$SECRET" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

say "ids"
sample_ids "$WORK/bench.db" "$WORK/ids.txt"

say "client walk (core 1)"
walk_line=$(taskset -c 1 "$WALK" "$BASE" "$CORPID" "$SECRET" "$DEEP" "$WORK/deep_cursor")
echo "$walk_line" >&2
DEEP_CURSOR=$(cat "$WORK/deep_cursor")

rss_kib() { awk '/RssAnon/ {print $2}' "/proc/$1/status"; }
max_rss=0

# wrk NAME URL [SCRIPT]: loads from core 1; prints "rps p50 p99" (latencies in ms).
load() {
    local name=$1 url=$2 script=${3:-}
    local args=(-t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency)
    [ -n "$script" ] && args+=(-s "$script")
    taskset -c 1 wrk "${args[@]}" "$url" >"$WORK/wrk-$name.txt" 2>&1
    wrk_summary "$WORK/wrk-$name.txt"
}

lua() { wrk_ids_script "$WORK/$1.lua" "$WORK/ids.txt" "$2"; } # lua NAME BODY_EXPRESSION
lua info '"{\"order_id\":\"" .. id .. "\"}"'
lua list_first_50 '"{\"limit\":50}"'
lua list_first_default '"{}"'
lua list_deep_50 "'{\"limit\":50,\"cursor\":\"$DEEP_CURSOR\"}'"
lua list_deep_default "'{\"cursor\":\"$DEEP_CURSOR\"}'"

declare -A result
for name in info list_first_50 list_first_default list_deep_50 list_deep_default; do
    say "patrol $name"
    path=get_order_info; [ "$name" = info ] || path=get_order_list
    result[$name]=$(load "$name" "$BASE/cgi-bin/report/patrol/$path?access_token=$TOKEN" "$WORK/$name.lua")
    rss=$(rss_kib "$server_pid"); [ "$rss" -gt "$max_rss" ] && max_rss=$rss
    echo "${result[$name]} (RssAnon ${rss} KiB)" >&2
done

say "statistics"
read -r GRID USER < <(curl -s "$BASE/cgi-bin/report/patrol/get_grid_info?access_token=$TOKEN" | python3 -c '
import json, sys
grids = json.load(sys.stdin)["grid_list"]
print(grids[0]["grid_id"], grids[-1]["grid_admin"][0])')
static() { # static NAME BODY: a wrk script POSTing one body.
    printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\n' "$2" >"$WORK/$1.lua"
}
static stats_corp "'{}'"
static stats_grid "'{\"grid_id\":\"$GRID\"}'"
static stats_user "'{\"userid\":\"$USER\"}'"
static stats_category "'{}'"
for name in stats_corp stats_grid stats_user stats_category; do
    say "patrol $name"
    case $name in
        stats_corp|stats_grid) path=get_corp_status ;;
        stats_user) path=get_user_status ;;
        stats_category) path=category_statistic ;;
    esac
    result[$name]=$(load "$name" "$BASE/cgi-bin/report/patrol/$path?access_token=$TOKEN" "$WORK/$name.lua")
    echo "${result[$name]}" >&2
done

say "nginx: the same bytes (core 0)"
mkdir -p "$WORK/static" "$WORK/nginx"
first_id=$(head -1 "$WORK/ids.txt")
curl -s -X POST "$BASE/cgi-bin/report/patrol/get_order_info?access_token=$TOKEN" -d "{\"order_id\":\"$first_id\"}" >"$WORK/static/info.json"
curl -s -X POST "$BASE/cgi-bin/report/patrol/get_order_list?access_token=$TOKEN" -d '{"limit":50}' >"$WORK/static/list.json"
info_bytes=$(stat -c %s "$WORK/static/info.json"); list_bytes=$(stat -c %s "$WORK/static/list.json")
cat >"$WORK/nginx/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $WORK/static;
        default_type application/json;
    }
}
NGINX
taskset -c 0 nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
pids+=($!)
sleep 0.5
result[nginx_info]=$(load nginx_info "http://127.0.0.1:$NGINX_PORT/info.json")
result[nginx_list]=$(load nginx_list "http://127.0.0.1:$NGINX_PORT/list.json")
echo "info ${result[nginx_info]}; list ${result[nginx_list]}" >&2

say "json-server: 10,000 orders (core 0)"
python3 - "$WORK/bench.db" "$WORK/json-server/db.json" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
orders = []
for (body,) in db.execute("SELECT body FROM orders ORDER BY create_time, id LIMIT 10000"):
    order = json.loads(body)
    order["id"] = order["order_id"]
    orders.append(order)
json.dump({"orders": orders}, open(sys.argv[2], "w"), ensure_ascii=False)
PY
(cd "$WORK/json-server" && exec taskset -c 0 node node_modules/.bin/json-server --quiet --port $JSON_SERVER_PORT db.json >/dev/null 2>&1) &
pids+=($!)
for _ in $(seq 100); do curl -s "http://127.0.0.1:$JSON_SERVER_PORT/orders?_limit=1" >/dev/null 2>&1 && break; sleep 0.2; done
head -n 10000 "$WORK/ids.txt" >/dev/null
python3 - "$WORK/json-server/db.json" "$WORK/json_ids.txt" <<'PY'
import json, sys
ids = [o["id"] for o in json.load(open(sys.argv[1]))["orders"]]
open(sys.argv[2], "w").write("\n".join(ids) + "\n")
PY
cat >"$WORK/json_info.lua" <<LUA
ids = {}
for line in io.lines("$WORK/json_ids.txt") do ids[#ids + 1] = line end
math.randomseed(7)
request = function() return wrk.format("GET", "/orders/" .. ids[math.random(#ids)]) end
LUA
result[json_info]=$(load json_info "http://127.0.0.1:$JSON_SERVER_PORT" "$WORK/json_info.lua")
result[json_list]=$(load json_list "http://127.0.0.1:$JSON_SERVER_PORT/orders?_page=1&_limit=50")
echo "info ${result[json_info]}; list ${result[json_list]}" >&2

say "table"
python3 - "$ORDERS" "$seed_seconds" "$walk_line" "$max_rss" "$info_bytes" "$list_bytes" "$CONNECTIONS" "$DURATION" \
    "${result[info]}" "${result[list_first_50]}" "${result[list_first_default]}" "${result[list_deep_50]}" \
    "${result[list_deep_default]}" "${result[nginx_info]}" "${result[nginx_list]}" "${result[json_info]}" \
    "${result[json_list]}" "${result[stats_corp]}" "${result[stats_grid]}" "${result[stats_user]}" \
    "${result[stats_category]}" <<'PY' | tee bench/results/latest.md
import datetime, platform, re, subprocess, sys
(orders, seed_s, walk, rss, info_bytes, list_bytes, conns, duration,
 info, first50, first20, deep50, deep20, ng_info, ng_list, js_info, js_list,
 st_corp, st_grid, st_user, st_category) = sys.argv[1:]
def parse(r):
    rps, p50, p99 = r.split()[:3]
    return float(rps), float(p50), float(p99)
ng_i, ng_l = parse(ng_info), parse(ng_list)
rows = [
    ("patrol get_order_info, random ids", parse(info), ng_i),
    ("patrol get_order_list, first page, limit 50", parse(first50), ng_l),
    ("patrol get_order_list, first page, default limit 20", parse(first20), None),
    (f"patrol get_order_list, depth {int(orders)*9//10:,}, limit 50", parse(deep50), ng_l),
    (f"patrol get_order_list, depth {int(orders)*9//10:,}, default limit 20", parse(deep20), None),
    (f"nginx, the same get_order_info bytes ({info_bytes} B)", ng_i, None),
    (f"nginx, the same get_order_list bytes ({list_bytes} B)", ng_l, None),
    ("json-server 0.17.4, 10,000 orders, GET /orders/:id", parse(js_info), ng_i),
    ("json-server 0.17.4, 10,000 orders, GET /orders?_page=1&_limit=50", parse(js_list), ng_l),
    (f"patrol get_corp_status, the whole corp ({int(orders):,} orders)", parse(st_corp), ng_i),
    ("patrol get_corp_status, the root grid and its subtree", parse(st_grid), ng_i),
    ("patrol get_user_status, a grid admin", parse(st_user), ng_i),
    ("patrol category_statistic, level-1 rows", parse(st_category), ng_i),
]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {cpu}, "
      f"{subprocess.check_output(['nproc']).decode().strip()} cores; server pinned to core 0, wrk "
      f"(1 thread, {conns} connections, {duration} s) on core 1, loopback.\n")
print("| load | requests/s | p50 ms | p99 ms | × nginx |")
print("| --- | ---: | ---: | ---: | ---: |")
for name, (rps, p50, p99), ceiling in rows:
    ratio = f"{rps / ceiling[0]:.2f}" if ceiling else ""
    print(f"| {name} | {rps:,.0f} | {p50:.3f} | {p99:.3f} | {ratio} |")
first, deep = parse(first50), parse(deep50)
print()
print(f"- seeding {int(orders):,} orders: {float(seed_s):.1f} s")
print(f"- client walk: {walk}")
print(f"- depth page / first page latency (p50, limit 50): {deep[1] / first[1]:.2f}")
print(f"- server anonymous RSS under load (max of the runs): {int(rss) / 1024:.1f} MiB")
PY

say "writes: the cost of durability (core 0)"
{ echo; echo "### Writes"; echo; WORK=$WORK DURATION=$DURATION CONNECTIONS=$CONNECTIONS bench/writes.sh; } | tee -a bench/results/latest.md

say "SQLite and PostgreSQL: one server, two servers on one database (core 0)"
# Nothing else serving on core 0 meanwhile.
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
{ echo; echo "### SQLite and PostgreSQL"; echo; WORK=$WORK DURATION=$DURATION CONNECTIONS=$CONNECTIONS bench/postgres.sh; } | tee -a bench/results/latest.md
