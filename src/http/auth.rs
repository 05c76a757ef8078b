//! Who is asking: a bearer token, matched by its SHA-256 hash against the
//! identities registered in the record (`docs/RULES.md#identities`); none
//! is the public role.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::ApiError;
use crate::app::App;
use crate::policy::Role;

/// The authenticated principal.
#[derive(Clone, Debug)]
pub struct Principal {
    /// Token name (the actor recorded).
    pub name: String,
    /// Role.
    pub role: Role,
    /// ccTLDs a manager manages.
    pub tlds: Vec<String>,
}

impl Principal {
    /// The public.
    pub fn public() -> Principal {
        Principal {
            name: "public".into(),
            role: Role::Public,
            tlds: Vec::new(),
        }
    }

    /// Refuses unless the role is one of `roles`.
    pub fn require_any(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else if self.role == Role::Public {
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "this resource needs a bearer token",
            ))
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("the {} role may not use this resource", self.role),
            ))
        }
    }

    /// Whether the principal sees the private details of `tld`.
    pub fn sees_tld(&self, tld: &str) -> bool {
        self.role == Role::Operator
            || (self.role == Role::Manager && self.tlds.iter().any(|t| t == tld))
    }
}

/// SHA-256 of a token, lower-case hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        token.as_bytes(),
    ))
}

/// Refuses, on every route (pages, metrics, public API alike), a request
/// whose `Authorization` header does not name a known token: a wrong token
/// is an error, never silently the public (`docs/RULES.md#pages`).
pub async fn refuse_unknown_tokens(
    axum::extract::State(app): axum::extract::State<Arc<App>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (mut parts, body) = request.into_parts();
    match Principal::from_request_parts(&mut parts, &app).await {
        Ok(_) => {
            next.run(axum::extract::Request::from_parts(parts, body))
                .await
        }
        Err(e) => e.into_response(),
    }
}

impl FromRequestParts<Arc<App>> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            return Ok(Principal::public());
        };
        // The scheme name is case-insensitive (RFC 7235 §2.1).
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then_some(rest)
            })
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "Authorization must be 'Bearer TOKEN'",
                )
            })?;
        // Tokens are registered in the record by hash
        // (docs/RULES.md#identities); a revoked one is unknown.
        let hash = token_hash(token.trim());
        let world = state.world();
        match world.identity_by_token(&hash) {
            Some(i) => Ok(Principal {
                name: i.registration.id.clone(),
                role: i.role(),
                tlds: i.registration.tlds.iter().map(|t| t.to_string()).collect(),
            }),
            None => Err(ApiError::new(StatusCode::UNAUTHORIZED, "unknown token")),
        }
    }
}
