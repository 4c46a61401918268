#!/usr/bin/env bash
# End-to-end proxy benchmark, all on loopback, in one run:
#   bare     Caddy reverse_proxy, no authentication (the baseline)
#   gatehouse  Gatehouse checking a PAT against a scope rule, then proxying
#   limited  the same with tier rate limits on (a budget it never exhausts)
#   forward_auth  Caddy forward_auth to a small external auth service
#   gh_forward_auth  Caddy forward_auth to Gatehouse's forward-auth mode
#   three_headers  Gatehouse inline, sending three identity headers
#   assertion  Gatehouse inline with the signed identity assertion on
# Prints requests/s and latency for each and the ratio to the baseline.
#
#   bench/proxy.sh [seconds per run, default 10] [connections, default 64] [rounds, default 3]
#
# Variants run interleaved, round after round, and each figure is the
# median over the rounds, so a burst of other load on the machine does not
# land on one variant only.
# Needs wrk (apt-get install -y wrk). With PIN=1 (and taskset), Caddy runs
# on CPU 0 and wrk and the upstream on the others, so what is measured is
# the gateway's own throughput rather than a fight for cores. Compare the
# ratios, not the absolute figures.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNS=${2:-64}
ROUNDS=${3:-3}
CADDY_CPU=() LOAD_CPU=()
if [ "${PIN:-0}" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	CADDY_CPU=(taskset -c 0) LOAD_CPU=(taskset -c "1-$(($(nproc) - 1))")
fi
OUT=bench/out
mkdir -p "$OUT"
rm -f "$OUT"/bench.db

command -v wrk >/dev/null || { echo "proxy.sh: wrk is missing (apt-get install -y wrk)" >&2; exit 1; }
go build -o "$OUT/caddy" ./cmd/caddy
go build -o "$OUT/benchserver" ./bench/benchserver

ADMIN=127.0.0.1:18019
cat >"$OUT/Caddyfile" <<CADDY
{
	admin $ADMIN
	servers {
		trusted_proxies static 127.0.0.1/32
	}
	gatehouse {
		store $PWD/$OUT/bench.db
		scopes bench:read
		tier anonymous 60/1m
		tier free 30000000/1m burst 1000000
	}
}
:18090 {
	reverse_proxy 127.0.0.1:18081
}
:18091 {
	gatehouse {
		rule GET /api/* scope bench:read no_limit
		default deny
	}
	reverse_proxy 127.0.0.1:18081
}
:18092 {
	gatehouse {
		rule GET /api/* scope bench:read
		default deny
	}
	reverse_proxy 127.0.0.1:18081
}
:18093 {
	forward_auth 127.0.0.1:18082 {
		uri /verify
		copy_headers Remote-User
	}
	reverse_proxy 127.0.0.1:18081
}
:18094 {
	gatehouse {
		endpoints
		forward_auth
		rule GET /api/* scope bench:read no_limit
		default deny
	}
}
:18095 {
	forward_auth 127.0.0.1:18094 {
		uri /gatehouse/auth
		copy_headers Gatehouse-User Gatehouse-User-Id Gatehouse-Scopes Gatehouse-Tier Gatehouse-Credential Gatehouse-Token-Id
	}
	reverse_proxy 127.0.0.1:18081
}
:18096 {
	gatehouse {
		headers user_id login scopes
		rule GET /api/* scope bench:read no_limit
		default deny
	}
	reverse_proxy 127.0.0.1:18081
}
:18097 {
	gatehouse {
		assertion {
			audience bench
		}
		rule GET /api/* scope bench:read no_limit
		default deny
	}
	reverse_proxy 127.0.0.1:18081
}
CADDY

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

"${CADDY_CPU[@]}" "$OUT/caddy" run --config "$OUT/Caddyfile" >"$OUT/caddy.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -sf "http://$ADMIN/config/" >/dev/null && break; sleep 0.2; done

CADDY_ARGS=(--address "$ADMIN")
"$OUT/caddy" gatehouse user add bench "${CADDY_ARGS[@]}" 2>/dev/null
TOKEN=$("$OUT/caddy" gatehouse token create --user bench --scopes bench:read --expires-days 1 --name bench "${CADDY_ARGS[@]}" 2>/dev/null)

"${LOAD_CPU[@]}" "$OUT/benchserver" -token "$TOKEN" >"$OUT/benchserver.log" 2>&1 &
pids+=($!)
sleep 0.5

for port in 18090 18091 18092 18093 18095 18096 18097; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port/api/x")
	[ "$code" = 200 ] || { echo "proxy.sh: :$port answered $code" >&2; cat "$OUT/caddy.log" >&2; exit 1; }
done

# to_ms turns wrk's "812.00us", "7.95ms" or "1.02s" into milliseconds.
to_ms() { awk '{v=$1+0; if ($1 ~ /us$/) v/=1000; else if ($1 ~ /[^m]s$/) v*=1000; print v}'; }

run() { # name port
	"${LOAD_CPU[@]}" wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$2/api/x" >"$OUT/$1.txt"
	rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/$1.txt")
	p50=$(awk '$1=="50%" {print $2}' "$OUT/$1.txt" | to_ms)
	p99=$(awk '$1=="99%" {print $2}' "$OUT/$1.txt" | to_ms)
	non2xx=$(awk '/Non-2xx/ {print $NF}' "$OUT/$1.txt")
	echo "$1 $rps $p50 $p99 ${non2xx:-0}"
}

# Warm up, then measure the variants interleaved, ROUNDS times.
wrk -t2 -c"$CONNS" -d2s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:18091/api/x >/dev/null
results=$(for _ in $(seq "$ROUNDS"); do
	run bare 18090
	run gatehouse 18091
	run limited 18092
	run forward_auth 18093
	run gh_forward_auth 18095
	run three_headers 18096
	run assertion 18097
done)
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
base=$(awk '$1=="bare" {print $2}' <<<"$results" | median)
printf '%-16s %12s %9s %9s %8s %9s\n' variant req/s p50 p99 non-2xx vs-bare
for name in bare gatehouse limited forward_auth gh_forward_auth three_headers assertion; do
	rows=$(awk -v n="$name" '$1==n' <<<"$results")
	rps=$(awk '{print $2}' <<<"$rows" | median)
	p50=$(awk '{print $3}' <<<"$rows" | median)
	p99=$(awk '{print $4}' <<<"$rows" | median)
	bad=$(awk '{s+=$5} END {print s}' <<<"$rows")
	printf '%-16s %12.0f %7.2fms %7.2fms %8s %8.2fx\n' "$name" "$rps" "$p50" "$p99" "$bad" "$(awk -v a="$rps" -v b="$base" 'BEGIN {print a/b}')"
done
