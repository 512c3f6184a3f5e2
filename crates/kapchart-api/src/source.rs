//! Where a read came from, for the access log (ASTM E2147-18 7.1.6): the
//! request as made, so that two reads of different data never look alike.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::AppState;
use crate::error::ApiError;

/// The method, the path as requested and the peer's address of a request.
#[derive(Debug, Clone)]
pub struct Source {
    channel: &'static str,
    method: String,
    path: String,
    peer: String,
}

impl FromRequestParts<AppState> for Source {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
        Ok(Source {
            channel: "api",
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            peer,
        })
    }
}

impl Source {
    /// A request to `channel` (`api`, `web`): its method, its path as
    /// requested (without the query) and the peer's address.
    pub fn new(
        channel: &'static str,
        method: impl Into<String>,
        path: impl Into<String>,
        peer: impl Into<String>,
    ) -> Self {
        Source {
            channel,
            method: method.into(),
            path: path.into(),
            peer: peer.into(),
        }
    }

    /// `api GET /api/v1/reports/billing?from=2026-01-01&to=2026-03-31 from
    /// 127.0.0.1`: the path as requested and `chosen`, the query
    /// parameters that chose the data, each as the server understood it
    /// (every parameter but `purpose`, which the entry holds on its own).
    /// Parameters are only described once they have parsed, so the text is
    /// short and holds no control characters.
    pub fn describe(&self, chosen: &[(&str, String)]) -> String {
        let query: Vec<String> = chosen.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query.join("&"))
        };
        format!(
            "{} {} {}{query} from {}",
            self.channel, self.method, self.path, self.peer
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_as_made() {
        let source = Source::new("api", "GET", "/api/v1/reports/billing", "127.0.0.1");
        assert_eq!(
            source.describe(&[("from", "2026-01-01".into()), ("to", "2026-03-31".into())]),
            "api GET /api/v1/reports/billing?from=2026-01-01&to=2026-03-31 from 127.0.0.1"
        );
        assert_eq!(
            source.describe(&[]),
            "api GET /api/v1/reports/billing from 127.0.0.1"
        );
    }
}
