//! The OpenAPI document of `/api/v1`, generated from the handlers'
//! annotations and the response types here (utoipa), served at
//! `/api/v1/openapi.json`. Nested policy state (reports, complaints,
//! cases) is typed as JSON objects; their shapes are those of the
//! `policy` and `checks` types.

use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::policy::gate::{ChangeRequest, Confirmations, GateDecision, Reason, RequestKind};
use crate::policy::registry::ContactRecord;
use crate::zone::DsRecord;

use super::HistoryEntry;

/// One ccTLD in the overview.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TldSummary {
    /// The ccTLD label.
    pub tld: String,
    /// `ok`, `degraded` or `threat`; absent before the first sweep.
    pub verdict: Option<String>,
    /// Failed checks in the latest sweep.
    pub findings: usize,
    /// The suspension measure in force, if any.
    pub suspension: Option<String>,
    /// Open technical complaints.
    pub open_complaints: usize,
    /// Unauthorised differences in the published zone.
    pub drift: usize,
}

/// The approved delegation as shown.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DelegationView {
    /// NS host names.
    pub ns: Vec<String>,
    /// Glue per NS host.
    #[schema(value_type = Object)]
    pub glue: serde_json::Value,
    /// DS records.
    pub ds: Vec<DsRecord>,
    /// The manager.
    pub manager: String,
}

/// One ccTLD in detail.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TldDetail {
    /// The ccTLD label.
    pub tld: String,
    /// The approved delegation.
    pub delegation: DelegationView,
    /// The latest report (`rootguard.check/1` TLD object), if swept.
    #[schema(value_type = Option<Object>)]
    pub report: Option<serde_json::Value>,
    /// Complaint tracks and suspension state.
    #[schema(value_type = Option<Object>)]
    pub technical: Option<serde_json::Value>,
    /// Complaint, suspension and change-request history.
    pub history: Vec<HistoryEntry>,
    /// Complaints (operator and the ccTLD's manager only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub complaints: Option<Vec<serde_json::Value>>,
    /// What each vantage saw in the latest window (`docs/RULES.md#quorum`).
    #[schema(value_type = Object)]
    pub vantages: serde_json::Value,
}

/// A suspension in force or proposed.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SuspensionView {
    /// The ccTLD.
    pub tld: String,
    /// The suspension state.
    #[schema(value_type = Object)]
    pub suspension: serde_json::Value,
}

/// A recorded gate decision.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DecisionView {
    /// The journal event.
    pub event: i64,
    /// The request.
    pub request: ChangeRequest,
    /// The decision.
    pub decision: GateDecision,
}

/// The answer to a submitted change request.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct GateResponse {
    /// The journal event recording the decision.
    pub event: i64,
    /// The decision.
    pub decision: GateDecision,
}

/// Daemon status.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StatusView {
    /// The root zone in use.
    #[schema(value_type = Option<Object>)]
    pub zone: Option<serde_json::Value>,
    /// Current alarms (their texts for operators only).
    pub alarms: Vec<String>,
    /// How many alarms are raised.
    pub alarm_count: usize,
    /// The latest sweep: time, impairment, TLD count.
    #[schema(value_type = Option<Object>)]
    pub last_sweep: Option<serde_json::Value>,
}

/// An error.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What is wrong.
    pub error: String,
    /// The rules cited, for refusals.
    pub section: Option<String>,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// The API document.
#[derive(OpenApi)]
#[openapi(
    info(title = "rootguard API", version = "1", description = "ccTLD delegation guard: technical status, complaints, suspensions, cases, change requests, drift, audit."),
    paths(
        super::status, super::tlds, super::tld, super::complaints, super::suspensions, super::cases,
        super::change_request, super::command, super::action, super::decisions, super::drift, super::effective_zone, super::audit_export, super::audit_checkpoint, super::audit_proof, super::audit_key, super::delegations, super::observations, super::vantages
    ),
    components(schemas(
        TldSummary, TldDetail, DelegationView, SuspensionView, DecisionView, GateResponse, StatusView, ErrorBody, HistoryEntry,
        ChangeRequest, Confirmations, ContactRecord, DsRecord, GateDecision, Reason, RequestKind
    )),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;
