//! `serve --demo`: a demo tenant with contacts and a template, created once per data
//! directory. Its key is kept in `<data-dir>/demo.json` (local demo data only) so a restart
//! prints the same key.

use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use smscrm_domain::TenantId;
use smscrm_domain::contact::ContactDraft;
use smscrm_domain::template::{Template, TemplateDraft};
use smscrm_http::AppContext;

#[derive(Debug, Serialize, Deserialize)]
pub struct Demo {
    pub tenant_id: TenantId,
    pub api_key: String,
    #[serde(default)]
    pub contacts: usize,
}

/// The demo bakery's owner, who signs in by magic link (the link is printed).
pub const OWNER: &str = "owner@demo-bakery.example";

/// The demo bakery's Twilio number: campaigns send from it, and people text it.
pub const NUMBER: &str = "+15125550100";

const PEOPLE: [(&str, &str, &str, &[&str]); 12] = [
    ("Ada", "Lovelace", "+1 (212) 555-0142", &["vip"]),
    ("Grace", "Hopper", "+1 415 555 0113", &["vip", "navy"]),
    ("Alan", "Turing", "+44 7911 123456", &[]),
    ("Katherine", "Johnson", "+1 757 555 0199", &["nasa"]),
    ("Linus", "Torvalds", "+1 503 555 0175", &[]),
    ("Margaret", "Hamilton", "+1 617 555 0168", &["nasa"]),
    ("Edsger", "Dijkstra", "+31 6 12345678", &[]),
    ("Barbara", "Liskov", "+1 617 555 0133", &["vip"]),
    ("Donald", "Knuth", "+1 650 555 0101", &[]),
    ("Frances", "Allen", "+1 914 555 0122", &[]),
    ("Dennis", "Ritchie", "+1 908 555 0154", &[]),
    ("Radia", "Perlman", "+1 425 555 0187", &["networks"]),
];

pub async fn ensure(ctx: &AppContext, data_dir: &Path) -> anyhow::Result<Demo> {
    let file = data_dir.join("demo.json");
    if let Some(demo) = existing(ctx, &file).await? {
        return Ok(demo);
    }
    let (tenant, api_key) =
        crate::commands::create_tenant(ctx, "Demo Bakery", "America/New_York", "US").await?;
    let owner = smscrm_domain::user::Email::parse(OWNER)?;
    crate::commands::add_owner(ctx, &tenant.id, &owner).await?;
    for (first, last, phone, tags) in PEOPLE {
        let draft = ContactDraft {
            phone: phone.into(),
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            email: Some(format!("{}@example.com", first.to_lowercase())),
            tags: Some(tags.iter().map(|t| (*t).to_owned()).collect()),
            attributes: None,
            consent: serde_json::from_value(serde_json::json!(
                { "status": "explicit", "source": "demo data" }
            ))?,
        };
        let changes = draft.validate(tenant.default_region)?;
        ctx.contacts
            .upsert_by_phone(&tenant.id, changes, ctx.clock.now())
            .await?;
    }
    let template = Template::new(
        TemplateDraft {
            name: "Fresh bread".into(),
            body: "Hi {{first_name|there}}! Sourdough is out of the oven: show this text for 10% off today.".into(),
        },
        &Default::default(),
        ctx.clock.now(),
    )?;
    ctx.templates.create(&tenant.id, &template).await?;
    let demo = Demo {
        tenant_id: tenant.id,
        api_key,
        contacts: PEOPLE.len(),
    };
    write_private(&file, &serde_json::to_vec_pretty(&demo)?)?;
    Ok(demo)
}

/// The recorded demo, if its tenant and key still work in this store.
async fn existing(ctx: &AppContext, file: &Path) -> anyhow::Result<Option<Demo>> {
    let Ok(raw) = std::fs::read(file) else {
        return Ok(None);
    };
    let Ok(demo) = serde_json::from_slice::<Demo>(&raw) else {
        return Ok(None);
    };
    let valid = ctx
        .api_keys
        .resolve(&demo.api_key, ctx.clock.now())
        .await?
        .is_some_and(|k| k.tenant_id == demo.tenant_id);
    Ok(valid.then_some(demo))
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(bytes)?;
    Ok(())
}
