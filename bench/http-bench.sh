#!/usr/bin/env bash
# HTTP benchmark: wrk over TLS with keep-alive against seccomp-webhook's /validate and /mutate,
# and, side by side in the same run, nginx serving a static response of the same size over TLS
# with the same certificate — the limit for "TLS + HTTP on this machine" (SPEC §9) — and
# bench_bare_server (bench/bare_server.c: libmicrohttpd with the server's own TLS settings,
# answering the same bytes and doing nothing else), the floor under our own figures.
# Not a test. Needs the Debian packages wrk and nginx-light (installed here if missing).
#
#   bench/http-bench.sh [BUILD_DIR] [DURATION_SECONDS] [ROUNDS]
#
# BENCH_CONNS (default "1 16 64") picks the connection counts, for a shorter run of some rows.
# Each case runs ROUNDS times (default 3), the three servers taking turns, and the table gives
# the median of the rounds: this machine's wall-clock figures drift between runs a minute apart.
# Prints a Markdown table: requests/s, p50 and p99 latency at 1, 16 and 64 connections, the
# ratios ours/nginx and ours/bare, and our server's peak resident memory during the case (the
# kernel's high-water mark, reset before each case through /proc/PID/clear_refs).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
duration=${2:-5}
rounds=${3:-3}
conns=${BENCH_CONNS:-1 16 64}
bin=$build/seccomp-webhook
bare=$build/bench_bare_server
for b in "$bin" "$bare"; do
  [ -x "$b" ] || { echo "no $b: run scripts/build.sh first" >&2; exit 2; }
done
for p in wrk nginx-light; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null
done

work=$(mktemp -d)
cleanup() {
  set +e # a server killed by its signal makes wait fail: the rest must still run
  [ -n "${sw_pid:-}" ] && kill -TERM "$sw_pid" 2>/dev/null && wait "$sw_pid" 2>/dev/null
  [ -n "${bare_pid:-}" ] && kill -TERM "$bare_pid" 2>/dev/null && wait "$bare_pid" 2>/dev/null
  [ -f "$work/nginx.pid" ] && kill -QUIT "$(cat "$work/nginx.pid")" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# One certificate for both servers: EC P-256, SANs 127.0.0.1 and localhost.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$work/key.pem" \
  -out "$work/cert.pem" 2>/dev/null

/usr/bin/python3 bench/make_bodies.py "$work/bodies"

sw_port=$(free_port)
"$bin" serve --listen "127.0.0.1:$sw_port" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" \
  --shutdown-delay 0 --log-level warn 2>"$work/sw.log" &
sw_pid=$!
for _ in $(seq 50); do
  curl -s --cacert "$work/cert.pem" "https://127.0.0.1:$sw_port/healthz" >/dev/null && break
  sleep 0.1
done

# nginx answers every path with a static body as large as our answer for that body.
ng_port=$(free_port)
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  client_max_body_size 8m;
  client_body_buffer_size 64k;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$ng_port ssl;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $work/static;
    location / { default_type application/json; try_files /answer.json =404; }
    error_page 405 =200 /answer.json;
  }
}
CONF

# wrk sends the body as a POST; the Lua script also records the reply size.
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open(os.getenv("BODY"), "rb")
wrk.body = f:read("*a")
f:close()
LUA

# run_wrk URL CONNECTIONS BODY → "rps p50_ms p99_ms"
run_wrk() {
  local threads=2
  [ "$2" -eq 1 ] && threads=1
  BODY=$3 wrk -t"$threads" -c"$2" -d"${duration}s" --latency -s "$work/post.lua" "$1" 2>&1 |
    awk '
      function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
      /^ +50%/ { p50 = ms($2) }
      /^ +99%/ { p99 = ms($2) }
      /Requests\/sec/ { rps = $2 }
      / Non-2xx/ { bad = $4 }
      END { printf "%s %.3f %.3f %s\n", rps, p50, p99, bad + 0 }'
}

# median of the arguments
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# a / b to two places
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

mkdir -p "$work/static"
echo '{}' >"$work/static/answer.json"
bare_port=$(free_port)
"$bare" "$bare_port" "$work/cert.pem" "$work/key.pem" "$work/static/answer.json" 2>"$work/bare.log" &
bare_pid=$!
nginx -c "$work/nginx.conf" -e "$work/nginx/error.log" 2>/dev/null || nginx -c "$work/nginx.conf"
sleep 0.3

echo "| body | endpoint | conns | ours req/s | ours p50 ms | ours p99 ms | ours peak RSS MiB | nginx req/s | nginx p50 ms | nginx p99 ms | bare req/s | bare p99 ms | ours/nginx | ours/bare |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for body in "$work"/bodies/*.json; do
  for ep in validate mutate; do
    # nginx's and the bare server's answer: exactly what we answer for this body.
    curl -s --cacert "$work/cert.pem" -H 'Content-Type: application/json' \
      --data-binary @"$body" "https://127.0.0.1:$sw_port/$ep" >"$work/static/answer.json"
    kill -HUP "$bare_pid"
    sleep 0.2
    for c in $conns; do
      o_rps=() o_p50=() o_p99=() o_rss=() n_rps=() n_p50=() n_p99=() b_rps=() b_p99=()
      for _ in $(seq "$rounds"); do
        echo 5 >"/proc/$sw_pid/clear_refs" # reset the high-water mark (VmHWM)
        read -r rps p50 p99 bad < <(run_wrk "https://127.0.0.1:$sw_port/$ep" "$c" "$body")
        [ "$bad" != 0 ] && { echo "$bad non-2xx answers from seccomp-webhook: stop" >&2; exit 1; }
        o_rps+=("$rps") o_p50+=("$p50") o_p99+=("$p99")
        o_rss+=("$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$sw_pid/status")")
        read -r rps p50 p99 _ < <(run_wrk "https://127.0.0.1:$ng_port/$ep" "$c" "$body")
        n_rps+=("$rps") n_p50+=("$p50") n_p99+=("$p99")
        read -r rps _ p99 _ < <(run_wrk "https://127.0.0.1:$bare_port/$ep" "$c" "$body")
        b_rps+=("$rps") b_p99+=("$p99")
      done
      orps=$(median "${o_rps[@]}") nrps=$(median "${n_rps[@]}") brps=$(median "${b_rps[@]}")
      echo "| $(basename "$body") | $ep | $c | $orps | $(median "${o_p50[@]}") | $(median "${o_p99[@]}") | $(median "${o_rss[@]}") | $nrps | $(median "${n_p50[@]}") | $(median "${n_p99[@]}") | $brps | $(median "${b_p99[@]}") | $(ratio "$orps" "$nrps") | $(ratio "$orps" "$brps") |"
    done
  done
done
echo
echo "seccomp-webhook peak resident memory over the last case: $(awk '/VmHWM/ {print $2, $3}' "/proc/$sw_pid/status")"
echo "machine: $(nproc) CPUs, $(awk '/model name/ {$1=$2=$3=""; print; exit}' /proc/cpuinfo | sed 's/^ *//'), $(uname -r)"
