//! A Twilio simulator (being written).
