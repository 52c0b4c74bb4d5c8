//! Creates the product's single table, for tests and local tooling against an emulator
//! (production tables come from `template.yaml`, which must describe the same shape).

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters as _;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification, TimeToLiveStatus,
};
use smscrm_domain::ports::table::{Index, TTL};

use crate::error::SetupError;

const MAX_WAIT: Duration = Duration::from_secs(120);

/// Creates table `name` (pk/sk, GSIs `gsi1` and `gsi2`, on-demand), waits until it is ACTIVE and
/// enables TTL on `ttl`. Idempotent: an existing table is left as it is, TTL still ensured.
pub async fn create_table(client: &Client, name: &str) -> Result<(), SetupError> {
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest);
    for index in [Index::Primary, Index::Gsi1, Index::Gsi2] {
        let (pk, sk) = index.key_attrs();
        for attr in [pk, sk] {
            request = request.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(attr)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(|e| SetupError::new("CreateTable", e))?,
            );
        }
        let schema = key_schema(pk, sk)?;
        match index.dynamo_name() {
            None => request = request.set_key_schema(Some(schema)),
            Some(index_name) => {
                request = request.global_secondary_indexes(
                    GlobalSecondaryIndex::builder()
                        .index_name(index_name)
                        .set_key_schema(Some(schema))
                        .projection(
                            Projection::builder()
                                .projection_type(ProjectionType::All)
                                .build(),
                        )
                        .build()
                        .map_err(|e| SetupError::new("CreateTable", e))?,
                );
            }
        }
    }
    match request.send().await {
        Ok(_) => {}
        Err(SdkError::ServiceError(ctx))
            if matches!(ctx.err(), CreateTableError::ResourceInUseException(_)) => {}
        Err(e) => return Err(SetupError::new("CreateTable", e)),
    }
    client
        .wait_until_table_exists()
        .table_name(name)
        .wait(MAX_WAIT)
        .await
        .map_err(|e| SetupError::new("waiting for the table to be ACTIVE", e))?;
    enable_ttl(client, name).await
}

fn key_schema(pk: &str, sk: &str) -> Result<Vec<KeySchemaElement>, SetupError> {
    [(pk, KeyType::Hash), (sk, KeyType::Range)]
        .into_iter()
        .map(|(attr, key_type)| {
            KeySchemaElement::builder()
                .attribute_name(attr)
                .key_type(key_type)
                .build()
                .map_err(|e| SetupError::new("CreateTable", e))
        })
        .collect()
}

async fn enable_ttl(client: &Client, name: &str) -> Result<(), SetupError> {
    let current = client
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .map_err(|e| SetupError::new("DescribeTimeToLive", e))?;
    let enabled = current.time_to_live_description().is_some_and(|d| {
        d.attribute_name() == Some(TTL)
            && matches!(
                d.time_to_live_status(),
                Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
            )
    });
    if enabled {
        return Ok(());
    }
    // Enabling TTL twice is an error in DynamoDB, hence the check above.
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(TTL)
                .enabled(true)
                .build()
                .map_err(|e| SetupError::new("UpdateTimeToLive", e))?,
        )
        .send()
        .await
        .map_err(|e| SetupError::new("UpdateTimeToLive", e))?;
    Ok(())
}
