//! Seeding the approved record (`docs/RULES.md#record`): once, from a root
//! zone and a registry file, by `rootguard import` or at the daemon's first
//! start, where the zone must pass the same authenticity test as every
//! later one (`docs/RULES.md#authentic-root-zone`).

use std::path::Path;
use std::sync::Arc;

use super::{App, AppError, When};
use crate::ledger::identity::{Kind, Registration};
use crate::ledger::{Action, Ledger, Recorded, Settings};
use crate::policy::Role;
use crate::policy::registry::seed;
use crate::time::Timestamp;
use crate::zone::{Registry, Zone, ZoneIndex};

/// Seeds the approved record from an already read (and, where required,
/// verified) root zone and a registry file.
#[allow(clippy::too_many_arguments)]
pub fn import_zone(
    ledger: &mut Ledger,
    zone: &Zone,
    registry: Option<&Path>,
    settings: Settings,
    authenticity: Option<String>,
    identities: Vec<Registration>,
    actor: &str,
    at: Timestamp,
) -> Result<Recorded, AppError> {
    let registry = registry.map(Registry::from_file).transpose()?;
    let index = ZoneIndex::build(zone, registry.as_ref());
    let delegations = seed(&index, registry.as_ref());
    Ok(ledger.submit(
        actor,
        Role::Operator,
        at,
        Action::Import {
            delegations,
            policy: settings.policy,
            appeal_window_days: settings.appeal_window_days,
            authenticity,
            identities,
            simulation: settings.simulation,
        },
    )?)
}

/// The identities registered with the seed (`docs/RULES.md#identities`):
/// the guard (with its key), the first operator when given, and the
/// configuration's API tokens.
pub fn seed_identities(
    app: &App,
    guard_key: &str,
    operator: Option<Registration>,
) -> Result<Vec<Registration>, AppError> {
    let mut out = vec![Registration {
        id: super::CHECKPOINT_ORIGIN.into(),
        kind: Kind::Guard,
        tlds: Vec::new(),
        person: "rootguard (the guard itself)".into(),
        key: Some(guard_key.to_string()),
        token_sha256: None,
        body: None,
        of: None,
    }];
    out.extend(operator);
    for (i, t) in app.config.http.tokens.iter().enumerate() {
        let kind = match t.role {
            Role::Operator => Kind::Operator,
            Role::Manager => Kind::Manager,
            Role::PanelMember => Kind::PanelMember,
            Role::Public => Kind::Complainant,
            Role::Guard => {
                return Err(crate::config::ConfigError::Invalid {
                    origin: format!("http.tokens[{i}] ({:?})", t.name),
                    message: "the guard acts with its own key, not with a token".into(),
                }
                .into());
            }
        };
        let tlds = t
            .tlds
            .iter()
            .map(|x| crate::zone::Tld::parse(x))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| crate::config::ConfigError::Invalid {
                origin: format!("http.tokens[{i}] ({:?})", t.name),
                message: e.to_string(),
            })?;
        let kind = match t.kind {
            Some(k) if k.role() == t.role && k != Kind::Guard => k,
            Some(k) => {
                return Err(crate::config::ConfigError::Invalid {
                    origin: format!("http.tokens[{i}] ({:?})", t.name),
                    message: format!("an identity of kind {k} does not have the {} role", t.role),
                }
                .into());
            }
            None => kind,
        };
        out.push(Registration {
            id: t.name.clone(),
            kind,
            tlds,
            person: t.name.clone(),
            key: None,
            token_sha256: Some(t.sha256.to_ascii_lowercase()),
            body: None,
            of: None,
        });
    }
    Ok(out)
}

/// How `rootguard import` judges the seed zone's authenticity.
#[derive(Clone, Debug, Default)]
pub struct SeedCheck {
    /// Skip verification (`--no-verify`, for labs and tests): recorded as
    /// not verified, and a daemon with `zone.require_authentic` then
    /// refuses the record.
    pub skip: bool,
    /// Trust anchor file (DS or DNSKEY records for `.`); default the
    /// built-in IANA root KSKs.
    pub trust_anchor: Option<std::path::PathBuf>,
}

impl App {
    /// `rootguard import`: seeds the record from a root zone file and a
    /// registry file.
    /// The zone must be authentic (`docs/RULES.md#authentic-root-zone`)
    /// unless `check.skip`.
    pub async fn import(
        self: &Arc<Self>,
        root_zone: &Path,
        registry: Option<&Path>,
        settings: Settings,
        check: SeedCheck,
        operator: Registration,
        when: When,
    ) -> Result<Recorded, AppError> {
        if matches!(when, When::At(_)) && !settings.simulation {
            return Err(AppError::Clock(crate::store::display(&self.config.store)));
        }
        let (root_zone, registry) = (root_zone.to_path_buf(), registry.map(Path::to_path_buf));
        let recorded = self
            .blocking(move |ledger, app| {
                if ledger.world().seeded {
                    return Err(crate::ledger::LedgerError::Refused(crate::policy::Refusal::new(
                        "the record is already seeded: it changes only through allowed change requests and suspensions",
                        crate::policy::section::RECORD,
                    ))
                    .into());
                }
                let actor = operator.id.clone();
                let guard = app.create_guard_key()?.verifier_key.clone();
                ledger.use_key(&app.config.guard_key_path())?;
                let identities = seed_identities(app, &guard, Some(operator))?;
                let zone = Zone::from_file(&root_zone)?;
                let authenticity = if check.skip {
                    None
                } else {
                    Some(
                        crate::zone::authentic::authenticate(
                            &zone,
                            check.trust_anchor.as_deref(),
                            true,
                            when.probe_time(),
                        )
                        .map_err(|e| {
                            AppError::UnverifiedSeed(format!(
                                "{e}; give --no-verify to seed a lab or test record from it"
                            ))
                        })?,
                    )
                };
                let at = when.record_time(ledger.world().last_at);
                import_zone(
                    ledger,
                    &zone,
                    registry.as_deref(),
                    settings,
                    authenticity,
                    identities,
                    &actor,
                    at,
                )
            })
            .await?;
        self.checkpoint(true).await?;
        Ok(recorded)
    }

    /// The daemon's first start: an empty record is seeded from
    /// `zone.file`, verified like every later zone when
    /// `zone.require_authentic` is set. Returns whether it seeded.
    /// A record seeded without verification is refused when
    /// `zone.require_authentic` is set.
    pub async fn seed_if_empty(self: &Arc<Self>) -> Result<bool, AppError> {
        let seeded = self.blocking(|ledger, app| {
            let required = app.config.zone.require_authentic;
            if ledger.world().seeded {
                if required && ledger.world().seed_authenticity.is_none() {
                    return Err(AppError::UnverifiedSeed(format!(
                        "the record {} was seeded from a root zone that was not verified (rootguard import --no-verify), and zone.require_authentic is set; seed a new record from a verified zone (docs/RULES.md#authentic-root-zone)",
                        crate::store::display(&app.config.store)
                    )));
                }
                return Ok(false);
            }
            let config = &app.config;
            let Some(file) = &config.zone.file else {
                return Err(AppError::NotSeeded(crate::store::display(&config.store)));
            };
            let zone = Zone::from_file(file)?;
            let now = Timestamp::now();
            let authenticity = crate::zone::authentic::authenticate(
                &zone,
                config.zone.trust_anchor.as_deref(),
                required,
                now,
            )
            .map_err(|e| AppError::UnverifiedSeed(e.to_string()))?;
            // Recorded as verified only when it was required to be.
            let authenticity = required.then_some(authenticity);
            let settings = Settings {
                policy: config.policy.clone(),
                appeal_window_days: config.appeal_window_days,
                simulation: false,
            };
            let guard = app.create_guard_key()?.verifier_key.clone();
            ledger.use_key(&config.guard_key_path())?;
            let identities = seed_identities(app, &guard, None)?;
            if !identities.iter().any(|r| r.kind == Kind::Operator) {
                return Err(crate::config::ConfigError::Invalid {
                    origin: "http.tokens".into(),
                    message: "the first start registers the first operator from the configuration: configure a token with role \"operator\" (docs/RULES.md#identities)".into(),
                }
                .into());
            }
            import_zone(
                ledger,
                &zone,
                config.zone.registry.as_deref(),
                settings,
                authenticity,
                identities,
                "rootguard (first start)",
                now,
            )?;
            tracing::warn!(store = %crate::store::display(&config.store), "record seeded from {}", file.display());
            Ok(true)
        })
        .await?;
        self.checkpoint(seeded).await?;
        Ok(seeded)
    }
}
