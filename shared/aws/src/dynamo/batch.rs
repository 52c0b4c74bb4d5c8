//! BatchGetItem and BatchWriteItem: the calls that succeed partially, so they retry what
//! DynamoDB left unprocessed, with backoff (the SDK retries whole failed calls, not these).

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::types::{KeysAndAttributes, PutRequest, WriteRequest};
use smscrm_domain::ports::table::{
    Item, Key, MAX_BATCH_GET, MAX_BATCH_WRITE_CALL, PK, StoreError, dedupe_by_key,
};
use tokio::task::JoinSet;

use super::codec::{DynItem, from_dynamo, key_to_dynamo, to_dynamo};
use super::errors::store_error;
use crate::backoff::{RetryBudget, pause};

/// BatchWriteItem calls in flight at once per `batch_put`: enough to hide latency, few enough
/// not to trip on-demand throttling or starve other requests on a small Lambda.
const WRITE_CONCURRENCY: usize = 4;
/// Conditional PutItem calls in flight at once per `batch_put_if_absent`: one item a call, so
/// as many items in flight as [`WRITE_CONCURRENCY`] batch calls would have in half their calls.
const CONDITIONAL_PUT_CONCURRENCY: usize = 16;

/// Up to [`MAX_BATCH_GET`] keys, consistently read; missing items are left out.
pub(super) async fn get(
    client: &Client,
    table: &str,
    keys: &[Key],
    budget: RetryBudget,
) -> Result<Vec<Item>, StoreError> {
    if keys.len() > MAX_BATCH_GET {
        return Err(StoreError::Invalid(format!(
            "batch_get takes at most {MAX_BATCH_GET} keys, not {}",
            keys.len()
        )));
    }
    // DynamoDB rejects a request naming the same key twice; the port does not.
    let mut seen = HashSet::new();
    let mut pending: Vec<DynItem> = keys
        .iter()
        .filter(|k| seen.insert(*k))
        .map(key_to_dynamo)
        .collect();
    let mut found = Vec::with_capacity(pending.len());
    let mut retry = 0;
    while !pending.is_empty() {
        let request = KeysAndAttributes::builder()
            .set_keys(Some(std::mem::take(&mut pending)))
            .consistent_read(true)
            .build()
            .map_err(StoreError::backend)?;
        let out = client
            .batch_get_item()
            .request_items(table, request)
            .send()
            .await
            .map_err(store_error)?;
        for item in out
            .responses
            .and_then(|mut r| r.remove(table))
            .unwrap_or_default()
        {
            found.push(from_dynamo(item)?);
        }
        // Left over when the response would pass 16 MB or the table is throttled.
        pending = out
            .unprocessed_keys
            .and_then(|mut u| u.remove(table))
            .map(|k| k.keys)
            .unwrap_or_default();
        if !pending.is_empty() {
            retry_or_give_up(&mut retry, budget, "BatchGetItem", pending.len()).await?;
        }
    }
    Ok(found)
}

/// Any number of items: the last of each key wins, written 25 per call, a few calls at a time.
pub(super) async fn put(
    client: &Client,
    table: &str,
    items: Vec<Item>,
    budget: RetryBudget,
) -> Result<(), StoreError> {
    let items = dedupe_by_key(items)?;
    let mut requests = Vec::with_capacity(items.len());
    for item in &items {
        let put = PutRequest::builder()
            .set_item(Some(to_dynamo(item)?))
            .build()
            .map_err(StoreError::backend)?;
        requests.push(WriteRequest::builder().put_request(put).build());
    }
    let mut chunks = chunked(requests, MAX_BATCH_WRITE_CALL).into_iter();
    let mut running = JoinSet::new();
    loop {
        while running.len() < WRITE_CONCURRENCY {
            let Some(chunk) = chunks.next() else { break };
            let (client, table) = (client.clone(), table.to_owned());
            running.spawn(async move { write_chunk(&client, &table, chunk, budget).await });
        }
        // Dropping the JoinSet on an early return aborts the chunks still running.
        match running.join_next().await {
            None => return Ok(()),
            Some(Ok(result)) => result?,
            Some(Err(join_error)) => return Err(StoreError::backend(join_error)),
        }
    }
}

/// Puts each item whose key holds none (BatchWriteItem takes no conditions, so one
/// conditional PutItem each, a few at a time); returns the keys that held one already.
pub(super) async fn put_if_absent(
    client: &Client,
    table: &str,
    items: Vec<Item>,
    budget: RetryBudget,
) -> Result<Vec<Key>, StoreError> {
    let mut items = dedupe_by_key(items)?.into_iter();
    let mut running = JoinSet::new();
    let mut taken = Vec::new();
    loop {
        while running.len() < CONDITIONAL_PUT_CONCURRENCY {
            let Some(item) = items.next() else { break };
            let key = Key::of(&item)?;
            let request = client
                .put_item()
                .table_name(table)
                .set_item(Some(to_dynamo(&item)?))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK);
            running.spawn(async move { (key, put_retrying(request, budget).await) });
        }
        // Dropping the JoinSet on an early return aborts the puts still running.
        match running.join_next().await {
            None => return Ok(taken),
            Some(Ok((_, Ok(_)))) => {}
            Some(Ok((key, Err(StoreError::ConditionFailed)))) => taken.push(key),
            Some(Ok((_, Err(other)))) => return Err(other),
            Some(Err(join_error)) => return Err(StoreError::backend(join_error)),
        }
    }
}

/// One conditional put, retried with backoff while DynamoDB throttles, as long as
/// [`write_chunk`] retries unprocessed items: a claim throttled on the tenant's hot partition
/// must not fail a whole import run sooner than a batch write would.
async fn put_retrying(
    request: PutItemFluentBuilder,
    budget: RetryBudget,
) -> Result<(), StoreError> {
    let mut retry = 0;
    loop {
        match request.clone().send().await.map_err(store_error) {
            Ok(_) => return Ok(()),
            Err(StoreError::Unavailable(_)) if retry < budget.retries() => {
                pause(retry, budget).await;
                retry += 1;
            }
            Err(other) => return Err(other),
        }
    }
}

async fn write_chunk(
    client: &Client,
    table: &str,
    chunk: Vec<WriteRequest>,
    budget: RetryBudget,
) -> Result<(), StoreError> {
    let mut pending = chunk;
    let mut retry = 0;
    while !pending.is_empty() {
        let out = client
            .batch_write_item()
            .request_items(table, std::mem::take(&mut pending))
            .send()
            .await
            .map_err(store_error)?;
        pending = out
            .unprocessed_items
            .and_then(|mut u: HashMap<String, Vec<WriteRequest>>| u.remove(table))
            .unwrap_or_default();
        if !pending.is_empty() {
            retry_or_give_up(&mut retry, budget, "BatchWriteItem", pending.len()).await?;
        }
    }
    Ok(())
}

async fn retry_or_give_up(
    retry: &mut u32,
    budget: RetryBudget,
    call: &str,
    left: usize,
) -> Result<(), StoreError> {
    if *retry >= budget.retries() {
        return Err(StoreError::Unavailable(format!(
            "{call} left {left} items unprocessed after {} retries",
            budget.retries()
        )));
    }
    tracing::debug!(call, left, retry = *retry, "retrying unprocessed items");
    pause(*retry, budget).await;
    *retry += 1;
    Ok(())
}

fn chunked<T>(items: Vec<T>, size: usize) -> Vec<Vec<T>> {
    let mut chunks = Vec::with_capacity(items.len().div_ceil(size));
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        chunks.push(items.by_ref().take(size).collect());
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_of_twenty_five() {
        let sizes: Vec<usize> = chunked((0..60).collect(), 25)
            .iter()
            .map(Vec::len)
            .collect();
        assert_eq!(sizes, vec![25, 25, 10]);
        assert!(chunked(Vec::<u8>::new(), 25).is_empty());
    }
}
