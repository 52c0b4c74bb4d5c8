//! What happens to a message after it is accepted: its status moves through queued, sent and
//! its final status, `callback_delay` apart, and each move is posted (signed like Twilio does)
//! to its `StatusCallback` in the order, and as many times, as the callback mode says.

use std::sync::Arc;
use std::time::Duration;

use rand::seq::SliceRandom as _;
use smscrm_twilio::signature;

use crate::config::CallbackMode;
use crate::resource::API_VERSION;
use crate::state::Shared;
use crate::store::Status;

/// One status a message reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Event {
    pub status: Status,
    pub error_code: Option<u32>,
}

/// Everything the callbacks of one message need, captured when it was accepted.
#[derive(Debug, Clone)]
pub(crate) struct Lifecycle {
    pub sid: String,
    pub account_sid: String,
    /// The account's token when the message was accepted: callbacks are signed with it.
    pub auth_token: String,
    pub from: String,
    pub to: String,
    pub messaging_service_sid: Option<String>,
    pub num_segments: u32,
    pub status_callback: Option<String>,
    pub final_event: Event,
}

impl Lifecycle {
    /// The statuses the message goes through, in the order they happen.
    pub(crate) fn events(&self) -> Vec<Event> {
        let step = |status| Event {
            status,
            error_code: None,
        };
        vec![step(Status::Queued), step(Status::Sent), self.final_event]
    }

    /// Twilio's status callback parameters for `event`.
    pub(crate) fn params(&self, event: Event) -> Vec<(String, String)> {
        let status = event.status.as_str();
        let mut params = vec![
            ("MessageSid", self.sid.clone()),
            ("SmsSid", self.sid.clone()),
            ("AccountSid", self.account_sid.clone()),
            ("From", self.from.clone()),
            ("To", self.to.clone()),
            ("MessageStatus", status.to_owned()),
            ("SmsStatus", status.to_owned()),
            ("ApiVersion", API_VERSION.to_owned()),
            ("NumSegments", self.num_segments.to_string()),
        ];
        if let Some(sid) = &self.messaging_service_sid {
            params.push(("MessagingServiceSid", sid.clone()));
        }
        if let Some(code) = event.error_code {
            params.push(("ErrorCode", code.to_string()));
        }
        params
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect()
    }
}

/// Which callbacks go out at each step: the step's own one (`InOrder`), twice (`Twice`), none
/// (`None`), or one of a shuffle that is never the true order (`OutOfOrder`, so a test of it can
/// fail).
pub(crate) fn deliveries(mode: CallbackMode, events: &[Event]) -> Vec<Vec<Event>> {
    match mode {
        CallbackMode::InOrder => events.iter().map(|&event| vec![event]).collect(),
        CallbackMode::Twice => events.iter().map(|&event| vec![event, event]).collect(),
        CallbackMode::None => events.iter().map(|_| Vec::new()).collect(),
        CallbackMode::OutOfOrder => {
            let mut shuffled = events.to_vec();
            shuffled.shuffle(&mut rand::rng());
            if shuffled == events {
                shuffled.rotate_left(1);
            }
            shuffled.into_iter().map(|event| vec![event]).collect()
        }
    }
}

/// Runs a message's lifecycle to its end. Meant to be spawned when the message is accepted.
pub(crate) async fn run(shared: Arc<Shared>, lifecycle: Lifecycle, delay: Duration) {
    let events = lifecycle.events();
    let plan = deliveries(shared.callback_mode(), &events);
    for (event, callbacks) in events.into_iter().zip(plan) {
        tokio::time::sleep(delay).await;
        shared.advance(&lifecycle.sid, event);
        let Some(url) = &lifecycle.status_callback else {
            continue;
        };
        for callback in callbacks {
            post(&shared.http, url, &lifecycle, callback).await;
        }
    }
}

/// Posts one callback. Failures are logged and dropped: the simulator does not retry.
async fn post(client: &reqwest::Client, url: &str, lifecycle: &Lifecycle, event: Event) {
    let params = lifecycle.params(event);
    let signed = signature::sign(&lifecycle.auth_token, url, &params);
    let sent = client
        .post(url)
        .header(signature::HEADER, signed)
        .form(&params)
        .send()
        .await;
    let status = event.status.as_str();
    match sent {
        Ok(response) if response.status().is_success() => {}
        Ok(response) => tracing::warn!(
            url,
            sid = lifecycle.sid,
            status,
            http_status = response.status().as_u16(),
            "status callback refused"
        ),
        Err(error) => tracing::warn!(
            url,
            sid = lifecycle.sid,
            status,
            %error,
            "status callback not delivered"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events() -> Vec<Event> {
        [Status::Queued, Status::Sent, Status::Delivered]
            .into_iter()
            .map(|status| Event {
                status,
                error_code: None,
            })
            .collect()
    }

    #[test]
    fn out_of_order_is_never_the_true_order_but_has_every_status() {
        let events = events();
        for _ in 0..50 {
            let plan: Vec<Event> = deliveries(CallbackMode::OutOfOrder, &events)
                .into_iter()
                .flatten()
                .collect();
            assert_ne!(plan, events);
            let mut sorted = plan.clone();
            sorted.sort_by_key(|event| events.iter().position(|e| e == event));
            assert_eq!(sorted, events);
        }
    }

    #[test]
    fn twice_doubles_and_none_sends_nothing() {
        let events = events();
        let twice = deliveries(CallbackMode::Twice, &events);
        assert!(twice.iter().all(|step| step.len() == 2));
        let none = deliveries(CallbackMode::None, &events);
        assert_eq!(none.len(), 3);
        assert!(none.iter().all(Vec::is_empty));
    }
}
