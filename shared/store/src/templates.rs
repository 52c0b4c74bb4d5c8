//! Message templates, and the custom attribute names a tenant's contacts have (what a template
//! may use besides the built-in variables).
//!
//! Attribute names are recorded as one small item each (`ATTR#<name>`) whenever a contact is
//! written with them, before the contact, so the set is never missing a name a contact has. It
//! may keep a name no contact has any more, which only means a template may still use it (and
//! fall back or skip at send time).

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;
use smscrm_domain::ports::{Condition, Cursor, Item, Query, StoreError, Table};
use smscrm_domain::template::Template;
use smscrm_domain::{TemplateId, TenantId};

use crate::codec::to_item;
use crate::versioned::{self, RecordsPage};
use crate::{RepoError, keys};

#[derive(Clone)]
pub struct Templates {
    table: Arc<dyn Table>,
}

pub type TemplatePage = RecordsPage<Template>;

impl Templates {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Stores a new template (built and checked by the caller).
    pub async fn create(&self, tenant: &TenantId, template: &Template) -> Result<(), RepoError> {
        let item = template_item(tenant, template, 1)?;
        self.table.put(item, Some(Condition::ItemNotExists)).await?;
        Ok(())
    }

    /// The template and its version, for [`Templates::replace`].
    pub async fn get_versioned(
        &self,
        tenant: &TenantId,
        id: &TemplateId,
    ) -> Result<Option<(Template, i64)>, RepoError> {
        versioned::get(self.table.as_ref(), &keys::template(tenant, id)).await
    }

    pub async fn get(
        &self,
        tenant: &TenantId,
        id: &TemplateId,
    ) -> Result<Option<Template>, RepoError> {
        Ok(self.get_versioned(tenant, id).await?.map(|(t, _)| t))
    }

    /// Templates in creation order.
    pub async fn list(
        &self,
        tenant: &TenantId,
        cursor: Option<Cursor>,
        limit: u32,
    ) -> Result<TemplatePage, RepoError> {
        versioned::list(
            self.table.as_ref(),
            tenant,
            keys::TEMPLATE_PREFIX,
            cursor,
            limit,
        )
        .await
    }

    /// Writes an edited template over the version it was read at; a concurrent edit is a
    /// conflict, never overwritten.
    pub async fn replace(
        &self,
        tenant: &TenantId,
        template: &Template,
        version: i64,
    ) -> Result<(), RepoError> {
        let item = template_item(tenant, template, version + 1)?;
        versioned::replace(self.table.as_ref(), item, version, "template").await
    }

    pub async fn delete(&self, tenant: &TenantId, id: &TemplateId) -> Result<(), RepoError> {
        match self
            .table
            .delete(&keys::template(tenant, id), Some(Condition::ItemExists))
            .await
        {
            Ok(_) => Ok(()),
            Err(StoreError::ConditionFailed) => Err(RepoError::NotFound),
            Err(other) => Err(other.into()),
        }
    }
}

fn template_item(tenant: &TenantId, template: &Template, version: i64) -> Result<Item, RepoError> {
    let mut item = to_item(template, &keys::template(tenant, &template.id), "template")?;
    item.insert("version".into(), Value::from(version));
    Ok(item)
}

/// The custom attribute names a tenant's contacts have been written with.
#[derive(Clone)]
pub struct AttributeNames {
    table: Arc<dyn Table>,
}

impl AttributeNames {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Records names (idempotent). Call before writing contacts that have them.
    pub async fn record<'a>(
        &self,
        tenant: &TenantId,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), RepoError> {
        let items = names
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|name| {
                let mut item = Item::new();
                item.insert("name".into(), Value::from(name));
                to_item(&item, &keys::attribute(tenant, name), "attribute")
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !items.is_empty() {
            self.table.batch_put(items).await?;
        }
        Ok(())
    }

    pub async fn all(&self, tenant: &TenantId) -> Result<BTreeSet<String>, RepoError> {
        let mut names = BTreeSet::new();
        let mut cursor = None;
        loop {
            let page = self
                .table
                .query(
                    &Query::partition(keys::tenant_partition(tenant))
                        .prefix(keys::ATTRIBUTE_PREFIX)
                        .after(cursor),
                )
                .await?;
            for item in &page.items {
                if let Some(name) = item.get("name").and_then(Value::as_str) {
                    names.insert(name.to_owned());
                }
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(names),
            }
        }
    }
}
