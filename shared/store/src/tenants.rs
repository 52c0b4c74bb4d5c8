use std::sync::Arc;

use serde_json::Value;
use smscrm_domain::ports::{Condition, Cursor, Index, Query, Table, Update, table};
use smscrm_domain::tenant::{PauseInfo, TenantSettings};
use smscrm_domain::{Tenant, TenantId};

use crate::codec::{from_item, to_item};
use crate::{RepoError, keys};

#[derive(Clone)]
pub struct Tenants {
    table: Arc<dyn Table>,
}

impl Tenants {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    pub async fn create(&self, tenant: &Tenant) -> Result<(), RepoError> {
        let mut item = to_item(tenant, &keys::tenant(&tenant.id), "tenant")?;
        item.insert(table::GSI1_PK.into(), keys::TENANTS_INDEX.into());
        item.insert(table::GSI1_SK.into(), Value::String(tenant.id.to_string()));
        self.table
            .put(item, Some(Condition::ItemNotExists))
            .await
            .map_err(|e| match e {
                smscrm_domain::ports::StoreError::ConditionFailed => {
                    RepoError::Conflict("tenant already exists".into())
                }
                other => other.into(),
            })
    }

    pub async fn get(&self, id: &TenantId) -> Result<Option<Tenant>, RepoError> {
        self.table
            .get(&keys::tenant(id))
            .await?
            .map(from_item)
            .transpose()
    }

    /// The kill switch, with no reason kept (tests, and tenants paused before reasons were).
    pub async fn set_paused(&self, id: &TenantId, paused: bool) -> Result<Tenant, RepoError> {
        self.update(id, Update::new().set("paused", paused)).await
    }

    /// Replaces the tenant's sending settings (the fields a campaign's gates read).
    pub async fn set_settings(
        &self,
        id: &TenantId,
        settings: &TenantSettings,
    ) -> Result<Tenant, RepoError> {
        self.update(id, settings_update(settings)?).await
    }

    /// Writes `fields` of `tenant` (profile or settings, by their names on the tenant) and
    /// nothing else, so two people changing different settings at once both keep theirs.
    pub async fn save_fields(&self, tenant: &Tenant, fields: &[&str]) -> Result<Tenant, RepoError> {
        let all = serde_json::to_value(tenant).map_err(|e| RepoError::Corrupt(e.to_string()))?;
        let mut update = Update::new();
        for &field in fields {
            let value = all
                .get(field)
                .cloned()
                .ok_or_else(|| RepoError::Corrupt(format!("a tenant has no field `{field}`")))?;
            update = update.set(field, value);
        }
        self.update(&tenant.id, update).await
    }

    /// Stops all sending for the tenant, saying who did it and why.
    pub async fn pause(&self, id: &TenantId, pause: &PauseInfo) -> Result<Tenant, RepoError> {
        let info = serde_json::to_value(pause).map_err(|e| RepoError::Corrupt(e.to_string()))?;
        self.update(id, Update::new().set("paused", true).set("pause", info))
            .await
    }

    /// Lifts the kill switch.
    pub async fn resume(&self, id: &TenantId) -> Result<Tenant, RepoError> {
        self.update(id, Update::new().set("paused", false).remove("pause"))
            .await
    }

    async fn update(&self, id: &TenantId, update: Update) -> Result<Tenant, RepoError> {
        let item = self
            .table
            .update(&keys::tenant(id), update, Some(Condition::ItemExists))
            .await
            .map_err(|e| match e {
                smscrm_domain::ports::StoreError::ConditionFailed => RepoError::NotFound,
                other => other.into(),
            })?;
        from_item(item)
    }

    /// Every tenant, a page at a time (operator tooling).
    pub async fn list(
        &self,
        cursor: Option<Cursor>,
        limit: u32,
    ) -> Result<(Vec<Tenant>, Option<Cursor>), RepoError> {
        let page = self
            .table
            .query(
                &Query::partition(keys::TENANTS_INDEX)
                    .on(Index::Gsi1)
                    .limit(limit)
                    .after(cursor),
            )
            .await?;
        let tenants = page
            .items
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        Ok((tenants, page.next_cursor))
    }
}

fn settings_update(settings: &TenantSettings) -> Result<Update, RepoError> {
    let json = |value: serde_json::Result<serde_json::Value>| {
        value.map_err(|e| RepoError::Corrupt(e.to_string()))
    };
    Ok(Update::new()
        .set(
            "quiet_hours",
            json(serde_json::to_value(settings.quiet_hours))?,
        )
        .set("budget", json(serde_json::to_value(settings.budget))?)
        .set(
            "segment_prices",
            json(serde_json::to_value(&settings.segment_prices))?,
        )
        .set(
            "opt_out_footer",
            json(serde_json::to_value(&settings.opt_out_footer))?,
        )
        .set(
            "sender_rates",
            json(serde_json::to_value(&settings.sender_rates))?,
        )
        .set("keywords", json(serde_json::to_value(&settings.keywords))?)
        .set("message_retention_days", settings.message_retention_days))
}
