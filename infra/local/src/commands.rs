use anyhow::{Context as _, bail};
use serde_json::json;
use smscrm_domain::apikey::Scope;
use smscrm_domain::user::{Email, Role, User};
use smscrm_domain::{ApiKeyId, Tenant, TenantId};
use smscrm_http::AppContext;

use crate::backend;
use crate::cli::{ApiKeyCommand, Cli, Command, TenantCommand};

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => crate::serve::run(&cli.backend, args).await,
        Command::Tenant(cmd) => tenant(&backend::open(&cli.backend).await?.ctx, cmd).await,
        Command::Apikey(cmd) => apikey(&backend::open(&cli.backend).await?.ctx, cmd).await,
        Command::Import(args) => {
            crate::import::run(&backend::open(&cli.backend).await?.ctx, args).await
        }
    }
}

/// Creates a tenant and its first key; returns what `tenant create` prints.
pub async fn create_tenant(
    ctx: &AppContext,
    name: &str,
    timezone: &str,
    region: &str,
) -> anyhow::Result<(Tenant, String)> {
    let tenant = Tenant::new(name, timezone, region, ctx.clock.now())?;
    ctx.tenants.create(&tenant).await?;
    let key = ctx
        .api_keys
        .create(&tenant.id, "default", Scope::ALL.to_vec(), ctx.clock.now())
        .await?;
    Ok((tenant, key.plaintext))
}

/// Makes `email` an owner of the tenant (the first person who can sign in).
pub async fn add_owner(ctx: &AppContext, tenant: &TenantId, email: &Email) -> anyhow::Result<()> {
    let user = User::new(tenant.clone(), email.clone(), Role::Owner, ctx.clock.now());
    smscrm_store::Users::new(ctx.table.clone())
        .create(&user)
        .await
        .with_context(|| format!("owner {email}"))?;
    Ok(())
}

async fn tenant(ctx: &AppContext, cmd: TenantCommand) -> anyhow::Result<()> {
    match cmd {
        TenantCommand::Create {
            name,
            timezone,
            region,
            owner,
        } => {
            // Checked before anything is created.
            let owner = owner.as_deref().map(Email::parse).transpose()?;
            let (tenant, api_key) = create_tenant(ctx, &name, &timezone, &region).await?;
            if let Some(email) = &owner {
                add_owner(ctx, &tenant.id, email).await?;
            }
            print_json(&json!({
                "tenant_id": tenant.id,
                "name": tenant.name,
                "timezone": tenant.timezone,
                "default_region": tenant.default_region,
                "owner": owner,
                "api_key": api_key,
            }))
        }
        TenantCommand::List => {
            let mut cursor = None;
            loop {
                let (tenants, next) = ctx.tenants.list(cursor, 100).await?;
                for t in tenants {
                    println!("{}", serde_json::to_string(&t)?);
                }
                cursor = next;
                if cursor.is_none() {
                    return Ok(());
                }
            }
        }
        TenantCommand::Pause { tenant, reason } => pause(ctx, &tenant, Some(&reason)).await,
        TenantCommand::Resume { tenant } => pause(ctx, &tenant, None).await,
        TenantCommand::Settings {
            tenant,
            quiet_hours,
            daily_cap_cents,
            monthly_cap_cents,
            default_price,
            prices,
            footer_policy,
            footer_text,
            sender_rates,
            help_text,
            twilio_confirms_opt_out,
            message_retention_days,
        } => {
            let id = tenant_id(&tenant)?;
            let current = ctx
                .tenants
                .get(&id)
                .await?
                .with_context(|| format!("no tenant {id}"))?;
            let mut settings = current.settings();
            if let Some(window) = quiet_hours {
                settings.quiet_hours = parse_window(&window)?;
            }
            if let Some(cap) = daily_cap_cents {
                settings.budget.daily_cap_cents = parse_cap(&cap)?;
            }
            if let Some(cap) = monthly_cap_cents {
                settings.budget.monthly_cap_cents = parse_cap(&cap)?;
            }
            if let Some(price) = default_price {
                settings.segment_prices.default = price;
            }
            for price in prices {
                let (country, millicents) = price
                    .split_once('=')
                    .and_then(|(c, m)| Some((c.trim().to_uppercase(), m.trim().parse().ok()?)))
                    .with_context(|| format!("`{price}`: write a price as COUNTRY=MILLICENTS"))?;
                settings
                    .segment_prices
                    .countries
                    .insert(country, millicents);
            }
            if let Some(policy) = footer_policy {
                settings.opt_out_footer.policy = serde_json::from_value(json!(policy))
                    .with_context(|| format!("`{policy}`: first_message, always or never"))?;
            }
            if let Some(text) = footer_text {
                settings.opt_out_footer.text = text.trim().to_owned();
            }
            for rate in sender_rates {
                let (sender, per_second) = rate
                    .split_once('=')
                    .and_then(|(s, r)| Some((s.trim().to_owned(), r.trim().parse::<u32>().ok()?)))
                    .with_context(|| {
                        format!("`{rate}`: write a rate as SENDER=SEGMENTS_PER_SECOND")
                    })?;
                if per_second == 0 {
                    settings.sender_rates.remove(&sender);
                } else {
                    settings.sender_rates.insert(sender, per_second);
                }
            }
            if let Some(text) = help_text {
                settings.keywords.help_text = parse_help_text(&text)?;
            }
            if let Some(confirms) = twilio_confirms_opt_out {
                settings.keywords.twilio_confirms_opt_out = confirms;
            }
            if let Some(days) = message_retention_days {
                settings.message_retention_days =
                    smscrm_domain::tenant::validate_retention_days(days)?;
            }
            let tenant = ctx.tenants.set_settings(&id, &settings).await?;
            print_json(&json!({ "tenant_id": tenant.id, "settings": tenant.settings() }))
        }
    }
}

/// A HELP answer: `default` (or nothing) is the default text.
fn parse_help_text(raw: &str) -> anyhow::Result<Option<String>> {
    let text = raw.trim();
    if text.is_empty() || text == "default" {
        return Ok(None);
    }
    let limit = smscrm_domain::keywords::MAX_HELP_TEXT_CHARS;
    anyhow::ensure!(
        text.chars().count() <= limit,
        "the HELP text is longer than {limit} characters"
    );
    Ok(Some(text.to_owned()))
}

/// `HH:MM-HH:MM`.
fn parse_window(raw: &str) -> anyhow::Result<smscrm_domain::quiet_hours::QuietHours> {
    let time = |t: &str| chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M");
    let (opens, closes) = raw
        .split_once('-')
        .and_then(|(o, c)| Some((time(o).ok()?, time(c).ok()?)))
        .with_context(|| format!("`{raw}`: write the window as HH:MM-HH:MM"))?;
    Ok(smscrm_domain::quiet_hours::QuietHours::new(opens, closes)?)
}

/// Cents, or `none` for no cap.
fn parse_cap(raw: &str) -> anyhow::Result<Option<u64>> {
    if raw.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .with_context(|| format!("`{raw}`: a cap is a number of cents or `none`"))
}

/// The kill switch from the operator's side: `reason` pauses, `None` resumes; audited.
async fn pause(ctx: &AppContext, tenant: &str, reason: Option<&str>) -> anyhow::Result<()> {
    let id = tenant_id(tenant)?;
    let actor = smscrm_store::Actor::Operator {
        name: std::env::var("USER").unwrap_or_else(|_| "cli".into()),
    };
    let now = ctx.clock.now();
    let (tenant, action, details) = match reason {
        Some(reason) => {
            let info = smscrm_domain::tenant::PauseInfo {
                reason: smscrm_domain::tenant::validate_pause_reason(reason)?,
                by: actor.label(),
                at: now,
            };
            let tenant = ctx.tenants.pause(&id, &info).await;
            (tenant, "tenant.paused", json!({ "reason": info.reason }))
        }
        None => (ctx.tenants.resume(&id).await, "tenant.resumed", json!({})),
    };
    let tenant = tenant.with_context(|| format!("tenant {id}"))?;
    let entry = smscrm_store::AuditEntry::new(now, actor, action, format!("tenant:{id}"), details);
    smscrm_store::AuditLog::new(ctx.table.clone())
        .append(&id, &entry)
        .await?;
    print_json(&json!({ "tenant_id": tenant.id, "paused": tenant.paused, "pause": tenant.pause }))
}

async fn apikey(ctx: &AppContext, cmd: ApiKeyCommand) -> anyhow::Result<()> {
    match cmd {
        ApiKeyCommand::Create {
            tenant,
            name,
            scopes,
        } => {
            let id = tenant_id(&tenant)?;
            let scopes = Scope::parse_list(scopes.split(','))?;
            let key = ctx
                .api_keys
                .create(&id, &name, scopes, ctx.clock.now())
                .await
                .with_context(|| format!("tenant {id}"))?;
            print_json(&json!({
                "tenant_id": id,
                "api_key_id": key.key.id,
                "name": key.key.name,
                "scopes": key.key.scopes,
                "api_key": key.plaintext,
            }))
        }
        ApiKeyCommand::Revoke { tenant, key_id } => {
            let id = tenant_id(&tenant)?;
            let key_id: ApiKeyId = key_id.parse()?;
            let key = ctx
                .api_keys
                .revoke(&id, &key_id, ctx.clock.now())
                .await
                .with_context(|| format!("API key {key_id} of tenant {id}"))?;
            print_json(&json!({ "api_key_id": key.id, "revoked_at": key.revoked_at }))
        }
        ApiKeyCommand::List { tenant } => {
            let id = tenant_id(&tenant)?;
            for key in ctx.api_keys.list(&id).await? {
                print_json(&json!({
                    "api_key_id": key.id,
                    "name": key.name,
                    "scopes": key.scopes,
                    "created_at": key.created_at,
                    "last_used_at": key.last_used_at,
                    "revoked_at": key.revoked_at,
                }))?;
            }
            Ok(())
        }
    }
}

pub fn tenant_id(raw: &str) -> anyhow::Result<TenantId> {
    match raw.parse() {
        Ok(id) => Ok(id),
        Err(e) => bail!("{e}"),
    }
}

pub fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(value)?);
    Ok(())
}
