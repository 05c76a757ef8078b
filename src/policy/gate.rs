//! The change-request gate (`docs/RULES.md#gate-technical`,
//! `#gate-redelegation`, `#gate-other`, `#change-request-data`).
//!
//! ```text
//!  request --classify--> technical change: changes only NS, glue or DS, for the
//!     |                  incumbent manager, confirmed by its administrative and
//!     |                  technical contacts --> allowed iff the pre-check of the
//!     |                  proposed delegation finds no threat (also while suspended)
//!     +-------------> redelegation: changes the manager, or lacks the incumbent's
//!     |                  confirmation --> allowed iff a completed case for the TLD
//!     |                  selected that new manager (BP §2, §6, §7)
//!     +-------------> anything else --> blocked
//! ```
//!
//! Every decision, allowed or blocked, is recorded with its reasons, each
//! citing the section it applies.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::case::Case;
use super::registry::{Approved, ContactRecord};
use crate::checks::ThreatKind;
use crate::zone::host::{self, DataError, HostName, quoted};
use crate::zone::{DsRecord, Tld, fqdn};

/// Sections cited by the gate.
pub mod section {
    /// Technical changes.
    pub const TECHNICAL: &str = "docs/RULES.md#gate-technical; BP §4.3";
    /// Redelegations.
    pub const REDELEGATION: &str = "docs/RULES.md#gate-redelegation; BP §2, §6, §7";
    /// A redelegation is bound to the one case that authorises it.
    pub const BOUND: &str = "docs/RULES.md#gate-bound; BP §6, §7";
    /// Anything else.
    pub const OTHER: &str = "docs/RULES.md#gate-other";
}

/// Confirmations attached to a request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirmations {
    /// Confirmed by the incumbent's administrative contact.
    #[serde(default)]
    pub admin_contact: bool,
    /// Confirmed by the incumbent's technical contact.
    #[serde(default)]
    pub tech_contact: bool,
}

/// A root zone change request (documented by `docs/change-request.schema.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRequest {
    /// The ccTLD (any case, a final dot or a U-label accepted; kept as
    /// its normal form).
    #[schema(value_type = String)]
    pub tld: Tld,
    /// Who submits it.
    pub submitted_by: String,
    /// The manager it is submitted for.
    pub on_behalf_of: String,
    /// The manager after the change (absent: unchanged).
    #[serde(default)]
    pub manager: Option<String>,
    /// The NS set after the change (absent: unchanged).
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub ns: Option<Vec<HostName>>,
    /// Glue after the change, per NS host (absent: unchanged).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub glue: Option<BTreeMap<HostName, Vec<IpAddr>>>,
    /// DS set after the change (absent: unchanged).
    #[serde(default)]
    pub ds: Option<Vec<DsRecord>>,
    /// Administrative contact after the change (absent: unchanged).
    #[serde(default)]
    pub admin_contact: Option<ContactRecord>,
    /// Technical contact after the change (absent: unchanged).
    #[serde(default)]
    pub tech_contact: Option<ContactRecord>,
    /// Confirmations by the incumbent's contacts.
    #[serde(default)]
    pub confirmations: Confirmations,
}

/// How a request is classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RequestKind {
    /// Changes only NS, glue or DS, for and confirmed by the incumbent.
    TechnicalChange,
    /// Changes the manager, or lacks the incumbent's confirmation.
    Redelegation,
    /// Anything else.
    Other,
}

/// One reason of a decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reason {
    /// What.
    pub text: String,
    /// The rules applied.
    pub section: String,
}

/// The gate's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GateDecision {
    /// Classification.
    pub kind: RequestKind,
    /// Allowed or blocked.
    pub allowed: bool,
    /// Every reason, with its section.
    pub reasons: Vec<Reason>,
}

/// The outcome of the pre-check of a proposed delegation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Precheck {
    /// The threat found, if any.
    pub threat: Option<ThreatKind>,
    /// Verdict and findings, for the record.
    pub summary: String,
}

fn reason(text: impl Into<String>, section: &str) -> Reason {
    Reason {
        text: text.into(),
        section: section.to_string(),
    }
}

impl ChangeRequest {
    /// Whether the request changes NS, glue or DS relative to `a`.
    pub fn changes_delegation(&self, a: &Approved) -> bool {
        self.ns
            .as_ref()
            .is_some_and(|ns| host_keys(ns) != normal(&a.ns))
            || self.glue.as_ref().is_some_and(|g| glue_keys(g) != a.glue)
            || self.ds.as_ref().is_some_and(|ds| *ds != a.ds)
    }

    /// Whether it changes the manager.
    pub fn changes_manager(&self, a: &Approved) -> bool {
        self.manager.as_ref().is_some_and(|m| *m != a.manager)
    }

    /// SHA-256 (hex) of the request as submitted, its confirmations aside:
    /// what the incumbent's contacts confirm.
    pub fn digest(&self) -> String {
        let mut r = self.clone();
        r.confirmations = Confirmations::default();
        let json = serde_json::to_string(&r).unwrap_or_default();
        hex::encode(ring::digest::digest(&ring::digest::SHA256, json.as_bytes()))
    }

    /// Whether it changes a contact.
    pub fn changes_contacts(&self, a: &Approved) -> bool {
        self.admin_contact
            .as_ref()
            .is_some_and(|c| *c != a.admin_contact)
            || self
                .tech_contact
                .as_ref()
                .is_some_and(|c| *c != a.tech_contact)
    }

    /// Whether it is submitted for the incumbent and confirmed by both its
    /// contacts.
    pub fn incumbent_confirmed(&self, a: &Approved) -> bool {
        self.on_behalf_of == a.manager
            && self.confirmations.admin_contact
            && self.confirmations.tech_contact
    }

    /// The approved delegation after the change.
    pub fn applied_to(&self, a: &Approved) -> Approved {
        let mut n = a.clone();
        if let Some(m) = &self.manager {
            n.manager = m.clone();
        }
        if let Some(ns) = &self.ns {
            n.ns = host_keys(ns);
        }
        if let Some(g) = &self.glue {
            n.glue = glue_keys(g);
        }
        if let Some(ds) = &self.ds {
            n.ds = ds.clone();
        }
        // Glue only for hosts of the resulting NS set
        // (docs/RULES.md#change-request-data).
        let ns = n.ns.clone();
        n.glue.retain(|h, _| ns.contains(h));
        if let Some(c) = &self.admin_contact {
            n.admin_contact = c.clone();
        }
        if let Some(c) = &self.tech_contact {
            n.tech_contact = c.clone();
        }
        n
    }
}

/// Most NS hosts, glue addresses per host and DS records a request may
/// name (the root zone's largest ccTLD NS set has 13 hosts).
pub const MAX_NS: usize = 32;
/// Most glue addresses per host in a request.
pub const MAX_GLUE_PER_HOST: usize = 16;
/// Most DS records in a request.
pub const MAX_DS: usize = 16;
/// Longest free-text field (names of managers, submitters, contacts).
pub const MAX_TEXT: usize = 256;

/// Why a change request is not valid input: bad input (exit status 3,
/// HTTP 400), decided before any probe and never recorded as a decision.
/// Rule: `docs/RULES.md#change-request-data`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRequest {
    /// A name or a DS record is not valid DNS data.
    #[error("change request field {field}: {source}")]
    Data {
        /// The field.
        field: String,
        /// What is wrong with the data.
        source: DataError,
    },
    /// Some other field breaks a rule of the request format.
    #[error("change request field {field}: {reason} ({rule})", rule = host::RULE)]
    Field {
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
}

fn field_error(field: impl Into<String>, reason: impl Into<String>) -> InvalidRequest {
    InvalidRequest::Field {
        field: field.into(),
        reason: reason.into(),
    }
}

fn text_field(field: &str, value: &str) -> Result<(), InvalidRequest> {
    if value.chars().count() > MAX_TEXT {
        return Err(field_error(
            field,
            format!("longer than {MAX_TEXT} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(field_error(
            field,
            format!("{} holds a control character", quoted(value)),
        ));
    }
    Ok(())
}

/// Validates a change request as DNS data before anything is probed or
/// decided, and returns it in normal form (TLD label lower case without a
/// dot; NS and glue host names lower case and absolute; DS digests upper
/// case; NS set sorted without duplicates).
///
/// Rule `docs/RULES.md#change-request-data`: every NS and glue host name
/// parses as a host name; every DS digest is hexadecimal of its digest
/// type's length; glue is given only for hosts of the request's resulting
/// NS set that are under the requesting ccTLD (in-domain), and every
/// in-domain host of that set has glue; free-text fields hold no control
/// characters. `approved` is the ccTLD's approved delegation, when known:
/// the resulting NS set and glue are judged against it.
pub fn validate(
    req: &ChangeRequest,
    approved: Option<&Approved>,
) -> Result<ChangeRequest, InvalidRequest> {
    let mut out = req.clone();
    let tld = req.tld.as_str();
    text_field("submitted_by", &req.submitted_by)?;
    text_field("on_behalf_of", &req.on_behalf_of)?;
    if let Some(m) = &req.manager {
        text_field("manager", m)?;
    }
    for (name, c) in [
        ("admin_contact", &req.admin_contact),
        ("tech_contact", &req.tech_contact),
    ] {
        if let Some(c) = c {
            text_field(&format!("{name}.name"), &c.name)?;
            text_field(&format!("{name}.organisation"), &c.organisation)?;
            text_field(&format!("{name}.country"), &c.country)?;
        }
    }
    if let Some(ns) = &req.ns {
        if ns.is_empty() {
            return Err(field_error("ns", "an NS set cannot be empty"));
        }
        if ns.len() > MAX_NS {
            return Err(field_error("ns", format!("more than {MAX_NS} hosts")));
        }
        let mut hosts = ns.clone();
        hosts.sort();
        hosts.dedup();
        out.ns = Some(hosts);
    }
    let resulting_ns: Vec<String> = match (&out.ns, approved) {
        (Some(ns), _) => host_keys(ns),
        (None, Some(a)) => a.ns.clone(),
        (None, None) => Vec::new(),
    };
    if let Some(glue) = &req.glue {
        let mut normal = BTreeMap::new();
        for (h, addrs) in glue {
            let field = format!("glue[{}]", quoted(h));
            let key = h.as_str();
            if !host::in_domain(key, tld) {
                return Err(field_error(
                    field,
                    format!("{key} is not under .{tld}: glue is accepted only for in-domain hosts"),
                ));
            }
            if !resulting_ns.iter().any(|n| n == key) {
                return Err(field_error(
                    field,
                    format!("{key} is not in the NS set of .{tld} after the change"),
                ));
            }
            if addrs.is_empty() || addrs.len() > MAX_GLUE_PER_HOST {
                return Err(field_error(
                    field,
                    format!("needs 1 to {MAX_GLUE_PER_HOST} addresses"),
                ));
            }
            let mut addrs = addrs.clone();
            addrs.sort();
            addrs.dedup();
            if normal.insert(h.clone(), addrs).is_some() {
                return Err(field_error(field, format!("{key} is given twice")));
            }
        }
        out.glue = Some(normal);
    }
    // A request for a TLD without an approved delegation is refused by the
    // rules ("not a ccTLD"); the resulting delegation is judged only for
    // a known one.
    if let Some(a) = approved
        && (out.ns.is_some() || out.glue.is_some())
    {
        let glue = out
            .glue
            .as_ref()
            .map(glue_keys)
            .unwrap_or_else(|| a.glue.clone());
        for h in &resulting_ns {
            if host::in_domain(h, tld) && glue.get(h).is_none_or(Vec::is_empty) {
                return Err(field_error(
                    "glue",
                    format!("{h} is under .{tld} and needs glue addresses"),
                ));
            }
        }
    }
    if let Some(ds) = &req.ds {
        if ds.len() > MAX_DS {
            return Err(field_error("ds", format!("more than {MAX_DS} records")));
        }
        let mut v = Vec::with_capacity(ds.len());
        for (i, d) in ds.iter().enumerate() {
            v.push(host::ds_record(d).map_err(|source| InvalidRequest::Data {
                field: format!("ds[{i}]"),
                source,
            })?);
        }
        out.ds = Some(v);
    }
    Ok(out)
}

fn host_keys(ns: &[HostName]) -> Vec<String> {
    let mut v: Vec<String> = ns.iter().map(|n| n.to_string()).collect();
    v.sort();
    v.dedup();
    v
}

fn glue_keys(g: &BTreeMap<HostName, Vec<IpAddr>>) -> BTreeMap<String, Vec<IpAddr>> {
    g.iter().map(|(h, a)| (h.to_string(), a.clone())).collect()
}

fn normal(ns: &[String]) -> Vec<String> {
    let mut v: Vec<String> = ns.iter().map(|n| fqdn(n)).collect();
    v.sort();
    v.dedup();
    v
}

/// Classifies a request against the approved delegation.
pub fn classify(req: &ChangeRequest, a: &Approved) -> RequestKind {
    if req.changes_manager(a)
        || (!req.incumbent_confirmed(a) && (req.changes_delegation(a) || req.manager.is_some()))
    {
        RequestKind::Redelegation
    } else if req.changes_delegation(a) && !req.changes_contacts(a) {
        RequestKind::TechnicalChange
    } else {
        RequestKind::Other
    }
}

/// Decides a request. `precheck` is the result of probing the proposed
/// delegation (needed for technical changes); `cases` are the TLD's cases.
pub fn decide(
    req: &ChangeRequest,
    a: &Approved,
    precheck: Option<&Precheck>,
    cases: &[&Case],
) -> GateDecision {
    let kind = classify(req, a);
    let mut reasons = Vec::new();
    let allowed = match kind {
        RequestKind::TechnicalChange => {
            reasons.push(reason(
                format!("changes only NS, glue or DS of .{}, submitted for the incumbent {} and confirmed by its administrative and technical contacts", a.tld, a.manager),
                section::TECHNICAL,
            ));
            match precheck {
                None => {
                    reasons.push(reason(
                        "the proposed delegation has not been pre-checked",
                        section::TECHNICAL,
                    ));
                    false
                }
                Some(p) => match p.threat {
                    Some(t) => {
                        reasons.push(reason(
                            format!("the pre-check of the proposed delegation finds a threat ({t:?}): {}", p.summary),
                            section::TECHNICAL,
                        ));
                        false
                    }
                    None => {
                        reasons.push(reason(
                            format!(
                                "the pre-check of the proposed delegation finds no threat: {}",
                                p.summary
                            ),
                            section::TECHNICAL,
                        ));
                        true
                    }
                },
            }
        }
        RequestKind::Redelegation => {
            let new_manager = req.manager.clone().unwrap_or_else(|| a.manager.clone());
            if req.changes_manager(a) {
                reasons.push(reason(
                    format!(
                        "changes the manager of .{} from {} to {new_manager}",
                        a.tld, a.manager
                    ),
                    section::REDELEGATION,
                ));
            } else {
                reasons.push(reason(
                    format!("lacks the incumbent's confirmation (submitted for {}, admin contact confirmed: {}, technical contact confirmed: {})", req.on_behalf_of, req.confirmations.admin_contact, req.confirmations.tech_contact),
                    section::REDELEGATION,
                ));
            }
            if !req.changes_manager(a) {
                reasons.push(reason(
                    format!(
                        "no redelegation case authorises a change that keeps the manager {}",
                        a.manager
                    ),
                    section::REDELEGATION,
                ));
                if cases.is_empty() {
                    reasons.push(reason(
                        format!("no redelegation case exists for .{}", a.tld),
                        section::REDELEGATION,
                    ));
                }
                false
            } else {
                match authorising_case(req, a, cases) {
                    Ok(c) => {
                        reasons.push(reason(
                            format!("case {} is completed, selected {new_manager}, named the current manager {} as incumbent and has not been implemented", c.id, a.manager),
                            section::REDELEGATION,
                        ));
                        let problems = redelegation_problems(req, a, c, precheck);
                        let ok = problems.is_empty();
                        reasons.extend(problems);
                        if ok {
                            reasons.push(reason(
                                format!(
                                    "the pre-check of the proposed delegation finds no threat: {}",
                                    precheck.map(|p| p.summary.as_str()).unwrap_or_default()
                                ),
                                section::BOUND,
                            ));
                        }
                        ok
                    }
                    Err(why) => {
                        reasons.extend(why);
                        false
                    }
                }
            }
        }
        RequestKind::Other => {
            let what = if req.changes_contacts(a) {
                "changes contacts"
            } else {
                "changes nothing in the delegation"
            };
            reasons.push(reason(
                format!("the request {what}: neither a technical change nor a redelegation"),
                section::OTHER,
            ));
            false
        }
    };
    GateDecision {
        kind,
        allowed,
        reasons,
    }
}

/// The completed case that authorises moving `a` to the request's new
/// manager (`docs/RULES.md#gate-bound`): it selected exactly that manager,
/// its incumbent is the current manager, and it has not been implemented.
/// Otherwise every reason why none does.
fn authorising_case<'c>(
    req: &ChangeRequest,
    a: &Approved,
    cases: &[&'c Case],
) -> Result<&'c Case, Vec<Reason>> {
    let new_manager = req.manager.clone().unwrap_or_else(|| a.manager.clone());
    let mut why = Vec::new();
    if cases.is_empty() {
        why.push(reason(
            format!("no redelegation case exists for .{}", a.tld),
            section::REDELEGATION,
        ));
    }
    for c in cases {
        match c.completed() {
            Some(Some(m)) if m == new_manager => {
                if c.incumbent != a.manager {
                    why.push(reason(
                        format!(
                            "case {} was about the incumbent {}, not the current manager {}",
                            c.id, c.incumbent, a.manager
                        ),
                        section::BOUND,
                    ));
                } else if c.implemented {
                    why.push(reason(
                        format!(
                            "case {} has already been implemented: a case authorises one redelegation",
                            c.id
                        ),
                        section::BOUND,
                    ));
                } else {
                    return Ok(c);
                }
            }
            Some(_) => why.push(reason(
                format!(
                    "case {} is completed but did not select {new_manager}",
                    c.id
                ),
                section::REDELEGATION,
            )),
            None => why.push(reason(
                format!(
                    "case {} is {}; missing: {}",
                    c.id,
                    c.stage_name(),
                    c.remaining_steps().join("; ")
                ),
                section::REDELEGATION,
            )),
        }
    }
    Err(why)
}

/// What keeps an otherwise authorised redelegation from being allowed
/// (`docs/RULES.md#gate-bound`): the guard's own pre-check of the proposed
/// NS, glue and DS must find no threat; the delegation must be the one the
/// selected applicant proposed; the contacts must be the applicant's, the
/// administrative contact in the territory (unless the territory has no
/// residents, `docs/RULES.md#territories`).
fn redelegation_problems(
    req: &ChangeRequest,
    a: &Approved,
    c: &Case,
    precheck: Option<&Precheck>,
) -> Vec<Reason> {
    let mut out = Vec::new();
    let after = req.applied_to(a);
    match precheck {
        None => out.push(reason(
            "the proposed delegation has not been pre-checked by the guard",
            section::BOUND,
        )),
        Some(p) => {
            if let Some(t) = p.threat {
                out.push(reason(
                    format!(
                        "the pre-check of the proposed delegation finds a threat ({t:?}): {}",
                        p.summary
                    ),
                    section::BOUND,
                ));
            }
        }
    }
    let Some(app) = c.applications.get(&after.manager) else {
        out.push(reason(
            format!("case {} holds no application by {}", c.id, after.manager),
            section::BOUND,
        ));
        return out;
    };
    let Some(p) = &app.proposed else {
        out.push(reason(
            format!(
                "{}'s application in case {} proposed no delegation to pre-check",
                app.applicant, c.id
            ),
            section::BOUND,
        ));
        return out;
    };
    {
        let mut ns = normal(&p.ns);
        ns.dedup();
        if ns != after.ns {
            out.push(reason(
                format!(
                    "the NS set {:?} is not the one {} proposed in case {} ({:?})",
                    after.ns, app.applicant, c.id, ns
                ),
                section::BOUND,
            ));
        }
        let proposed_glue: BTreeMap<String, Vec<IpAddr>> = p
            .glue
            .iter()
            .map(|(h, a)| (fqdn(h), a.clone()))
            .filter(|(h, _)| after.ns.contains(h))
            .collect();
        if proposed_glue != after.glue {
            out.push(reason(
                format!(
                    "the glue is not the glue {} proposed in case {}",
                    app.applicant, c.id
                ),
                section::BOUND,
            ));
        }
        if p.ds != after.ds {
            out.push(reason(
                format!(
                    "the DS set is not the one {} proposed in case {} ({} DS record(s) proposed, {} requested)",
                    app.applicant,
                    c.id,
                    p.ds.len(),
                    after.ds.len()
                ),
                section::BOUND,
            ));
        }
    }
    if req.admin_contact.is_none() || req.tech_contact.is_none() {
        out.push(reason(
            "a redelegation names the new manager's administrative and technical contacts",
            section::BOUND,
        ));
    }
    let same = |a: &ContactRecord, b: &ContactRecord| {
        let n = |x: &str| x.trim().to_lowercase();
        n(&a.name) == n(&b.name)
            && n(&a.organisation) == n(&b.organisation)
            && n(&a.country) == n(&b.country)
    };
    for (what, requested, applied) in [
        ("administrative", &req.admin_contact, &app.admin_contact),
        ("technical", &req.tech_contact, &app.tech_contact),
    ] {
        match (requested, applied) {
            (Some(r), Some(a)) if same(r, a) => {}
            (_, None) => out.push(reason(
                format!(
                    "{}'s application in case {} names no {what} contact",
                    app.applicant, c.id
                ),
                section::BOUND,
            )),
            _ => out.push(reason(
                format!(
                    "the {what} contact is not the one {} named in case {}",
                    app.applicant, c.id
                ),
                section::BOUND,
            )),
        }
    }
    let country = after.admin_contact.country.trim();
    let same_country = country.eq_ignore_ascii_case(app.admin_contact_country.trim())
        || (c.in_territory(country) && c.in_territory(&app.admin_contact_country));
    if !same_country {
        out.push(reason(
            format!(
                "the administrative contact's country {country:?} is not that of {}'s application ({:?})",
                app.applicant, app.admin_contact_country
            ),
            section::BOUND,
        ));
    }
    if !c.territory_waived && !c.in_territory(country) {
        out.push(reason(
            format!(
                "the administrative contact is in {country:?}, not in the territory {}",
                c.territory
            ),
            section::BOUND,
        ));
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::policy::case::{EntryPath, Outcome};
    use crate::zone::TldKind;

    pub(crate) fn approved() -> Approved {
        Approved {
            tld: "xa".into(),
            kind: TldKind::CountryCode,
            manager: "Old NIC".into(),
            admin_contact: ContactRecord {
                country: "Examplia".into(),
                ..Default::default()
            },
            tech_contact: ContactRecord::default(),
            ns: vec!["ns1.xa.".into(), "ns2.xa.".into()],
            glue: BTreeMap::new(),
            ds: vec![],
        }
    }

    fn request() -> ChangeRequest {
        ChangeRequest {
            tld: crate::zone::Tld::parse("xa").unwrap(),
            submitted_by: "old-nic-tech".into(),
            on_behalf_of: "Old NIC".into(),
            manager: None,
            ns: Some(vec![
                HostName::parse("ns1.xa").unwrap(),
                HostName::parse("ns3.xa").unwrap(),
            ]),
            glue: None,
            ds: None,
            admin_contact: None,
            tech_contact: None,
            confirmations: Confirmations {
                admin_contact: true,
                tech_contact: true,
            },
        }
    }

    fn clean() -> Precheck {
        Precheck {
            threat: None,
            summary: "ok".into(),
        }
    }

    #[test]
    fn technical_changes_need_a_clean_precheck() {
        let a = approved();
        let r = request();
        assert_eq!(classify(&r, &a), RequestKind::TechnicalChange);
        assert!(decide(&r, &a, Some(&clean()), &[]).allowed);
        let bad = Precheck {
            threat: Some(ThreatKind::DnssecBogus),
            summary: "DS mismatch".into(),
        };
        let d = decide(&r, &a, Some(&bad), &[]);
        assert!(!d.allowed);
        assert!(d.reasons.iter().any(|x| x.text.contains("DnssecBogus")));
        assert!(!decide(&r, &a, None, &[]).allowed);
        assert_eq!(r.applied_to(&a).ns, vec!["ns1.xa.", "ns3.xa."]);
    }

    #[test]
    fn unconfirmed_or_manager_changes_are_redelegations() {
        let a = approved();
        let mut r = request();
        r.confirmations.tech_contact = false;
        assert_eq!(classify(&r, &a), RequestKind::Redelegation);
        assert!(!decide(&r, &a, Some(&clean()), &[]).allowed);
        let mut m = request();
        m.manager = Some("New NIC".into());
        assert_eq!(classify(&m, &a), RequestKind::Redelegation);
        let d = decide(&m, &a, Some(&clean()), &[]);
        assert!(!d.allowed);
        assert!(
            d.reasons
                .iter()
                .any(|x| x.text.contains("no redelegation case"))
        );
    }

    /// A case for .xa, completed by selecting "New NIC" (its application
    /// proposing ns1.xa and ns3.xa, administrative contact in Examplia).
    fn completed_case() -> Case {
        Case::open(
            1,
            "xa",
            "Examplia",
            "Old NIC",
            EntryPath::Relinquishment {
                consent: "letter".into(),
            },
            false,
        )
        .unwrap()
        .apply(crate::policy::case::Application {
            applicant: "New NIC".into(),
            admin_contact_country: "Examplia".into(),
            admin_contact: Some(ContactRecord {
                name: "New admin".into(),
                organisation: "New NIC".into(),
                country: "Examplia".into(),
            }),
            tech_contact: Some(ContactRecord {
                name: "New tech".into(),
                organisation: "New NIC".into(),
                country: "Elsewhere".into(),
            }),
            proposed: Some(crate::policy::case::ProposedDelegation {
                ns: vec!["ns1.xa.".into(), "ns3.xa.".into()],
                glue: BTreeMap::new(),
                ds: vec![],
            }),
            technically_qualified: true,
            precheck: None,
            financial_backing: true,
            capacity: true,
        })
        .unwrap()
        .open_comment(crate::time::Timestamp::from_second(0), 1)
        .unwrap()
        .select("New NIC", crate::time::Timestamp::from_second(2 * 86_400))
        .unwrap()
    }

    /// The redelegation "New NIC" would submit: its NS, its contacts.
    fn redelegation() -> ChangeRequest {
        let mut m = request();
        m.manager = Some("New NIC".into());
        m.confirmations = Confirmations::default();
        m.admin_contact = Some(ContactRecord {
            name: "New admin".into(),
            organisation: "New NIC".into(),
            country: "Examplia".into(),
        });
        m.tech_contact = Some(ContactRecord {
            name: "New tech".into(),
            organisation: "New NIC".into(),
            country: "Elsewhere".into(),
        });
        m
    }

    fn blocked_for(d: &GateDecision, text: &str) {
        assert!(!d.allowed, "{d:?}");
        assert!(
            d.reasons.iter().any(|x| x.text.contains(text)),
            "{text:?} not in {d:?}"
        );
    }

    #[test]
    fn redelegation_allowed_only_by_a_completed_case_selecting_that_manager() {
        let a = approved();
        let m = redelegation();
        let open = Case::open(
            1,
            "xa",
            "Examplia",
            "Old NIC",
            EntryPath::Relinquishment {
                consent: "letter".into(),
            },
            false,
        )
        .unwrap();
        let d = decide(&m, &a, Some(&clean()), &[&open]);
        blocked_for(&d, "missing: public comment solicited");
        let done = completed_case();
        assert!(decide(&m, &a, Some(&clean()), &[&done]).allowed);
        let mut other = m.clone();
        other.manager = Some("Third NIC".into());
        blocked_for(
            &decide(&other, &a, Some(&clean()), &[&done]),
            "did not select",
        );
        let _ = Outcome::Retain;
    }

    /// Each of the gate-bound conditions (a)-(e), tried alone.
    #[test]
    fn a_redelegation_is_bound_to_its_case() {
        let a = approved();
        let m = redelegation();
        let done = completed_case();
        // (b) the case's incumbent is no longer the manager.
        let mut moved = a.clone();
        moved.manager = "Interim NIC".into();
        let mut m2 = m.clone();
        m2.on_behalf_of = "Interim NIC".into();
        blocked_for(
            &decide(&m2, &moved, Some(&clean()), &[&done]),
            "not the current manager",
        );
        // (c) a case authorises one redelegation.
        let mut used = done.clone();
        used.implemented = true;
        blocked_for(
            &decide(&m, &a, Some(&clean()), &[&used]),
            "already been implemented",
        );
        // (d) no pre-check, or a threat found.
        blocked_for(&decide(&m, &a, None, &[&done]), "not been pre-checked");
        let bad = Precheck {
            threat: Some(ThreatKind::TotalOutage),
            summary: "nothing answers".into(),
        };
        blocked_for(&decide(&m, &a, Some(&bad), &[&done]), "finds a threat");
        // ... or other name servers than the application proposed.
        let mut ns = m.clone();
        ns.ns = Some(vec![HostName::parse("ns.elsewhere.example").unwrap()]);
        blocked_for(&decide(&ns, &a, Some(&clean()), &[&done]), "is not the one");
        // ... or another DS set.
        let mut ds = m.clone();
        ds.ds = Some(vec![crate::zone::DsRecord {
            key_tag: 1,
            algorithm: 13,
            digest_type: 2,
            digest: "AB".repeat(32),
        }]);
        blocked_for(&decide(&ds, &a, Some(&clean()), &[&done]), "DS set is not");
        // ... or other glue.
        let mut glue = m.clone();
        glue.glue = Some(BTreeMap::from([(
            HostName::parse("ns3.xa").unwrap(),
            vec!["127.66.6.6".parse().unwrap()],
        )]));
        blocked_for(&decide(&glue, &a, Some(&clean()), &[&done]), "glue is not");
        // ... or contacts other than the applicant's.
        let mut mallory = m.clone();
        mallory.admin_contact.as_mut().unwrap().name = "Mallory".into();
        blocked_for(
            &decide(&mallory, &a, Some(&clean()), &[&done]),
            "not the one New NIC named",
        );
        // (e) the contacts: named, the administrative one in the territory.
        let mut none = m.clone();
        none.admin_contact = None;
        blocked_for(
            &decide(&none, &a, Some(&clean()), &[&done]),
            "names the new manager's",
        );
        let mut abroad = m.clone();
        abroad.admin_contact.as_mut().unwrap().country = "Otherland".into();
        blocked_for(
            &decide(&abroad, &a, Some(&clean()), &[&done]),
            "not in the territory",
        );
        // A waived territory (no residents) needs no resident contact, but
        // still the applicant's.
        let mut waived = done.clone();
        waived.territory_waived = true;
        blocked_for(
            &decide(&abroad, &a, Some(&clean()), &[&waived]),
            "application",
        );
    }

    #[test]
    fn everything_else_is_blocked() {
        let a = approved();
        let mut r = request();
        r.ns = None;
        assert_eq!(classify(&r, &a), RequestKind::Other);
        r.admin_contact = Some(ContactRecord {
            name: "new".into(),
            ..Default::default()
        });
        let d = decide(&r, &a, Some(&clean()), &[]);
        assert!(!d.allowed && d.reasons[0].text.contains("contacts"));
        let mut both = request();
        both.tech_contact = Some(ContactRecord::default());
        both.tech_contact.as_mut().unwrap().name = "x".into();
        assert_eq!(classify(&both, &a), RequestKind::Other);
    }
}
