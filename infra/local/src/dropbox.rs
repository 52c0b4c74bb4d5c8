//! The local analogue of the S3 trigger: watches `<data-dir>/dropbox/tenants/*/imports/` and
//! hands each new file, once it has stopped growing, to the same drop-folder code the
//! `csv-import` Lambda runs.

use std::collections::HashMap;
use std::time::Duration;

use csv_import::{DropFolder, DropOutcome, parse_key};

/// How often the folder is scanned.
const SCAN_EVERY: Duration = Duration::from_millis(500);

/// Runs until the task is dropped. Files are processed one at a time, in name order.
pub async fn watch(folder: DropFolder) {
    // Size seen at the previous scan: a file is taken only when two scans agree, so a copy
    // still in progress is not imported half-written.
    let mut seen: HashMap<String, u64> = HashMap::new();
    loop {
        tokio::time::sleep(SCAN_EVERY).await;
        let keys = match folder.blobs.list("tenants/").await {
            Ok(keys) => keys,
            Err(e) => {
                tracing::warn!(error = %e, "scanning the drop folder failed");
                continue;
            }
        };
        for key in keys.into_iter().filter(|k| parse_key(k).is_ok()) {
            let Ok(Some(size)) = folder.blobs.size(&key).await else {
                continue;
            };
            if seen.insert(key.clone(), size) != Some(size) {
                continue;
            }
            match folder.process(&key).await {
                Ok(DropOutcome::Queued { import_id }) => {
                    tracing::info!(%key, %import_id, "drop folder import queued");
                }
                Ok(DropOutcome::Refused { import_id, reason }) => {
                    tracing::warn!(%key, %import_id, %reason, "drop folder file refused");
                }
                Ok(DropOutcome::Ignored("already imported")) => {}
                Ok(DropOutcome::Ignored(why)) => {
                    tracing::warn!(%key, why, "drop folder file ignored")
                }
                Err(e) => tracing::warn!(%key, error = %e, "drop folder import failed; retrying"),
            }
        }
    }
}
