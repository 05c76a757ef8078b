#!/usr/bin/env bash
# Side by side: the ccTLDs of the Zonemaster lab (tests/data/zonemaster/,
# every fault of the lab, 31 ccTLDs) checked by `rootguard check` and by
# `zonemaster-cli` (Debian 12: 5.0.2, engine 4.6.2), sequentially and with
# one zonemaster-cli process per ccTLD at once. Wall and CPU (user + sys)
# time of each. Runs in a network namespace of its own (needs root); all
# traffic stays on loopback. Usage: bash benches/zonemaster.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
[ "$(id -u)" -eq 0 ] || { echo "SKIPPED: needs root (a network namespace, port 53)"; exit 0; }
command -v zonemaster-cli >/dev/null || { echo "SKIPPED: zonemaster-cli is not installed"; exit 0; }
cargo build --release --quiet
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=$(awk '$4 == "NS" && $1 != "." { print $1 }' tests/data/zonemaster/root.zone | sort -u | wc -l)
for run in $(seq "$runs"); do
  for jobs in 1 "$n"; do
    ZM_TIMEOUT=1 bash tests/zonemaster/run.sh target/release/rootguard tests/data/zonemaster "$out/$run-$jobs" "$jobs" \
      | sed "s/^/run $run: /"
  done
done
