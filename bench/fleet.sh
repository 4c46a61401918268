#!/usr/bin/env bash
# Fleet-mode benchmarks, all on loopback, in one run:
#   1. revoke propagation: a revoke on edge A, refused on edge B, over 50+
#      revokes, p50/p99/max: once at the store level (two edges in one
#      process, TestFleetRevokePropagation) and once through two real Caddy
#      edges over HTTP (TestFleetRevokePropagationHTTP); both on an
#      embedded 3-member etcd cluster;
#   2. proxy throughput of an edge in fleet mode against one in bbolt mode
#      (same rules, same token, interleaved rounds, median; the ratio is
#      what to read), with etcd as a one-member child process.
#
#   bench/fleet.sh [seconds per run, default 10] [connections, default 64] [rounds, default 3]
#
# Needs wrk (apt-get install -y wrk) for part 2.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNS=${2:-64}
ROUNDS=${3:-3}
OUT=bench/out/fleet
rm -rf "$OUT"
mkdir -p "$OUT"

echo "--- revoke propagation"
go test -count=1 -run 'TestFleetRevokePropagation$' -v ./authstore | grep 'refused on b'
go test -count=1 -run 'TestFleetRevokePropagationHTTP' -v ./caddymodule/integration/ | grep 'refused on edge B'

command -v wrk >/dev/null || { echo "fleet.sh: wrk is missing (apt-get install -y wrk); skipping the throughput part" >&2; exit 0; }
echo "--- proxy throughput, fleet vs bbolt"
go build -o "$OUT/caddy" ./cmd/caddy
go build -o "$OUT/benchserver" ./bench/benchserver
go build -o "$OUT/etcdmember" ./internal/etcdtest/etcdmember

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

ETCD=http://127.0.0.1:18379
"$OUT/etcdmember" -name m0 -dir "$OUT/etcd" -client "$ETCD" -peer http://127.0.0.1:18380 -initial m0=http://127.0.0.1:18380 >"$OUT/etcd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$OUT/etcd.log" && break; sleep 0.1; done

caddyfile() { # admin port store-line
	cat <<CADDY
{
	admin 127.0.0.1:$1
	gatehouse {
		$2
		scopes bench:read
	}
}
:$3 {
	gatehouse {
		rule GET /api/* scope bench:read no_limit
		default deny
	}
	reverse_proxy 127.0.0.1:18081
}
CADDY
}
caddyfile 18119 "store $PWD/$OUT/bbolt.db" 18191 >"$OUT/bbolt.Caddyfile"
caddyfile 18129 "store etcd {
			endpoints $ETCD
			mirror $PWD/$OUT/mirror.db
			edge_id bench
		}" 18192 >"$OUT/fleet.Caddyfile"
for v in bbolt fleet; do
	"$OUT/caddy" run --config "$OUT/$v.Caddyfile" >"$OUT/$v.log" 2>&1 &
	pids+=($!)
done
for admin in 18119 18129; do
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$admin/config/" >/dev/null && break; sleep 0.2; done
done
token() { # admin port
	"$OUT/caddy" gatehouse user add bench --address "127.0.0.1:$1" >/dev/null 2>&1
	"$OUT/caddy" gatehouse token create --user bench --scopes bench:read --expires-days 1 --name bench --address "127.0.0.1:$1" 2>/dev/null
}
TOK_BBOLT=$(token 18119)
TOK_FLEET=$(token 18129)
"$OUT/benchserver" -token "$TOK_BBOLT" >"$OUT/benchserver.log" 2>&1 &
pids+=($!)
sleep 0.5
for pt in "18191 $TOK_BBOLT" "18192 $TOK_FLEET"; do
	set -- $pt
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $2" "http://127.0.0.1:$1/api/x")
	[ "$code" = 200 ] || { echo "fleet.sh: :$1 answered $code" >&2; cat "$OUT"/*.log >&2; exit 1; }
done

run() { # name port token
	wrk -t2 -c"$CONNS" -d"${DURATION}s" -H "Authorization: Bearer $3" "http://127.0.0.1:$2/api/x" >"$OUT/$1.txt"
	echo "$1 $(awk '/Requests\/sec/ {print $2}' "$OUT/$1.txt")"
}
wrk -t2 -c"$CONNS" -d2s -H "Authorization: Bearer $TOK_FLEET" http://127.0.0.1:18192/api/x >/dev/null
results=$(for _ in $(seq "$ROUNDS"); do
	run bbolt 18191 "$TOK_BBOLT"
	run fleet 18192 "$TOK_FLEET"
done)
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
bb=$(awk '$1=="bbolt" {print $2}' <<<"$results" | median)
fl=$(awk '$1=="fleet" {print $2}' <<<"$results" | median)
printf '%-8s %12.0f req/s\n%-8s %12.0f req/s  (%.2fx bbolt)\n' bbolt "$bb" fleet "$fl" "$(awk -v a="$fl" -v b="$bb" 'BEGIN {print a/b}')"
