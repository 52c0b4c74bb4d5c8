//! The [`Table`] port on one DynamoDB table (the product's single-table design).

mod admin;
mod batch;
mod codec;
mod errors;
mod expr;
mod transact;

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::ReturnValue;
use smscrm_domain::ports::table::{
    Condition, Item, Key, Page, Query, StoreError, Table, Update, is_expired, validate_batch_get,
};
use smscrm_domain::ports::{Clock, Direction, SystemClock};

pub use admin::create_table;

use codec::{cursor_from_last_key, cursor_to_start_key, from_dynamo, key_to_dynamo, to_dynamo};
use errors::store_error;

use crate::backoff::RetryBudget;
use expr::{ExprBuilder, SortPlan, normalize_sort};

#[derive(Clone)]
pub struct DynamoTable {
    client: Client,
    table: String,
    /// Decides which items have expired (`ttl <= now`); injectable so tests can move time.
    clock: Arc<dyn Clock>,
    /// How long batch calls keep retrying throttled or unprocessed items.
    budget: RetryBudget,
}

impl std::fmt::Debug for DynamoTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoTable")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl DynamoTable {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            clock: Arc::new(SystemClock),
            budget: RetryBudget::REQUEST,
        }
    }

    pub fn from_config(config: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self::new(Client::new(config), table)
    }

    /// Uses `clock` instead of the system clock to decide which items have expired.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Retries throttled or unprocessed batch items within `budget` (the default is
    /// [`RetryBudget::REQUEST`], for functions answering requests).
    pub fn with_retry_budget(mut self, budget: RetryBudget) -> Self {
        self.budget = budget;
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table_name(&self) -> &str {
        &self.table
    }

    fn now_epoch(&self) -> i64 {
        self.clock.now().timestamp()
    }
}

/// The condition expression of a request and its placeholder maps.
fn render_condition(
    condition: Option<&Condition>,
) -> Result<(Option<String>, expr::Placeholders), StoreError> {
    let mut builder = ExprBuilder::new();
    let rendered = condition.map(|c| builder.condition(c)).transpose()?;
    Ok((rendered, builder.finish()))
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_to_dynamo(key)))
            // The embedded table reads its own writes; so must this one.
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        let now = self.now_epoch();
        match out.item {
            Some(item) => Ok(Some(from_dynamo(item)?).filter(|i| !is_expired(i, now))),
            None => Ok(None),
        }
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        validate_batch_get(keys)?;
        let items = batch::get(&self.client, &self.table, keys, self.budget).await?;
        let now = self.now_epoch();
        Ok(items.into_iter().filter(|i| !is_expired(i, now)).collect())
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        Key::of(&item)?;
        let (condition, placeholders) = render_condition(condition.as_ref())?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_dynamo(&item)?))
            .set_condition_expression(condition)
            .set_expression_attribute_names(placeholders.names)
            .set_expression_attribute_values(placeholders.values)
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> Result<Item, StoreError> {
        update.validate()?;
        let mut builder = ExprBuilder::new();
        let update_expression = builder.update(&update)?;
        let condition = condition.map(|c| builder.condition(&c)).transpose()?;
        let placeholders = builder.finish();
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_to_dynamo(key)))
            .update_expression(update_expression)
            .set_condition_expression(condition)
            .set_expression_attribute_names(placeholders.names)
            .set_expression_attribute_values(placeholders.values)
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(store_error)?;
        match out.attributes {
            Some(item) => from_dynamo(item),
            None => Err(StoreError::backend(crate::error::UnexpectedResponse(
                "UpdateItem with ALL_NEW returned no attributes".into(),
            ))),
        }
    }

    async fn delete(
        &self,
        key: &Key,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, StoreError> {
        let (condition, placeholders) = render_condition(condition.as_ref())?;
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_to_dynamo(key)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(placeholders.names)
            .set_expression_attribute_values(placeholders.values)
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(store_error)?;
        // DynamoDB returns no attributes when nothing was there. An expired item that was still
        // stored is returned, as the embedded table does: the port hides expired items from
        // reads, not from writes.
        out.attributes.map(from_dynamo).transpose()
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        query.validate()?;
        let sort = match normalize_sort(query.sort.as_ref()) {
            SortPlan::Query(sort) => sort,
            SortPlan::Nothing => return Ok(Page::default()),
        };
        let exclusive_start_key = query.cursor.as_ref().map(cursor_to_start_key).transpose()?;
        let mut builder = ExprBuilder::new();
        let key_condition = builder.key_condition(query.index, &query.partition, sort.as_ref());
        let filter = builder.not_expired(self.now_epoch());
        let placeholders = builder.finish();
        // GSIs cannot be read consistently; the primary index is, like `get`.
        let consistent = query.index.dynamo_name().is_none();
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(query.index.dynamo_name().map(str::to_owned))
            .key_condition_expression(key_condition)
            .filter_expression(filter)
            .set_expression_attribute_names(placeholders.names)
            .set_expression_attribute_values(placeholders.values)
            .scan_index_forward(query.direction == Direction::Forward)
            .limit(i32::try_from(query.limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(exclusive_start_key)
            .consistent_read(consistent)
            .send()
            .await
            .map_err(store_error)?;
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_dynamo)
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = out
            .last_evaluated_key
            .filter(|last| !last.is_empty())
            .map(|last| cursor_from_last_key(query.index, &last))
            .transpose()?;
        Ok(Page { items, next_cursor })
    }

    async fn batch_put(&self, items: Vec<Item>) -> Result<(), StoreError> {
        batch::put(&self.client, &self.table, items, self.budget).await
    }

    async fn batch_put_if_absent(&self, items: Vec<Item>) -> Result<Vec<Key>, StoreError> {
        batch::put_if_absent(&self.client, &self.table, items, self.budget).await
    }

    async fn transact(&self, ops: Vec<smscrm_domain::ports::TransactOp>) -> Result<(), StoreError> {
        transact::write(&self.client, &self.table, &ops).await
    }
}
