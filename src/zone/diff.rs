//! Delegation differences between two indexed zones: TLDs added or removed,
//! and per TLD the NS names, glue addresses (per NS host) and DS records
//! added or removed. The same comparison serves `rootguard zone diff` and,
//! against the approved record, drift detection.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use super::{Delegation, DsRecord, ZoneIndex};

/// What changed in one TLD's delegation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TldChange {
    /// The TLD label.
    pub tld: String,
    /// NS names added.
    pub ns_added: Vec<String>,
    /// NS names removed.
    pub ns_removed: Vec<String>,
    /// Glue addresses added, per NS host.
    pub glue_added: BTreeMap<String, Vec<IpAddr>>,
    /// Glue addresses removed, per NS host.
    pub glue_removed: BTreeMap<String, Vec<IpAddr>>,
    /// DS records added.
    pub ds_added: Vec<DsRecord>,
    /// DS records removed.
    pub ds_removed: Vec<DsRecord>,
}

impl TldChange {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.ns_added.is_empty()
            && self.ns_removed.is_empty()
            && self.glue_added.is_empty()
            && self.glue_removed.is_empty()
            && self.ds_added.is_empty()
            && self.ds_removed.is_empty()
    }
}

/// Differences between two zones.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ZoneDiff {
    /// Serial of the old zone.
    pub old_serial: u32,
    /// Serial of the new zone.
    pub new_serial: u32,
    /// TLDs delegated only in the new zone.
    pub tlds_added: Vec<String>,
    /// TLDs delegated only in the old zone.
    pub tlds_removed: Vec<String>,
    /// TLDs in both whose delegation changed.
    pub changed: Vec<TldChange>,
}

fn added<T: Ord + Clone>(old: &[T], new: &[T]) -> Vec<T> {
    let old: BTreeSet<&T> = old.iter().collect();
    new.iter().filter(|x| !old.contains(x)).cloned().collect()
}

/// Compares one TLD's delegation in two states.
pub fn diff_delegation(old: &Delegation, new: &Delegation) -> TldChange {
    let hosts: BTreeSet<&String> = old.glue.keys().chain(new.glue.keys()).collect();
    let mut glue_added = BTreeMap::new();
    let mut glue_removed = BTreeMap::new();
    for host in hosts {
        let a = added(old.glue_of(host), new.glue_of(host));
        let r = added(new.glue_of(host), old.glue_of(host));
        if !a.is_empty() {
            glue_added.insert(host.clone(), a);
        }
        if !r.is_empty() {
            glue_removed.insert(host.clone(), r);
        }
    }
    TldChange {
        tld: new.tld.clone(),
        ns_added: added(&old.ns, &new.ns),
        ns_removed: added(&new.ns, &old.ns),
        glue_added,
        glue_removed,
        ds_added: added(&old.ds, &new.ds),
        ds_removed: added(&new.ds, &old.ds),
    }
}

/// Compares every delegation of two zones.
pub fn diff(old: &ZoneIndex, new: &ZoneIndex) -> ZoneDiff {
    let mut out = ZoneDiff {
        old_serial: old.serial,
        new_serial: new.serial,
        ..Default::default()
    };
    for (tld, n) in &new.delegations {
        match old.delegations.get(tld) {
            None => out.tlds_added.push(tld.clone()),
            Some(o) => {
                let change = diff_delegation(o, n);
                if !change.is_empty() {
                    out.changed.push(change);
                }
            }
        }
    }
    out.tlds_removed = old
        .delegations
        .keys()
        .filter(|t| !new.delegations.contains_key(*t))
        .cloned()
        .collect();
    out
}

impl fmt::Display for ZoneDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "serial {} -> {}", self.old_serial, self.new_serial)?;
        writeln!(
            f,
            "{} TLDs added, {} removed, {} changed",
            self.tlds_added.len(),
            self.tlds_removed.len(),
            self.changed.len()
        )?;
        for t in &self.tlds_added {
            writeln!(f, "+ {t}. (TLD added)")?;
        }
        for t in &self.tlds_removed {
            writeln!(f, "- {t}. (TLD removed)")?;
        }
        for c in &self.changed {
            writeln!(f, "~ {}.", c.tld)?;
            for n in &c.ns_added {
                writeln!(f, "    + NS {n}")?;
            }
            for n in &c.ns_removed {
                writeln!(f, "    - NS {n}")?;
            }
            for (host, addrs) in &c.glue_added {
                for a in addrs {
                    writeln!(f, "    + glue {host} {a}")?;
                }
            }
            for (host, addrs) in &c.glue_removed {
                for a in addrs {
                    writeln!(f, "    - glue {host} {a}")?;
                }
            }
            for d in &c.ds_added {
                writeln!(f, "    + DS {d}")?;
            }
            for d in &c.ds_removed {
                writeln!(f, "    - DS {d}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::Zone;
    use std::path::Path;

    fn index(text: &str) -> ZoneIndex {
        ZoneIndex::build(
            &Zone::from_bytes(text.as_bytes(), Path::new("t")).unwrap(),
            None,
        )
    }

    #[test]
    fn reports_every_kind_of_change() {
        let old = index(
            ". 1 IN SOA a. b. 1 1 1 1 1
xa. 1 IN NS ns1.xa.
xa. 1 IN NS ns2.xa.
ns1.xa. 1 IN A 127.0.0.1
ns2.xa. 1 IN A 127.0.0.2
xa. 1 IN DS 1 13 2 AA
xb. 1 IN NS ns.example.
xc. 1 IN NS ns.example.
",
        );
        let new = index(
            ". 1 IN SOA a. b. 2 1 1 1 1
xa. 1 IN NS ns1.xa.
xa. 1 IN NS ns3.xa.
ns1.xa. 1 IN A 127.0.0.9
ns3.xa. 1 IN A 127.0.0.3
xa. 1 IN DS 2 13 2 BB
xb. 1 IN NS ns.example.
xd. 1 IN NS ns.example.
",
        );
        let d = diff(&old, &new);
        assert_eq!(d.tlds_added, vec!["xd"]);
        assert_eq!(d.tlds_removed, vec!["xc"]);
        assert_eq!(d.changed.len(), 1);
        let c = &d.changed[0];
        assert_eq!(c.ns_added, vec!["ns3.xa."]);
        assert_eq!(c.ns_removed, vec!["ns2.xa."]);
        assert_eq!(
            c.glue_added["ns1.xa."],
            vec!["127.0.0.9".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            c.glue_removed["ns1.xa."],
            vec!["127.0.0.1".parse::<IpAddr>().unwrap()]
        );
        assert!(c.glue_removed.contains_key("ns2.xa."));
        assert_eq!(c.ds_added[0].key_tag, 2);
        assert_eq!(c.ds_removed[0].key_tag, 1);
        let text = d.to_string();
        assert!(text.contains("- glue ns1.xa. 127.0.0.1"), "{text}");
    }

    #[test]
    fn identical_zones_have_no_diff() {
        let z = index(". 1 IN SOA a. b. 1 1 1 1 1\nxa. 1 IN NS ns.example.\n");
        let d = diff(&z, &z);
        assert!(d.changed.is_empty() && d.tlds_added.is_empty() && d.tlds_removed.is_empty());
    }
}
