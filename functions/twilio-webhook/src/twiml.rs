//! TwiML answers to incoming messages: `<Response>` with a `<Message>` to send back, or
//! empty (nothing to send).

use axum::http::header;
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Twiml(pub Option<String>);

impl Twiml {
    pub fn body(&self) -> String {
        let mut xml = String::from(r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#);
        if let Some(text) = &self.0 {
            xml.push_str("<Message>");
            xml.push_str(&quick_xml::escape::escape(text.as_str()));
            xml.push_str("</Message>");
        }
        xml.push_str("</Response>");
        xml
    }
}

impl IntoResponse for Twiml {
    fn into_response(self) -> Response {
        (
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            self.body(),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_text_and_answers_nothing_when_empty() {
        assert_eq!(
            Twiml(Some("Tom & Jerry <3".into())).body(),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Message>Tom &amp; Jerry &lt;3</Message></Response>"#
        );
        assert_eq!(
            Twiml(None).body(),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#
        );
    }
}
