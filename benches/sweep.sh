#!/usr/bin/env bash
# Sweep benchmark: every ccTLD of a real root zone, probed against a lab
# derived from it (same TLDs, NS names and counts; every NS host on its own
# loopback address; IPv4 glue only; lab DNSSEC keys) served by a separate
# `rootguard lab serve` process. Reports wall time, queries per second and
# the checker's peak memory. All traffic stays on 127.0.0.0/8.
# Usage: bash benches/sweep.sh [root zone] [registry] [port]
set -euo pipefail
cd "$(dirname "$0")/.."
zone=${1:-../shared/rootzone/root-2026082201.zone}
registry=${2:-../shared/rootzone/tld-managers.json}
port=${3:-5400}
[ -f "$zone" ] && [ -f "$registry" ] || { echo "SKIPPED: $zone or $registry is absent"; exit 0; }
cargo build --release --quiet
bin=target/release/rootguard
lab=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$lab"' EXIT
$bin lab derive "$zone" --registry "$registry" --out "$lab" --port "$port"
$bin lab serve "$lab" & server=$!
for _ in $(seq 50); do
  $bin check --root-zone "$lab/root.zone" --dns-port "$port" ac >/dev/null 2>&1 && break || sleep 0.1
done
for run in 1 2 3 4 5; do
  /usr/bin/time -f "run $run: %e s wall, %M KB peak RSS (checker)" \
    $bin check --root-zone "$lab/root.zone" --registry "$registry" --all-cctlds \
      --dns-port "$port" --resolver "127.0.0.53:$port" --profile "$lab/profile.toml" --json \
      > "$lab/report.json" || true
  python3 -c "
import json; r = json.load(open('$lab/report.json'))
print(f\"  {len(r['tlds'])} ccTLDs, {r['queries']} queries in {r['elapsed_ms']:.0f} ms = {r['queries'] / r['elapsed_ms'] * 1000:.0f} queries/s; {r['counts']}\")"
done
