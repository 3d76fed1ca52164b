#!/usr/bin/env bash
# The whole-gateway load comparison, in one run on this machine, side by side:
#   direct   wrk straight to the upstream
#   yarp     a bare YARP proxy (Kestrel + IHttpForwarder): the floor of Airlock's stack
#   nginx    nginx as a reverse proxy with a keepalive upstream
#   unrecorded  Airlock with API-key auth, an allow policy and the audit trail; sessions kept,
#               exchanges not recorded
#   airlock  the same, with every exchange recorded (headers and bodies up to 64 KiB)
#   masked   the same, with masking (pii + secrets) on as well
# over three replies (100 B, 10 KB JSON carrying PII, 1 MB JSON), then latency at about half
# of Airlock's maximum load, then the gateway's memory streaming 1 GiB and holding 1,000
# connections. Prints the table and writes it into docs/performance.md.
#
#   bench/load.sh [--duration 10s] [--warmup 15s] [--connections 50] [--no-write]
#
# Needs wrk and nginx (Debian packages; installed here when missing). On a 2-core machine wrk,
# the proxy and the upstream share the cores: compare the ratios of one run, never absolute
# numbers across runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
duration=10s
warmup=15s
connections=50
write=1
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --no-write) write=0; shift ;;
    *) echo "usage: bench/load.sh [--duration 10s] [--warmup 15s] [--connections 50] [--no-write]" >&2; exit 2 ;;
  esac
done

command -v dotnet >/dev/null || { echo "bench/load.sh needs the .NET 10 SDK (dotnet) on PATH" >&2; exit 2; }
need=()
command -v curl >/dev/null || need+=(curl)
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
if [ "${#need[@]}" -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

echo "building (Release)..."
dotnet build "$root/bench/Airlock.LoadTargets" -c Release -nologo -v quiet >/dev/null
dotnet build "$root/src/Airlock" -c Release -nologo -v quiet >/dev/null
targets="$root/bench/Airlock.LoadTargets/bin/Release/net10.0/Airlock.LoadTargets.dll"
airlock="$root/src/Airlock/bin/Release/net10.0/airlock.dll"

work=$(mktemp -d)
# nginx's workers (nobody, when started as root) read its temp directories in here.
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Starts a process in the background, logging to $work/$name.log, and waits for the line
# that carries its address. Sets $started to the address and $started_pid to the process.
start() {
  local name="$1" pattern="$2"; shift 2
  "$@" >"$work/$name.log" 2>&1 &
  started_pid=$!
  pids+=("$started_pid")
  for _ in $(seq 1 300); do
    started=$(grep -o "$pattern[^ ]*" "$work/$name.log" | head -1 | sed "s|$pattern||") || true
    [ -n "$started" ] && return 0
    kill -0 "$started_pid" 2>/dev/null || { cat "$work/$name.log" >&2; echo "$name exited" >&2; exit 1; }
    sleep 0.1
  done
  echo "$name did not start" >&2; cat "$work/$name.log" >&2; exit 1
}

start upstream "listening on " dotnet "$targets" upstream
upstream="$started"
start yarp "listening on " dotnet "$targets" yarp --upstream "$upstream"
yarp="$started"

nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || shuf -i 20000-60000 -n 1)
cat >"$work/nginx.conf" <<EOF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx-body;
  proxy_temp_path $work/nginx-proxy;
  fastcgi_temp_path $work/nginx-fastcgi;
  uwsgi_temp_path $work/nginx-uwsgi;
  scgi_temp_path $work/nginx-scgi;
  upstream app { server ${upstream#http://}; keepalive 64; }
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # Stream large replies as the others do, rather than spooling them to disk.
      proxy_max_temp_file_size 0;
    }
  }
}
EOF
"$nginx_bin" -c "$work/nginx.conf" -e "$work/nginx-error.log"
nginx="http://127.0.0.1:$nginx_port"

# Airlock: three connections to the same upstream, all audited: one keeps session metadata
# only, one records exchanges, one records and masks.
cat >"$work/policy.yaml" <<'EOF'
rules:
  - name: agents-read
    when: { methods: [GET], groups: [agents] }
    action: allow
EOF
cat >"$work/airlock.yaml" <<EOF
listeners: { proxy: 127.0.0.1:0, admin: 127.0.0.1:0 }
# The store in its own directory: the policy watcher watches the policy's directory.
store: { sqlite: ./data/airlock.db }
identity: { apiKeys: true }
connections:
  unrecorded:
    upstream: $upstream
    credential: { type: none }
    recording: { bodies: false }
  plain:
    upstream: $upstream
    credential: { type: none }
    recording: { maxBodyBytes: 64KiB }
  masked:
    upstream: $upstream
    credential: { type: none }
    recording: { maxBodyBytes: 64KiB }
    masking:
      detectors: [ { detector: pii }, { detector: secrets } ]
policy: { file: ./policy.yaml }
audit: { signingKey: { file: ./audit-key.pem } }
EOF
dotnet "$airlock" audit keygen --out "$work/audit-key.pem" >/dev/null
key=$(dotnet "$airlock" keys create --config "$work/airlock.yaml" --name load-agent --groups agents | tail -1)
start airlock "Airlock proxy listening on " dotnet "$airlock" serve --config "$work/airlock.yaml"
gateway="$started"
gateway_pid="$started_pid"

# Checks each target answers 200 before measuring, so that a row never measures errors.
for url in "$upstream/small" "$yarp/small" "$nginx/small" "$gateway/unrecorded/small" "$gateway/plain/small" "$gateway/masked/json"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" "$url")
  [ "$code" = 200 ] || { echo "$url answered $code" >&2; cat "$work/airlock.log" >&2; exit 1; }
done

# wrk's latency in milliseconds, from "1.23ms", "456.00us" or "1.01s".
to_ms() { awk '{ v=$1; if (v ~ /us$/) { sub(/us$/,"",v); v/=1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v) } else if (v ~ /s$/) { sub(/s$/,"",v); v*=1000 } printf "%.3f", v }' <<<"$1"; }

# Runs wrk and appends "target reply rps p50 p99 errors" to $work/results.
measure() {
  local target="$1" reply="$2" url="$3"; shift 3
  local out
  out=$(wrk -t"$(( connections < 2 ? 1 : 2 ))" -c"$connections" -d"$duration" --latency -H "Authorization: Bearer $key" "$@" "$url")
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  errors=$(awk '/Non-2xx or 3xx responses:/ { n += $NF } /Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' <<<"$out")
  printf '%s %s %s %s %s %s\n' "$target" "$reply" "$rps" "$p50" "$p99" "$errors" >>"$work/results"
  printf '  %-10s %-6s %10s req/s  p50 %8s ms  p99 %8s ms  errors %s\n' "$target" "$reply" "$rps" "$p50" "$p99" "$errors"
}

# Warm-up: .NET compiles hot code in tiers (and PGO) during the first tens of seconds of load;
# measuring before that would measure the JIT. Every target gets the same warm-up.
echo "warming up each target for $warmup..."
for url in "$upstream/small" "$yarp/small" "$nginx/small" "$gateway/plain/small" "$gateway/masked/json"; do
  wrk -t2 -c"$connections" -d"$warmup" -H "Authorization: Bearer $key" "$url" >/dev/null
done

echo "throughput: wrk -t2 -c$connections -d$duration, on $(nproc) cores"
: >"$work/results"
for reply in small json large; do
  measure direct "$reply" "$upstream/$reply"
  measure yarp "$reply" "$yarp/$reply"
  measure nginx "$reply" "$nginx/$reply"
  measure unrecorded "$reply" "$gateway/unrecorded/$reply"
  measure airlock "$reply" "$gateway/plain/$reply"
  measure masked "$reply" "$gateway/masked/$reply"
done

# Latency at about half of Airlock's maximum on the 100 B reply, the same request rate for each
# target: wrk paces each connection with a 1 ms pause between requests; one connection's rate
# is measured first, and the number of connections is chosen to reach the target rate.
airlock_max=$(awk '$1 == "airlock" && $2 == "small" { print $3 }' "$work/results")
half=$(awk -v r="$airlock_max" 'BEGIN { printf "%.0f", r / 2 }')
echo 'function delay() return 1 end' >"$work/pace.lua"
echo "latency at about half of Airlock's maximum: $half req/s, connections paced 1 ms between requests"
saved_connections=$connections
mv "$work/results" "$work/results.full"
: >"$work/paced-connections"
# Paced wrk connections for a target: one connection's rate gives a first count, and a short
# run with that count corrects it (latency grows with the load, so the first guess falls short).
rate_with() {
  wrk -t"$(( $1 < 2 ? 1 : 2 ))" -c"$1" -d3s -s "$work/pace.lua" -H "Authorization: Bearer $key" "$2" | awk '/^Requests\/sec:/ { print $2 }'
}
paced() {
  local target="$1" url="$2" rate
  rate=$(rate_with 1 "$url")
  connections=$(awk -v h="$half" -v r="$rate" -v max="$saved_connections" 'BEGIN { c = int(h / r + 0.999); print (c < 1 ? 1 : (c > max ? max : c)) }')
  rate=$(rate_with "$connections" "$url")
  connections=$(awk -v h="$half" -v r="$rate" -v c="$connections" -v max="$saved_connections" 'BEGIN { n = int(c * h / r + 0.5); print (n < 1 ? 1 : (n > max ? max : n)) }')
  echo "$target $connections" >>"$work/paced-connections"
  measure "$target" small "$url" -s "$work/pace.lua"
}
paced direct "$upstream/small"
paced airlock "$gateway/plain/small"
paced masked "$gateway/masked/small"
mv "$work/results" "$work/paced"
mv "$work/results.full" "$work/results"
connections=$saved_connections

# Memory: the gateway's resident set now, its peak while streaming 1 GiB, then its peak while
# holding 1,000 connections under load.
status_kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$gateway_pid/status"; }
rss_before=$(status_kib VmRSS)
hwm_before=$(status_kib VmHWM)
streamed=$(curl -s -o /dev/null -w '%{size_download}' -H "Authorization: Bearer $key" "$gateway/plain/stream?bytes=1073741824")
hwm_stream=$(status_kib VmHWM)
wrk -t2 -c1000 -d"$duration" -H "Authorization: Bearer $key" "$gateway/plain/small" >"$work/wrk-1000.txt"
hwm_1000=$(status_kib VmHWM)
rps_1000=$(awk '/^Requests\/sec:/ { print $2 }' "$work/wrk-1000.txt")
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
echo "memory: RSS $(mib "$rss_before") MiB after the throughput runs (peak $(mib "$hwm_before") MiB);" \
  "peak $(mib "$hwm_stream") MiB after streaming $streamed bytes; peak $(mib "$hwm_1000") MiB with 1,000 connections ($rps_1000 req/s)"

# The table, with each row's ratio to direct and to nginx for the same reply.
table=$(awk '
  { rps[$1, $2] = $3; p50[$1, $2] = $4; p99[$1, $2] = $5; err[$1, $2] = $6 }
  END {
    split("small json large", replies, " "); split("direct yarp nginx unrecorded airlock masked", targets, " ")
    names["small"] = "100 B"; names["json"] = "10 KB JSON"; names["large"] = "1 MB JSON"
    label["direct"] = "direct"; label["yarp"] = "bare YARP"; label["nginx"] = "nginx"
    label["unrecorded"] = "Airlock, not recording"; label["airlock"] = "Airlock"; label["masked"] = "Airlock + masking"
    print "| reply | target | req/s | p50 ms | p99 ms | × direct | × nginx | errors |"
    print "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    for (i = 1; i <= 3; i++) for (j = 1; j <= 6; j++) {
      r = replies[i]; t = targets[j]
      printf "| %s | %s | %.0f | %.2f | %.2f | %.2f | %.2f | %d |\n", names[r], label[t], rps[t, r], p50[t, r], p99[t, r], rps[t, r] / rps["direct", r], rps[t, r] / rps["nginx", r], err[t, r]
    }
  }' "$work/results")
paced_table=$(awk '
  { rps[$1] = $3; p50[$1] = $4; p99[$1] = $5 }
  END {
    print "| target | req/s | p50 ms | p99 ms | p99 added over direct ms |"
    print "| --- | ---: | ---: | ---: | ---: |"
    printf "| direct | %.0f | %.2f | %.2f | |\n", rps["direct"], p50["direct"], p99["direct"]
    printf "| Airlock | %.0f | %.2f | %.2f | %.2f |\n", rps["airlock"], p50["airlock"], p99["airlock"], p99["airlock"] - p99["direct"]
    printf "| Airlock + masking | %.0f | %.2f | %.2f | %.2f |\n", rps["masked"], p50["masked"], p99["masked"], p99["masked"] - p99["direct"]
  }' "$work/paced")
targets_line=$(awk '
  { rps[$1, $2] = $3 }
  END { printf "Airlock on 100 B: %.2f× nginx (target ≥ 0.9), %.2f× bare YARP (target ≥ 0.7)", rps["airlock", "small"] / rps["nginx", "small"], rps["airlock", "small"] / rps["yarp", "small"] }' "$work/results")

echo
echo "$table"
echo
echo "$paced_table"
echo
echo "$targets_line"

[ "$write" -eq 1 ] || exit 0
doc="$root/docs/performance.md"
generated="$work/generated.md"
{
  echo "<!-- load.sh:begin — written by bench/load.sh; edit the script, not this section -->"
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(uname -m)), .NET SDK $(dotnet --version), $("$nginx_bin" -v 2>&1 | sed 's|nginx version: ||'), wrk -t2 -c$connections -d$duration."
  echo "wrk, the proxy and the upstream share the cores, so read the ratios, not the absolute numbers."
  echo
  echo "$table"
  echo
  echo "$targets_line."
  echo
  echo "Latency at about half of Airlock's maximum (100 B reply, aiming at $half req/s: wrk connections each pausing 1 ms between requests; $(awk '{ printf "%s%s %s", sep, $1, $2; sep = ", " }' "$work/paced-connections") connections):"
  echo
  echo "$paced_table"
  echo
  echo "Gateway memory (resident set, from /proc): $(mib "$rss_before") MiB after the throughput runs;"
  echo "peak $(mib "$hwm_before") MiB before, $(mib "$hwm_stream") MiB after streaming 1 GiB through it;"
  echo "peak $(mib "$hwm_1000") MiB while holding 1,000 concurrent connections ($rps_1000 req/s, wrk -c1000)."
  echo "<!-- load.sh:end -->"
} >"$generated"
if grep -q '<!-- load.sh:begin' "$doc"; then
  awk -v file="$generated" '
    /<!-- load.sh:begin/ { while ((getline line < file) > 0) print line; skip = 1; next }
    /<!-- load.sh:end -->/ { skip = 0; next }
    !skip { print }' "$doc" >"$work/performance.md"
  cp "$work/performance.md" "$doc"
else
  { echo; echo "## Whole gateway under load (bench/load.sh)"; echo; cat "$generated"; } >>"$doc"
fi
echo "wrote $doc"
