//! Reads the `<Message>` verbs of a TwiML answer to an incoming message, the way Twilio does:
//! the text is the verb's own text or its `<Body>` (never `<Media>`), `to` and `from` attributes
//! override the reply's direction, and a document that is not XML is error 12100.

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;

/// One `<Message>` verb.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MessageVerb {
    pub body: String,
    pub to: Option<String>,
    pub from: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("TwiML document parse failure: {0}")]
pub(crate) struct ParseError(String);

fn failure(error: impl std::fmt::Display) -> ParseError {
    ParseError(error.to_string())
}

fn attribute(
    start: &quick_xml::events::BytesStart<'_>,
    name: &str,
) -> Result<Option<String>, ParseError> {
    start
        .try_get_attribute(name)
        .map_err(failure)?
        .map(|value| {
            value
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
        })
        .transpose()
        .map_err(failure)
}

fn verb(start: &quick_xml::events::BytesStart<'_>) -> Result<MessageVerb, ParseError> {
    Ok(MessageVerb {
        body: String::new(),
        to: attribute(start, "to")?,
        from: attribute(start, "from")?,
    })
}

/// Where the reader is: inside a `<Message>` (collecting its text), and inside its `<Media>`.
#[derive(Default)]
struct Cursor {
    message: Option<MessageVerb>,
    in_media: bool,
}

impl Cursor {
    fn collecting(&mut self) -> Option<&mut String> {
        if self.in_media {
            return None;
        }
        self.message.as_mut().map(|message| &mut message.body)
    }
}

/// The `<Message>` verbs of `xml`, in order. An empty answer has none.
pub(crate) fn messages(xml: &str) -> Result<Vec<MessageVerb>, ParseError> {
    if xml.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut reader = Reader::from_str(xml);
    let mut cursor = Cursor::default();
    let mut verbs = Vec::new();
    let mut saw_response = false;
    loop {
        match reader.read_event().map_err(failure)? {
            Event::Start(start) => match start.local_name().as_ref() {
                b"Response" => saw_response = true,
                b"Message" => cursor.message = Some(verb(&start)?),
                b"Media" => cursor.in_media = true,
                _ => {}
            },
            Event::Empty(empty) => match empty.local_name().as_ref() {
                b"Response" => saw_response = true,
                b"Message" => verbs.push(verb(&empty)?),
                _ => {}
            },
            Event::End(end) => match end.local_name().as_ref() {
                b"Message" => verbs.extend(cursor.message.take()),
                b"Media" => cursor.in_media = false,
                _ => {}
            },
            Event::Text(text) => {
                if let Some(body) = cursor.collecting() {
                    body.push_str(&text.xml10_content().map_err(failure)?);
                }
            }
            Event::CData(data) => {
                if let Some(body) = cursor.collecting() {
                    body.push_str(&data.decode().map_err(failure)?);
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(body) = cursor.collecting() {
                    body.push_str(&resolve(&reference)?);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_response {
        return Err(ParseError("the root element is not <Response>".into()));
    }
    for verb in &mut verbs {
        verb.body = verb.body.trim().to_owned();
    }
    Ok(verbs)
}

fn resolve(reference: &quick_xml::events::BytesRef<'_>) -> Result<String, ParseError> {
    if let Some(char) = reference.resolve_char_ref().map_err(failure)? {
        return Ok(char.to_string());
    }
    let name = reference.decode().map_err(failure)?;
    resolve_predefined_entity(&name)
        .map(str::to_owned)
        .ok_or_else(|| ParseError(format!("unknown entity &{name};")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bodies(xml: &str) -> Vec<String> {
        messages(xml)
            .expect("valid TwiML")
            .into_iter()
            .map(|verb| verb.body)
            .collect()
    }

    #[test]
    fn message_text_with_entities_and_body_elements() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
            <Response>
              <Message>Fish &amp; chips &#x2764;</Message>
              <Message to="+12125550101"><Body>Open 9&lt;5</Body><Media>https://x/y.png</Media></Message>
              <Message/>
            </Response>"#;
        assert_eq!(bodies(xml), ["Fish & chips \u{2764}", "Open 9<5", ""]);
        let verbs = messages(xml).expect("valid");
        assert_eq!(verbs[1].to.as_deref(), Some("+12125550101"));
        assert_eq!(verbs[0].to, None);
    }

    #[test]
    fn empty_answers_have_no_messages() {
        assert!(bodies("").is_empty());
        assert!(bodies("<Response/>").is_empty());
        assert!(bodies("<Response></Response>").is_empty());
    }

    #[test]
    fn what_is_not_twiml_is_a_parse_failure() {
        assert!(messages("OK").is_err());
        assert!(messages("<Response><Message>unclosed</Response>").is_err());
        assert!(messages("<html><body>hi</body></html>").is_err());
    }
}
