//! Booking and holding sessions: ids, overlaps, open sessions, the
//! therapist's other clients.

use super::*;

impl ClientRecord {
    pub(super) fn scheduled(
        &self,
        decision: Decision,
        c: &ScheduleSession,
        kind: SessionKind,
        exploration: Option<SessionId>,
    ) -> SessionScheduled {
        SessionScheduled {
            decision,
            session: c.session.clone(),
            kind,
            span: c.span,
            therapist: c.therapist.clone(),
            exploration,
        }
    }

    /// A new session id, at a time free of the client's other sessions.
    pub(super) fn check_new_session(
        &self,
        id: &SessionId,
        span: &TimeSpan,
    ) -> Result<(), ClientError> {
        if self.sessions.contains_key(id) {
            return refuse(Rule::IdInUse, format!("session id {id} is already used"));
        }
        self.check_overlap(id, span)
    }

    /// Recording a held session: either a scheduled session of the same kind
    /// still open, or a new id; at a time free of the client's other sessions.
    pub(super) fn check_hold(
        &self,
        id: &SessionId,
        kind: SessionKind,
        span: &TimeSpan,
    ) -> Result<(), ClientError> {
        if let Some(s) = self.sessions.get(id) {
            if s.kind != kind {
                return refuse(
                    Rule::SessionKindMismatch,
                    format!(
                        "session {id} is a {} session, not {}",
                        s.kind.as_str(),
                        kind.as_str()
                    ),
                );
            }
            if s.status != SessionStatus::Scheduled {
                return refuse(
                    Rule::SessionNotOpen,
                    format!("session {id} is already {}", status_word(s.status)),
                );
            }
        }
        self.check_overlap(id, span)
    }

    pub(super) fn check_overlap(&self, id: &SessionId, span: &TimeSpan) -> Result<(), ClientError> {
        let clash = self.sessions.iter().find(|(other, s)| {
            *other != id
                && matches!(s.status, SessionStatus::Scheduled | SessionStatus::Held)
                && s.span.overlaps(span)
        });
        if let Some((other, _)) = clash {
            return refuse(
                Rule::SessionOverlap,
                format!("the client's session {other} overlaps this time"),
            );
        }
        Ok(())
    }

    pub(super) fn open_session(&self, id: &SessionId) -> Result<&SessionState, ClientError> {
        let Some(s) = self.sessions.get(id) else {
            return refuse(
                Rule::SessionUnknown,
                format!("session {id} does not exist for this client"),
            );
        };
        if s.status != SessionStatus::Scheduled {
            return refuse(
                Rule::SessionNotOpen,
                format!("session {id} is already {}", status_word(s.status)),
            );
        }
        Ok(s)
    }

    pub(super) async fn check_therapist_free(
        &self,
        services: &Services,
        c: &ScheduleSession,
    ) -> Result<(), ClientError> {
        Self::check_staff(services, &c.therapist, Role::Therapist).await?;
        let bookings = services.therapist_bookings(&c.therapist, &c.span).await?;
        let clash = bookings
            .iter()
            .any(|b| Some(&b.client) != self.client_id.as_ref() && b.span.overlaps(&c.span));
        if clash {
            return refuse(
                Rule::TherapistDoubleBooked,
                format!(
                    "therapist {} has another client's session at an overlapping time",
                    c.therapist
                ),
            );
        }
        Ok(())
    }
}

pub(super) fn status_word(status: SessionStatus) -> &'static str {
    match status {
        SessionStatus::Scheduled => "scheduled",
        SessionStatus::Held => "held",
        SessionStatus::Cancelled => "cancelled",
        SessionStatus::NoShow => "marked no-show",
    }
}
