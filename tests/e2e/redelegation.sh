#!/usr/bin/env bash
# End to end, through the real binary: a non-technical complaint goes
# through cure, mediation, a panel, a decision, the appeal window and
# implementation, and the redelegation request is then allowed; the same
# request before completion is blocked with the missing steps listed. Every
# actor is a registered identity signing with its own key
# (docs/RULES.md#identities). A refusal by the rules is recorded as a
# refusal event holding only the input's size and SHA-256; bad input is
# refused with a clear message and writes nothing.
# Usage: bash tests/e2e/redelegation.sh [path to rootguard]
# With E2E_STORE=postgres://..., the record is that PostgreSQL database
# (docs/RULES.md#replication) and the guard's key a file beside the work.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${1:-$here/target/debug/rootguard}
work=$(mktemp -d)
labpid=""
trap '[ -n "$labpid" ] && kill $labpid 2>/dev/null; rm -rf "$work"' EXIT
export ROOTGUARD_STORE=${E2E_STORE:-$work/record.sqlite}
case $ROOTGUARD_STORE in postgres*) export ROOTGUARD_GUARD_KEY=$work/guard.key ;; esac

rg() { "$BIN" "$@"; }
events() { rg audit verify | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])'; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# refused WANT ARGS...: the rules refuse (exit 3, saying WANT); one refusal
# event is recorded, holding the input's size and SHA-256, not the input.
refused() {
  local want=$1; shift
  local before; before=$(events)
  set +e; out=$("$BIN" "$@" 2>&1); code=$?; set -e
  [ "$code" -eq 3 ] || fail "expected exit 3 from: $* (got $code: $out)"
  grep -qF -- "$want" <<<"$out" || fail "refusal of '$*' lacks '$want': $out"
  [ "$(events)" -eq "$((before + 1))" ] || fail "the refusal was not recorded once: $*"
  last=$(rg audit export | tail -1)
  grep -q '"kind":"refused"' <<<"$last" && grep -q '"sha256"' <<<"$last" || fail "not a refusal event: $last"
  local input="${*: -1}"
  if [ ${#input} -gt 8 ] && grep -qF -- "$input" <<<"$last"; then fail "the refusal holds the input: $last"; fi
  echo "  refused as expected (recorded): $want"
}
# invalid WANT ARGS...: bad or unauthenticated input (exit 3, saying WANT)
# writes nothing.
invalid() {
  local want=$1; shift
  local before; before=$(events)
  set +e; out=$("$BIN" "$@" 2>&1); code=$?; set -e
  [ "$code" -eq 3 ] || fail "expected exit 3 from: $* (got $code: $out)"
  grep -qF -- "$want" <<<"$out" || fail "refusal of '$*' lacks '$want': $out"
  [ "$(events)" -eq "$before" ] || fail "bad input wrote to the record: $*"
  echo "  refused as expected (nothing written): $want"
}
keys=$work/keys; mkdir -p "$keys"
key() { rg key new --identity "$1" --out "$keys/$1.key" >/dev/null; cat "$keys/$1.key.pub"; }
# register ID KIND [--tld X]: the operator registers an identity with a new key.
register() {
  local id=$1 kind=$2; shift 2
  rg --now $T0 act identity-register --identity "$id" --kind "$kind" --person "$id (person)" --public-key "$(key "$id")" "$@" >/dev/null
}
as() { local id=$1; shift; rg --key "$keys/$id.key" "$@"; }
member() { printf '{"id":"%s","name":"%s","appointed_by":"%s"%s}' "$1" "$1" "$2" "${3:-}"; }

T0=2026-01-01T00:00:00Z
echo "== seed the record (a simulation: its clock is set by --now) and register the parties"
rg --now $T0 import --simulation --no-verify --root-zone "$here/zones/lab/root.zone" --registry "$here/tests/data/lab-registry.json" --operator op --operator-key "$(key op)" >/dev/null
export ROOTGUARD_KEY=$keys/op.key
register citizen complainant
register old-nic manager --tld xa
register mediator mediator
register lic appointing-body --body local-internet-community --of Examplia
register gov appointing-body --body government --of Examplia
register gov-other appointing-body --body government --of Otherland
register ccnso appointing-body --body cctld-constituency
register other-nic manager --tld xb
for p in p1 p2 p3 p4 p5 p6 p7 stranger; do register $p panel-member; done
invalid "is already registered" --now $T0 act identity-register --identity citizen --kind complainant --person "someone else" --public-key "$(cat "$keys/citizen.key.pub")"
invalid "one natural person is one identity" --now $T0 act identity-register --identity citizen2 --kind complainant --person "citizen (person)" --public-key "$(key citizen2)"
invalid "may not take the identity-register action" --now $T0 --key "$keys/citizen.key" act identity-register --identity c3 --kind operator --person "c3" --public-key "$(key c3)"

echo "== complaint, cure opportunity, failure to cure, mediation (BP §4, §5)"
as citizen --now $T0 act complaint-lodge --tld xa --category non-technical --text "local registrants are refused" >/dev/null
rg --now 2026-01-02T00:00:00Z act complaint-assess --id 1 --serious true --reason "affects the local community" >/dev/null
rg --now 2026-01-03T00:00:00Z act complaint-inform --id 1 --notice "letter to the ccTLD constituency" >/dev/null
rg --now 2026-01-04T00:00:00Z act complaint-explain --id 1 --request "please explain the registration policy" >/dev/null
refused "may not take the complaint-explanation action" --now 2026-01-04T12:00:00Z act complaint-explanation --id 1 --text "the operator answers for the manager"
as old-nic --now 2026-01-04T12:00:00Z act complaint-explanation --id 1 --text "our policy follows the law of Examplia" >/dev/null
rg show complaint 1 | grep -q "manager's explanation: our policy" || fail "explanation not recorded"
refused "less than 30 days away" --now 2026-01-05T00:00:00Z act complaint-cure-instruction --id 1 --course "publish a policy" --deadline 2026-01-01T00:00:00Z
refused "less than 30 days away" --now 2026-01-05T00:00:00Z act complaint-cure-instruction --id 1 --course "publish a policy" --deadline 2026-01-20T00:00:00Z
rg --now 2026-01-05T00:00:00Z act complaint-cure-instruction --id 1 --course "publish a non-discriminatory policy" --deadline 2026-02-05T00:00:00Z >/dev/null
refused "until 2026-02-05" --now 2026-01-06T00:00:00Z act complaint-failure-notice --id 1 --notice "too early"
refused "not for .xa" --now 2026-01-06T00:00:00Z --key "$keys/other-nic.key" act complaint-no-merit --id 1 --answer "another manager answers"
refused "may not take the complaint-no-merit action" --now 2026-01-06T00:00:00Z --key "$keys/p1.key" act complaint-no-merit --id 1 --answer "a panel member answers"
refused "may not take the complaint-no-merit action" --now 2026-01-06T00:00:00Z act complaint-no-merit --id 1 --answer "the operator answers"
as old-nic --now 2026-01-06T00:00:00Z act complaint-no-merit --id 1 --answer "the complaint has no merit" >/dev/null
rg --now 2026-01-07T00:00:00Z act complaint-failure-notice --id 1 --notice "written failure-to-cure notice" >/dev/null
rg --now 2026-01-08T00:00:00Z act mediation-open --id 1 >/dev/null
refused "good-faith" --now 2026-01-09T00:00:00Z act mediation-fail --id 1
refused "may not take the mediation-session action" --now 2026-01-10T00:00:00Z act mediation-session --id 1 --record "one operator-typed session" --good-faith true
as mediator --now 2026-01-10T00:00:00Z act mediation-session --id 1 --record "x" --good-faith true >/dev/null
refused "both parties' written positions" --now 2026-01-10T12:00:00Z act mediation-fail --id 1
as mediator --now 2026-01-10T13:00:00Z act mediation-session --id 1 --record "both parties attended and proposed terms" --good-faith true --incumbent-position "our policy is lawful" --complainant-position "local registrants are refused" >/dev/null
rg --now 2026-01-11T00:00:00Z act mediation-fail --id 1 >/dev/null

echo "== redelegation case (BP §6)"
invalid "not a ccTLD" --now 2026-01-12T00:00:00Z act case-open --tld zz --path '{"path":"proceedings","complaint":1}'
rg --now 2026-01-12T00:00:00Z act case-open --tld xa --path '{"path":"proceedings","complaint":1}' >/dev/null
refused "ITU Resolution 102" --now 2026-01-13T00:00:00Z act case-appoint --id 1 --seat government --member "$(member g0 gov-other ',"government_of":"Otherland"')"
refused "no involvement" --now 2026-01-13T00:00:00Z act case-appoint --id 1 --seat trusted-third-party --member "$(member t0 op)"
refused "does not appoint this seat" --now 2026-01-13T00:00:00Z act case-appoint --id 1 --seat trusted-third-party --member "$(member p7 old-nic ',"declares_no_involvement":true')"
refused "does not appoint this seat" --now 2026-01-13T00:00:00Z act case-appoint --id 1 --seat local-internet-community --member "$(member p1 gov-other ',"government_of":"Otherland"')"
refused "does not appoint this seat" --now 2026-01-13T00:00:00Z act case-appoint --id 1 --seat government --member "$(member p2 lic ',"government_of":"Examplia"')"
refused "is not a registered, active panel-member" --now 2026-01-13T00:00:00Z act case-appoint --id 1 --seat local-internet-community --member "$(member nobody lic)"
rg --now 2026-01-13T00:00:00Z act case-appoint --id 1 --seat local-internet-community --member "$(member p1 lic)" >/dev/null
rg --now 2026-01-13T00:00:00Z act case-appoint --id 1 --seat government --member "$(member p2 gov ',"government_of":"Examplia"')" >/dev/null
rg --now 2026-01-13T00:00:00Z act case-appoint --id 1 --seat cctld-constituency --member "$(member p3 ccnso)" >/dev/null
rg --now 2026-01-13T00:00:00Z act case-appoint --id 1 --seat manager --member "$(member p4 old-nic)" >/dev/null
rg --now 2026-01-13T00:00:00Z act case-appoint --id 1 --seat iana1 --member "$(member p5 op)" >/dev/null
rg --now 2026-01-13T00:00:00Z act case-appoint --id 1 --seat iana2 --member "$(member p6 op)" >/dev/null
rg --now 2026-01-13T00:00:00Z act case-appoint --id 1 --seat trusted-third-party --member "$(member p7 op ',"declares_no_involvement":true')" >/dev/null

echo "== the redelegation request before completion is blocked, missing steps listed"
set +e; out=$(rg --now 2026-01-14T00:00:00Z gate --dns-port 9 --udp-timeout-ms 200 --tcp-timeout-ms 200 "$here/tests/data/request-redelegate-xa.json"); code=$?; set -e
[ "$code" -eq 1 ] || fail "gate before completion: exit $code: $out"
grep -q "BLOCKED (Redelegation)" <<<"$out" || fail "not blocked: $out"
grep -q "missing: .*prior record.*§6.2 question a).*selection\|missing: .*IANA's prior record" <<<"$out" || fail "missing steps not listed: $out"
echo "$out" | sed 's/^/  /' | head -4

echo "== deliberation (§6.3.1), principles (§6.2), criteria (§6.3.2)"
T=2026-01-15T00:00:00Z
rg --now $T act case-prior-record --id 1 --document "IANA file on .xa" >/dev/null
rg --now $T act case-evidence --id 1 --party incumbent --summary "registration statistics" >/dev/null
rg --now $T act case-evidence --id 1 --party complainant --summary "refused applications" >/dev/null
for q in a b c d; do rg --now $T act case-principle --id 1 --question $q --answer "no: considered" >/dev/null; done
for c in a b c d e e.1 e.2 e.3 e.4; do rg --now $T act case-criterion --id 1 --criterion $c --note "considered" >/dev/null; done

echo "== votes and decision (§6.3.3)"
OUT='{"outcome":"redelegate","to":"New NIC"}'
for p in p1 p2 p3 p4; do as $p --now $T act case-vote --id 1 --outcome "$OUT" >/dev/null; done
# The same signed command twice is one command (signatures are deterministic).
invalid "a command counts once" --now $T --key "$keys/p1.key" act case-vote --id 1 --outcome "$OUT"
T1=2026-01-15T01:00:00Z
refused "already voted" --now $T1 --key "$keys/p1.key" act case-vote --id 1 --outcome "$OUT"
refused "not a member" --now $T1 --key "$keys/stranger.key" act case-vote --id 1 --outcome "$OUT"
refused "may not take the case-vote action" --now $T1 act case-vote --id 1 --outcome "$OUT"
refused "4 of 7 votes" --now $T1 act case-decide --id 1 --outcome "$OUT"
as p5 --now $T1 act case-vote --id 1 --outcome "$OUT" >/dev/null
rg --now 2026-01-16T00:00:00Z act case-decide --id 1 --outcome "$OUT" >/dev/null

echo "== appeal window (§6.4)"
refused "appeal window is open" --now 2026-01-20T00:00:00Z act case-finalize --id 1
refused "appeal window of 30 days closed" --now 2026-02-16T00:00:00Z act case-appeal --id 1 --party incumbent
rg --now 2026-02-16T00:00:00Z act case-finalize --id 1 >/dev/null

echo "== implementation (§7): applicants' proposed name servers are pre-checked in the demo lab"
cp -r "$here/zones/lab" "$work/lab"
port=$((30000 + $$ % 20000))
sed -i "s/^port = .*/port = $port/" "$work/lab/lab.toml"
"$BIN" lab serve "$work/lab" >/dev/null 2>&1 & labpid=$!
for _ in $(seq 50); do rg check --root-zone "$work/lab/root.zone" --dns-port $port xb >/dev/null 2>&1 && break || sleep 0.1; done
apply() {
  rg --now 2026-02-17T00:00:00Z act --dns-port $port --udp-timeout-ms 500 --tcp-timeout-ms 700 --profile "$here/zones/lab/profile.toml" case-apply --id 1 --application "$1" >/dev/null
}
# New NIC would run xa on the healthy lab servers of xa.
apply '{"applicant":"New NIC","admin_contact_country":"Examplia","proposed":{"ns":["ns1.xa.","ns2.xa."],"glue":{"ns1.xa.":["127.1.1.1"],"ns2.xa.":["127.2.1.1"]}},"admin_contact":{"name":"New NIC administrative contact","organisation":"New NIC","country":"Examplia"},"tech_contact":{"name":"New NIC technical contact","organisation":"New NIC","country":"Examplia"},"financial_backing":true,"capacity":true}'
# Lame NIC proposes servers that do not serve xa; claiming qualification
# itself is refused: only the guard's own pre-check establishes it.
invalid "come only from rootguard's own probes" --now 2026-02-17T00:00:00Z act --dns-port $port case-apply --id 1 --application '{"applicant":"Lame NIC","admin_contact_country":"Examplia","proposed":{"ns":["ns1.xa.","ns2.xa."],"glue":{"ns1.xa.":["127.1.2.1"],"ns2.xa.":["127.2.2.1"]}},"technically_qualified":true,"financial_backing":true,"capacity":true}'
apply '{"applicant":"Lame NIC","admin_contact_country":"Examplia","proposed":{"ns":["ns1.xa.","ns2.xa."],"glue":{"ns1.xa.":["127.1.2.1"],"ns2.xa.":["127.2.2.1"]}},"financial_backing":true,"capacity":true}'
apply '{"applicant":"Far NIC","admin_contact_country":"Otherland","proposed":{"ns":["ns1.xa.","ns2.xa."],"glue":{"ns1.xa.":["127.1.1.1"],"ns2.xa.":["127.2.1.1"]}},"financial_backing":true,"capacity":true}'
rg show case 1 | grep -q '"technically_qualified": true' || fail "New NIC not qualified"
refused "shorter than the configured minimum of 30 days" --now 2026-02-18T00:00:00Z act case-comment --id 1 --days 14
refused "shorter than the configured minimum" --now 2026-02-18T00:00:00Z act case-comment --id 1 --days=-5
rg --now 2026-02-18T00:00:00Z act case-comment --id 1 --days 30 >/dev/null
refused "public comment period runs until" --now 2026-02-20T00:00:00Z act case-select --id 1 --applicant "New NIC"
refused "not in Examplia" --now 2026-03-21T00:00:00Z act case-select --id 1 --applicant "Far NIC"
refused "have not passed the guard's checks" --now 2026-03-21T00:00:00Z act case-select --id 1 --applicant "Lame NIC"
rg --now 2026-03-21T00:00:00Z act case-select --id 1 --applicant "New NIC" >/dev/null
rg show case 1 | grep -q '"new_manager": "New NIC"' || fail "case not completed"

echo "== the redelegation request is now allowed and applied"
gate_lab() { rg "$@" --dns-port $port --udp-timeout-ms 500 --tcp-timeout-ms 700 --profile "$here/zones/lab/profile.toml"; }
# The request puts other glue than the applicant proposed: blocked.
sed 's/"127.2.1.1"/"127.66.6.6"/' "$here/tests/data/request-redelegate-xa.json" > "$work/glue.json"
set +e; out=$(gate_lab --now 2026-03-22T00:00:00Z gate "$work/glue.json" 2>&1); code=$?; set -e
[ "$code" -eq 1 ] || fail "other glue: $code $out"
rg show decisions | grep -q "glue is not the glue New NIC proposed" || fail "other glue not named"
# The request names other contacts than the applicant's: blocked.
sed 's/"country": "Examplia"}/"country": "Otherland"}/' "$here/tests/data/request-redelegate-xa.json" > "$work/abroad.json"
set +e; out=$(gate_lab --now 2026-03-22T00:00:00Z gate "$work/abroad.json"); code=$?; set -e
[ "$code" -eq 1 ] && grep -q "not in the territory" <<<"$out" || fail "contact abroad: $code $out"
out=$(gate_lab --now 2026-03-22T00:00:00Z gate "$here/tests/data/request-redelegate-xa.json" 2>&1) || fail "gate after completion: $out $(rg show decisions | tail -40)"
grep -q "ALLOWED (Redelegation)" <<<"$out" || fail "not allowed: $out"
rg show tld xa | grep -q '"manager": "New NIC"' || fail "registry not updated"
# The case authorised one redelegation: citing it again is blocked.
set +e; out=$(gate_lab --now 2026-03-22T01:00:00Z gate "$here/tests/data/request-redelegate-xa.json" 2>&1); code=$?; set -e
[ "$code" -eq 1 ] || fail "a second redelegation on one case: exit $code: $out"
rg show case 1 | grep -q '"implemented": true' || fail "the case is not marked implemented"

echo "== bad requests"
invalid "request-malformed.json:6:1" --now 2026-03-23T00:00:00Z gate "$here/tests/data/request-malformed.json"
before=$(events)
set +e; out=$(rg --now 2026-03-23T00:00:00Z gate "$here/tests/data/request-unknown-tld.json" 2>&1); code=$?; set -e
[ "$code" -eq 3 ] && grep -q "zz is not a ccTLD" <<<"$out" || fail "unknown TLD: $code $out"
[ "$(events)" -eq "$before" ] || fail "unknown TLD wrote to the record"
refused "time must not run backwards" --now 2026-01-01T00:00:00Z act complaint-lodge --tld xa --category technical --text late

echo "== credentials: an unregistered key, a replayed command, a set clock on a real record"
rg key new --identity mallory --out "$keys/mallory.key" >/dev/null
invalid "not signed by a registered identity" --now 2026-03-23T00:00:00Z --key "$keys/mallory.key" act complaint-lodge --tld xa --category technical --text forged
rg --now 2026-03-23T00:00:00Z act identity-revoke --identity citizen --reason "lost key" >/dev/null
invalid "is revoked" --now 2026-03-23T00:00:00Z --key "$keys/citizen.key" act complaint-lodge --tld xa --category technical --text revoked
real=$work/real.sqlite
ROOTGUARD_GUARD_KEY=$work/real.key rg --store "$real" import --no-verify --root-zone "$here/zones/lab/root.zone" --operator op2 --operator-key "$(key op2)" >/dev/null
set +e; out=$(ROOTGUARD_GUARD_KEY=$work/real.key rg --store "$real" --key "$keys/op2.key" --now 2099-01-01T00:00:00Z act complaint-lodge --tld xa --category technical --text future 2>&1); code=$?; set -e
[ "$code" -eq 3 ] && grep -q "keeps the system clock" <<<"$out" || fail "a set clock on a real record: $code $out"
[ "$(ROOTGUARD_GUARD_KEY=$work/real.key rg --store "$real" audit export | wc -l)" -eq 1 ] || fail "a set clock wrote to a real record"
echo "  refused as expected: a set clock on a record that is not a simulation"

echo "== the record"
rg audit verify | grep -q '"first_bad": null' || fail "audit verify"
n=$(events); lines=$(rg audit export | wc -l)
[ "$n" -eq "$lines" ] || fail "export has $lines lines for $n events"
echo "OK: $n events, chain verified"
