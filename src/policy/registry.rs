//! The approved delegation record (`docs/RULES.md#record`): per
//! ccTLD the manager, administrative and technical contacts (with their
//! countries), NS names, glue and DS. Seeded once from a root zone and a
//! registry file; afterwards changed only by an allowed change request or,
//! for its publication, by a suspension measure. Comparing the published
//! root zone with it yields every unauthorised difference (drift).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::technical::Measure;
use crate::zone::diff::{TldChange, diff_delegation};
use crate::zone::{Delegation, DsRecord, Registry, TldKind, ZoneIndex};

/// A contact as the record keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactRecord {
    /// Name or role.
    #[serde(default)]
    pub name: String,
    /// Organisation.
    #[serde(default)]
    pub organisation: String,
    /// Country (the last address line in IANA's database).
    #[serde(default)]
    pub country: String,
}

/// One approved delegation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approved {
    /// The ccTLD.
    pub tld: String,
    /// Classification.
    pub kind: TldKind,
    /// The manager (BP §1).
    pub manager: String,
    /// Administrative contact.
    pub admin_contact: ContactRecord,
    /// Technical contact.
    pub tech_contact: ContactRecord,
    /// NS host names.
    pub ns: Vec<String>,
    /// Glue per NS host.
    pub glue: BTreeMap<String, Vec<IpAddr>>,
    /// DS records.
    pub ds: Vec<DsRecord>,
}

impl Approved {
    /// The delegation as approved.
    pub fn delegation(&self) -> Delegation {
        Delegation {
            tld: self.tld.clone(),
            kind: self.kind,
            ns: self.ns.clone(),
            glue: self.glue.clone(),
            ds: self.ds.clone(),
        }
    }

    /// What should be published: the approved delegation less what a
    /// suspension withholds; `None` when the delegation is held. A measure
    /// never changes anything else (`docs/RULES.md#suspension-not-redelegation`).
    pub fn effective(&self, measure: Option<Measure>) -> Option<Delegation> {
        let mut d = self.delegation();
        match measure {
            None => Some(d),
            Some(Measure::WithholdDs) => {
                d.ds.clear();
                Some(d)
            }
            Some(Measure::HoldDelegation) => None,
        }
    }
}

/// Seeds the record with every ccTLD of `index`, taking managers and
/// contacts from `registry`.
pub fn seed(index: &ZoneIndex, registry: Option<&Registry>) -> Vec<Approved> {
    index
        .cctlds()
        .map(|d| {
            let entry = registry.and_then(|r| r.tlds.get(&d.tld));
            let contact = |c: Option<&crate::zone::registry::Contact>| ContactRecord {
                name: c.and_then(|c| c.name.clone()).unwrap_or_default(),
                organisation: c.and_then(|c| c.organisation.clone()).unwrap_or_default(),
                country: c.and_then(|c| c.country()).unwrap_or_default().to_string(),
            };
            Approved {
                tld: d.tld.clone(),
                kind: d.kind,
                manager: entry
                    .and_then(|e| e.manager.as_ref())
                    .and_then(|m| m.name.clone())
                    .unwrap_or_else(|| "(unknown: no registry entry)".into()),
                admin_contact: contact(entry.and_then(|e| e.admin_contact.as_ref())),
                tech_contact: contact(entry.and_then(|e| e.tech_contact.as_ref())),
                ns: d.ns.clone(),
                glue: d.glue.clone(),
                ds: d.ds.clone(),
            }
        })
        .collect()
}

/// One unauthorised difference between the published zone and the record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "drift", rename_all = "kebab-case")]
pub enum Drift {
    /// The published delegation differs from the effective one.
    Changed {
        /// The differences (old = effective, new = published).
        change: TldChange,
    },
    /// The delegation is missing although no suspension holds it.
    Missing {
        /// The ccTLD.
        tld: String,
    },
    /// The delegation is published although a suspension holds it.
    PublishedWhileHeld {
        /// The ccTLD.
        tld: String,
    },
    /// A ccTLD is published that the record does not know.
    NotApproved {
        /// The ccTLD.
        tld: String,
    },
}

/// Every unauthorised difference between `observed` and the record plus
/// the measures in force.
pub fn drift(
    approved: &BTreeMap<String, Approved>,
    measures: &BTreeMap<String, Measure>,
    observed: &ZoneIndex,
) -> Vec<Drift> {
    let mut out = Vec::new();
    for (tld, a) in approved {
        let effective = a.effective(measures.get(tld).copied());
        match (effective, observed.get(tld)) {
            (Some(e), Some(o)) => {
                let change = diff_delegation(&e, o);
                if !change.is_empty() {
                    out.push(Drift::Changed { change });
                }
            }
            (Some(_), None) => out.push(Drift::Missing { tld: tld.clone() }),
            (None, Some(_)) => out.push(Drift::PublishedWhileHeld { tld: tld.clone() }),
            (None, None) => {}
        }
    }
    for d in observed.cctlds() {
        if !approved.contains_key(&d.tld) {
            out.push(Drift::NotApproved { tld: d.tld.clone() });
        }
    }
    out
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

    const ZONE: &str = ". 1 IN SOA a. b. 1 1 1 1 1
xa. 1 IN NS ns1.xa.
xa. 1 IN DS 1 13 2 AA
ns1.xa. 1 IN A 192.0.2.1
xb. 1 IN NS ns.example.
shop. 1 IN NS ns.example.
";

    #[test]
    fn seeds_cctlds_and_computes_effective_delegations() {
        let approved = seed(&index(ZONE), None);
        assert_eq!(approved.len(), 2);
        let xa = &approved[0];
        assert_eq!(xa.effective(Some(Measure::WithholdDs)).unwrap().ds.len(), 0);
        assert_eq!(xa.effective(Some(Measure::WithholdDs)).unwrap().ns, xa.ns);
        assert!(xa.effective(Some(Measure::HoldDelegation)).is_none());
    }

    #[test]
    fn drift_lists_unauthorised_differences_only() {
        let approved: BTreeMap<String, Approved> = seed(&index(ZONE), None)
            .into_iter()
            .map(|a| (a.tld.clone(), a))
            .collect();
        let mut measures = BTreeMap::new();
        assert!(drift(&approved, &measures, &index(ZONE)).is_empty());
        // DS withheld by a suspension: its absence is authorised.
        let no_ds = ZONE.replace("xa. 1 IN DS 1 13 2 AA\n", "");
        assert_eq!(drift(&approved, &measures, &index(&no_ds)).len(), 1);
        measures.insert("xa".to_string(), Measure::WithholdDs);
        assert!(drift(&approved, &measures, &index(&no_ds)).is_empty());
        // An unapproved glue edit, a missing TLD and a new ccTLD.
        let edited = ZONE
            .replace("192.0.2.1", "192.0.2.99")
            .replace("xb. 1 IN NS ns.example.\n", "")
            + "xz. 1 IN NS ns.example.\n";
        let d = drift(&approved, &BTreeMap::new(), &index(&edited));
        assert!(d.iter().any(
            |x| matches!(x, Drift::Changed { change } if change.glue_added.contains_key("ns1.xa."))
        ));
        assert!(d.contains(&Drift::Missing { tld: "xb".into() }));
        assert!(d.contains(&Drift::NotApproved { tld: "xz".into() }));
    }
}
