//! TransactWriteItems: all or nothing, each operation with its own expressions.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, Put, TransactWriteItem, Update as DynUpdate,
};
use smscrm_domain::ports::table::{StoreError, TransactOp, validate_transaction};

use super::codec::{key_to_dynamo, to_dynamo};
use super::errors::store_error;
use super::expr::ExprBuilder;

pub(super) async fn write(
    client: &Client,
    table: &str,
    ops: &[TransactOp],
) -> Result<(), StoreError> {
    validate_transaction(ops)?;
    let items = ops
        .iter()
        .map(|op| transact_item(table, op))
        .collect::<Result<Vec<_>, _>>()?;
    client
        .transact_write_items()
        .set_transact_items(Some(items))
        .send()
        .await
        .map_err(store_error)?;
    Ok(())
}

fn transact_item(table: &str, op: &TransactOp) -> Result<TransactWriteItem, StoreError> {
    let mut builder = ExprBuilder::new();
    let item = match op {
        TransactOp::Put { item, condition } => {
            let condition = condition
                .as_ref()
                .map(|c| builder.condition(c))
                .transpose()?;
            let p = builder.finish();
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(to_dynamo(item)?))
                .set_condition_expression(condition)
                .set_expression_attribute_names(p.names)
                .set_expression_attribute_values(p.values)
                .build()
                .map_err(StoreError::backend)?;
            TransactWriteItem::builder().put(put)
        }
        TransactOp::Update {
            key,
            update,
            condition,
        } => {
            let update_expression = builder.update(update)?;
            let condition = condition
                .as_ref()
                .map(|c| builder.condition(c))
                .transpose()?;
            let p = builder.finish();
            let update = DynUpdate::builder()
                .table_name(table)
                .set_key(Some(key_to_dynamo(key)))
                .update_expression(update_expression)
                .set_condition_expression(condition)
                .set_expression_attribute_names(p.names)
                .set_expression_attribute_values(p.values)
                .build()
                .map_err(StoreError::backend)?;
            TransactWriteItem::builder().update(update)
        }
        TransactOp::Delete { key, condition } => {
            let condition = condition
                .as_ref()
                .map(|c| builder.condition(c))
                .transpose()?;
            let p = builder.finish();
            let delete = Delete::builder()
                .table_name(table)
                .set_key(Some(key_to_dynamo(key)))
                .set_condition_expression(condition)
                .set_expression_attribute_names(p.names)
                .set_expression_attribute_values(p.values)
                .build()
                .map_err(StoreError::backend)?;
            TransactWriteItem::builder().delete(delete)
        }
        TransactOp::Check { key, condition } => {
            let condition = builder.condition(condition)?;
            let p = builder.finish();
            let check = ConditionCheck::builder()
                .table_name(table)
                .set_key(Some(key_to_dynamo(key)))
                .condition_expression(condition)
                .set_expression_attribute_names(p.names)
                .set_expression_attribute_values(p.values)
                .build()
                .map_err(StoreError::backend)?;
            TransactWriteItem::builder().condition_check(check)
        }
    };
    Ok(item.build())
}
