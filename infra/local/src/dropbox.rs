//! The local analogue of the S3 trigger: watches `<data-dir>/dropbox/tenants/*/imports/` and
//! hands each new file, once it has stopped changing, to the same drop-folder code the
//! `csv-import` Lambda runs.

use std::collections::HashMap;
use std::time::Duration;

use csv_import::{DropFolder, DropOutcome, StoredImportError, worth_a_look};
use smscrm_domain::ports::BlobStat;
use tokio::time::Instant;

/// How often the folder is scanned.
const SCAN_EVERY: Duration = Duration::from_millis(500);
/// How long a file must stay the same (size and modification time) before it is taken: a
/// copy that stalls for a moment is not imported half-written. (Writing under another name
/// and renaming it into the folder is safe whatever the pauses.)
const SETTLED_AFTER: Duration = Duration::from_secs(2);
/// How long a file whose last row has no line end must stay the same: it may be a copy that
/// stalled in the middle of a row, whose cut-off phone could still read as someone's number.
const UNFINISHED_SETTLED_AFTER: Duration = Duration::from_secs(15);

/// Runs until the task is dropped. Files are processed one at a time, in name order.
pub async fn watch(folder: DropFolder) {
    // Each file as last seen, and since when it has looked so.
    let mut seen: HashMap<String, (BlobStat, Instant)> = HashMap::new();
    // Files ignored for a reason worth telling (no such tenant), as told: told once per
    // version rather than on every scan, while still looked at on every scan (the tenant
    // may be created).
    let mut told: HashMap<String, BlobStat> = HashMap::new();
    loop {
        tokio::time::sleep(SCAN_EVERY).await;
        let keys = match folder.blobs.list("tenants/").await {
            Ok(keys) => keys,
            Err(e) => {
                tracing::warn!(error = %e, "scanning the drop folder failed");
                continue;
            }
        };
        for key in keys.into_iter().filter(|k| worth_a_look(k)) {
            let Ok(Some(now)) = folder.blobs.stat(&key).await else {
                continue;
            };
            let since = match seen.get(&key) {
                Some((before, since)) if *before == now => *since,
                _ => {
                    seen.insert(key.clone(), (now, Instant::now()));
                    continue;
                }
            };
            if since.elapsed() < SETTLED_AFTER {
                continue;
            }
            if since.elapsed() < UNFINISHED_SETTLED_AFTER && !ends_a_line(&folder, &key, &now).await
            {
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
                    if told.get(&key) != Some(&now) {
                        tracing::warn!(%key, why, "drop folder file ignored");
                        told.insert(key.clone(), now);
                    }
                }
                // A new sidecar waiting for the file's running import: looked at again.
                Err(StoredImportError::Busy(why)) => {
                    tracing::debug!(%key, why, "drop folder file busy")
                }
                Err(e) => tracing::warn!(%key, error = %e, "drop folder import failed; retrying"),
            }
        }
    }
}

/// Whether the file ends a line, as every row of a finished export does (a sidecar's JSON
/// need not): its last byte is a line end, or in UTF-16 its last two bytes are one.
async fn ends_a_line(folder: &DropFolder, key: &str, file: &BlobStat) -> bool {
    use tokio::io::AsyncReadExt as _;
    if key.ends_with(".json") || file.size < 2 {
        return true;
    }
    let Ok(Some(mut last)) = (folder.blobs)
        .open_range(key, &file.tag, file.size - 2, file.size)
        .await
    else {
        return true;
    };
    let mut end = [0u8; 2];
    match last.read_exact(&mut end).await {
        Ok(_) => matches!(end, [_, b'\n' | b'\r'] | [b'\n' | b'\r', 0]),
        Err(_) => true,
    }
}
