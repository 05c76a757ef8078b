//! The HTTP edge: the JSON API under `/api/v1`, `/metrics` and `/healthz`.
//! Handlers reach state only through axum `State`, hold no lock across an
//! `.await`, and convert every error to a JSON response here, at one edge.
//!
//! Authentication: `Authorization: Bearer TOKEN`; the SHA-256 of the token
//! is looked up among the configured hashes. No token: the public role,
//! which reads technical status and nothing private. Tokens never appear in
//! logs. A token that matches none is refused (401) everywhere, even where
//! the public may read.

pub mod auth;
pub mod openapi;
pub mod pages;
pub mod serve;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::app::App;
use crate::app::AppError;
use crate::ledger::LedgerError;
use crate::policy::Role;
use crate::policy::gate::ChangeRequest;
use auth::Principal;

/// An API error: status, message and, for refusals, the section cited.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    section: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            section: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.message, "section": self.section});
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        match e {
            AppError::Ledger(LedgerError::Refused(r)) => ApiError {
                // Who may act is a question of identity (403); what the
                // rules refuse is 422.
                status: if r.section == crate::ledger::identity::SECTION {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                },
                message: r.reason,
                section: Some(r.section),
            },
            AppError::Invalid(e) | AppError::Ledger(LedgerError::Invalid(e)) => {
                ApiError::new(StatusCode::BAD_REQUEST, e.to_string())
            }
            // Input carrying what only the guard observes or the contacts
            // confirm (docs/RULES.md#observations, #identities).
            e @ (AppError::Observation { .. } | AppError::Confirmations) => {
                ApiError::new(StatusCode::BAD_REQUEST, e.to_string())
            }
            // A follower of a shared record, or a deposed leader: the
            // writer goes to the leader (docs/RULES.md#replication).
            AppError::Ledger(LedgerError::Store(
                e @ (crate::store::StoreError::NotLeader { .. }
                | crate::store::StoreError::StaleTerm { .. }),
            )) => ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: e.to_string(),
                section: Some("docs/RULES.md#replication".into()),
            },
            other => {
                // Internal details stay in the daemon's log.
                tracing::error!(error = %other, "request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the request failed; the error is in the daemon's log",
                )
            }
        }
    }
}

type ApiResult = Result<Response, ApiError>;

fn ok(v: Value) -> ApiResult {
    Ok(axum::Json(v).into_response())
}

/// The router.
pub fn router(shared: Arc<App>) -> Router {
    let limit = shared.config.http.body_limit_bytes;
    let timeout = Duration::from_secs(shared.config.http.request_timeout_secs.max(1));
    Router::new()
        .route("/", get(pages::overview))
        .route("/tld/{tld}", get(pages::tld))
        .route("/cases/{id}", get(pages::case))
        .route("/static/rootguard.css", get(pages::stylesheet))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .route(
            "/api/v1/openapi.json",
            get(|| async { axum::Json(<openapi::ApiDoc as utoipa::OpenApi>::openapi()) }),
        )
        .route("/api/v1/status", get(status))
        .route("/api/v1/tlds", get(tlds))
        .route("/api/v1/tlds/{tld}", get(tld))
        .route("/api/v1/complaints", get(complaints))
        .route("/api/v1/suspensions", get(suspensions))
        .route("/api/v1/cases", get(cases))
        .route(
            "/api/v1/change-requests",
            post(change_request).get(decisions),
        )
        .route("/api/v1/commands", post(command))
        .route("/api/v1/actions", post(action))
        .route("/api/v1/drift", get(drift))
        .route("/api/v1/effective-zone", get(effective_zone))
        .route("/api/v1/audit/export", get(audit_export))
        .route("/api/v1/audit/checkpoint", get(audit_checkpoint))
        .route("/api/v1/audit/proof/{seq}", get(audit_proof))
        .route("/api/v1/audit/key", get(audit_key))
        .route("/api/v1/delegations", get(delegations))
        .route("/api/v1/vantages", get(vantages))
        .layer(RequestBodyLimitLayer::new(limit))
        // A vantage's observations of every ccTLD exceed the limit of
        // other requests; they have their own (docs/RULES.md#quorum).
        .merge(
            Router::new()
                .route("/api/v1/observations", post(observations))
                .layer(RequestBodyLimitLayer::new(
                    crate::ledger::observation::MAX_OBSERVATION_BYTES,
                )),
        )
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "no such resource: see /api/v1/")
        })
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            pages::simulation_banner,
        ))
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            auth::refuse_unknown_tokens,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        // Outermost: every response, 408 and 413 included.
        .layer(axum::middleware::map_response(security_headers))
        .with_state(shared)
}

/// The Content-Security-Policy of every response: no script at all, styles
/// only from the guard itself, no framing, forms only to the guard
/// (docs/RULES.md#pages). Even markup that escaped a template could run
/// nothing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn metrics(State(s): State<Arc<App>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
        .into_response()
}

#[utoipa::path(get, path = "/api/v1/status", responses((status = 200, body = openapi::StatusView)))]
async fn status(State(s): State<Arc<App>>, who: Principal) -> ApiResult {
    let st = s.status();
    // File paths and alarm texts (which name files and servers) are for
    // operators only.
    let operator = who.role == Role::Operator;
    let zone = st.zone.as_ref().map(|z| {
        json!({
            "source": if operator { z.source.clone() } else { "(operators only)".into() },
            "serial": z.serial,
            "authenticity": z.authenticity,
            "loaded_at": z.loaded_at,
        })
    });
    let alarms: Vec<&String> = if operator {
        st.alarms.iter().collect()
    } else {
        Vec::new()
    };
    ok(
        json!({"zone": zone, "alarms": alarms, "alarm_count": st.alarms.len(), "last_sweep": st.last_sweep.as_ref().map(|l| json!({"at": l.at, "impaired": l.impaired, "tlds": l.reports.len()}))}),
    )
}

/// Public technical status of every watched ccTLD.
#[utoipa::path(get, path = "/api/v1/tlds", responses((status = 200, body = Vec<openapi::TldSummary>)))]
async fn tlds(State(s): State<Arc<App>>, _who: Principal) -> ApiResult {
    let body = s.cached("/api/v1/tlds", || {
        let world = s.world();
        let st = s.status();
        let reports: std::collections::HashMap<&str, &crate::checks::TldReport> = st
            .last_sweep
            .as_ref()
            .map(|l| l.reports.iter().map(|r| (r.tld.as_str(), r)).collect())
            .unwrap_or_default();
        let list: Vec<openapi::TldSummary> = world
            .approved
            .keys()
            .map(|tld| {
                let r = reports.get(tld.as_str());
                let t = world.technical.get(tld);
                openapi::TldSummary {
                    tld: tld.clone(),
                    verdict: r.map(|r| r.verdict.to_string()),
                    findings: r.map(|r| r.findings.len()).unwrap_or(0),
                    suspension: t.and_then(|t| t.active_measure()).map(|m| {
                        serde_json::to_value(m)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default()
                    }),
                    open_complaints: t
                        .map(|t| {
                            t.tracks
                                .values()
                                .filter(|x| {
                                    matches!(x, crate::policy::technical::Track::Open { .. })
                                })
                                .count()
                        })
                        .unwrap_or(0),
                    drift: st.drift.iter().filter(|d| drift_tld(d) == tld).count(),
                }
            })
            .collect();
        bytes::Bytes::from(serde_json::to_vec(&list).unwrap_or_default())
    });
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

pub(crate) fn drift_tld(d: &crate::policy::registry::Drift) -> &str {
    use crate::policy::registry::Drift;
    match d {
        Drift::Changed { change } => &change.tld,
        Drift::Missing { tld } | Drift::PublishedWhileHeld { tld } | Drift::NotApproved { tld } => {
            tld
        }
    }
}

#[utoipa::path(get, path = "/api/v1/tlds/{tld}", params(("tld" = String, Path, description = "ccTLD label")), responses((status = 200, body = openapi::TldDetail), (status = 404, body = openapi::ErrorBody)))]
async fn tld(State(s): State<Arc<App>>, who: Principal, Path(tld): Path<String>) -> ApiResult {
    let tld = crate::zone::Tld::parse(&tld)
        .map(crate::zone::Tld::into_string)
        .unwrap_or(tld);
    let world = s.world();
    let Some(a) = world.approved.get(&tld) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("{tld} is not a watched ccTLD"),
        ));
    };
    let report = s
        .status()
        .last_sweep
        .as_ref()
        .and_then(|l| l.reports.iter().find(|r| r.tld == tld).cloned());
    let complaints = who.sees_tld(&tld).then(|| {
        world
            .complaints
            .values()
            .filter(|c| c.tld == tld)
            .map(|c| complaint_view(&who, c))
            .collect()
    });
    let v = openapi::TldDetail {
        tld: tld.clone(),
        delegation: openapi::DelegationView {
            ns: a.ns.clone(),
            glue: json!(a.glue),
            ds: a.ds.clone(),
            manager: a.manager.clone(),
        },
        report: report.and_then(|r| serde_json::to_value(r).ok()),
        technical: world
            .technical
            .get(&tld)
            .and_then(|t| serde_json::to_value(t).ok()),
        history: history(&s, &tld).await?,
        complaints,
        vantages: tld_vantages(&s, &world, &tld),
    };
    ok(json!(v))
}

/// What each vantage saw of `tld` in the latest window: from the window
/// the daemon last closed, else from the record (`docs/RULES.md#quorum`).
pub fn tld_vantages(s: &App, world: &crate::ledger::World, tld: &str) -> Value {
    let latest = s.windows.latest();
    let mut out = serde_json::Map::new();
    for (v, state) in &world.vantages {
        let seen = latest.get(v).and_then(|r| r.tlds.get(tld));
        let entry = match seen {
            Some(seen) => json!({
                "impaired": state.impaired,
                "counted": state.counted,
                "local_failure": seen.facts.impaired,
                "threat": seen.facts.threat,
                "threat_detail": seen.facts.threat_detail,
                "findings": seen.facts.findings,
            }),
            None => {
                let recorded = world.observed.get(tld).and_then(|f| f.vantages.get(v));
                json!({
                    "impaired": state.impaired,
                    "counted": state.counted,
                    "reported": state.at.is_some(),
                    "threat": recorded.and_then(|o| o.threat),
                    "families": recorded.map(|o| o.families.clone()).unwrap_or_default(),
                })
            }
        };
        out.insert(v.clone(), entry);
    }
    Value::Object(out)
}

/// One entry of a ccTLD's complaint, suspension and change-request history.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    /// When (RFC 3339).
    pub at: String,
    /// What happened.
    pub what: String,
    /// The rules applied.
    pub section: String,
}

/// The complaint, suspension and change-request history of `tld`, from
/// the journal (evidence and re-assessments left out).
pub async fn history(s: &Arc<App>, tld: &str) -> Result<Vec<HistoryEntry>, AppError> {
    let events = s.events_for(&format!("tld:{tld}")).await?;
    let mut out = Vec::new();
    for e in events {
        for fx in e.event.payload["result"]["effects"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let kind = fx["effect"].as_str().unwrap_or("");
            if matches!(
                kind,
                "evidence-appended" | "suspension-reassessed" | "sweep-ignored"
            ) {
                continue;
            }
            let detail = fx
                .get("family")
                .or(fx.get("measure"))
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            let section = serde_json::from_value::<crate::policy::technical::Effect>(fx.clone())
                .map(|x| x.section().to_string())
                .unwrap_or_else(|_| e.event.section.clone());
            out.push(HistoryEntry {
                at: e.event.at.clone(),
                what: format!("{} {detail}", kind.replace('-', " ")),
                section,
            });
        }
        if e.event.kind == "gate" {
            let allowed = e.event.payload["result"]["decision"]["allowed"] == true;
            out.push(HistoryEntry {
                at: e.event.at.clone(),
                what: format!(
                    "change request by {}: {}",
                    e.event.actor,
                    if allowed { "allowed" } else { "blocked" }
                ),
                section: e.event.section.clone(),
            });
        }
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/v1/complaints", security(("bearer" = [])), responses((status = 200, body = Vec<Object>), (status = 401, body = openapi::ErrorBody), (status = 403, body = openapi::ErrorBody)))]
async fn complaints(State(s): State<Arc<App>>, who: Principal) -> ApiResult {
    who.require_any(&[Role::Operator, Role::Manager])?;
    let world = s.world();
    let list: Vec<Value> = world
        .complaints
        .values()
        .filter(|c| who.sees_tld(&c.tld))
        .map(|c| complaint_view(&who, c))
        .collect();
    ok(json!(list))
}

/// A complaint as `who` may see it: a manager does not learn who lodged a
/// complaint against it (the complainant's identity is the operator's).
fn complaint_view(who: &Principal, c: &crate::policy::complaint::Complaint) -> Value {
    let mut v = json!(c);
    if who.role != Role::Operator {
        v["lodged_by"] = json!("(withheld)");
    }
    v
}

#[utoipa::path(get, path = "/api/v1/suspensions", responses((status = 200, body = Vec<openapi::SuspensionView>)))]
async fn suspensions(State(s): State<Arc<App>>, _who: Principal) -> ApiResult {
    let world = s.world();
    let list: Vec<Value> = world
        .technical
        .iter()
        .filter(|(_, t)| !matches!(t.suspension, crate::policy::technical::Suspension::None))
        .map(|(tld, t)| json!({"tld": tld, "suspension": t.suspension}))
        .collect();
    ok(json!(list))
}

/// Cases: operators see all; a panel or tribunal member the cases they sit
/// on; a manager the cases of its ccTLD and the complainant the case its
/// complaint began, with the record only once it is open to the parties
/// (BP §6.3.4); anyone the tribunal's record of a case whose appeal is
/// over (`docs/RULES.md#records-private`).
#[utoipa::path(get, path = "/api/v1/cases", security(("bearer" = [])), responses((status = 200, body = Vec<Object>), (status = 401, body = openapi::ErrorBody)))]
async fn cases(State(s): State<Arc<App>>, who: Principal) -> ApiResult {
    let world = s.world();
    let private = |c: &crate::policy::case::Case| json!({"id": c.id, "tld": c.tld, "stage": c.stage_name(), "record": "private until completion or appeal (docs/RULES.md#records-private; BP §6.3.4)"});
    let list: Vec<Value> = world
        .cases
        .values()
        .filter_map(|c| {
            let sits =
                c.panel.values().any(|m| m.id == who.name) || c.tribunal.contains_key(&who.name);
            let complainant = match &c.path {
                crate::policy::case::EntryPath::Proceedings { complaint } => world
                    .complaints
                    .get(complaint)
                    .is_some_and(|x| x.lodged_by == who.name),
                _ => false,
            } && who.name != Principal::public().name;
            match who.role {
                Role::Operator => Some(json!(c)),
                Role::PanelMember if sits => Some(json!(c)),
                Role::Manager if who.tlds.contains(&c.tld) => {
                    Some(if c.record_visible_to_parties() {
                        json!(c)
                    } else {
                        private(c)
                    })
                }
                _ if complainant && c.record_visible_to_parties() => Some(json!(c)),
                _ if c.tribunal_record_public => Some(json!({
                    "id": c.id,
                    "tld": c.tld,
                    "stage": c.stage_name(),
                    "tribunal": c.tribunal,
                    "tribunal_votes": c.tribunal_votes,
                    "past_tribunals": c.past_tribunals,
                })),
                _ => None,
            }
        })
        .collect();
    ok(json!(list))
}

#[utoipa::path(post, path = "/api/v1/change-requests", security(("bearer" = [])), request_body = crate::policy::gate::ChangeRequest, responses((status = 200, body = openapi::GateResponse), (status = 400, body = openapi::ErrorBody), (status = 401, body = openapi::ErrorBody), (status = 403, body = openapi::ErrorBody), (status = 422, body = openapi::ErrorBody)))]
async fn change_request(State(s): State<Arc<App>>, who: Principal, body: Bytes) -> ApiResult {
    who.require_any(&[Role::Operator, Role::Manager])?;
    let request: ChangeRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("request body line {} column {}: not a valid change request (docs/change-request.schema.json, docs/RULES.md#change-request-data): {e}", e.line(), e.column()),
        )
    })?;
    if !s.allow_change_request(&who.name) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "{} submitted {} change requests in the last hour, the limit (docs/RULES.md#local-failures)",
                who.name, s.config.http.change_requests_per_hour
            ),
        ));
    }
    let cred = crate::ledger::Credential::Identity {
        id: who.name.clone(),
        command: None,
        input_size: body.len(),
        input_sha256: crate::ledger::command::sha256_hex(&body),
    };
    let (recorded, decision) = s.gate(cred, crate::app::When::Now, request).await?;
    ok(json!({"event": recorded.event.seq, "decision": decision}))
}

#[utoipa::path(get, path = "/api/v1/delegations", params(("Rootguard-Signature" = String, Header, description = "A request note signed by a registered vantage's key, hex (`rootguard vantage` sends it); or an operator's bearer token")), responses((status = 200, body = Object), (status = 401, body = openapi::ErrorBody), (status = 403, body = openapi::ErrorBody)))]
/// The approved delegations, for registered vantages and operators
/// (`docs/RULES.md#quorum`): what a vantage probes.
async fn delegations(
    State(s): State<Arc<App>>,
    who: Principal,
    headers: axum::http::HeaderMap,
) -> ApiResult {
    use crate::ledger::observation::{DELEGATIONS_REQUEST, open_request};
    let world = s.world();
    let asker = match headers.get("rootguard-signature") {
        Some(h) => {
            let h = h.to_str().map_err(|_| {
                ApiError::new(StatusCode::BAD_REQUEST, "Rootguard-Signature is ASCII hex")
            })?;
            let note = h.to_string();
            let w = world.clone();
            let opened = tokio::task::spawn_blocking(move || {
                open_request(
                    &note,
                    &w,
                    crate::time::Timestamp::now(),
                    DELEGATIONS_REQUEST,
                )
            })
            .await
            .map_err(|e| ApiError::from(AppError::from(e)))?;
            opened.map_err(|r| ApiError::new(StatusCode::FORBIDDEN, r.to_string()))?
        }
        None => {
            who.require_any(&[Role::Operator])?;
            who.name.clone()
        }
    };
    tracing::debug!("delegations for {asker}");
    let list: Vec<crate::zone::Delegation> =
        world.approved.values().map(|a| a.delegation()).collect();
    ok(json!({
        "record": crate::ledger::command::record_id(&world),
        "interval_secs": s.config.sweep.interval_secs,
        "delegations": list,
    }))
}

#[utoipa::path(post, path = "/api/v1/observations", request_body(content = Object, description = "A vantage's signed observations: {\"note\", \"payload\"} (`rootguard vantage` sends them)"), responses((status = 200, body = Object), (status = 400, body = openapi::ErrorBody), (status = 403, body = openapi::ErrorBody), (status = 422, body = openapi::ErrorBody)))]
/// A registered vantage's signed observations of one sweep
/// (`docs/RULES.md#quorum`): authenticated by its key; replayed, stale or
/// foreign observations are refused.
async fn observations(State(s): State<Arc<App>>, body: axum::body::Body) -> ApiResult {
    use crate::ledger::observation::MAX_OBSERVATION_BYTES;
    // Unauthenticated until its note is checked: a slot before the body
    // is read, so a flood cannot make the guard buffer gigabytes.
    let Ok(_slot) = s.windows.uploads.try_acquire() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many observations are being received at once; send them again",
        ));
    };
    let body = axum::body::to_bytes(body, MAX_OBSERVATION_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "observations are at most {MAX_OBSERVATION_BYTES} bytes, sent in one request"
                ),
            )
        })?;
    let (vantage, ahead) = s.accept_observations(body).await?;
    ok(json!({
        "vantage": vantage,
        "window": if ahead == 0 { "open" } else { "next" },
        "waiting_before": ahead,
    }))
}

#[utoipa::path(get, path = "/api/v1/vantages", responses((status = 200, body = Object)))]
/// The vantages and the quorum (`docs/RULES.md#quorum`): how each fared
/// in the latest window, which reports wait for the open one, since when
/// the quorum is lost and which suspensions need an operator.
async fn vantages(State(s): State<Arc<App>>) -> ApiResult {
    let world = s.world();
    let now = crate::time::Timestamp::now().max(world.last_at);
    let review: Vec<&String> = world
        .technical
        .keys()
        .filter(|t| world.review_due(t, now))
        .collect();
    ok(json!({
        "quorum": s.quorum(),
        "expected": s.expected_vantages(),
        "latest_window": world.vantages,
        "waiting": s.windows.waiting(),
        "quorum_lost_since": world.quorum_lost_since,
        "review_due": review,
        "review_after_secs": world.settings.policy.quorum_review_secs,
    }))
}

#[utoipa::path(post, path = "/api/v1/commands", request_body(content = String, content_type = "text/plain", description = "A command signed by a registered identity's key (C2SP signed note; `rootguard act --key` sends them)"), responses((status = 200, body = Object), (status = 400, body = openapi::ErrorBody), (status = 403, body = openapi::ErrorBody), (status = 422, body = openapi::ErrorBody)))]
/// A signed command from the command line (`docs/RULES.md#identities`):
/// authenticated by its signature, not by a token.
async fn command(State(s): State<Arc<App>>, body: Bytes) -> ApiResult {
    let note = std::str::from_utf8(&body)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "a signed command is UTF-8 text"))?;
    let recorded = s.submit_signed(note, crate::app::When::Now).await?;
    ok(json!(recorded))
}

#[utoipa::path(post, path = "/api/v1/actions", security(("bearer" = [])), request_body(content = Object, description = "One action as `rootguard batch` reads it, e.g. {\"action\":\"identity-register\",...}"), responses((status = 200, body = Object), (status = 400, body = openapi::ErrorBody), (status = 401, body = openapi::ErrorBody), (status = 403, body = openapi::ErrorBody), (status = 422, body = openapi::ErrorBody)))]
/// An action by the identity holding the bearer token: the same
/// application path as `rootguard act` and `batch`
/// (`docs/RULES.md#identities`).
async fn action(State(s): State<Arc<App>>, who: Principal, body: Bytes) -> ApiResult {
    if who.role == Role::Public {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "actions need a registered identity's bearer token",
        ));
    }
    let action: crate::ledger::Action = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "request body line {} column {}: not an action: {e}",
                e.line(),
                e.column()
            ),
        )
    })?;
    if !s.allow_change_request(&who.name) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "{} submitted {} requests in the last hour, the limit (docs/RULES.md#local-failures)",
                who.name, s.config.http.change_requests_per_hour
            ),
        ));
    }
    let cred = crate::ledger::Credential::Identity {
        id: who.name.clone(),
        command: None,
        input_size: body.len(),
        input_sha256: crate::ledger::command::sha256_hex(&body),
    };
    let recorded = s.submit_input(cred, crate::app::When::Now, action).await?;
    ok(json!(recorded))
}

#[utoipa::path(get, path = "/api/v1/change-requests", security(("bearer" = [])), responses((status = 200, body = Vec<openapi::DecisionView>), (status = 401, body = openapi::ErrorBody)))]
async fn decisions(State(s): State<Arc<App>>, who: Principal) -> ApiResult {
    who.require_any(&[Role::Operator, Role::Manager])?;
    let world = s.world();
    let list: Vec<Value> = world
        .decisions
        .iter()
        .filter(|(_, (r, _))| who.sees_tld(&r.tld))
        .map(|(seq, (r, d))| json!({"event": seq, "request": r, "decision": d}))
        .collect();
    ok(json!(list))
}

#[utoipa::path(get, path = "/api/v1/drift", responses((status = 200, body = Vec<Object>)))]
async fn drift(State(s): State<Arc<App>>, _who: Principal) -> ApiResult {
    ok(json!(s.status().drift))
}

#[utoipa::path(get, path = "/api/v1/effective-zone", responses((status = 200, content_type = "text/dns", body = String)))]
async fn effective_zone(State(s): State<Arc<App>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/dns; charset=utf-8")],
        s.effective_zone(),
    )
        .into_response()
}

#[utoipa::path(get, path = "/api/v1/audit/checkpoint", responses((status = 200, content_type = "text/plain", body = String), (status = 404, body = openapi::ErrorBody)))]
async fn audit_checkpoint(State(s): State<Arc<App>>) -> ApiResult {
    match s.latest_checkpoint().await? {
        Some(c) => Ok((
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            c.note,
        )
            .into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no checkpoint has been signed yet",
        )),
    }
}

#[utoipa::path(get, path = "/api/v1/audit/proof/{seq}", params(("seq" = i64, Path, description = "event number")), responses((status = 200, body = Object), (status = 404, body = openapi::ErrorBody)))]
async fn audit_proof(State(s): State<Arc<App>>, Path(seq): Path<i64>) -> ApiResult {
    match s.proof(seq).await {
        Ok(p) => ok(json!(p)),
        Err(AppError::NoProof(m)) => Err(ApiError::new(StatusCode::NOT_FOUND, m)),
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(get, path = "/api/v1/audit/key", responses((status = 200, content_type = "text/plain", body = String)))]
async fn audit_key(State(s): State<Arc<App>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{}\n", s.verifier_key().unwrap_or_default()),
    )
        .into_response()
}

#[utoipa::path(get, path = "/api/v1/audit/export", security(("bearer" = [])), responses((status = 200, content_type = "application/jsonl", body = String), (status = 401, body = openapi::ErrorBody), (status = 403, body = openapi::ErrorBody)))]
async fn audit_export(State(s): State<Arc<App>>, who: Principal) -> ApiResult {
    who.require_any(&[Role::Operator])?;
    let out = s.export().await?;
    Ok(([(header::CONTENT_TYPE, "application/jsonl")], out).into_response())
}
