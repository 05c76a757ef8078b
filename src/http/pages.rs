//! Server-rendered HTML pages (askama templates in `templates/`), usable
//! without JavaScript: the overview of every ccTLD with filters, the
//! compliance page of one ccTLD a manager can act on (each failing check,
//! which server, since when, what to fix; complaint and suspension
//! history), and public case pages (stage and remaining steps only).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::app::App;
use crate::policy::technical::Track;

struct Row {
    tld: String,
    verdict: String,
    findings: usize,
    complaints: usize,
    suspension: String,
    drift: usize,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct Overview {
    summary: String,
    banners: Vec<String>,
    rows: Vec<Row>,
    verdicts: Vec<String>,
    filter_verdict: String,
    filter_q: String,
}

struct VantageRow {
    name: String,
    state: String,
    threat: String,
    findings: String,
}

struct FindingRow {
    check: String,
    severity: String,
    server: String,
    message: String,
    since: String,
    fix: String,
}

struct ServerRow {
    host: String,
    address: String,
    udp: String,
    udp_rtt_ms: f64,
    tcp: String,
    tcp_rtt_ms: f64,
    serial: String,
}

struct History {
    at: String,
    what: String,
    section: String,
}

#[derive(Template)]
#[template(path = "tld.html")]
struct TldPage {
    tld: String,
    verdict: String,
    manager: String,
    swept_at: String,
    threats: Vec<String>,
    suspension: String,
    findings: Vec<FindingRow>,
    servers: Vec<ServerRow>,
    ns: Vec<String>,
    ds: Vec<String>,
    history: Vec<History>,
    vantages: Vec<VantageRow>,
    banners: Vec<String>,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    id: u64,
    tld: String,
    stage: String,
    remaining: Vec<String>,
}

/// The banner of every page of a record created as a simulation
/// (`docs/RULES.md#identities`).
pub const SIMULATION_BANNER: &str = "<p class=\"banner\"><strong>SIMULATION</strong>: this record was created as a simulation; its clock was set and its observations were synthesised. It decides nothing about the real root zone.</p>";

/// Marks every page of a simulated record with [`SIMULATION_BANNER`].
pub async fn simulation_banner(
    State(app): State<Arc<App>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let html = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !html || !app.world().settings.simulation {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let text = String::from_utf8_lossy(&bytes).replacen(
        "<main>",
        &format!("<main>{SIMULATION_BANNER}"),
        1,
    );
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(text))
}

fn render(t: impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("page rendering failed: {e}"),
        )
            .into_response(),
    }
}

/// The page for something that does not exist. `what` may quote the
/// request path: like every page it goes through an escaping template.
#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFound {
    what: String,
}

fn not_found(what: String) -> Response {
    let mut response = render(NotFound { what });
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

/// The pages' stylesheet (served from the guard, so the
/// Content-Security-Policy needs no inline styles).
pub async fn stylesheet() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../templates/rootguard.css"),
    )
        .into_response()
}

/// Overview filters.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    verdict: Option<String>,
    q: Option<String>,
}

/// `GET /`.
pub async fn overview(State(s): State<Arc<App>>, Query(f): Query<Filters>) -> Response {
    let world = s.world();
    let status = s.status();
    let reports = status
        .last_sweep
        .as_ref()
        .map(|l| l.reports.clone())
        .unwrap_or_default();
    let verdict_filter = f.verdict.clone().unwrap_or_default();
    let q = f.q.clone().unwrap_or_default().to_ascii_lowercase();
    let mut rows = Vec::new();
    for tld in world.approved.keys() {
        let r = reports.iter().find(|r| r.tld == *tld);
        let verdict = r
            .map(|r| r.verdict.to_string())
            .unwrap_or_else(|| "not yet swept".into());
        if !verdict_filter.is_empty() && verdict != verdict_filter {
            continue;
        }
        if !q.is_empty() && !tld.contains(q.trim_start_matches('.')) {
            continue;
        }
        let t = world.technical.get(tld);
        rows.push(Row {
            tld: tld.clone(),
            verdict,
            findings: r.map(|r| r.findings.len()).unwrap_or(0),
            complaints: t
                .map(|t| {
                    t.tracks
                        .values()
                        .filter(|x| matches!(x, Track::Open { .. }))
                        .count()
                })
                .unwrap_or(0),
            suspension: t
                .and_then(|t| t.active_measure())
                .map(|m| format!("{m:?}"))
                .unwrap_or_else(|| "none".into()),
            drift: status
                .drift
                .iter()
                .filter(|d| crate::http::drift_tld(d) == tld)
                .count(),
        });
    }
    let summary = match &status.last_sweep {
        Some(l) => format!(
            "{} ccTLDs; latest sweep {}{}",
            world.approved.len(),
            l.at,
            if l.impaired {
                " (vantage point impaired)"
            } else {
                ""
            }
        ),
        None => format!(
            "{} ccTLDs; the first sweep is running",
            world.approved.len()
        ),
    };
    render(Overview {
        banners: vantage_banners(&world),
        summary,
        rows,
        verdicts: ["ok", "degraded", "threat"].map(String::from).to_vec(),
        filter_verdict: verdict_filter,
        filter_q: f.q.unwrap_or_default(),
    })
}

/// `GET /tld/{tld}`.
pub async fn tld(State(s): State<Arc<App>>, Path(tld): Path<String>) -> Response {
    let tld = crate::zone::Tld::parse(&tld)
        .map(crate::zone::Tld::into_string)
        .unwrap_or(tld);
    // Built once per version of the state, then shared by every reader.
    let key = format!("page:/tld/{tld}");
    if let Some(html) = s.cache_get(&key) {
        return html_response(html);
    }
    let version = s.version();
    let response = tld_page(&s, tld).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, 16 * 1024 * 1024).await {
        Ok(html) => {
            s.cache_put(&key, version, html.clone());
            Response::from_parts(parts, axum::body::Body::from(html))
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn html_response(html: bytes::Bytes) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

async fn tld_page(s: &Arc<App>, tld: String) -> Response {
    let world = s.world();
    let Some(a) = world.approved.get(&tld) else {
        return not_found(format!(".{tld} is not a watched ccTLD"));
    };
    let status = s.status();
    let report = status
        .last_sweep
        .as_ref()
        .and_then(|l| l.reports.iter().find(|r| r.tld == tld).cloned());
    let technical = world.technical.get(&tld).cloned().unwrap_or_default();
    let since = |check: crate::checks::CheckId| match technical.tracks.get(&check.family()) {
        Some(Track::Open { opened, .. }) => format!("complaint since {opened}"),
        Some(Track::Pending { since, .. }) => since.to_string(),
        None => "this sweep".into(),
    };
    let findings = report
        .as_ref()
        .map(|r| {
            r.findings
                .iter()
                .map(|f| FindingRow {
                    check: f.check.to_string(),
                    severity: f.severity.to_string(),
                    server: f.server.clone().unwrap_or_else(|| "all".into()),
                    message: f.message.clone(),
                    since: since(f.check),
                    fix: f.fix.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    let history = match super::history(s, &tld).await {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "reading the history of .{tld} failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the record could not be read; the error is in the daemon's log",
            )
                .into_response();
        }
    };
    let history = history
        .into_iter()
        .map(|h| History {
            at: h.at,
            what: h.what,
            section: h.section,
        })
        .collect();
    render(TldPage {
        verdict: report
            .as_ref()
            .map(|r| r.verdict.to_string())
            .unwrap_or_else(|| "not yet swept".into()),
        manager: a.manager.clone(),
        swept_at: status
            .last_sweep
            .as_ref()
            .map(|l| l.at.to_string())
            .unwrap_or_else(|| "none yet".into()),
        threats: report
            .as_ref()
            .map(|r| {
                r.threats
                    .iter()
                    .map(|t| format!("{:?}: {}", t.kind, t.detail))
                    .collect()
            })
            .unwrap_or_default(),
        suspension: match technical.active_measure() {
            Some(m) => {
                format!("{m:?} in force (lifted by itself once the threat is gone for R sweeps)")
            }
            None => "none".into(),
        },
        findings,
        servers: report
            .map(|r| {
                r.servers
                    .into_iter()
                    .map(|x| ServerRow {
                        host: x.host,
                        address: x.address.to_string(),
                        udp: x.udp,
                        udp_rtt_ms: x.udp_rtt_ms,
                        tcp: x.tcp,
                        tcp_rtt_ms: x.tcp_rtt_ms,
                        serial: x
                            .serial
                            .map(|n| n.to_string())
                            .unwrap_or_else(|| "-".into()),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        ns: a.ns.clone(),
        ds: a.ds.iter().map(|d| d.to_string()).collect(),
        history,
        vantages: vantage_rows(s, &world, &tld),
        banners: vantage_banners(&world),
        tld,
    })
}

/// The banners of the quorum (`docs/RULES.md#quorum`): impaired vantages,
/// a lost quorum, suspensions that need an operator.
fn vantage_banners(world: &crate::ledger::World) -> Vec<String> {
    let mut out: Vec<String> = world
        .vantages
        .iter()
        .filter(|(_, v)| v.impaired)
        .map(|(name, v)| {
            format!(
                "vantage {name} impaired: it differed from the quorum on {} of {} ccTLDs, or most of what it probes fails at once; its observations do not count until it agrees again (docs/RULES.md#quorum)",
                v.differing, v.compared
            )
        })
        .collect();
    if let Some(since) = world.quorum_lost_since {
        out.push(format!(
            "no quorum of healthy vantages since {since}: no complaint, suspension or lift until it returns (docs/RULES.md#quorum)"
        ));
    }
    let now = crate::time::Timestamp::now().max(world.last_at);
    let due: Vec<String> = world
        .technical
        .keys()
        .filter(|t| world.review_due(t, now))
        .map(|t| format!(".{t}"))
        .collect();
    if !due.is_empty() {
        out.push(format!(
            "the suspensions of {} need an operator to uphold or lift them (docs/RULES.md#quorum-review)",
            due.join(", ")
        ));
    }
    out
}

/// Which vantage sees which failure of `tld` (with several vantages).
fn vantage_rows(s: &App, world: &crate::ledger::World, tld: &str) -> Vec<VantageRow> {
    if world.vantages.len() < 2 {
        return Vec::new();
    }
    let v = crate::http::tld_vantages(s, world, tld);
    let Some(map) = v.as_object() else {
        return Vec::new();
    };
    map.iter()
        .map(|(name, e)| {
            let state = if e["impaired"] == true {
                "impaired (not counted)"
            } else if e["counted"] == true {
                "counted"
            } else {
                "not reported"
            };
            let findings: Vec<String> = match e["findings"].as_object() {
                Some(f) => f
                    .iter()
                    .flat_map(|(fam, lines)| {
                        lines
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|l| l.as_str())
                            .map(move |l| format!("{fam}: {l}"))
                    })
                    .collect(),
                None => e["families"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f.as_str().map(str::to_string))
                    .collect(),
            };
            VantageRow {
                name: name.clone(),
                state: if e["local_failure"] == true {
                    "its own probe failed".into()
                } else {
                    state.into()
                },
                threat: e["threat"].as_str().unwrap_or("none").to_string(),
                findings: if findings.is_empty() {
                    "none".into()
                } else {
                    findings.join("; ")
                },
            }
        })
        .collect()
}

/// `GET /cases/{id}`: the public view of a case.
pub async fn case(State(s): State<Arc<App>>, Path(id): Path<u64>) -> Response {
    let world = s.world();
    match world.cases.get(&id) {
        Some(c) => render(CasePage {
            id,
            tld: c.tld.clone(),
            stage: c.stage_name().to_string(),
            remaining: c.remaining_steps(),
        }),
        None => not_found(format!("no case {id}")),
    }
}
