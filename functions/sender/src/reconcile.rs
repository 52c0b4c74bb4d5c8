//! Asking Twilio whether an earlier attempt reached it, before sending again: Twilio has no
//! idempotency key, so a lookup is the only way to tell a lost answer from a lost request.

use std::time::Duration;

use chrono::{DateTime, Utc};
use smscrm_domain::ports::sms::{
    MessageFilter, ProviderCredentials, ProviderMessage, SmsError, SmsProvider,
};
use smscrm_store::MessageRecord;

/// How far before the first attempt the search starts, for clocks that disagree.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(10);

pub enum Found {
    /// Twilio has messages like it, newest first: one is the earlier attempt's, unless it
    /// settled another record already.
    Sent(Vec<ProviderMessage>),
    /// Twilio has nothing yet, but an unanswered call is recent: ask again after this long.
    NotYet(Duration),
    /// Twilio has nothing, and has had time to show it: sending is safe.
    Nothing,
}

pub async fn look_up(
    provider: &dyn SmsProvider,
    credentials: &ProviderCredentials,
    record: &MessageRecord,
    now: DateTime<Utc>,
    grace: Duration,
) -> Result<Found, SmsError> {
    let since = record.first_attempt_at.unwrap_or(now) - CLOCK_SKEW;
    let filter = MessageFilter {
        to: record.phone.as_str().to_owned(),
        from: record.from.clone(),
        created_after: since,
    };
    let body = record.text.as_deref().unwrap_or_default();
    let listed = provider.list(credentials, &filter).await?;
    let like: Vec<ProviderMessage> = listed.into_iter().filter(|m| m.body == body).collect();
    if !like.is_empty() {
        return Ok(Found::Sent(like));
    }
    let settles_at = record
        .unknown_since
        .map(|at| at + chrono::Duration::from_std(grace).unwrap_or_default());
    match settles_at {
        Some(at) if now < at => Ok(Found::NotYet((at - now).to_std().unwrap_or_default())),
        _ => Ok(Found::Nothing),
    }
}
