//! `POST /v1/templates/preview`: a body (or saved template) rendered for a contact or sample
//! data, with the tenant's opt-out footer as its policy would add it, and what it costs in
//! segments.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::json;
use smscrm_domain::campaign::validate_link;
use smscrm_domain::contact;
use smscrm_domain::segments::{self, Encoding, SegmentCount};
use smscrm_domain::template::{Body, ContactValues, MissingVariable, Values};
use smscrm_domain::{ContactId, TemplateId, ValidationError};
use smscrm_http::{ApiError, ApiJson, AppContext, Principal};

/// What to render, and for whom. Exactly one of `body` and `template_id`; at most one of
/// `contact_id` and `sample` (neither: a sample person).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub template_id: Option<String>,
    #[serde(default)]
    pub contact_id: Option<String>,
    #[serde(default)]
    pub sample: Option<Sample>,
    /// The campaign's target URL, for `{{link}}`.
    #[serde(default)]
    pub link: Option<String>,
    /// Whether this is the first message the contact gets (the footer policy may add the
    /// opt-out footer only then). Default true: what a new contact would receive.
    #[serde(default = "yes")]
    pub first_message: bool,
}

fn yes() -> bool {
    true
}

/// Values to render with instead of a stored contact; unset built-ins get a sample person's.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

impl Sample {
    /// The limits a contact's own values have, so a preview renders no more than a send would.
    fn check(&self) -> Result<(), ValidationError> {
        let names = [
            ("sample.first_name", &self.first_name),
            ("sample.last_name", &self.last_name),
        ];
        for (field, value) in names {
            if value
                .as_ref()
                .is_some_and(|v| v.chars().count() > contact::MAX_NAME_CHARS)
            {
                return Err(too_long(field, contact::MAX_NAME_CHARS));
            }
        }
        let others = [("sample.email", &self.email), ("sample.phone", &self.phone)];
        for (field, value) in others {
            if value
                .as_ref()
                .is_some_and(|v| v.chars().count() > contact::MAX_EMAIL_CHARS)
            {
                return Err(too_long(field, contact::MAX_EMAIL_CHARS));
            }
        }
        if self.attributes.len() > contact::MAX_ATTRIBUTES {
            return Err(ValidationError::new(
                "sample.attributes",
                format!("at most {} attributes", contact::MAX_ATTRIBUTES),
            ));
        }
        for (name, value) in &self.attributes {
            contact::validate_attribute_value(name, value).map_err(|_| {
                too_long(
                    &format!("sample.attributes.{name}"),
                    contact::MAX_ATTRIBUTE_VALUE_CHARS,
                )
            })?;
        }
        Ok(())
    }
}

fn too_long(field: &str, max: usize) -> ValidationError {
    ValidationError::new(field, format!("must be at most {max} characters"))
}

struct SampleValues<'a> {
    sample: &'a Sample,
    link: Option<&'a str>,
}

impl Values for SampleValues<'_> {
    fn value(&self, variable: &str) -> Option<&str> {
        let s = self.sample;
        match variable {
            "first_name" => Some(s.first_name.as_deref().unwrap_or("Alex")),
            "last_name" => Some(s.last_name.as_deref().unwrap_or("Smith")),
            "phone" => Some(s.phone.as_deref().unwrap_or("+14155550100")),
            "email" => Some(s.email.as_deref().unwrap_or("alex@example.com")),
            "link" => self.link,
            attribute => s.attributes.get(attribute).map(String::as_str),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PreviewResponse {
    pub text: String,
    pub footer_applied: bool,
    #[serde(flatten)]
    pub count: SegmentCount,
    /// The text with every GSM-7 stand-in applied, and its segments, when that helps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gsm_safe: Option<GsmSafe>,
}

#[derive(Debug, Serialize)]
pub struct GsmSafe {
    pub text: String,
    pub encoding: Encoding,
    pub segments: usize,
}

pub async fn preview(
    State(ctx): State<AppContext>,
    principal: Principal,
    ApiJson(request): ApiJson<PreviewRequest>,
) -> Result<Json<PreviewResponse>, ApiError> {
    let tenant = &principal.tenant;
    if let Some(sample) = &request.sample {
        sample.check()?;
    }
    let link = request.link.as_deref().map(validate_link).transpose()?;
    let link = link.as_deref();
    let body = body(&ctx, &principal, &request).await?;
    let rendered = match (&request.contact_id, &request.sample) {
        (Some(_), Some(_)) => {
            return Err(ValidationError::new(
                "sample",
                "give either contact_id or sample, not both",
            )
            .into());
        }
        (Some(id), None) => {
            let id: ContactId = id.parse().map_err(|_| ApiError::NotFound("contact"))?;
            let contact = ctx
                .contacts
                .get(&tenant.id, &id)
                .await?
                .ok_or(ApiError::NotFound("contact"))?;
            body.render(&ContactValues {
                contact: &contact,
                link,
            })
        }
        (None, sample) => {
            let default = Sample::default();
            body.render(&SampleValues {
                sample: sample.as_ref().unwrap_or(&default),
                link,
            })
        }
    }
    .map_err(missing)?;
    let (text, footer_applied) = tenant
        .opt_out_footer
        .apply(&rendered, request.first_message);
    let count = segments::count(&text);
    let gsm_safe =
        (count.encoding == Encoding::Ucs2 && !count.replacements.is_empty()).then(|| {
            let text = segments::to_gsm_safe(&text);
            let safe = segments::count(&text);
            GsmSafe {
                text,
                encoding: safe.encoding,
                segments: safe.segments,
            }
        });
    Ok(Json(PreviewResponse {
        text,
        footer_applied,
        count,
        gsm_safe,
    }))
}

/// The body to render: given inline (checked like a template being saved) or saved.
async fn body(
    ctx: &AppContext,
    principal: &Principal,
    request: &PreviewRequest,
) -> Result<Body, ApiError> {
    let tenant = &principal.tenant.id;
    match (&request.body, &request.template_id) {
        (Some(raw), None) => {
            let body = Body::parse(raw)?;
            let attributes = ctx.attribute_names.all(tenant).await?;
            body.check_known(&attributes)
                .map_err(|unknown| ApiError::Rule {
                    code: "unknown_variable",
                    message: unknown.to_string(),
                    details: json!({ "field": "body", "variables": unknown.variables }),
                })?;
            Ok(body)
        }
        (None, Some(id)) => {
            let id: TemplateId = id.parse().map_err(|_| ApiError::NotFound("template"))?;
            let template = ctx
                .templates
                .get(tenant, &id)
                .await?
                .ok_or(ApiError::NotFound("template"))?;
            Ok(template.parsed()?)
        }
        _ => Err(ValidationError::new("body", "give either body or template_id").into()),
    }
}

/// The recipient would be skipped at send time; the preview says so with the same reason.
fn missing(err: MissingVariable) -> ApiError {
    ApiError::Rule {
        code: "missing_variable",
        message: format!(
            "{err}: this recipient would be skipped; add a fallback such as {{{{{}|...}}}} or a value",
            err.variable
        ),
        details: json!({ "variable": err.variable }),
    }
}
