# What the bench scripts share (sourced).

say() { printf '\n== %s\n' "$*" >&2; }

# wrk_summary FILE...: "rps p50 p99" (latencies in ms) of wrk outputs run side by side: their
# requests/s added, the worst of their percentiles; " ERRORS" after when any answered non-2xx.
wrk_summary() {
    python3 - "$@" <<'PY'
import re, sys
def ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
rps, p50, p99, errors = 0.0, 0.0, 0.0, False
for name in sys.argv[1:]:
    text = open(name).read()
    p = {m[0]: ms(m[1], m[2]) for m in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)}
    rps += float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50, p99 = max(p50, p['50']), max(p99, p['99'])
    errors = errors or bool(re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", text))
print(f"{rps:.0f} {p50:.3f} {p99:.3f}" + (" ERRORS" if errors else ""))
PY
}

# wrk_ids_script FILE IDS BODY_EXPRESSION: a wrk script POSTing a body built per request, where
# the Lua expression may use `id`, a random line of the file IDS.
wrk_ids_script() {
    cat >"$1" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
ids = {}
for line in io.lines("$2") do ids[#ids + 1] = line end
math.randomseed(7)
request = function()
    local id = ids[math.random(#ids)]
    return wrk.format(nil, nil, nil, $3)
end
LUA
}

# sample_ids DATABASE FILE: 10,000 random order ids of a SQLite file (seeded 7), one a line.
sample_ids() {
    python3 - "$1" "$2" <<'PY'
import random, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ids = [r[0] for r in db.execute("SELECT order_id FROM orders")]
random.seed(7)
with open(sys.argv[2], "w") as out:
    out.write("\n".join(random.sample(ids, min(10000, len(ids)))) + "\n")
PY
}
