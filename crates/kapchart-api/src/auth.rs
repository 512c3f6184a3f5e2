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

    /// May this caller read the chart `rows` show? For therapists and
    /// prescribers the chart's current row must name them as the client's
    /// therapist or prescriber (rows with no chart row hold nothing).
    pub fn may_read_chart_as_shown(&self, rows: &[kapchart_views::Row]) -> Result<(), ApiError> {
        let field = match self.role {
            Role::Therapist => "therapist",
            Role::Prescriber => "prescriber",
            _ => return Ok(()),
        };
        let Some(chart) = rows.iter().find(|r| r.kind == kapchart_views::kinds::CHART) else {
            return Ok(());
        };
        if chart.data[field].as_str() == Some(self.user_id.as_str()) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "this client is not assigned or referred to you",
            ))
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

#[cfg(test)]
mod tests {
    use kapchart_views::{Row, kinds};
    use serde_json::json;

    use super::*;

    fn caller(id: &str, role: Role) -> Caller {
        Caller {
            user_id: UserId::parse(id).expect("valid id"),
            role,
        }
    }

    fn chart(therapist: &str, prescriber: Option<&str>) -> Vec<Row> {
        vec![
            Row {
                kind: kinds::ENTRY.to_owned(),
                key: "0000000001".to_owned(),
                day: None,
                data: json!({"sequence": 1}),
            },
            Row {
                kind: kinds::CHART.to_owned(),
                key: "current".to_owned(),
                day: None,
                data: json!({"therapist": therapist, "prescriber": prescriber}),
            },
        ]
    }

    #[test]
    fn a_chart_is_shown_only_to_the_therapist_and_prescriber_it_names() {
        let rows = chart("t-rivera", Some("rx-chen"));
        assert!(
            caller("t-rivera", Role::Therapist)
                .may_read_chart_as_shown(&rows)
                .is_ok()
        );
        assert!(
            caller("rx-chen", Role::Prescriber)
                .may_read_chart_as_shown(&rows)
                .is_ok()
        );
        // Reassigned or re-referred by the time the rows were read.
        for (id, role) in [
            ("t-okafor", Role::Therapist),
            ("rx-patel", Role::Prescriber),
        ] {
            let refused = caller(id, role).may_read_chart_as_shown(&rows);
            assert!(
                matches!(refused, Err(ApiError::Forbidden(_))),
                "{id}: {refused:?}"
            );
        }
        let unreferred = chart("t-rivera", None);
        assert!(
            caller("rx-chen", Role::Prescriber)
                .may_read_chart_as_shown(&unreferred)
                .is_err()
        );
        // Auditors' access is decided by role alone.
        assert!(
            caller("au-smith", Role::Auditor)
                .may_read_chart_as_shown(&rows)
                .is_ok()
        );
        // No chart row: nothing of the client is in the rows.
        assert!(
            caller("t-okafor", Role::Therapist)
                .may_read_chart_as_shown(&[])
                .is_ok()
        );
    }
}
