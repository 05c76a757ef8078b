#!/usr/bin/env bash
# Runs rootguard and zonemaster-cli side by side on a lab, inside a network
# namespace of its own (only loopback exists there, so no query can leave
# the machine). A lab root server (NSD, on 127.0.0.254) serves the lab's
# root zone, so Zonemaster finds the lab ccTLDs through `--hints`; the lab's
# name servers listen on port 53 of their loopback addresses.
#
# Usage (as root): tests/zonemaster/run.sh ROOTGUARD LAB_DIR OUT_DIR [JOBS] [TLD...]
#   ROOTGUARD  the rootguard binary (built with the lab feature)
#   LAB_DIR    a lab directory (root.zone, lab.toml with port = 53)
#   OUT_DIR    receives rootguard.json, one TLD.json per ccTLD from
#              zonemaster-cli (JSON, level INFO) and times.txt
#   JOBS       zonemaster-cli processes at once (default 8; 1 = sequential)
#   TLD...     the ccTLDs (default: every TLD delegated in LAB_DIR/root.zone)
set -euo pipefail
if [ -z "${ROOTGUARD_ZM_NETNS:-}" ]; then
  export ROOTGUARD_ZM_NETNS=1
  exec unshare --net -- bash "$0" "$@"
fi
rg=$(realpath "$1"); lab=$(realpath "$2"); out=$(realpath "$3"); jobs=${4:-8}
shift 3; [ $# -gt 0 ] && shift
mkdir -p "$out"
work=$(mktemp -d)
cleanup() {
  [ -n "${lab_pid:-}" ] && kill "$lab_pid" 2>/dev/null || true
  [ -f "$work/nsd.pid" ] && kill "$(cat "$work/nsd.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip link set lo up

if [ $# -gt 0 ]; then tlds=("$@"); else
  mapfile -t tlds < <(awk '$4 == "NS" && $1 != "." { sub(/\.$/, "", $1); print $1 }' "$lab/root.zone" | sort -u)
fi

# The lab root server.
{ cat "$lab/root.zone"; echo "a.root-servers.net. 518400 IN A 127.0.0.254"; } > "$work/root.zone"
printf '. 3600000 IN NS a.root-servers.net.\na.root-servers.net. 3600000 IN A 127.0.0.254\n' > "$work/hints.zone"
cat > "$work/nsd.conf" <<CONF
server:
  ip-address: 127.0.0.254
  port: 53
  username: ""
  chroot: ""
  zonesdir: "$work"
  pidfile: "$work/nsd.pid"
  xfrdfile: "$work/xfrd.state"
  zonelistfile: "$work/zone.list"
  database: ""
  logfile: "$work/nsd.log"
  server-count: 1
remote-control:
  control-enable: no
zone:
  name: "."
  zonefile: "root.zone"
CONF
nsd=/usr/sbin/nsd; command -v nsd >/dev/null && nsd=$(command -v nsd)
"$nsd" -c "$work/nsd.conf"

# The Zonemaster profile: the engine's default with a short query timeout
# (ZM_TIMEOUT seconds, default 2) and one retry (silent servers are part of
# the lab), and without the test cases
# that need the Internet (AS lookups, reverse DNS) or only wait (AXFR).
default_profile=$(perl -MFile::ShareDir=dist_file -e 'print dist_file("Zonemaster-Engine", "profile.json")')
perl -MJSON::PP -e '
  local $/; open my $f, "<", $ARGV[0] or die; my $p = decode_json(<$f>);
  $p->{resolver}{defaults}{timeout} = $ARGV[1] + 0; $p->{resolver}{defaults}{retry} = 1;
  my %drop = map { $_ => 1 } qw(address02 address03 connectivity03 nameserver03);
  $p->{test_cases} = [ grep { !$drop{$_} } @{ $p->{test_cases} } ];
  print JSON::PP->new->canonical->encode($p);' "$default_profile" "${ZM_TIMEOUT:-2}" > "$work/profile.json"

# The lab.
"$rg" lab serve "$lab" > "$work/lab.log" 2>&1 &
lab_pid=$!
for _ in $(seq 100); do
  "$rg" check --root-zone "$lab/root.zone" --dns-port 53 --udp-timeout-ms 300 "${tlds[0]}" >/dev/null 2>&1 && break
  [ $? -le 2 ] && break
  sleep 0.1
done

TIMEFORMAT='%R %U %S'
{ time "$rg" check --root-zone "$lab/root.zone" --dns-port 53 --resolver 127.0.0.53:53 \
    --json "${tlds[@]}" > "$out/rootguard.json" || [ $? -le 2 ]; } 2> "$out/rootguard.time"
export work out
{ time printf '%s\n' "${tlds[@]}" | xargs -P "$jobs" -I{} sh -c \
    'zonemaster-cli --hints "$work/hints.zone" --profile "$work/profile.json" --no-ipv6 --json --level INFO {} > "$out/{}.json" 2> "$out/{}.err"'; } 2> "$out/zonemaster.time"
{
  echo "rootguard check (${#tlds[@]} ccTLDs): wall user sys = $(cat "$out/rootguard.time")"
  echo "zonemaster-cli (${#tlds[@]} ccTLDs, $jobs at once): wall user sys = $(cat "$out/zonemaster.time")"
} > "$out/times.txt"
cat "$out/times.txt"
