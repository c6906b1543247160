#!/usr/bin/env bash
# Measures what aimo adds on top of calling the router directly. Every figure is a pair taken
# in the same run (direct to a local fake router, then through `aimo serve` in front of it), so
# ratios stay meaningful on a shared, noisy machine. Traffic stays on 127.0.0.1.
#
#   bench/run.sh [SECONDS_PER_WRK_RUN]     (default 5)
#
# AIMO_BENCH_BASELINE=/path/to/another/aimo adds a paired comparison of this build against that
# binary (an older build, say), both plain, in front of the same router.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh wrk socat curl redis-server
duration=${1:-5}
build=${AIMO_BENCH_BUILD_DIR:-build-bench}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target aimo aimo_bench_router aimo_bench_client \
  aimo_bench_cache_fill aimo_bench_scheduler >/dev/null
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d)
export XDG_DATA_HOME="$work/data" # never the user's own ledger
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() { # file pattern: the bench is not a test, so polling a log file is fine here
  for _ in $(seq 1 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "bench: timed out waiting for '$2' in $1" >&2; cat "$1" >&2; exit 1
}

"$build/bench/aimo_bench_router" 1500 >"$work/router.out" &
pids+=($!)
wait_for "$work/router.out" '^[0-9]'
router_port=$(head -1 "$work/router.out")
"$build/aimo" keygen --keypair "$work/key.json" >/dev/null 2>&1
# serve NAME BINARY [FLAGS…]: starts BINARY's proxy in front of the router; sets NAME_pid and
# NAME_port.
serve() {
  local name=$1 binary=$2
  shift 2
  "$binary" serve --port 0 --router-url "http://127.0.0.1:$router_port" \
    --keypair "$work/key.json" --log-format off "$@" 2>"$work/$name.log" &
  pids+=($!)
  printf -v "${name}_pid" '%s' "$!"
  wait_for "$work/$name.log" 'base URL'
  printf -v "${name}_port" '%s' \
    "$(sed -n 's|.*base URL: http://127.0.0.1:\([0-9]*\)/v1.*|\1|p' "$work/$name.log")"
}
# The plain proxy (no agents, no ledger) for the figures comparable across issues …
serve aimo "$build/aimo" --database off
# … and the same proxy governing an agent: token check, limits, budget, one ledger commit per
# request.
token=$("$build/aimo" agent create bench --budget 1000000 --rpm 100000000 --tpm 100000000000 2>/dev/null)
serve governed "$build/aimo"
# … and governing the same kind of agent with its state on a local redis-server, as instances
# sharing one do (its own ledger file, like the governed one's).
redis_port=$((20000 + RANDOM % 20000))
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --save '' --appendonly no \
  --unixsocket "$work/redis.sock" --unixsocketperm 700 --logfile "$work/redis.log" &
pids+=($!)
wait_for "$work/redis.log" 'Ready to accept connections'
state="redis://127.0.0.1:$redis_port"
shared_token=$("$build/aimo" agent create bench --budget 1000000 --rpm 100000000 --tpm 100000000000 --state "$state" 2>/dev/null)
serve shared "$build/aimo" --state "$state" --database "$work/shared.db"
# … and the same state over the server's Unix socket, as instances on one machine can reach it.
serve unix "$build/aimo" --state "unix://$work/redis.sock" --database "$work/unix.db"
# The scheduler's cost on a request that never waits: the same build and the same provider, once
# with account limits no request reaches and once without any.
for side in unlimited limited; do
  mkdir -p "$work/$side"
  printf '[[providers]]\nname = "aimo"\nkind = "aimo"\n' >"$work/$side/config.toml"
done
printf 'max_in_flight = 100000\nrpm = 1000000\ntpm = 2000000000\n' >>"$work/limited/config.toml"
AIMO_CONFIG_DIR="$work/unlimited" serve unlimited "$build/aimo" --database off
AIMO_CONFIG_DIR="$work/limited" serve limited "$build/aimo" --database off
baseline=${AIMO_BENCH_BASELINE:-}
if [ -n "$baseline" ]; then
  serve baseline "$baseline" --database off
  # This build's side of that comparison is a fresh process too: the plain aimo above has held
  # 1,000 streams and served every other run by then, which the baseline has not.
  serve fresh "$build/aimo" --database off
fi
# A plain TCP relay in front of the same router: the floor cost of any extra hop here.
socat_port=$((20000 + RANDOM % 20000))
socat "TCP-LISTEN:$socat_port,bind=127.0.0.1,reuseaddr,fork,nodelay" "TCP:127.0.0.1:$router_port,nodelay" &
pids+=($!)
for _ in $(seq 1 100); do (echo >"/dev/tcp/127.0.0.1/$socat_port") 2>/dev/null && break; sleep 0.05; done
direct="http://127.0.0.1:$router_port/api/v1/chat/completions"
relayed="http://127.0.0.1:$socat_port/api/v1/chat/completions"
proxied="http://127.0.0.1:$aimo_port/v1/chat/completions"
governed="http://127.0.0.1:$governed_port/v1/chat/completions"

cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"model":"bench/model","messages":[{"role":"user","content":"Say hello."}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench"
LUA

# The same request with temperature 0: the plain aimo's cache (in memory, the default mode)
# answers it from the second time on.
sed 's/"messages"/"temperature":0,"messages"/' "$work/post.lua" >"$work/cached.lua"

# An OpenClaw-sized request (~55 KB: a long system prompt and 40 tool schemas).
python3 - "$work/big.json" <<'PY'
import json, sys
tools = [{"type": "function", "function": {"name": f"tool_{i}", "description": "d" * 600,
          "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}
         for i in range(40)]
body = {"model": "bench/model", "max_completion_tokens": 8192, "tools": tools,
        "messages": [{"role": "system", "content": "s" * 20000}, {"role": "user", "content": "hi"}]}
open(sys.argv[1], "w").write(json.dumps(body))
PY
sed "s/Bearer bench/Bearer $token/" "$work/post.lua" >"$work/governed.lua"

cat >"$work/big.lua" <<LUA
local f = io.open("$work/big.json", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
LUA

to_us() { # wrk prints 52.00us, 1.20ms or 1.01s
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000;
                         else if (v ~ /s$/) print n * 1000000; else print n }'
}
run_wrk() { # url threads connections [script] -> "p50_us p99_us req_per_s"
  local out
  out=$(wrk -t"$2" -c"$3" -d"${duration}s" --latency -s "${4:-$work/post.lua}" "$1")
  if echo "$out" | grep -q "Non-2xx"; then echo "bench: errors from $1" >&2; echo "$out" >&2; exit 1; fi
  echo "$(to_us "$(echo "$out" | awk '$1 == "50%" {print $2}')")" \
       "$(to_us "$(echo "$out" | awk '$1 == "99%" {print $2}')")" \
       "$(echo "$out" | awk '/Requests\/sec/ {print $2}')"
}

wrk -t1 -c1 -d1s -s "$work/post.lua" "$proxied" >/dev/null # warm up connections and caches
read -r d_p50 d_p99 _ <<<"$(run_wrk "$direct" 1 1)"
read -r s_p50 s_p99 _ <<<"$(run_wrk "$relayed" 1 1)"
read -r a_p50 a_p99 _ <<<"$(run_wrk "$proxied" 1 1)"
wrk -t1 -c1 -d1s -s "$work/governed.lua" "$governed" >/dev/null
read -r g_p50 _ _ <<<"$(run_wrk "$governed" 1 1 "$work/governed.lua")"
read -r a2_p50 _ _ <<<"$(run_wrk "$proxied" 1 1)" # the baseline again, around the governed run
read -r _ _ g_rps <<<"$(run_wrk "$governed" 2 64 "$work/governed.lua")"
# Paired runs: one lean client alternates between two servers in blocks of 32 back-to-back
# requests (A-B, then B-A), so both sides of every difference see the same moment of this
# shared machine, and work a server does after answering still delays the next request as it
# would under wrk. Sequential wrk runs drift by tens of microseconds from one run to the next;
# these do not. Five rounds; the median of their median differences is reported, with the
# lowest and highest.
paired() { # port_a path_a token_a port_b path_b token_b -> "p50_a p50_b median_diff min_diff max_diff"
  local out=()
  "$build/bench/aimo_bench_client" paired "$@" 640 32 >/dev/null # warm up
  for _ in 1 2 3 4 5; do
    out+=("$("$build/bench/aimo_bench_client" paired "$@" "$pairs" 32)")
  done
  printf '%s\n' "${out[@]}" | sort -n -k3 |
    awk '{a[NR]=$1; b[NR]=$2; d[NR]=$3} END {print a[3], b[3], d[3], d[1], d[5]}'
}
pairs=$((duration * 640))
read -r pp_p50 pg_p50 pg_add pg_lo pg_hi <<<"$(paired "$aimo_port" /v1/chat/completions - "$governed_port" /v1/chat/completions "$token")"
read -r rg_p50 rs_p50 rs_add rs_lo rs_hi <<<"$(paired "$governed_port" /v1/chat/completions "$token" "$shared_port" /v1/chat/completions "$shared_token")"
read -r _ _ ru_add ru_lo ru_hi <<<"$(paired "$governed_port" /v1/chat/completions "$token" "$unix_port" /v1/chat/completions "$shared_token")"
# The floor under that figure: one bare round trip to the same redis-server (PING, one client).
redis_rtt=$(redis-benchmark -p "$redis_port" -c 1 -n 20000 --csv -t ping 2>/dev/null |
  awk -F'"' '/PING_MBULK/ {print $10 * 1000}')
# The control: the plain aimo against itself over two connections. It should add nothing.
read -r _ _ pc_add pc_lo pc_hi <<<"$(paired "$aimo_port" /v1/chat/completions - "$aimo_port" /v1/chat/completions -)"
read -r su_p50 sl_p50 sl_add sl_lo sl_hi <<<"$(paired "$unlimited_port" /v1/chat/completions - "$limited_port" /v1/chat/completions -)"
# Dialects: the same question as chat, as Anthropic Messages and as a Responses request, to the
# same plain aimo (the one upstream answer is translated back for the latter two).
read -r dc_p50 dm_p50 dm_add dm_lo dm_hi <<<"$(paired "$aimo_port" /v1/chat/completions - "$aimo_port" /v1/messages -)"
read -r dc2_p50 dr_p50 dr_add dr_lo dr_hi <<<"$(paired "$aimo_port" /v1/chat/completions - "$aimo_port" /v1/responses -)"
read -r sched_free sched_limited <<<"$("$build/bench/aimo_bench_scheduler" 500000)"
read -r _ _ su_rps <<<"$(run_wrk "http://127.0.0.1:$unlimited_port/v1/chat/completions" 2 64)"
read -r _ _ sl_rps <<<"$(run_wrk "http://127.0.0.1:$limited_port/v1/chat/completions" 2 64)"
read -r b_d_p50 _ _ <<<"$(run_wrk "$direct" 1 1 "$work/big.lua")"
read -r b_a_p50 _ _ <<<"$(run_wrk "$proxied" 1 1 "$work/big.lua")"
read -r _ _ d_rps <<<"$(run_wrk "$direct" 2 64)"
read -r _ _ s_rps <<<"$(run_wrk "$relayed" 2 64)"
read -r _ _ a_rps <<<"$(run_wrk "$proxied" 2 64)"
read -r d_ttfb d_ttfb99 <<<"$("$build/bench/aimo_bench_client" ttfb "$router_port" /api/v1/chat/completions 500)"
read -r a_ttfb a_ttfb99 <<<"$("$build/bench/aimo_bench_client" ttfb "$aimo_port" /v1/chat/completions 500)"
idle_rss=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$aimo_pid/status")
read -r held rss <<<"$("$build/bench/aimo_bench_client" hold "$aimo_port" '/v1/chat/completions?hold_ms=60000' 1000 "$aimo_pid")"

awk -v dp50="$d_p50" -v ap50="$a_p50" -v dp99="$d_p99" -v ap99="$a_p99" \
    -v sp50="$s_p50" -v sp99="$s_p99" -v srps="$s_rps" -v bdp50="$b_d_p50" -v bap50="$b_a_p50" \
    -v drps="$d_rps" -v arps="$a_rps" -v dt="$d_ttfb" -v at="$a_ttfb" \
    -v gp50="$g_p50" -v a2p50="$a2_p50" -v grps="$g_rps" \
    -v ppp50="$pp_p50" -v pgp50="$pg_p50" -v pgadd="$pg_add" -v pglo="$pg_lo" -v pghi="$pg_hi" \
    -v pcadd="$pc_add" -v pclo="$pc_lo" -v pchi="$pc_hi" \
    -v sup50="$su_p50" -v slp50="$sl_p50" -v sladd="$sl_add" -v sllo="$sl_lo" -v slhi="$sl_hi" \
    -v surps="$su_rps" -v slrps="$sl_rps" -v schf="$sched_free" -v schl="$sched_limited" \
    -v dcp50="$dc_p50" -v dmp50="$dm_p50" -v dmadd="$dm_add" -v dmlo="$dm_lo" -v dmhi="$dm_hi" \
    -v dc2p50="$dc2_p50" -v drp50="$dr_p50" -v dradd="$dr_add" -v drlo="$dr_lo" -v drhi="$dr_hi" \
    -v rgp50="$rg_p50" -v rsp50="$rs_p50" -v rsadd="$rs_add" -v rslo="$rs_lo" -v rshi="$rs_hi" \
    -v rtt="$redis_rtt" -v ruadd="$ru_add" -v rulo="$ru_lo" -v ruhi="$ru_hi" \
    -v held="$held" -v rss="$rss" -v idle="$idle_rss" -v dur="$duration" -v cores="$(nproc)" 'BEGIN {
  printf "aimo benchmark: direct to a local fake router vs through aimo, same run (%ss wrk runs, %s cores)\n", dur, cores
  printf "%-34s %12s %12s %12s %10s\n", "figure", "direct", "via aimo", "added/ratio", "target"
  printf "%-34s %10.1fus %10.1fus %10.1fus %10s\n", "latency p50, concurrency 1", dp50, ap50, ap50 - dp50, "<= 50us"
  printf "%-34s %10.1fus %10.1fus %10.1fus %10s\n", "latency p99, concurrency 1", dp99, ap99, ap99 - dp99, "-"
  printf "%-34s %10.1fus %10.1fus %10.1fus %10s\n", "latency p50, c=1, 55 KB body", bdp50, bap50, bap50 - bdp50, "-"
  printf "%-34s %9.0f/s %9.0f/s %11.2fx %10s\n", "throughput, concurrency 64", drps, arps, arps / drps, ">= 0.70x"
  printf "%-34s %10.1fus %10.1fus %10.1fus %10s\n", "  reference: socat TCP relay, p50", dp50, sp50, sp50 - dp50, "-"
  printf "%-34s %9.0f/s %9.0f/s %11.2fx %10s\n", "  reference: socat TCP relay, c=64", drps, srps, srps / drps, "-"
  printf "%-34s %10.1fus %10.1fus %10.1fus %10s\n", "stream time to first byte, p50", dt, at, at - dt, "<= 1000us"
  printf "%-34s %12s %10d MB %12s %10s\n", "resident memory, " held " open streams", "-", rss, "idle " idle " MB", "<= 150 MB"
  base = (ap50 + a2p50) / 2
  printf "\ngovernance: the same aimo without a database vs governing an agent (token, limits, ledger)\n"
  printf "%-34s %12s %12s %12s %10s\n", "figure", "plain aimo", "governed", "added/ratio", "target"
  printf "%-34s %10.1fus %10.1fus %10.1fus %10s\n", "latency p50, c=1, paired", ppp50, pgp50, pgadd, "<= 30us"
  printf "%-34s %12s %12s %10.1fus %10s\n", "  rounds ranged", "", "", pglo, "to " pghi "us"
  printf "%-34s %12s %12s %10.1fus %10s\n", "  control: plain aimo vs itself", "", "", pcadd, "(" pclo ".." pchi ")"
  printf "%-34s %10.1fus %10.1fus %10.1fus %10s\n", "latency p50, c=1, wrk runs apart", base, gp50, gp50 - base, "-"
  printf "%-34s %9.0f/s %9.0f/s %11.2fx %10s\n", "throughput, concurrency 64", arps, grps, grps / arps, "-"
  printf "\nshared state: an agent governed with SQLite vs with its state on redis-server\n"
  printf "%-34s %12s %12s %12s %10s\n", "figure", "SQLite", "Redis", "added", "target"
  printf "%-34s %10.1fus %10.1fus %10.1fus %10s\n", "latency p50, c=1, paired", rgp50, rsp50, rsadd, "<= 100us"
  printf "%-34s %12s %12s %10.1fus %10s\n", "  rounds ranged", "", "", rslo, "to " rshi "us"
  printf "%-34s %12s %12s %10.1fus %10s\n", "  reference: a Redis PING, p50", "", "", rtt, "-"
  printf "%-34s %12s %12s %10.1fus %10s\n", "  reference: over its Unix socket", "", "", ruadd, "(" rulo ".." ruhi ")"
  printf "\nscheduler: one provider without limits vs with max_in_flight, rpm and tpm never reached\n"
  printf "%-34s %12s %12s %12s %10s\n", "figure", "no limits", "limits", "added/ratio", "target"
  printf "%-34s %10.1fus %10.1fus %10.1fus %10s\n", "latency p50, c=1, paired", sup50, slp50, sladd, "<= 10us"
  printf "%-34s %12s %12s %10.1fus %10s\n", "  rounds ranged", "", "", sllo, "to " slhi "us"
  printf "%-34s %9.0f/s %9.0f/s %11.2fx %10s\n", "throughput, concurrency 64", surps, slrps, slrps / surps, "-"
  printf "%-34s %10.3fus %10.3fus %10.3fus %10s\n", "  the scheduler alone, per request", schf, schl, schl - schf, "-"
  printf "\ndialects: the same question as chat vs as Anthropic Messages / Responses, same plain aimo\n"
  printf "%-34s %12s %12s %12s %10s\n", "figure", "chat", "translated", "added", "target"
  printf "%-34s %10.1fus %10.1fus %10.1fus %10s\n", "Messages p50, c=1, paired", dcp50, dmp50, dmadd, "<= 30us"
  printf "%-34s %12s %12s %10.1fus %10s\n", "  rounds ranged", "", "", dmlo, "to " dmhi "us"
  printf "%-34s %10.1fus %10.1fus %10.1fus %10s\n", "Responses p50, c=1, paired", dc2p50, drp50, dradd, "<= 30us"
  printf "%-34s %12s %12s %10.1fus %10s\n", "  rounds ranged", "", "", drlo, "to " drhi "us"
}'
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system, in clock ticks
if [ -n "$baseline" ]; then
  "$build/bench/aimo_bench_client" paired "$baseline_port" /v1/chat/completions - "$fresh_port" /v1/chat/completions - 640 32 >/dev/null
  b_cpu0=$(cpu_ticks "$baseline_pid"); n_cpu0=$(cpu_ticks "$fresh_pid")
  read -r bp_p50 bn_p50 bn_add bn_lo bn_hi <<<"$(paired "$baseline_port" /v1/chat/completions - "$fresh_port" /v1/chat/completions -)"
  b_cpu1=$(cpu_ticks "$baseline_pid"); n_cpu1=$(cpu_ticks "$fresh_pid")
  served=$((5 * pairs + 640)) # each server's share of the five rounds and their warm-up
  tick_us=$((1000000 / $(getconf CLK_TCK)))
  # A-B-B-A: wrk runs one after another drift by more than the difference looked for.
  read -r _ _ b_rps1 <<<"$(run_wrk "http://127.0.0.1:$baseline_port/v1/chat/completions" 2 64)"
  read -r _ _ n_rps1 <<<"$(run_wrk "http://127.0.0.1:$fresh_port/v1/chat/completions" 2 64)"
  read -r _ _ n_rps2 <<<"$(run_wrk "http://127.0.0.1:$fresh_port/v1/chat/completions" 2 64)"
  read -r _ _ b_rps2 <<<"$(run_wrk "http://127.0.0.1:$baseline_port/v1/chat/completions" 2 64)"
  b_rps=$(awk -v a="$b_rps1" -v b="$b_rps2" 'BEGIN {print (a + b) / 2}')
  n_rps=$(awk -v a="$n_rps1" -v b="$n_rps2" 'BEGIN {print (a + b) / 2}')
  awk -v bp="$bp_p50" -v bn="$bn_p50" -v add="$bn_add" -v lo="$bn_lo" -v hi="$bn_hi" \
      -v brps="$b_rps" -v nrps="$n_rps" -v base="$baseline" -v served="$served" -v tick="$tick_us" \
      -v bcpu="$((b_cpu1 - b_cpu0))" -v ncpu="$((n_cpu1 - n_cpu0))" 'BEGIN {
    printf "\nthis build vs %s (both plain, same router)\n", base
    printf "%-34s %12s %12s %12s\n", "figure", "baseline", "this build", "added/ratio"
    printf "%-34s %10.1fus %10.1fus %10.1fus\n", "latency p50, c=1, paired", bp, bn, add
    printf "%-34s %12s %12s %10.1fus %s\n", "  rounds ranged", "", "", lo, "to " hi "us"
    printf "%-34s %9.0f/s %9.0f/s %11.2fx\n", "throughput, c=64, A-B-B-A", brps, nrps, nrps / brps
    printf "%-34s %10.1fus %10.1fus %11.2fx\n", "CPU per request, paired runs", bcpu * tick / served, ncpu * tick / served, (bcpu > 0 ? ncpu / bcpu : 0)
  }'
fi

# The response cache: hits against a direct call to the router and against the plain proxy,
# measured next to each other; then the store's byte budget with 100,000 answers of 2 KB.
wrk -t1 -c1 -d1s -s "$work/cached.lua" "$proxied" >/dev/null # the first is a miss: stored
hit_headers=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
  -d "$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$work/cached.lua")" "$proxied")
echo "$hit_headers" | grep -qi '^x-aimo-cache: hit' || { echo "bench: the cached request is no hit" >&2; exit 1; }
read -r cd_p50 _ _ <<<"$(run_wrk "$direct" 1 1)"
read -r ch_p50 _ _ <<<"$(run_wrk "$proxied" 1 1 "$work/cached.lua")"
read -r cd2_p50 _ _ <<<"$(run_wrk "$direct" 1 1)"
read -r _ _ cp_rps <<<"$(run_wrk "$proxied" 2 64)"
read -r _ _ ch_rps <<<"$(run_wrk "$proxied" 2 64 "$work/cached.lua")"
read -r _ _ cp2_rps <<<"$(run_wrk "$proxied" 2 64)"
fill_budget=$((256 * 1024 * 1024))
read -r f_entries f_bytes f_budget f_rss <<<"$("$build/bench/aimo_bench_cache_fill" 100000 2048 "$fill_budget")"
read -r e_entries e_bytes e_budget e_rss <<<"$("$build/bench/aimo_bench_cache_fill" 100000 2048 $((64 * 1024 * 1024)))"
awk -v dp="$(( (${cd_p50%.*} + ${cd2_p50%.*}) / 2 ))" -v hp="$ch_p50" \
    -v prps="$cp_rps" -v prps2="$cp2_rps" -v hrps="$ch_rps" \
    -v fe="$f_entries" -v fb="$f_bytes" -v fbud="$f_budget" -v frss="$f_rss" \
    -v ee="$e_entries" -v eb="$e_bytes" -v ebud="$e_budget" -v erss="$e_rss" 'BEGIN {
  printf "\nresponse cache: hits (temperature 0, stored) vs the router direct and the plain proxy\n"
  printf "%-34s %12s %12s %12s %10s\n", "figure", "baseline", "cache hit", "ratio", "target"
  printf "%-34s %10.1fus %10.1fus %11.2fx %10s\n", "p50, c=1, vs direct to router", dp, hp, hp / dp, "< 1.00x"
  p = (prps + prps2) / 2
  printf "%-34s %9.0f/s %9.0f/s %11.2fx %10s\n", "throughput, c=64, vs plain proxy", p, hrps, hrps / p, ">= 1.50x"
  printf "%-34s %12s %12s %12s\n", "store, 100,000 x 2 KB answers", "entries", "accounted", "resident"
  printf "%-34s %12d %10.0f MB %10.0f MB  (budget %d MB)\n", "  budget 256 MB", fe, fb / 1048576, frss / 1048576, fbud / 1048576
  printf "%-34s %12d %10.0f MB %10.0f MB  (budget %d MB: LRU evicts)\n", "  budget 64 MB", ee, eb / 1048576, erss / 1048576, ebud / 1048576
}'
