//! The Message resource as Twilio's API renders it: counts as strings, dates in RFC 2822.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::StoredMessage;

pub const API_VERSION: &str = "2010-04-01";

/// A time as Twilio writes it in resources: `Thu, 24 Aug 2023 05:01:45 +0000`.
pub(crate) fn rfc2822(time: DateTime<Utc>) -> String {
    time.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

pub(crate) fn messages_path(account_sid: &str) -> String {
    format!("/{API_VERSION}/Accounts/{account_sid}/Messages.json")
}

pub(crate) fn message_path(account_sid: &str, sid: &str) -> String {
    format!("/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json")
}

#[derive(Debug, Serialize)]
pub(crate) struct MessageResource {
    account_sid: String,
    api_version: &'static str,
    body: String,
    date_created: String,
    date_sent: Option<String>,
    date_updated: String,
    direction: &'static str,
    error_code: Option<u32>,
    error_message: Option<String>,
    from: String,
    messaging_service_sid: Option<String>,
    num_media: &'static str,
    num_segments: String,
    price: Option<String>,
    price_unit: &'static str,
    sid: String,
    status: &'static str,
    subresource_uris: SubresourceUris,
    to: String,
    uri: String,
}

#[derive(Debug, Serialize)]
struct SubresourceUris {
    media: String,
}

impl From<&StoredMessage> for MessageResource {
    fn from(stored: &StoredMessage) -> Self {
        let message = &stored.message;
        let uri = message_path(&message.account_sid, &message.sid);
        Self {
            account_sid: message.account_sid.clone(),
            api_version: API_VERSION,
            body: message.body.clone(),
            date_created: rfc2822(message.accepted_at),
            date_sent: stored.date_sent.map(rfc2822),
            date_updated: rfc2822(stored.date_updated),
            direction: "outbound-api",
            error_code: stored.error_code,
            error_message: None,
            from: stored.from.clone(),
            messaging_service_sid: message.messaging_service_sid.clone(),
            num_media: "0",
            num_segments: message.num_segments.to_string(),
            price: None,
            price_unit: "USD",
            sid: message.sid.clone(),
            status: stored.status.as_str(),
            subresource_uris: SubresourceUris {
                media: uri.replace(".json", "/Media.json"),
            },
            to: message.to.clone(),
            uri,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    #[test]
    fn dates_look_like_twilios() {
        let time = chrono::Utc.with_ymd_and_hms(2023, 8, 24, 5, 1, 45).single();
        assert_eq!(
            time.map(super::rfc2822).as_deref(),
            Some("Thu, 24 Aug 2023 05:01:45 +0000")
        );
    }
}
