//! The Twilio REST client: the adapter of the SMS provider port. Built once per process and shared;
//! credentials come with each call, since every tenant has its own account.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::header::RETRY_AFTER;
use reqwest::{RequestBuilder, StatusCode};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Deserializer};
use smscrm_domain::ports::sms::{
    AUTHENTICATION_FAILED, MessageFilter, MessageFrom, NewMessage, ProviderCredentials,
    ProviderMessage, SmsError, SmsProvider,
};

use crate::errors::{classify_response, classify_transport, undecodable_success};

/// Twilio's largest page: fewer round trips when looking a message up.
const PAGE_SIZE: &str = "1000";
/// Pages followed before giving up. The filter is one recipient since a day boundary, so this is
/// far beyond a real answer; it stops a server that keeps handing out next pages.
pub const MAX_PAGES: usize = 20;
/// The connect timeout is at most this, so that an unreachable host is reported as such (and
/// retried) rather than eating the whole request timeout.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid Twilio base URL `{url}`: {reason}")]
    InvalidBaseUrl { url: String, reason: String },
    #[error("could not build the HTTP client")]
    Build(#[source] reqwest::Error),
}

/// Twilio's REST API at a configurable base URL (`https://api.twilio.com`, or the simulator).
#[derive(Debug, Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    /// Without a trailing slash: paths and Twilio's `next_page_uri` start with one.
    base_url: String,
}

impl TwilioClient {
    /// A client whose calls give up after `timeout`; connecting gives up after half of it (at most
    /// 5 s), so that a connect failure (safe to retry) is told apart from a slow answer (unknown).
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, ClientError> {
        Self::with_timeouts(base_url, (timeout / 2).min(MAX_CONNECT_TIMEOUT), timeout)
    }

    pub fn with_timeouts(
        base_url: &str,
        connect_timeout: Duration,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let invalid = |reason: String| ClientError::InvalidBaseUrl {
            url: base_url.clone(),
            reason,
        };
        let parsed = reqwest::Url::parse(&base_url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https".into()));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(invalid("no query or fragment allowed".into()));
        }
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(connect_timeout)
            .timeout(timeout)
            // A redirected POST would become a GET, and credentials must not follow a redirect
            // elsewhere; Twilio does not redirect API calls.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("smscrm-twilio/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ClientError::Build)?;
        Ok(Self { http, base_url })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn messages_url(&self, credentials: &ProviderCredentials) -> Result<String, SmsError> {
        let sid = &credentials.account_sid;
        if !is_sid(sid) {
            // It goes into the URL path: refuse anything that could change the path. Twilio
            // would refuse these credentials too, hence its authentication error.
            return Err(SmsError::Account {
                code: AUTHENTICATION_FAILED,
                message: "the Account SID in the credentials is malformed".into(),
            });
        }
        Ok(format!(
            "{}/2010-04-01/Accounts/{sid}/Messages",
            self.base_url
        ))
    }

    fn authed(&self, request: RequestBuilder, credentials: &ProviderCredentials) -> RequestBuilder {
        request.basic_auth(
            &credentials.username,
            Some(credentials.password.expose_secret()),
        )
    }

    /// Sends the request; a response of any status is `Ok` with its body, read whole.
    async fn execute(&self, request: RequestBuilder) -> Result<Answer, SmsError> {
        let response = request.send().await.map_err(classify_transport)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        match response.bytes().await {
            Ok(body) => Ok(Answer {
                status,
                body: body.to_vec(),
                retry_after,
            }),
            // A success whose body broke off: it happened, but we cannot say what it returned.
            Err(err) if status.is_success() => Err(classify_transport(err)),
            // An error status is enough to classify, body or not.
            Err(_) => Ok(Answer {
                status,
                body: Vec::new(),
                retry_after,
            }),
        }
    }

    async fn get_page(
        &self,
        credentials: &ProviderCredentials,
        request: RequestBuilder,
    ) -> Result<WirePage, SmsError> {
        let answer = self.execute(self.authed(request, credentials)).await?;
        if !answer.status.is_success() {
            return Err(answer.into_error());
        }
        serde_json::from_slice(&answer.body)
            .map_err(|e| undecodable_success(answer.status.as_u16(), &decode_detail(&e)))
    }
}

struct Answer {
    status: StatusCode,
    body: Vec<u8>,
    retry_after: Option<String>,
}

impl Answer {
    fn into_error(self) -> SmsError {
        classify_response(
            self.status.as_u16(),
            &self.body,
            self.retry_after.as_deref(),
        )
    }
}

#[async_trait]
impl SmsProvider for TwilioClient {
    async fn send(
        &self,
        credentials: &ProviderCredentials,
        message: &NewMessage,
    ) -> Result<ProviderMessage, SmsError> {
        let url = format!("{}.json", self.messages_url(credentials)?);
        let form = create_form(message);
        let answer = self
            .execute(self.authed(self.http.post(url), credentials).form(&form))
            .await
            .inspect_err(|err| tracing::warn!(error = %err, "Twilio create message failed"))?;
        if !answer.status.is_success() {
            let err = answer.into_error();
            tracing::warn!(error = %err, "Twilio refused to create a message");
            return Err(err);
        }
        let created = parse_message(&answer.body)
            .map_err(|detail| undecodable_success(answer.status.as_u16(), &detail))?;
        tracing::debug!(
            sid = %created.sid,
            status = %created.status,
            segments = created.num_segments,
            "Twilio created a message"
        );
        Ok(created)
    }

    async fn fetch(
        &self,
        credentials: &ProviderCredentials,
        sid: &str,
    ) -> Result<Option<ProviderMessage>, SmsError> {
        if !is_sid(sid) {
            // No such SID can exist at Twilio, and it must not reshape the URL.
            return Ok(None);
        }
        let url = format!("{}/{sid}.json", self.messages_url(credentials)?);
        let answer = self
            .execute(self.authed(self.http.get(url), credentials))
            .await?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !answer.status.is_success() {
            return Err(answer.into_error());
        }
        parse_message(&answer.body)
            .map(Some)
            .map_err(|detail| undecodable_success(answer.status.as_u16(), &detail))
    }

    async fn list(
        &self,
        credentials: &ProviderCredentials,
        filter: &MessageFilter,
    ) -> Result<Vec<ProviderMessage>, SmsError> {
        let url = format!("{}.json", self.messages_url(credentials)?);
        // No `DateSent` filter: Twilio filters on the send date, which a message still in
        // its queue does not have yet, and that is the very message a lookup is after. The
        // list comes newest first, so paging stops at the first page reaching past the bound.
        let mut query: Vec<(&str, &str)> = vec![("To", &filter.to)];
        if let Some(from) = &filter.from {
            query.push(("From", from));
        }
        query.push(("PageSize", PAGE_SIZE));

        let mut messages = Vec::new();
        let mut page = self
            .get_page(credentials, self.http.get(url).query(&query))
            .await?;
        let mut pages = 1;
        loop {
            let mut reached_older = false;
            for wire in page.messages {
                let message = wire.into_message();
                reached_older |= message
                    .date_created
                    .is_some_and(|created| created < filter.created_after);
                // A message without a date is kept: dropping it could hide the one being
                // looked for, and the caller matches on more than the date.
                if message
                    .date_created
                    .is_none_or(|created| created >= filter.created_after)
                {
                    messages.push(message);
                }
            }
            let Some(next) = page.next_page_uri.filter(|uri| !uri.is_empty()) else {
                break;
            };
            if reached_older {
                break;
            }
            if pages >= MAX_PAGES {
                // A partial list could make a sent message look unsent, and it would be sent
                // twice: better no answer.
                return Err(SmsError::UnknownOutcome {
                    reason: format!("Twilio's message list ran past {MAX_PAGES} pages"),
                });
            }
            if !next.starts_with('/') || next.starts_with("//") {
                // Credentials go with every page: only ever to our own base URL.
                return Err(SmsError::UnknownOutcome {
                    reason: "Twilio's next_page_uri is not a path".into(),
                });
            }
            page = self
                .get_page(
                    credentials,
                    self.http.get(format!("{}{next}", self.base_url)),
                )
                .await?;
            pages += 1;
        }
        // Twilio lists newest first by send date; the port promises newest first by creation.
        // Undated messages (None sorts lowest) go last; the sort is stable.
        messages.sort_by_key(|m| std::cmp::Reverse(m.date_created));
        tracing::debug!(count = messages.len(), pages, "listed Twilio messages");
        Ok(messages)
    }
}

fn create_form(message: &NewMessage) -> Vec<(&'static str, String)> {
    let mut form = vec![("To", message.to.clone())];
    match &message.from {
        MessageFrom::Number(number) => form.push(("From", number.clone())),
        MessageFrom::MessagingService(sid) => form.push(("MessagingServiceSid", sid.clone())),
    }
    form.push(("Body", message.body.clone()));
    if let Some(callback) = &message.status_callback {
        form.push(("StatusCallback", callback.clone()));
    }
    if let Some(validity) = message.validity_period {
        form.push(("ValidityPeriod", validity.to_string()));
    }
    form
}

/// Twilio SIDs are two letters and 32 hex digits; anything alphanumeric is accepted, so that the
/// simulator and tests may use shorter ones, but nothing that could leave a URL path segment.
fn is_sid(sid: &str) -> bool {
    !sid.is_empty() && sid.len() <= 64 && sid.chars().all(|c| c.is_ascii_alphanumeric())
}

/// A serde error's position and category, never its text: that can quote the input.
fn decode_detail(err: &serde_json::Error) -> String {
    format!(
        "{:?} error at line {} column {}",
        err.classify(),
        err.line(),
        err.column()
    )
}

fn parse_message(body: &[u8]) -> Result<ProviderMessage, String> {
    serde_json::from_slice::<WireMessage>(body)
        .map(WireMessage::into_message)
        .map_err(|e| decode_detail(&e))
}

#[derive(Debug, Deserialize)]
struct WirePage {
    #[serde(default)]
    messages: Vec<WireMessage>,
    #[serde(default)]
    next_page_uri: Option<String>,
}

/// A message in Twilio's wire format, as loose as Twilio is: `num_segments` is a string,
/// `error_code` an integer or null, `from` null until a Messaging Service picks a number.
#[derive(Debug, Deserialize)]
struct WireMessage {
    sid: String,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default, deserialize_with = "loose_u32")]
    num_segments: Option<u32>,
    #[serde(default, deserialize_with = "loose_u32")]
    error_code: Option<u32>,
    #[serde(default)]
    date_created: Option<String>,
}

impl WireMessage {
    fn into_message(self) -> ProviderMessage {
        let date_created = self.date_created.as_deref().and_then(parse_twilio_date);
        ProviderMessage {
            sid: self.sid,
            to: self.to.unwrap_or_default(),
            from: self.from.filter(|f| !f.is_empty()),
            body: self.body.unwrap_or_default(),
            status: self.status.unwrap_or_default(),
            // 0 means Twilio did not say; it always does for a created message.
            num_segments: self.num_segments.unwrap_or(0),
            error_code: self.error_code,
            date_created,
        }
    }
}

/// Twilio writes RFC 2822 (`Thu, 24 Aug 2023 05:01:45 +0000`); RFC 3339 is accepted too, in case
/// a simulator writes that.
pub fn parse_twilio_date(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(raw)
        .or_else(|_| DateTime::parse_from_rfc3339(raw))
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// A count Twilio may send as a number, a numeric string, an empty string or null.
fn loose_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Loose {
        Number(u32),
        Text(String),
    }
    match Option::<Loose>::deserialize(d)? {
        None => Ok(None),
        Some(Loose::Number(n)) => Ok(Some(n)),
        Some(Loose::Text(s)) if s.trim().is_empty() => Ok(None),
        Some(Loose::Text(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom("expected a count")),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn parses_twilios_create_response() {
        let body = br#"{
            "account_sid": "AC00000000000000000000000000000000",
            "api_version": "2010-04-01",
            "body": "Hello",
            "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
            "date_sent": null,
            "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000",
            "direction": "outbound-api",
            "error_code": null,
            "error_message": null,
            "from": null,
            "messaging_service_sid": "MG00000000000000000000000000000000",
            "num_media": "0",
            "num_segments": "2",
            "price": null,
            "price_unit": "USD",
            "sid": "SM00000000000000000000000000000001",
            "status": "accepted",
            "subresource_uris": {"media": "/2010-04-01/Accounts/AC0/Messages/SM1/Media.json"},
            "to": "+15558675310",
            "uri": "/2010-04-01/Accounts/AC0/Messages/SM1.json"
        }"#;
        let message = parse_message(body).expect("parses");
        assert_eq!(message.sid, "SM00000000000000000000000000000001");
        assert_eq!(message.num_segments, 2);
        assert_eq!(message.from, None);
        assert_eq!(message.error_code, None);
        assert_eq!(message.status, "accepted");
        assert_eq!(
            message.date_created,
            Some(Utc.with_ymd_and_hms(2023, 8, 24, 5, 1, 45).unwrap())
        );
    }

    #[test]
    fn accepts_numbers_where_twilio_sends_strings_and_back() {
        let body = br#"{"sid":"SM1","to":"+1","from":"+2","body":"","status":"failed",
            "num_segments":1,"error_code":"30007","date_created":"2023-08-24T05:01:45Z"}"#;
        let message = parse_message(body).expect("parses");
        assert_eq!(message.num_segments, 1);
        assert_eq!(message.error_code, Some(30007));
        assert!(message.date_created.is_some());

        let bad = br#"{"sid":"SM1","num_segments":"two"}"#;
        assert!(parse_message(bad).is_err());
    }

    #[test]
    fn decode_errors_do_not_quote_the_body() {
        let err = parse_message(br#"{"sid": 12345678}"#).expect_err("sid must be a string");
        assert!(!err.contains("12345678"), "{err}");
    }

    #[test]
    fn form_has_optional_fields_only_when_set() {
        let mut message = NewMessage {
            to: "+15558675310".into(),
            from: MessageFrom::Number("+15005550006".into()),
            body: "Hi".into(),
            status_callback: None,
            validity_period: None,
        };
        let names = |form: Vec<(&'static str, String)>| {
            form.into_iter().map(|(n, _)| n).collect::<Vec<_>>()
        };
        assert_eq!(names(create_form(&message)), ["To", "From", "Body"]);
        message.from = MessageFrom::MessagingService("MG1".into());
        message.status_callback = Some("https://example.com/cb".into());
        message.validity_period = Some(600);
        assert_eq!(
            names(create_form(&message)),
            [
                "To",
                "MessagingServiceSid",
                "Body",
                "StatusCallback",
                "ValidityPeriod"
            ]
        );
    }

    #[test]
    fn base_urls_are_checked_and_trimmed() {
        let client = TwilioClient::new("http://127.0.0.1:9/twilio-sim/", Duration::from_secs(1))
            .expect("valid");
        assert_eq!(client.base_url(), "http://127.0.0.1:9/twilio-sim");
        assert!(TwilioClient::new("api.twilio.com", Duration::from_secs(1)).is_err());
        assert!(TwilioClient::new("ftp://api.twilio.com", Duration::from_secs(1)).is_err());
    }

    #[test]
    fn sids_cannot_reshape_the_path() {
        assert!(is_sid("SM0123abc"));
        assert!(!is_sid(""));
        assert!(!is_sid("../Calls"));
        assert!(!is_sid("SM1?x=1"));
    }
}
