#!/usr/bin/env bash
# Three vantages over every ccTLD of a real root zone (docs/RULES.md#quorum):
# a lab derived from it (same ccTLDs, NS names and counts, hosts on
# loopback) served by `rootguard lab serve`; `rootguard serve` probing from
# 127.0.0.2 and two `rootguard vantage` processes from 127.0.0.3 and
# 127.0.0.4, registered with their own keys. Reports, per window, how long
# after the last report arrived the decision was recorded, and the size of
# a steady window's journal entry with three vantages. All traffic stays
# on 127.0.0.0/8.
# Usage: bash benches/vantages.sh [windows] [root zone] [registry] [port]
set -euo pipefail
cd "$(dirname "$0")/.."
windows=${1:-20}
zone=${2:-../shared/rootzone/root-2026082201.zone}
registry=${3:-../shared/rootzone/tld-managers.json}
port=${4:-5410}
[ -f "$zone" ] && [ -f "$registry" ] || { echo "SKIPPED: $zone or $registry is absent"; exit 0; }
cargo build --release --quiet
bin=$PWD/target/release/rootguard
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
$bin lab derive "$zone" --registry "$registry" --out "$work/lab" --port "$port" >/dev/null
$bin lab serve "$work/lab" & pids+=($!)
token=bench-operator-token
hash=$(printf %s "$token" | sha256sum | cut -d' ' -f1)
probe() {
  printf '[probe]\nport = %s\nresolver = "127.0.0.53:%s"\nsource = "%s"\n[sweep]\ninterval_secs = 10\n' "$port" "$port" "$1"
}
{
  printf 'store = "%s"\nprofile = "%s"\n[zone]\nfile = "%s"\nregistry = "%s"\n' \
    "$work/record.sqlite" "$work/lab/profile.toml" "$work/lab/root.zone" "$registry"
  probe 127.0.0.2
  printf '[http]\nlisten = "127.0.0.1:0"\n[[http.tokens]]\nname = "op"\nsha256 = "%s"\nrole = "operator"\n' "$hash"
} > "$work/daemon.toml"
ROOTGUARD_LOG=rootguard=info $bin serve --config "$work/daemon.toml" 2> "$work/daemon.log" & pids+=($!)
for _ in $(seq 100); do
  base=$(sed -n 's/^rootguard: listening on //p' "$work/daemon.log")
  [ -n "$base" ] && break || sleep 0.1
done
for v in vb:127.0.0.3 vc:127.0.0.4; do
  name=${v%%:*}; source=${v##*:}
  public=$($bin key new --identity "$name" --out "$work/$name.key")
  curl -sf -H "Authorization: Bearer $token" "$base/api/v1/actions" -d \
    "{\"action\":\"identity-register\",\"id\":\"$name\",\"kind\":\"vantage\",\"person\":\"vantage $name\",\"key\":\"$public\"}" >/dev/null
  { printf 'profile = "%s"\n' "$work/lab/profile.toml"; probe "$source"
    printf '[vantage]\ndaemon = "%s"\nkey = "%s"\n' "$base" "$work/$name.key"; } > "$work/$name.toml"
  ROOTGUARD_LOG=rootguard=info $bin vantage --config "$work/$name.toml" 2> "$work/$name.log" & pids+=($!)
done
echo "waiting for $windows windows with all three vantages (10 s interval)..."
for _ in $(seq $((windows * 30))); do
  n=$(grep -c 'window decided (3 of 3' "$work/daemon.log" || true)
  [ "$n" -ge "$windows" ] && break || sleep 1
done
grep 'window decided (3 of 3' "$work/daemon.log" | sed 's/\x1b\[[0-9;]*m//g' | python3 -c "
import re, sys
ms = sorted(float(re.search(r'([0-9.]+) ms after', l).group(1)) for l in sys.stdin)
print(f'{len(ms)} windows of 3 vantages x 309 ccTLDs: decided after the last report in median {ms[len(ms)//2]:.1f} ms, max {ms[-1]:.1f} ms')"
curl -sf -H "Authorization: Bearer $token" "$base/api/v1/audit/export" | python3 -c "
import json, sys
rounds = []
for line in sys.stdin:
    e = json.loads(line)
    ev = e.get('event', e)
    if ev.get('kind') == 'sweep-round':
        w = ev['payload']['action'].get('window') or {}
        rounds.append((len(w.get('vantages', {})), len(json.dumps(ev['payload'], separators=(',', ':'))), ev['payload']['action'].get('steady', 0)))
steady = sorted(s for v, s, n in rounds if v == 3 and n >= 300)
if steady:
    print(f'steady windows with 3 vantages: {len(steady)}, journal payload median {steady[len(steady)//2]} bytes, max {steady[-1]} bytes')
else:
    print('no steady window with 3 vantages recorded', rounds[-5:])"
grep -h 'refused\|failed' "$work"/v[bc].log | head -5 || true
