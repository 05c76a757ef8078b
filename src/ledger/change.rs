//! What one journal event changed in the record's state, stored with the
//! event so that replay applies facts and never decides again
//! (`docs/RULES.md#events-are-facts`).
//!
//! A [`Change`] holds, for each part of the [`World`], the entries the
//! event wrote (their new value) or removed (`null`). It is computed once,
//! when the rules accept a command, by comparing the state before and
//! after; replay writes it back. A later change to the rules therefore
//! never rewrites history, and a journal written under stricter or looser
//! rules always opens.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::identity::Identity;
use super::world::{Settings, World};
use crate::policy::case::Case;
use crate::policy::complaint::Complaint;
use crate::policy::registry::Approved;
use crate::policy::technical::{SweepFacts, TldTechnical};

/// The seed of the record, written once by the import.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Seed {
    /// Settings in force.
    pub settings: Settings,
    /// The seed zone's authenticity, when it was verified.
    pub authenticity: Option<String>,
}

/// The entries of the state that one event wrote (`Some`) or removed
/// (`None`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The whole state, replacing what came before: written once by
    /// `rootguard migrate`, whose older journal replay does not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<Box<World>>,
    /// The seed (only the import writes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<Seed>,
    /// Approved delegations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub approved: BTreeMap<String, Option<Approved>>,
    /// Technical state per ccTLD.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub technical: BTreeMap<String, Option<TldTechnical>>,
    /// Complaints.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub complaints: BTreeMap<u64, Option<Complaint>>,
    /// Cases.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cases: BTreeMap<u64, Option<Case>>,
    /// Latest observations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub observed: BTreeMap<String, Option<SweepFacts>>,
    /// ccTLDs swept explicitly since the last round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<BTreeSet<String>>,
    /// Registered identities.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub identities: BTreeMap<String, Option<Identity>>,
    /// Confirmations of change requests.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub confirmations: BTreeMap<String, Option<super::world::Confirmation>>,
    /// Signed commands seen recently (their digests, against replays).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub commands: BTreeMap<String, Option<crate::time::Timestamp>>,
    /// Suspensions upheld by an operator (`docs/RULES.md#quorum-review`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub upheld: BTreeMap<String, Option<crate::time::Timestamp>>,
    /// ccTLDs not judged by a quorum, since when.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unjudged_since: BTreeMap<String, Option<crate::time::Timestamp>>,
}

/// The entries of `after` that differ from `before`.
fn map_diff<K: Ord + Clone, V: PartialEq + Clone>(
    before: &BTreeMap<K, V>,
    after: &BTreeMap<K, V>,
) -> BTreeMap<K, Option<V>> {
    let mut out = BTreeMap::new();
    for (k, v) in after {
        if before.get(k) != Some(v) {
            out.insert(k.clone(), Some(v.clone()));
        }
    }
    for k in before.keys() {
        if !after.contains_key(k) {
            out.insert(k.clone(), None);
        }
    }
    out
}

fn map_patch<K: Ord + Clone, V: Clone>(map: &mut BTreeMap<K, V>, change: &BTreeMap<K, Option<V>>) {
    for (k, v) in change {
        match v {
            Some(v) => {
                map.insert(k.clone(), v.clone());
            }
            None => {
                map.remove(k);
            }
        }
    }
}

impl Change {
    /// What turned `before` into `after` (gate decisions and the time of
    /// the latest event aside: the event itself holds those).
    pub fn between(before: &World, after: &World) -> Change {
        let seed = (before.seeded != after.seeded
            || before.settings != after.settings
            || before.seed_authenticity != after.seed_authenticity)
            .then(|| Seed {
                settings: after.settings.clone(),
                authenticity: after.seed_authenticity.clone(),
            });
        Change {
            reset: None,
            seed,
            approved: map_diff(&before.approved, &after.approved),
            technical: map_diff(&before.technical, &after.technical),
            complaints: map_diff(&before.complaints, &after.complaints),
            cases: map_diff(&before.cases, &after.cases),
            observed: map_diff(&before.observed, &after.observed),
            round: (before.round != after.round).then(|| after.round.clone()),
            identities: map_diff(&before.identities, &after.identities),
            confirmations: map_diff(&before.confirmations, &after.confirmations),
            commands: map_diff(&before.commands, &after.commands),
            upheld: map_diff(&before.upheld, &after.upheld),
            unjudged_since: map_diff(&before.unjudged_since, &after.unjudged_since),
        }
    }

    /// Writes the change into `world`.
    pub fn apply_to(&self, world: &mut World) {
        if let Some(reset) = &self.reset {
            *world = (**reset).clone();
        }
        if let Some(seed) = &self.seed {
            world.seeded = true;
            world.settings = seed.settings.clone();
            world.seed_authenticity = seed.authenticity.clone();
        }
        map_patch(&mut world.approved, &self.approved);
        map_patch(&mut world.technical, &self.technical);
        map_patch(&mut world.complaints, &self.complaints);
        map_patch(&mut world.cases, &self.cases);
        map_patch(&mut world.observed, &self.observed);
        if let Some(round) = &self.round {
            world.round = round.clone();
        }
        map_patch(&mut world.identities, &self.identities);
        map_patch(&mut world.confirmations, &self.confirmations);
        map_patch(&mut world.commands, &self.commands);
        map_patch(&mut world.upheld, &self.upheld);
        map_patch(&mut world.unjudged_since, &self.unjudged_since);
    }
}
