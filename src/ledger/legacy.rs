//! Reading a journal of the formats before events were facts (versions 1
//! to 3), once, for `rootguard migrate`: those events stored the command,
//! and the state they lead to is derived by deciding each again with the
//! rules. `migrate` records the derived state as a fact
//! (`docs/RULES.md#events-are-facts`); nothing else ever reads this way.

use serde_json::Value;

use super::action::Action;
use super::world::{Settings, World};
use super::{LedgerError, Role};
use crate::store::{Event, Store};
use crate::time::Timestamp;

/// The state the whole journal of `store` leads to.
pub(super) fn derive(store: &Store) -> Result<World, LedgerError> {
    let mut world = World::default();
    for e in store.events()? {
        apply(&mut world, &e)?;
    }
    Ok(world)
}

fn apply(world: &mut World, e: &Event) -> Result<(), LedgerError> {
    let fail = |reason: String| LedgerError::Replay {
        seq: e.seq,
        kind: e.event.kind.clone(),
        reason,
    };
    if e.event.kind == "refused" || e.event.payload.get("term").is_some() {
        return Ok(());
    }
    let action: Action = serde_json::from_value(
        e.event
            .payload
            .get("action")
            .cloned()
            .unwrap_or(Value::Null),
    )
    .map_err(|err| fail(err.to_string()))?;
    let role: Role = serde_json::from_value(Value::String(e.event.role.clone()))
        .map_err(|err| fail(err.to_string()))?;
    let at = Timestamp::parse(&e.event.at).map_err(|r| fail(r.to_string()))?;
    match &action {
        // The import of those formats registered no identity.
        Action::Import {
            delegations,
            policy,
            appeal_window_days,
            authenticity,
            ..
        } => {
            world.seeded = true;
            world.seed_authenticity = authenticity.clone();
            world.settings = Settings {
                policy: policy.clone(),
                appeal_window_days: *appeal_window_days,
                simulation: false,
            };
            world.approved = delegations
                .iter()
                .map(|a| (a.tld.clone(), a.clone()))
                .collect();
            world.last_at = at;
        }
        // A gate decision was recorded as decided.
        Action::Gate { request, .. } => {
            let decision: crate::policy::gate::GateDecision =
                serde_json::from_value(e.event.payload["result"]["decision"].clone())
                    .map_err(|err| fail(format!("the recorded decision: {err}")))?;
            if decision.allowed
                && let Some(a) = world.approved.get(request.tld.as_str())
            {
                let next = request.applied_to(a);
                world.approved.insert(request.tld.to_string(), next);
            }
            world.last_at = world.last_at.max(at);
            world
                .decisions
                .insert(e.seq, ((**request).clone(), decision));
        }
        Action::RecordMigrated { .. } => {
            world.last_at = world.last_at.max(at);
        }
        _ => {
            let (next, result) = world
                .apply(&e.event.actor, role, &action, at)
                .map_err(|r| fail(r.to_string()))?;
            *world = next;
            world.note_decision(e.seq, &action, &result);
        }
    }
    Ok(())
}
