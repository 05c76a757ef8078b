//! The territory of each ccTLD (`docs/RULES.md#territories`): fixed by the
//! ccTLD itself, from the data file `zones/territories.tsv` built into the
//! binary, never from the contacts of whoever last wrote the registry.
//!
//! The file maps every ccTLD (ISO 3166-1 alpha-2 codes, IANA's exceptions
//! `ac`, `eu`, `uk`, `su` and the IDN ccTLDs through the code IANA
//! designates them for) to its territory, its status and, for a dependent
//! territory, the state that administers it. The status decides who may
//! fill a case's government seat (BP §6.1.1; ITU Resolution 102):
//!
//! ```text
//!   state         the territory's own government
//!   dependent     the territory's own public authority
//!   administered  the administering state's government (none of its own)
//!   none          nobody: the seat stays vacant (no government or no
//!                 residents); the administrative contact need not reside
//!   lab           the demo lab's user-assigned codes, treated as states
//! ```

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The data file, built in.
const DATA: &str = include_str!("../../zones/territories.tsv");

/// Who governs a territory (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// A state with its own government.
    State,
    /// A dependent territory with a public authority of its own.
    Dependent,
    /// A territory governed by its administering state.
    Administered,
    /// No government or no residents: the government seat stays vacant.
    None,
}

/// One ccTLD's territory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Territory {
    /// The ISO 3166-1 alpha-2 code (lower case) of the territory.
    pub code: String,
    /// Its English short name.
    pub name: String,
    /// Other names it is known by.
    pub aliases: Vec<String>,
    /// Who governs it.
    pub status: Status,
    /// For a dependent or administered territory, the administering state.
    pub administering: Option<String>,
}

fn normal(s: &str) -> String {
    let s = s.trim().to_lowercase();
    let s = s.strip_suffix("(the)").unwrap_or(&s).trim().to_string();
    s.strip_prefix("the ").unwrap_or(&s).trim().to_string()
}

impl Territory {
    /// Whether `country` (a code or a name, any case, IANA's "(the)"
    /// suffix allowed) names this territory.
    pub fn is(&self, country: &str) -> bool {
        let c = normal(country);
        !c.is_empty()
            && (c == self.code
                || c == normal(&self.name)
                || self.aliases.iter().any(|a| normal(a) == c))
    }

    /// Whether the government seat stays vacant and the administrative
    /// contact need not reside in the territory.
    pub fn waived(&self) -> bool {
        self.status == Status::None
    }

    /// The code of the government that may fill the government seat:
    /// the territory's own, or its administering state's; none when the
    /// seat stays vacant.
    pub fn seat_government(&self) -> Option<&str> {
        match self.status {
            Status::State | Status::Dependent => Some(&self.code),
            Status::Administered => self.administering.as_deref(),
            Status::None => None,
        }
    }

    /// Whether `country` is a government this territory's case must not
    /// seat outside the government seat: any but the territory's own (and
    /// its administering state's, for an administered territory).
    pub fn foreign(&self, country: &str) -> bool {
        if self.is(country) {
            return false;
        }
        match (self.status, &self.administering) {
            (Status::Administered, Some(a)) => by_code(a).is_none_or(|t| !t.is(country)),
            _ => true,
        }
    }
}

fn table() -> &'static BTreeMap<String, Territory> {
    static TABLE: OnceLock<BTreeMap<String, Territory>> = OnceLock::new();
    TABLE.get_or_init(|| {
        DATA.lines()
            .skip(1)
            .filter_map(|line| {
                let f: Vec<&str> = line.split('\t').collect();
                let [cctld, code, name, aliases, status, administering] = f[..] else {
                    return None;
                };
                let status = match status {
                    "dependent" => Status::Dependent,
                    "administered" => Status::Administered,
                    "none" => Status::None,
                    _ => Status::State,
                };
                Some((
                    cctld.to_string(),
                    Territory {
                        code: code.to_string(),
                        name: name.to_string(),
                        aliases: aliases
                            .split('|')
                            .filter(|a| !a.is_empty())
                            .map(str::to_string)
                            .collect(),
                        status,
                        administering: (!administering.is_empty())
                            .then(|| administering.to_string()),
                    },
                ))
            })
            .collect()
    })
}

/// The territory of ccTLD `tld` (its A-label, lower case), if the data file
/// knows it.
pub fn of(tld: &str) -> Option<&'static Territory> {
    table().get(tld)
}

/// The territory with ISO code `code`.
pub fn by_code(code: &str) -> Option<&'static Territory> {
    table().get(&code.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_delegated_cctld_of_the_real_registry_has_a_territory() {
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/rootzone/tld-managers.json"
        );
        let Ok(text) = std::fs::read_to_string(file) else {
            eprintln!("skipped: ../shared/rootzone/tld-managers.json is absent");
            return;
        };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut n = 0;
        for (tld, e) in v["tlds"].as_object().unwrap() {
            if e["page_kind"]
                .as_str()
                .is_some_and(|k| k.starts_with("Country-code"))
            {
                assert!(of(tld).is_some(), "{tld} has no territory");
                n += 1;
            }
        }
        assert!(n >= 309, "{n}");
    }

    #[test]
    fn exceptions_dependencies_and_vacant_seats() {
        let aq = of("aq").unwrap();
        assert!(aq.waived() && aq.seat_government().is_none());
        assert!(aq.foreign("New Zealand"), "aq is not New Zealand's");
        for t in ["eu", "su"] {
            assert!(of(t).unwrap().waived(), "{t}");
        }
        let uk = of("uk").unwrap();
        assert_eq!(uk.code, "gb");
        assert!(uk.is("United Kingdom of Great Britain and Northern Ireland (the)"));
        assert!(uk.foreign("France"));
        // A dependent territory: its own authority fills the seat.
        let pr = of("pr").unwrap();
        assert_eq!(pr.seat_government(), Some("pr"));
        assert_eq!(pr.administering.as_deref(), Some("us"));
        // An administered one: the administering state's government.
        let nf = of("nf").unwrap();
        assert_eq!(nf.seat_government(), Some("au"));
        assert!(!nf.foreign("Australia") && nf.foreign("New Zealand"));
        // The IDN ccTLDs through the code they are designated for.
        assert_eq!(of("xn--p1ai").unwrap().code, "ru");
        assert!(of("us").unwrap().is("United States of America (the)"));
        assert!(of("xa").unwrap().is("Examplia"));
        assert!(of("zz").is_none());
    }
}
