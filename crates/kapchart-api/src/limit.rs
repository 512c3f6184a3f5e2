//! Bodies over the limit: answered 413 after the body is read and dropped
//! (up to a bound), so the answer reaches the client.
//!
//! A server that answers before reading what the client is still sending
//! closes a socket with unread data, and the kernel then resets the
//! connection: the client sees a broken connection instead of the 413.
//! Reading and discarding what a declared-too-large body holds, up to
//! [`DRAIN_LIMIT`], makes the refusal arrive; a body declared larger still
//! is refused without reading it.

use axum::extract::Request;
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;

use crate::BODY_LIMIT;
use crate::error::ApiError;

/// The most a refused body is read for, in bytes.
pub const DRAIN_LIMIT: u64 = 1024 * 1024;

/// Refuses a body whose declared length is over [`BODY_LIMIT`], having
/// read and dropped it when it is at most [`DRAIN_LIMIT`] bytes.
pub async fn refuse_large_bodies(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let Some(declared) = declared.filter(|&n| n > BODY_LIMIT as u64) else {
        return next.run(request).await;
    };
    if declared <= DRAIN_LIMIT {
        let mut chunks = request.into_body().into_data_stream();
        let mut read = 0_u64;
        while let Some(Ok(chunk)) = chunks.next().await {
            read += chunk.len() as u64;
            if read > DRAIN_LIMIT {
                break;
            }
        }
    }
    ApiError::TooLarge(BODY_LIMIT).into_response()
}
