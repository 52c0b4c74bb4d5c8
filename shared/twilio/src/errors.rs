//! How a failed Twilio call is classified. Twilio has no idempotency key for creating a message,
//! so what matters is what we know about the request's fate: never processed (send again),
//! perhaps processed (look it up first), or refused for good (this message, or the account).
//!
//! The response side is pure (status, body, `Retry-After`) so it is unit-tested without a server.

use std::time::Duration;

use serde::Deserialize;
use smscrm_domain::ports::sms::{AUTHENTICATION_FAILED, SmsError};

/// Twilio error 20429: too many concurrent requests. Never processed.
pub const TOO_MANY_REQUESTS: u32 = 20429;
/// Twilio error 21611: the sender's queue is full. The message was refused, not queued, so it
/// can go once the queue drains.
pub const QUEUE_OVERFLOW: u32 = 21611;
/// Twilio errors that stop every message of the account, not just this one: the account is not
/// active (suspended, out of funds, trial not activated).
const ACCOUNT_CODES: [u32; 3] = [AUTHENTICATION_FAILED, 20005, 10001];

/// Longest piece of an unreadable body kept in an error: enough to recognise a proxy's error page,
/// short enough not to flood the message record.
const BODY_EXCERPT: usize = 200;

/// Twilio's error body: `{"code":21211,"message":"...","more_info":"...","status":400}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TwilioErrorBody {
    #[serde(default)]
    pub code: Option<u32>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub more_info: Option<String>,
}

impl TwilioErrorBody {
    /// `None` when the body is not Twilio's error JSON (a proxy's page, an empty body, ...).
    pub fn parse(body: &[u8]) -> Option<Self> {
        serde_json::from_slice(body).ok()
    }
}

/// `Retry-After` in seconds. Twilio sends seconds; an HTTP date is ignored rather than guessed.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The error for a response that is not a success. `retry_after` is the raw `Retry-After` header.
pub fn classify_response(status: u16, body: &[u8], retry_after: Option<&str>) -> SmsError {
    let parsed = TwilioErrorBody::parse(body);
    let code = parsed.as_ref().and_then(|b| b.code);
    let message = parsed
        .as_ref()
        .and_then(|b| b.message.clone())
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| fallback_message(status, body));

    if status == 429 || code == Some(TOO_MANY_REQUESTS) {
        return SmsError::Retryable {
            reason: format!("rate limited by Twilio: {message}"),
            retry_after: retry_after.and_then(parse_retry_after),
        };
    }
    if status == 401 || code.is_some_and(|c| ACCOUNT_CODES.contains(&c)) {
        return SmsError::Account {
            code: code.unwrap_or(AUTHENTICATION_FAILED),
            message,
        };
    }
    if code == Some(QUEUE_OVERFLOW) {
        return SmsError::Retryable {
            reason: format!("sender queue full at Twilio: {message}"),
            retry_after: retry_after.and_then(parse_retry_after),
        };
    }
    if (400..500).contains(&status) {
        return SmsError::Permanent {
            code: code.unwrap_or(u32::from(status)),
            message,
        };
    }
    // 5xx, and anything else Twilio does not send (redirects are not followed): the request
    // reached a server, so it may have been processed; the caller looks it up before resending.
    SmsError::ServerError {
        status,
        reason: message,
    }
}

/// A 2xx whose body could not be read or understood. For a create, Twilio most likely accepted
/// the message, but we do not have its SID.
pub fn undecodable_success(status: u16, detail: &str) -> SmsError {
    SmsError::UnknownOutcome {
        reason: format!("Twilio answered {status} with a body we could not read: {detail}"),
    }
}

/// The error for a request that got no HTTP response.
pub fn classify_transport(err: reqwest::Error) -> SmsError {
    // The URL holds phone numbers for a list call: keep them out of error text and logs.
    let err = err.without_url();
    let reason = error_chain(&err);
    // A connect timeout is both `is_connect` and `is_timeout`: check connect first, since no
    // byte of the request left.
    if err.is_connect() {
        return SmsError::Retryable {
            reason: format!("could not connect to Twilio: {reason}"),
            retry_after: None,
        };
    }
    if err.is_builder() {
        // Nothing was sent; a bad request is a bug here, not at Twilio.
        return SmsError::Retryable {
            reason: format!("could not build the request: {reason}"),
            retry_after: None,
        };
    }
    if err.is_timeout() {
        return SmsError::UnknownOutcome {
            reason: format!("no answer from Twilio in time: {reason}"),
        };
    }
    SmsError::UnknownOutcome {
        reason: format!("connection to Twilio lost: {reason}"),
    }
}

/// The error with its causes, since reqwest's own message ("error sending request") hides them.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

fn fallback_message(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        format!("HTTP {status}")
    } else {
        let excerpt: String = text.chars().take(BODY_EXCERPT).collect();
        format!("HTTP {status}: {excerpt}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: u32, status: u16, message: &str) -> Vec<u8> {
        serde_json::json!({
            "code": code,
            "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": status,
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn rate_limits_are_retryable_with_retry_after() {
        let err = classify_response(429, &body(20429, 429, "Too Many Requests"), Some("7"));
        assert_eq!(
            err,
            SmsError::Retryable {
                reason: "rate limited by Twilio: Too Many Requests".into(),
                retry_after: Some(Duration::from_secs(7)),
            }
        );
        // The code alone is enough, whatever the status.
        let err = classify_response(400, &body(20429, 400, "Too Many Requests"), None);
        assert!(matches!(
            err,
            SmsError::Retryable {
                retry_after: None,
                ..
            }
        ));
        // An unreadable body and an HTTP-date Retry-After still make a retry, without a delay.
        let err = classify_response(429, b"", Some("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert!(matches!(
            err,
            SmsError::Retryable {
                retry_after: None,
                ..
            }
        ));
    }

    #[test]
    fn authentication_and_inactive_accounts_stop_the_account() {
        let err = classify_response(401, &body(20003, 401, "Authenticate"), None);
        assert_eq!(
            err,
            SmsError::Account {
                code: 20003,
                message: "Authenticate".into()
            }
        );
        assert_eq!(
            classify_response(401, b"", None),
            SmsError::Account {
                code: 20003,
                message: "HTTP 401".into()
            }
        );
        assert!(matches!(
            classify_response(403, &body(20005, 403, "Account not active"), None),
            SmsError::Account { code: 20005, .. }
        ));
    }

    #[test]
    fn refusals_of_one_message_are_permanent_with_twilios_code() {
        for code in [
            21211, 21614, 21610, 21612, 21408, 21602, 21617, 30007, 21999,
        ] {
            let err = classify_response(400, &body(code, 400, "nope"), None);
            assert_eq!(
                err,
                SmsError::Permanent {
                    code,
                    message: "nope".into()
                },
                "code {code}"
            );
        }
    }

    #[test]
    fn a_4xx_without_twilios_body_uses_the_http_status() {
        let err = classify_response(404, b"<html>not found</html>", None);
        assert_eq!(
            err,
            SmsError::Permanent {
                code: 404,
                message: "HTTP 404: <html>not found</html>".into()
            }
        );
        let long = "x".repeat(5000);
        let SmsError::Permanent { message, .. } = classify_response(413, long.as_bytes(), None)
        else {
            panic!("not permanent");
        };
        assert!(message.len() < 300, "{message}");
    }

    #[test]
    fn a_full_sender_queue_is_retryable() {
        assert!(matches!(
            classify_response(400, &body(21611, 400, "queue full"), None),
            SmsError::Retryable { .. }
        ));
    }

    #[test]
    fn server_errors_keep_their_status() {
        assert_eq!(
            classify_response(503, b"", Some("3")),
            SmsError::ServerError {
                status: 503,
                reason: "HTTP 503".into()
            }
        );
        assert_eq!(
            classify_response(500, &body(20500, 500, "Internal Server Error"), None),
            SmsError::ServerError {
                status: 500,
                reason: "Internal Server Error".into()
            }
        );
    }

    #[test]
    fn retry_after_is_seconds() {
        assert_eq!(parse_retry_after(" 12 "), Some(Duration::from_secs(12)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn an_undecodable_success_is_an_unknown_outcome() {
        assert!(matches!(
            undecodable_success(201, "expected value"),
            SmsError::UnknownOutcome { .. }
        ));
    }
}
