//! What Twilio tells us of a message after it accepted it: its delivery status, which only
//! moves forward, and what its error codes mean for the recipient.
//!
//! Callbacks arrive out of order and more than once. A message's status is the furthest one
//! heard, and a final status (`delivered`, `undelivered`, `failed`, ...) never changes, so any
//! order of the same callbacks ends in the same place.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Twilio's message statuses, by their wire names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Accepted,
    Scheduled,
    Queued,
    Sending,
    Sent,
    Delivered,
    Undelivered,
    Failed,
    /// Delivered and read (RCS, WhatsApp).
    Read,
    /// A scheduled message cancelled before it went.
    Canceled,
    PartiallyDelivered,
    /// Inbound statuses: never the status of a message we sent.
    Receiving,
    Received,
}

impl DeliveryStatus {
    pub const ALL: [Self; 13] = [
        Self::Accepted,
        Self::Scheduled,
        Self::Queued,
        Self::Sending,
        Self::Sent,
        Self::Delivered,
        Self::Undelivered,
        Self::Failed,
        Self::Read,
        Self::Canceled,
        Self::PartiallyDelivered,
        Self::Receiving,
        Self::Received,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Scheduled => "scheduled",
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Undelivered => "undelivered",
            Self::Failed => "failed",
            Self::Read => "read",
            Self::Canceled => "canceled",
            Self::PartiallyDelivered => "partially_delivered",
            Self::Receiving => "receiving",
            Self::Received => "received",
        }
    }

    /// How far along an outbound message it is: `accepted/queued < sending < sent < final`.
    /// `None` for inbound statuses, which say nothing of a message we sent.
    fn rank(self) -> Option<u8> {
        match self {
            Self::Accepted | Self::Scheduled | Self::Queued => Some(0),
            Self::Sending => Some(1),
            Self::Sent => Some(2),
            Self::Delivered
            | Self::Undelivered
            | Self::Failed
            | Self::Read
            | Self::Canceled
            | Self::PartiallyDelivered => Some(3),
            Self::Receiving | Self::Received => None,
        }
    }

    /// Whether it is final: nothing heard later changes it.
    pub fn is_final(self) -> bool {
        self.rank() == Some(3)
    }

    /// Whether it reached the handset.
    pub fn is_delivered(self) -> bool {
        matches!(self, Self::Delivered | Self::Read)
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a Twilio message status")]
pub struct UnknownStatus(pub String);

impl FromStr for DeliveryStatus {
    type Err = UnknownStatus;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| UnknownStatus(raw.to_owned()))
    }
}

/// The status after hearing `heard`, if it moves: only forward, never out of a final status,
/// and never to an inbound status.
pub fn advance(current: Option<DeliveryStatus>, heard: DeliveryStatus) -> Option<DeliveryStatus> {
    let to = heard.rank()?;
    match current.and_then(DeliveryStatus::rank) {
        Some(from) if from == 3 || to <= from => None,
        _ => Some(heard),
    }
}

/// Carrier filtering (Twilio 30007): the message looked like spam to a carrier. Reports count
/// it apart, because the cure is in the content, not the list.
pub const CARRIER_FILTERED: u32 = 30007;

/// Why a delivery error code puts the number on the do-not-contact list, if it does: the
/// recipient opted out (21610), or the number cannot take messages from us at all (blocked,
/// 30004; a landline or a carrier that cannot be reached, 30006). Codes that may pass
/// (unreachable handset, 30003; unknown, 30008; expired validity, 30036) do not.
pub fn suppression_reason(error_code: u32) -> Option<&'static str> {
    match error_code {
        21610 => Some("stop_reply"),
        30004 => Some("carrier_blocked"),
        30006 => Some("landline_or_unreachable"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::DeliveryStatus::*;
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for status in DeliveryStatus::ALL {
            assert_eq!(status.as_str().parse::<DeliveryStatus>(), Ok(status));
            assert_eq!(
                serde_json::to_value(status).expect("serializes"),
                serde_json::Value::from(status.as_str())
            );
        }
        assert!("Delivered".parse::<DeliveryStatus>().is_err());
    }

    #[test]
    fn moves_only_forward_and_never_out_of_a_final_status() {
        assert_eq!(advance(None, Queued), Some(Queued));
        assert_eq!(advance(Some(Queued), Sending), Some(Sending));
        assert_eq!(advance(Some(Sent), Queued), None);
        assert_eq!(advance(Some(Sent), Sent), None);
        assert_eq!(advance(Some(Queued), Delivered), Some(Delivered));
        assert_eq!(advance(Some(Delivered), Failed), None);
        assert_eq!(advance(Some(Undelivered), Delivered), None);
        assert_eq!(advance(Some(Sent), Received), None);
        assert_eq!(advance(None, Receiving), None);
    }
}
