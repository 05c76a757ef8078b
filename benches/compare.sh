#!/usr/bin/env bash
# Side-by-side timings on the real 2018 signed root zone:
#   parse + index:   rootguard zone summary --no-verify   vs  nsd-checkzone
#   parse + verify:  rootguard zone summary --at ...      vs  ldns-verify-zone -t
# Needs hyperfine, nsd and ldnsutils (Debian); installs them when missing.
# Usage: bash benches/compare.sh [root zone file]
set -euo pipefail
cd "$(dirname "$0")/.."
zone=${1:-../shared/rootzone/root-2018013000-signed.zone}
[ -f "$zone" ] || { echo "SKIPPED: $zone is absent"; exit 0; }
need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v nsd-checkzone >/dev/null || need+=(nsd)
command -v ldns-verify-zone >/dev/null || need+=(ldnsutils)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
cargo build --release --quiet
bin=target/release/rootguard
hyperfine -N --warmup 3 --runs 30 \
  "nsd-checkzone . $zone" \
  "$bin zone summary $zone --no-verify"
hyperfine -N --warmup 2 --runs 15 \
  "ldns-verify-zone -t 20180131000000 $zone" \
  "$bin zone summary $zone --at 2018-01-31T00:00:00Z"
