//! Who is calling: the bearer token, looked up by its hash, and what each
//! role may do.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use kapchart_domain::{Actor, ClientRecord, Role, UserId};
use kapchart_store::access::AccessActor;

use crate::AppState;
use crate::error::ApiError;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user.
    pub user_id: UserId,
    /// Their role.
    pub role: Role,
}

impl Caller {
    /// The actor of the commands they issue.
    pub fn actor(&self) -> Actor {
        Actor {
            id: self.user_id.clone(),
            role: self.role,
        }
    }

    /// The caller as the access log names them.
    pub fn access_actor(&self) -> AccessActor {
        AccessActor {
            user_id: self.user_id.clone(),
            role: self.role,
        }
    }

    /// May this caller read the clinical chart of `record`?
    pub fn may_read_chart(&self, record: &ClientRecord) -> Result<(), ApiError> {
        match self.role {
            Role::Auditor => Ok(()),
            Role::Therapist if record.therapist() == Some(&self.user_id) => Ok(()),
            Role::Prescriber if record.prescriber() == Some(&self.user_id) => Ok(()),
            Role::Therapist | Role::Prescriber => Err(ApiError::Forbidden(
                "this client is not assigned or referred to you",
            )),
            Role::FrontDesk => Err(ApiError::Forbidden(
                "front desk and billing staff see no clinical notes",
            )),
            Role::Admin => Err(ApiError::Forbidden(
                "admins manage configuration, not client records",
            )),
        }
    }

    /// Billing and superbills: front desk and auditors.
    pub fn may_read_billing(&self) -> Result<(), ApiError> {
        match self.role {
            Role::FrontDesk | Role::Auditor => Ok(()),
            _ => Err(ApiError::Forbidden(
                "billing is read by front desk and auditors",
            )),
        }
    }

    /// Only auditors (complete histories, verification, every report).
    pub fn must_be_auditor(&self) -> Result<(), ApiError> {
        if self.role == Role::Auditor {
            Ok(())
        } else {
            Err(ApiError::Forbidden("only auditors may read this"))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or(ApiError::Unauthenticated)?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthenticated)?;
        let account = kapchart_store::accounts::authenticate(state.db(), token, state.now())
            .await
            .map_err(|e| ApiError::internal("authenticating a token", &e))?
            .ok_or(ApiError::Unauthenticated)?;
        Ok(Caller {
            user_id: account.user_id,
            role: account.role,
        })
    }
}
