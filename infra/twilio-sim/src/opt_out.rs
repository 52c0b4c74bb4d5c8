//! Twilio's default opt-out handling on a number: a whole-body STOP-family keyword blocks that
//! number from messaging the person (creates answer 21610), START-family lifts the block, and
//! Twilio itself confirms STOP, START and HELP with its standard texts.
//!
//! The keyword lists are Twilio's, kept here on their own (not borrowed from the platform's
//! domain) so a mistake there shows up as a disagreement with the simulator.

use std::collections::HashSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyword {
    OptOut,
    OptIn,
    Help,
}

/// The keyword a message is, if its whole body (trimmed, any case) is one.
pub(crate) fn keyword(body: &str) -> Option<Keyword> {
    match body.trim().to_ascii_uppercase().as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" | "REVOKE" | "OPTOUT" => {
            Some(Keyword::OptOut)
        }
        "START" | "YES" | "UNSTOP" => Some(Keyword::OptIn),
        "HELP" | "INFO" => Some(Keyword::Help),
        _ => None,
    }
}

/// What Twilio texts back on its own when default opt-out handling is on.
pub(crate) fn confirmation(keyword: Keyword) -> &'static str {
    match keyword {
        Keyword::OptOut => {
            "You have successfully been unsubscribed. You will not receive any more messages \
             from this number. Reply START to resubscribe."
        }
        Keyword::OptIn => {
            "You have successfully been re-subscribed to messages from this number. Reply HELP \
             for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply."
        }
        Keyword::Help => "Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
    }
}

/// Who opted out of whom: `(sender number, person)` pairs.
#[derive(Debug, Default)]
pub(crate) struct OptOuts {
    blocked: HashSet<(String, String)>,
}

impl OptOuts {
    /// Applies a keyword the person texted to the number.
    pub(crate) fn apply(&mut self, keyword: Keyword, number: &str, person: &str) {
        let pair = (number.to_owned(), person.to_owned());
        match keyword {
            Keyword::OptOut => {
                self.blocked.insert(pair);
            }
            Keyword::OptIn => {
                self.blocked.remove(&pair);
            }
            Keyword::Help => {}
        }
    }

    pub(crate) fn blocks(&self, number: &str, person: &str) -> bool {
        self.blocked
            .contains(&(number.to_owned(), person.to_owned()))
    }

    pub(crate) fn clear(&mut self) {
        self.blocked.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_whole_body_keyword_counts() {
        assert_eq!(keyword(" stop \n"), Some(Keyword::OptOut));
        assert_eq!(keyword("Unsubscribe"), Some(Keyword::OptOut));
        assert_eq!(keyword("unstop"), Some(Keyword::OptIn));
        assert_eq!(keyword("info"), Some(Keyword::Help));
        assert_eq!(keyword("Stop please"), None);
        assert_eq!(keyword("stopp"), None);
    }

    #[test]
    fn a_block_is_per_number_and_start_lifts_it() {
        let mut opt_outs = OptOuts::default();
        opt_outs.apply(Keyword::OptOut, "+15005550006", "+12125550101");
        assert!(opt_outs.blocks("+15005550006", "+12125550101"));
        assert!(!opt_outs.blocks("+15005550007", "+12125550101"));
        opt_outs.apply(Keyword::Help, "+15005550006", "+12125550101");
        assert!(opt_outs.blocks("+15005550006", "+12125550101"));
        opt_outs.apply(Keyword::OptIn, "+15005550006", "+12125550101");
        assert!(!opt_outs.blocks("+15005550006", "+12125550101"));
    }
}
