//! Keywords people text back: STOP and its kin, START and its kin, HELP. Only a message whose
//! whole body is the keyword counts ("Stop please" is a reply for a person to read).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Keyword {
    /// The person opts out: no more messages from any of the tenant's numbers.
    Stop,
    /// The person opts back in.
    Start,
    Help,
}

const STOP: [&str; 8] = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
];
const START: [&str; 3] = ["START", "YES", "UNSTOP"];
const HELP: [&str; 2] = ["HELP", "INFO"];

impl Keyword {
    /// The keyword a body is, if it is one: trimmed, any case.
    pub fn of(body: &str) -> Option<Self> {
        let word = body.trim();
        let is = |list: &[&str]| list.iter().any(|k| k.eq_ignore_ascii_case(word));
        if is(&STOP) {
            Some(Self::Stop)
        } else if is(&START) {
            Some(Self::Start)
        } else if is(&HELP) {
            Some(Self::Help)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Start => "start",
            Self::Help => "help",
        }
    }
}

/// What the tenant answers keywords with, and whether Twilio already does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeywordSettings {
    /// The answer to HELP; `None` is [`default_help_text`].
    #[serde(default)]
    pub help_text: Option<String>,
    /// Whether Twilio answers STOP and START itself (its default opt-out handling, or Advanced
    /// Opt-Out): then we send no confirmation of our own, or the person would get two.
    #[serde(default = "yes")]
    pub twilio_confirms_opt_out: bool,
}

fn yes() -> bool {
    true
}

impl Default for KeywordSettings {
    fn default() -> Self {
        Self {
            help_text: None,
            twilio_confirms_opt_out: true,
        }
    }
}

impl KeywordSettings {
    pub fn help_text(&self, tenant_name: &str) -> String {
        self.help_text
            .clone()
            .unwrap_or_else(|| default_help_text(tenant_name))
    }
}

pub fn default_help_text(tenant_name: &str) -> String {
    format!(
        "{tenant_name}: reply STOP to unsubscribe, START to subscribe again. Msg & data rates may apply."
    )
}

pub fn stop_confirmation(tenant_name: &str) -> String {
    format!(
        "{tenant_name}: you are unsubscribed and will get no more messages. Reply START to subscribe again."
    )
}

pub fn start_confirmation(tenant_name: &str) -> String {
    format!("{tenant_name}: you are subscribed again. Reply STOP to unsubscribe.")
}

/// The longest HELP text a tenant may set: Twilio's body limit.
pub const MAX_HELP_TEXT_CHARS: usize = 1600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_whole_body_keyword_counts() {
        for body in [
            "STOP",
            " stop ",
            "Stop\n",
            "stopall",
            "UNSUBSCRIBE",
            "cancel",
            "End",
            "quit",
            "revoke",
            "OptOut",
        ] {
            assert_eq!(Keyword::of(body), Some(Keyword::Stop), "{body:?}");
        }
        for body in ["START", "yes", "Unstop"] {
            assert_eq!(Keyword::of(body), Some(Keyword::Start), "{body:?}");
        }
        for body in ["HELP", " info"] {
            assert_eq!(Keyword::of(body), Some(Keyword::Help), "{body:?}");
        }
        for body in [
            "Stop please",
            "STOP!",
            "S T O P",
            "",
            "yes please",
            "helpme",
        ] {
            assert_eq!(Keyword::of(body), None, "{body:?}");
        }
    }

    #[test]
    fn settings_default_to_twilio_confirming() {
        let settings: KeywordSettings = serde_json::from_str("{}").expect("parses");
        assert_eq!(settings, KeywordSettings::default());
        assert!(settings.twilio_confirms_opt_out);
        assert_eq!(settings.help_text("Acme"), default_help_text("Acme"));
    }
}
