//! Who the command line acts as in the access log: the operating-system
//! user who ran it, in the admin role. Whoever runs `kapchart` holds the
//! database itself, so there is no account to authenticate; the entry
//! names the person as the system knows them.
//!
//! The user id is `local-` followed by the login name from `USER`, or else
//! `LOGNAME`, when that makes a valid user id (letters, digits, `-` and
//! `_`, 64 characters in all); otherwise `local-uid-` followed by the real
//! user id number (`local-uid-1000`). Accounts cannot take ids that start
//! with `local-` ([`kapchart_store::accounts::LOCAL_PREFIX`]), so these
//! never name an API user. The environment names who logged in; a user
//! who sets `USER` to another name is named by that: the uid is only the
//! fallback.

use anyhow::anyhow;
use kapchart_domain::{Role, UserId};
use kapchart_store::access::AccessActor;
use kapchart_store::accounts::LOCAL_PREFIX;

use crate::error::CommandError;

/// The user id of the OS user `login` (from the environment) with real
/// user id `uid`.
fn user_id(login: Option<&str>, uid: u32) -> Result<UserId, kapchart_domain::ParseError> {
    login
        .filter(|name| !name.is_empty())
        .and_then(|name| UserId::parse(&format!("{LOCAL_PREFIX}{name}")).ok())
        .map_or_else(|| UserId::parse(&format!("{LOCAL_PREFIX}uid-{uid}")), Ok)
}

/// The login name from `USER`, or else `LOGNAME`.
fn login_from_env() -> Option<String> {
    ["USER", "LOGNAME"]
        .into_iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
}

/// The command line's actor: the OS user running it, role admin.
///
/// # Errors
/// Never in practice: a uid always makes a valid id.
pub fn actor() -> Result<AccessActor, CommandError> {
    let uid = rustix::process::getuid().as_raw();
    let user_id = user_id(login_from_env().as_deref(), uid)
        .map_err(|e| CommandError::Failed(anyhow!("the local user's id: {e}")))?;
    Ok(AccessActor {
        user_id,
        role: Role::Admin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(login: Option<&str>) -> String {
        user_id(login, 1000).expect("valid").to_string()
    }

    #[test]
    fn the_login_name_when_it_fits_else_the_uid() {
        assert_eq!(id(Some("alice")), "local-alice");
        assert_eq!(id(Some("svc_backup-2")), "local-svc_backup-2");
        assert_eq!(id(Some("_postgres")), "local-_postgres");
        for unfit in [
            None,
            Some(""),
            Some("alice.smith"),
            Some("alice@corp"),
            Some("a b"),
            Some("ümlaut"),
        ] {
            assert_eq!(id(unfit), "local-uid-1000", "{unfit:?}");
        }
        let longest = "a".repeat(64 - LOCAL_PREFIX.len());
        assert_eq!(id(Some(&longest)), format!("local-{longest}"));
        assert_eq!(id(Some(&format!("{longest}a"))), "local-uid-1000");
    }
}
