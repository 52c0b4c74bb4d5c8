//! People texting a number: the simulator posts the incoming-message webhook set for the number
//! (signed, with Twilio's parameters), applies Twilio's default opt-out handling, and sends the
//! `<Message>` replies of the TwiML answer, refusing (21610) those to a person who opted out.

use chrono::{DateTime, Utc};
use serde::Serialize;
use smscrm_twilio::signature;

use crate::opt_out;
use crate::resource::API_VERSION;
use crate::state::Shared;

/// Where a number's incoming messages go: its account (whose token signs them) and the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub account_sid: String,
    pub url: String,
}

/// What became of one incoming message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inbound {
    /// The incoming message's SID (`SM...`), as the webhook saw it.
    pub sid: String,
    /// The webhook's HTTP status.
    pub http_status: u16,
    /// The webhook's answer, as text.
    pub body: String,
    /// What was texted back: Twilio's own opt-out confirmation first, then the TwiML replies.
    pub replies: Vec<Reply>,
    /// The error Twilio's debugger would log: 11200 (the webhook did not answer 2xx) or 12100
    /// (the answer is not TwiML).
    pub debugger_error: Option<u32>,
}

/// A message sent back to a person who texted in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    /// The incoming message it answers.
    pub in_reply_to: String,
    pub from: String,
    pub to: String,
    pub body: String,
    pub source: ReplySource,
    /// Set when the reply was not sent: 21610, the person opted out of this number.
    pub refused: Option<u32>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplySource {
    /// A `<Message>` of the webhook's TwiML answer.
    Twiml,
    /// Twilio's own confirmation of STOP, START or HELP (default opt-out handling).
    OptOutHandling,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    #[error("no incoming-message webhook is set for {0}")]
    NoWebhook(String),
    #[error("{0} is not an account of the simulator")]
    UnknownAccount(String),
    #[error("the webhook {url} could not be reached: {error}")]
    Unreachable { url: String, error: String },
}

/// Twilio's incoming-message webhook parameters.
fn params(sid: &str, account_sid: &str, from: &str, to: &str, body: &str) -> Vec<(String, String)> {
    let segments = smscrm_domain::segments::count(body).segments;
    [
        ("MessageSid", sid),
        ("SmsMessageSid", sid),
        ("SmsSid", sid),
        ("AccountSid", account_sid),
        ("From", from),
        ("To", to),
        ("Body", body),
        ("NumMedia", "0"),
        ("NumSegments", &segments.max(1).to_string()),
        ("SmsStatus", "received"),
        ("ApiVersion", API_VERSION),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect()
}

/// Texts `body` from `from` (a person) to `to` (a number with a webhook).
pub(crate) async fn receive(
    shared: &Shared,
    from: &str,
    to: &str,
    body: &str,
) -> Result<Inbound, InboundError> {
    let route = shared
        .inbound_route(to)
        .ok_or_else(|| InboundError::NoWebhook(to.to_owned()))?;
    let auth_token = shared
        .auth_token(&route.account_sid)
        .ok_or_else(|| InboundError::UnknownAccount(route.account_sid.clone()))?;
    let sid = crate::sid::new("SM");
    let reply = |body: &str, source| Reply {
        in_reply_to: sid.clone(),
        from: to.to_owned(),
        to: from.to_owned(),
        body: body.to_owned(),
        source,
        refused: None,
        at: Utc::now(),
    };
    // Twilio handles the keyword before the webhook sees the message.
    let mut replies = Vec::new();
    if let Some(keyword) = opt_out::keyword(body)
        && shared.handle_keyword(keyword, to, from)
    {
        replies.push(reply(
            opt_out::confirmation(keyword),
            ReplySource::OptOutHandling,
        ));
    }

    let params = params(&sid, &route.account_sid, from, to, body);
    let answer = shared
        .http
        .post(&route.url)
        .header(
            signature::HEADER,
            signature::sign(&auth_token, &route.url, &params),
        )
        .form(&params)
        .send()
        .await
        .map_err(|error| unreachable(&route.url, &error))?;
    let http_status = answer.status();
    let text = answer
        .text()
        .await
        .map_err(|error| unreachable(&route.url, &error))?;
    let mut debugger_error = None;
    if !http_status.is_success() {
        debugger_error = Some(11200);
    } else {
        match crate::twiml::messages(&text) {
            Ok(verbs) => replies.extend(verbs.into_iter().map(|verb| Reply {
                from: verb.from.unwrap_or_else(|| to.to_owned()),
                to: verb.to.unwrap_or_else(|| from.to_owned()),
                ..reply(&verb.body, ReplySource::Twiml)
            })),
            Err(error) => {
                tracing::warn!(url = route.url, %error, "TwiML answer refused");
                debugger_error = Some(12100);
            }
        }
    }
    let replies = shared.send_replies(replies);
    Ok(Inbound {
        sid,
        http_status: http_status.as_u16(),
        body: text,
        replies,
        debugger_error,
    })
}

fn unreachable(url: &str, error: &reqwest::Error) -> InboundError {
    InboundError::Unreachable {
        url: url.to_owned(),
        error: error.to_string(),
    }
}
