#!/usr/bin/env python3
"""Regenerates zones/territories.tsv: every ccTLD and its territory.

Sources: ISO 3166-1 alpha-2 (the code and English short name, from the
`pycountry` package's copy of the ISO 3166 data); IANA's exceptions (ac,
eu, uk, su, and the retired an and tp); the IDN ccTLDs mapped to their
two-letter code as IANA's Root Zone Database designates them
(`../shared/rootzone/tld-managers.json`, "designated for two-letter
country code XX"). The status and administering-state columns are curated
by hand below: no machine-readable source of them is reachable here.

Usage: python3 zones/territories.py ../shared/rootzone/tld-managers.json > zones/territories.tsv
"""
import csv, json, re, sys
import pycountry

# Dependent territories with a public authority of their own, and the
# state that administers them.
DEPENDENT = {
    "as": "us", "gu": "us", "mp": "us", "pr": "us", "vi": "us",
    "ai": "gb", "bm": "gb", "vg": "gb", "ky": "gb", "fk": "gb", "gi": "gb",
    "ms": "gb", "pn": "gb", "sh": "gb", "tc": "gb", "gg": "gb", "je": "gb",
    "im": "gb", "ac": "gb",
    "pf": "fr", "nc": "fr", "wf": "fr", "pm": "fr", "bl": "fr", "mf": "fr",
    "aw": "nl", "cw": "nl", "sx": "nl",
    "gl": "dk", "fo": "dk", "ax": "fi",
    "tk": "nz", "ck": "nz", "nu": "nz",
    "hk": "cn", "mo": "cn",
}
# Territories without a government of their own but with residents: the
# administering state's government fills the government seat.
ADMINISTERED = {
    "gp": "fr", "mq": "fr", "gf": "fr", "re": "fr", "yt": "fr",
    "bq": "nl", "sj": "no", "cx": "au", "cc": "au", "nf": "au",
}
# Territories without permanent residents, or without any government:
# the government seat stays vacant and the administrative contact need
# not reside there.
NONE = {
    "aq": "", "bv": "no", "hm": "au", "um": "us", "io": "gb", "gs": "gb",
    "tf": "fr", "eu": "", "su": "", "an": "",
}
EXTRA = {
    "ac": "Ascension Island", "eu": "European Union", "su": "Soviet Union (former)",
    "uk": "United Kingdom of Great Britain and Northern Ireland", "an": "Netherlands Antilles (former)",
    "tp": "Timor-Leste",
}
ALIAS_OF = {"uk": "gb", "tp": "tl"}
LAB = {"xa": "Examplia", "xb": "Beeland", "xc": "Ceeland", "xd": "Deeland", "xe": "Eeland",
       "xf": "Effland", "xg": "Geeland", "xh": "Aitchland", "xi": "Eyeland", "xj": "Jayland",
       "xk": "Kayland"}

def names(code):
    c = pycountry.countries.get(alpha_2=code.upper())
    if not c:
        return []
    out = [c.name]
    for a in ("official_name", "common_name"):
        v = getattr(c, a, None)
        if v and v not in out:
            out.append(v)
    return out

def status(code):
    if code in LAB:
        return "lab", ""
    base = ALIAS_OF.get(code, code)
    if base in NONE:
        return "none", NONE[base]
    if base in ADMINISTERED:
        return "administered", ADMINISTERED[base]
    if base in DEPENDENT:
        return "dependent", DEPENDENT[base]
    return "state", ""

def main():
    reg = json.load(open(sys.argv[1]))["tlds"]
    rows = []
    codes = sorted({c.alpha_2.lower() for c in pycountry.countries} | set(EXTRA) | set(LAB))
    for code in codes:
        base = ALIAS_OF.get(code, code)
        n = [EXTRA[code]] if code in EXTRA else [LAB[code]] if code in LAB else names(code)
        n += [x for x in names(base) if x not in n]
        st, adm = status(code)
        rows.append((code, base, n[0], "|".join(n[1:]), st, adm))
    for tld, v in sorted(reg.items()):
        m = re.search(r"two-letter country code ([A-Z]{2})", v.get("page_kind", ""))
        if tld.startswith("xn--") and m:
            base = m.group(1).lower()
            n = names(base) or [EXTRA.get(base, base.upper())]
            st, adm = status(base)
            rows.append((tld, base, n[0], "|".join(n[1:]), st, adm))
    w = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE)
    w.writerow(["cctld", "territory", "name", "aliases", "status", "administering_state"])
    for r in rows:
        w.writerow(r)

main()
