//! Turns a create request's form parameters into a message to accept, or the 400 Twilio would
//! answer: 21604/21211 (`To`), 21603 (sender), 21602/21617 (`Body`), 21624 (`ValidityPeriod`),
//! 21609 (`StatusCallback`).

use crate::error::ApiError;

/// Twilio's cap on a body, in characters.
pub const MAX_BODY_CHARS: usize = 1600;
/// The longest `ValidityPeriod` Twilio accepts, in seconds (10 hours).
pub const MAX_VALIDITY_PERIOD: u32 = 36_000;

/// Who a message goes from, as the request said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sender {
    Number(String),
    /// A Messaging Service; `from` is the number when the request also named one.
    Service {
        sid: String,
        from: Option<String>,
    },
}

impl Sender {
    /// The key rate limits are counted under: the `From` number, or the service's SID.
    pub(crate) fn rate_key(&self) -> &str {
        match self {
            Self::Number(number) => number,
            Self::Service { sid, .. } => sid,
        }
    }
}

/// A create request that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Draft {
    pub to: String,
    pub sender: Sender,
    pub body: String,
    pub num_segments: u32,
    pub status_callback: Option<String>,
    pub validity_period: Option<u32>,
}

/// The first value of `name` that is not empty (Twilio treats an empty parameter as absent).
fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, value)| key == name && !value.is_empty())
        .map(|(_, value)| value.as_str())
}

pub(crate) fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

pub(crate) fn draft(params: &[(String, String)]) -> Result<Draft, ApiError> {
    let to = param(params, "To")
        .ok_or_else(|| ApiError::invalid(21604, "A 'To' phone number is required."))?;
    if !is_e164(to) {
        return Err(ApiError::invalid(
            21211,
            format!("The 'To' number {to} is not a valid phone number."),
        ));
    }
    let from = param(params, "From").map(str::to_owned);
    let sender = match (param(params, "MessagingServiceSid"), from) {
        (Some(sid), from) => Sender::Service {
            sid: sid.to_owned(),
            from,
        },
        (None, Some(from)) => Sender::Number(from),
        (None, None) => {
            return Err(ApiError::invalid(
                21603,
                "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
            ));
        }
    };
    let body = param(params, "Body")
        .ok_or_else(|| ApiError::invalid(21602, "Message body is required."))?;
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(ApiError::invalid(
            21617,
            "The concatenated message body exceeds the 1600 character limit.",
        ));
    }
    let validity_period = param(params, "ValidityPeriod")
        .map(|value| {
            value
                .parse::<u32>()
                .ok()
                .filter(|seconds| (1..=MAX_VALIDITY_PERIOD).contains(seconds))
                .ok_or_else(|| {
                    ApiError::invalid(
                        21624,
                        "Invalid validity period value: it must be an integer between 1 and 36000 seconds.",
                    )
                })
        })
        .transpose()?;
    let status_callback = param(params, "StatusCallback")
        .map(|url| match reqwest::Url::parse(url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(url.to_owned()),
            _ => Err(ApiError::invalid(
                21609,
                format!("The StatusCallback URL {url} is not a valid URL."),
            )),
        })
        .transpose()?;
    let segments = smscrm_domain::segments::count(body).segments;
    Ok(Draft {
        to: to.to_owned(),
        sender,
        body: body.to_owned(),
        num_segments: u32::try_from(segments).unwrap_or(u32::MAX),
        status_callback,
        validity_period,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn code(list: &[(&str, &str)]) -> Option<u32> {
        draft(&params(list)).err().map(|error| error.code())
    }

    #[test]
    fn e164_is_a_plus_and_8_to_15_digits() {
        assert!(is_e164("+15005550006"));
        assert!(is_e164("+12345678"));
        assert!(is_e164("+123456789012345"));
        assert!(!is_e164("15005550006"));
        assert!(!is_e164("+1234567"));
        assert!(!is_e164("+1234567890123456"));
        assert!(!is_e164("+1500555000a"));
    }

    #[test]
    fn each_problem_has_its_twilio_code() {
        let ok = [
            ("To", "+15005550006"),
            ("From", "+15005550001"),
            ("Body", "hi"),
        ];
        assert_eq!(code(&ok), None);
        assert_eq!(code(&ok[1..]), Some(21604));
        assert_eq!(code(&[("To", "555"), ok[1], ok[2]]), Some(21211));
        assert_eq!(code(&[ok[0], ok[2]]), Some(21603));
        assert_eq!(code(&[ok[0], ok[1]]), Some(21602));
        assert_eq!(code(&[ok[0], ok[1], ("Body", "")]), Some(21602));
        let long = "a".repeat(1601);
        assert_eq!(code(&[ok[0], ok[1], ("Body", &long)]), Some(21617));
        let longest = "é".repeat(1600);
        assert_eq!(code(&[ok[0], ok[1], ("Body", &longest)]), None);
        for bad in ["0", "36001", "ten"] {
            let list = [ok[0], ok[1], ok[2], ("ValidityPeriod", bad)];
            assert_eq!(code(&list), Some(21624), "{bad}");
        }
        let list = [ok[0], ok[1], ok[2], ("StatusCallback", "not a url")];
        assert_eq!(code(&list), Some(21609));
    }

    #[test]
    fn a_messaging_service_is_the_sender_even_with_a_from() {
        let list = params(&[
            ("To", "+15005550006"),
            ("From", "+15005550001"),
            ("MessagingServiceSid", "MG1"),
            ("Body", "hi"),
            ("ValidityPeriod", "600"),
        ]);
        let draft = draft(&list).ok();
        let draft = draft.as_ref();
        assert_eq!(draft.map(|d| d.sender.rate_key()), Some("MG1"));
        assert_eq!(draft.and_then(|d| d.validity_period), Some(600));
        assert_eq!(draft.map(|d| d.num_segments), Some(1));
    }
}
