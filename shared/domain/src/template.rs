//! Message templates: text with `{{variable}}` and `{{variable|fallback}}` placeholders.
//!
//! A body is parsed once into text and placeholders. Saving a template checks every variable is
//! one the tenant's contacts can have (a typo like `{{frist_name}}` is a 422 naming it, not a
//! hole in thousands of messages). Rendering for a recipient fails with the variable's name when
//! a value is missing and there is no fallback: the sender skips that recipient with reason
//! `missing_variable` rather than send a message with a gap.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::contact::MAX_ATTRIBUTE_NAME_CHARS;
use crate::{Contact, TemplateId, ValidationError};

/// Twilio's cap on a message body, in characters.
pub const MAX_BODY_CHARS: usize = 1600;
pub const MAX_NAME_CHARS: usize = 200;
/// Variables every contact has (or may have), besides its custom attributes. `link` is the
/// campaign's target URL (a per-recipient short link once links are tracked).
pub const BUILT_IN_VARIABLES: [&str; 5] = ["first_name", "last_name", "phone", "email", "link"];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Variable {
        name: String,
        fallback: Option<String>,
    },
}

/// A parsed template body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    parts: Vec<Part>,
}

/// Rendering needed a value the recipient does not have, and the placeholder has no fallback.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no value for `{{{{{variable}}}}}` and no fallback")]
pub struct MissingVariable {
    pub variable: String,
}

/// A body uses variables no contact of the tenant has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown variable{}: {}; use one of {} or a custom attribute your contacts have",
    if variables.len() == 1 { "" } else { "s" },
    braced(variables),
    braced(&BUILT_IN_VARIABLES.map(str::to_owned))
)]
pub struct UnknownVariables {
    pub variables: Vec<String>,
}

fn braced(names: &[String]) -> String {
    names
        .iter()
        .map(|v| format!("{{{{{v}}}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a template cannot be saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    UnknownVariables(#[from] UnknownVariables),
}

/// Where rendering finds a variable's value.
pub trait Values {
    /// `None` (or an empty string) means the recipient has no value.
    fn value(&self, variable: &str) -> Option<&str>;
}

impl Body {
    /// Parses a body; errors (field `body`) say what is wrong and where.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let invalid = |reason: String| ValidationError::new("body", reason);
        if raw.trim().is_empty() {
            return Err(invalid("must not be empty".into()));
        }
        let chars = raw.chars().count();
        if chars > MAX_BODY_CHARS {
            return Err(invalid(format!(
                "is {chars} characters; at most {MAX_BODY_CHARS} fit in one message"
            )));
        }
        let mut parts = Vec::new();
        let mut rest = raw;
        while let Some(open) = rest.find("{{") {
            push_text(&mut parts, &rest[..open]);
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or_else(|| {
                invalid(format!(
                    "`{{{{` at character {} is never closed with `}}}}`",
                    raw[..raw.len() - rest.len() + open].chars().count() + 1
                ))
            })?;
            parts.push(placeholder(&after[..close]).map_err(invalid)?);
            rest = &after[close + 2..];
        }
        push_text(&mut parts, rest);
        Ok(Self { parts })
    }

    /// The distinct variables, in order of first use.
    pub fn variables(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        self.parts
            .iter()
            .filter_map(|part| match part {
                Part::Variable { name, .. } => seen.insert(name.as_str()).then_some(name.as_str()),
                Part::Text(_) => None,
            })
            .collect()
    }

    /// Fails naming every variable that is neither built in nor one of `attributes`.
    pub fn check_known(&self, attributes: &BTreeSet<String>) -> Result<(), UnknownVariables> {
        let variables: Vec<String> = self
            .variables()
            .into_iter()
            .filter(|v| !BUILT_IN_VARIABLES.contains(v) && !attributes.contains(*v))
            .map(str::to_owned)
            .collect();
        if variables.is_empty() {
            Ok(())
        } else {
            Err(UnknownVariables { variables })
        }
    }

    /// The text for one recipient.
    pub fn render(&self, values: &dyn Values) -> Result<String, MissingVariable> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Variable { name, fallback } => {
                    match values.value(name).filter(|v| !v.trim().is_empty()) {
                        Some(value) => out.push_str(value),
                        None => {
                            out.push_str(fallback.as_deref().ok_or_else(|| MissingVariable {
                                variable: name.clone(),
                            })?)
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

fn push_text(parts: &mut Vec<Part>, text: &str) {
    if !text.is_empty() {
        parts.push(Part::Text(text.to_owned()));
    }
}

/// `name` or `name|fallback`, with spaces around either part ignored.
fn placeholder(inner: &str) -> Result<Part, String> {
    let (name, fallback) = match inner.split_once('|') {
        Some((name, fallback)) => (name.trim(), Some(fallback.trim().to_owned())),
        None => (inner.trim(), None),
    };
    if name.is_empty() {
        return Err("`{{}}` names no variable".into());
    }
    let well_formed = name.len() <= MAX_ATTRIBUTE_NAME_CHARS
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !well_formed {
        return Err(format!(
            "`{{{{{name}}}}}` is not a variable name: names are a-z, 0-9 and _, starting with a letter"
        ));
    }
    Ok(Part::Variable {
        name: name.to_owned(),
        fallback,
    })
}

/// A contact's values, and the link its message points to.
pub struct ContactValues<'a> {
    pub contact: &'a Contact,
    pub link: Option<&'a str>,
}

impl Values for ContactValues<'_> {
    fn value(&self, variable: &str) -> Option<&str> {
        let c = self.contact;
        match variable {
            "first_name" => c.first_name.as_deref(),
            "last_name" => c.last_name.as_deref(),
            "phone" => Some(c.phone.as_str()),
            "email" => c.email.as_deref(),
            "link" => self.link,
            attribute => c.attributes.get(attribute).map(String::as_str),
        }
    }
}

/// A saved template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub id: TemplateId,
    pub name: String,
    pub body: String,
    /// The variables the body uses, in order of first use.
    pub variables: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A template as submitted. Unknown fields are rejected.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateDraft {
    pub name: String,
    pub body: String,
}

/// A partial change: absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplatePatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
}

/// Checks a template's name: trimmed, 1 to [`MAX_NAME_CHARS`] characters.
pub fn validate_name(name: &str) -> Result<String, ValidationError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ValidationError::new(
            "name",
            format!("must be 1-{MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_owned())
}

impl Template {
    /// A new template; `attributes` are the custom attribute names the tenant's contacts have.
    pub fn new(
        draft: TemplateDraft,
        attributes: &BTreeSet<String>,
        now: DateTime<Utc>,
    ) -> Result<Self, TemplateError> {
        let name = validate_name(&draft.name)?;
        let variables = checked_variables(&draft.body, attributes)?;
        Ok(Self {
            id: TemplateId::generate(),
            name,
            body: draft.body,
            variables,
            created_at: now,
            updated_at: now,
        })
    }

    /// Applies a patch; the body, if changed, is checked like a new one.
    pub fn apply(
        &mut self,
        patch: TemplatePatch,
        attributes: &BTreeSet<String>,
        now: DateTime<Utc>,
    ) -> Result<(), TemplateError> {
        if let Some(name) = patch.name {
            self.name = validate_name(&name)?;
        }
        if let Some(body) = patch.body {
            self.variables = checked_variables(&body, attributes)?;
            self.body = body;
        }
        self.updated_at = now;
        Ok(())
    }

    pub fn parsed(&self) -> Result<Body, ValidationError> {
        Body::parse(&self.body)
    }
}

fn checked_variables(
    body: &str,
    attributes: &BTreeSet<String>,
) -> Result<Vec<String>, TemplateError> {
    let parsed = Body::parse(body)?;
    parsed.check_known(attributes)?;
    Ok(parsed.variables().into_iter().map(str::to_owned).collect())
}

/// When the tenant's opt-out instructions are added to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FooterPolicy {
    /// Only the first message a contact receives from the tenant.
    #[default]
    FirstMessage,
    Always,
    Never,
}

/// The opt-out footer: how and when "Reply STOP to opt out" is appended. It counts in the
/// segments, so previews and estimates include it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOutFooter {
    pub policy: FooterPolicy,
    pub text: String,
}

impl Default for OptOutFooter {
    fn default() -> Self {
        Self {
            policy: FooterPolicy::FirstMessage,
            text: "Reply STOP to opt out".into(),
        }
    }
}

impl OptOutFooter {
    /// `text` with the footer on its own line when the policy asks for it. A body that already
    /// carries the footer's words is left alone rather than told twice.
    pub fn apply(&self, text: &str, first_message: bool) -> (String, bool) {
        let wanted = match self.policy {
            FooterPolicy::Always => true,
            FooterPolicy::FirstMessage => first_message,
            FooterPolicy::Never => false,
        };
        let present = text.to_lowercase().contains(&self.text.to_lowercase());
        if wanted && !present && !self.text.is_empty() {
            (format!("{text}\n{}", self.text), true)
        } else {
            (text.to_owned(), false)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct Map(HashMap<&'static str, &'static str>);

    impl Values for Map {
        fn value(&self, variable: &str) -> Option<&str> {
            self.0.get(variable).copied()
        }
    }

    fn values(pairs: &[(&'static str, &'static str)]) -> Map {
        Map(pairs.iter().copied().collect())
    }

    fn render(
        body: &str,
        pairs: &[(&'static str, &'static str)],
    ) -> Result<String, MissingVariable> {
        Body::parse(body).expect("parses").render(&values(pairs))
    }

    #[test]
    fn renders_values_and_keeps_the_text_around_them() {
        assert_eq!(
            render(
                "Hi {{first_name}}, {{ city }} sale: {{link}}!",
                &[
                    ("first_name", "Ada"),
                    ("city", "Paris"),
                    ("link", "https://x.co/a")
                ]
            ),
            Ok("Hi Ada, Paris sale: https://x.co/a!".to_owned())
        );
    }

    #[test]
    fn a_fallback_fills_a_missing_or_blank_value() {
        let body = "Hi {{first_name|there}}!";
        assert_eq!(render(body, &[]), Ok("Hi there!".to_owned()));
        assert_eq!(
            render(body, &[("first_name", "  ")]),
            Ok("Hi there!".to_owned())
        );
        assert_eq!(
            render(body, &[("first_name", "Ada")]),
            Ok("Hi Ada!".to_owned())
        );
        assert_eq!(
            render("Hi {{ first_name | my friend }}", &[]),
            Ok("Hi my friend".to_owned())
        );
        assert_eq!(render("Hi{{first_name|}}!", &[]), Ok("Hi!".to_owned()));
    }

    #[test]
    fn a_missing_value_without_fallback_names_the_variable() {
        assert_eq!(
            render(
                "Hi {{first_name}}, your code {{code}}",
                &[("first_name", "Ada")]
            ),
            Err(MissingVariable {
                variable: "code".into()
            })
        );
    }

    #[test]
    fn single_braces_are_text() {
        assert_eq!(render("{a} } {", &[]), Ok("{a} } {".to_owned()));
    }

    #[test]
    fn syntax_errors_say_where() {
        let err = |body: &str| Body::parse(body).map(|_| ()).unwrap_err().reason;
        assert!(err("Hi {{first_name").contains("character 4"));
        assert!(err("Hi {{}}").contains("names no variable"));
        assert!(err("Hi {{First Name}}").contains("not a variable name"));
        assert!(err("   ").contains("empty"));
        assert!(err(&"a".repeat(MAX_BODY_CHARS + 1)).contains("1601"));
    }

    #[test]
    fn unknown_variables_are_named_at_save_time() {
        let body = Body::parse("{{frist_name}} {{first_name}} {{tier}} {{code}} {{frist_name}}")
            .expect("parses");
        assert_eq!(
            body.variables(),
            ["frist_name", "first_name", "tier", "code"]
        );
        let known: BTreeSet<String> = ["tier".to_owned()].into();
        let err = body.check_known(&known).unwrap_err();
        assert_eq!(err.variables, ["frist_name", "code"]);
        assert!(
            err.to_string().starts_with(
                "unknown variables: {{frist_name}}, {{code}}; use one of {{first_name}}"
            ),
            "{err}"
        );
        assert!(
            Body::parse("{{tier}} {{link}}")
                .expect("parses")
                .check_known(&known)
                .is_ok()
        );
    }

    #[test]
    fn the_footer_follows_the_policy() {
        let footer = OptOutFooter::default();
        assert_eq!(
            footer.apply("Sale!", true),
            ("Sale!\nReply STOP to opt out".into(), true)
        );
        assert_eq!(footer.apply("Sale!", false), ("Sale!".into(), false));
        assert_eq!(
            footer.apply("Sale! reply stop to opt out", true),
            ("Sale! reply stop to opt out".into(), false)
        );
        let always = OptOutFooter {
            policy: FooterPolicy::Always,
            text: "STOP=stop".into(),
        };
        assert_eq!(always.apply("x", false), ("x\nSTOP=stop".into(), true));
        let never = OptOutFooter {
            policy: FooterPolicy::Never,
            ..OptOutFooter::default()
        };
        assert_eq!(never.apply("x", true), ("x".into(), false));
    }
}
