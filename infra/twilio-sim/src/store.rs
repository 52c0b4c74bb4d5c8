//! The messages the simulator accepted, in arrival order, with the status each has reached.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

/// A message the simulator accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedMessage {
    /// `SM` and 32 lowercase hex digits.
    pub sid: String,
    pub account_sid: String,
    pub to: String,
    /// The `From` the request named (`None` when only a Messaging Service was given).
    pub from: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub body: String,
    pub num_segments: u32,
    pub accepted_at: DateTime<Utc>,
    pub status_callback: Option<String>,
    pub validity_period: Option<u32>,
}

/// Twilio's statuses of an outbound message, as far as the simulator takes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Accepted,
    Queued,
    Sent,
    Delivered,
    Undelivered,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Undelivered => "undelivered",
            Self::Failed => "failed",
        }
    }
}

/// An accepted message and where it stands now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredMessage {
    pub message: AcceptedMessage,
    /// The number it goes from: the request's `From`, or the one the Messaging Service picked.
    pub from: String,
    pub status: Status,
    pub date_updated: DateTime<Utc>,
    pub date_sent: Option<DateTime<Utc>>,
    pub error_code: Option<u32>,
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    messages: Vec<StoredMessage>,
    by_sid: HashMap<String, usize>,
}

impl Store {
    pub(crate) fn push(&mut self, message: StoredMessage) {
        self.by_sid
            .insert(message.message.sid.clone(), self.messages.len());
        self.messages.push(message);
    }

    pub(crate) fn get(&self, sid: &str) -> Option<&StoredMessage> {
        self.by_sid.get(sid).and_then(|&at| self.messages.get(at))
    }

    /// Moves a message to `status`. The first move to `sent` or beyond stamps `date_sent`.
    /// A message cleared meanwhile is ignored.
    pub(crate) fn advance(
        &mut self,
        sid: &str,
        status: Status,
        error_code: Option<u32>,
        now: DateTime<Utc>,
    ) {
        let Some(message) = self
            .by_sid
            .get(sid)
            .and_then(|&at| self.messages.get_mut(at))
        else {
            return;
        };
        message.status = status;
        message.error_code = error_code;
        message.date_updated = now;
        if !matches!(status, Status::Accepted | Status::Queued) && message.date_sent.is_none() {
            message.date_sent = Some(now);
        }
    }

    /// Every message, in arrival order.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &StoredMessage> {
        self.messages.iter()
    }

    pub(crate) fn accepted(&self) -> Vec<AcceptedMessage> {
        self.messages.iter().map(|m| m.message.clone()).collect()
    }

    pub(crate) fn clear(&mut self) {
        self.messages.clear();
        self.by_sid.clear();
    }
}
