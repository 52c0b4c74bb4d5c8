//! [`DirBlobs`]: the Blobs port as files under a root directory, a key's `/`-separated segments
//! being directories. Writes go to a temporary file beside the target and are renamed over it,
//! so a reader (or the drop-folder watcher) sees the old file or the whole new one, never half.
//!
//! [`Blobs::put_stream`] writes the same way, streaming into the temporary file; a body that
//! fails (or a write that is cancelled) removes it.
//!
//! Limits against S3: the content type is not kept (nothing reads it back locally), a key
//! cannot be both an object and a "directory" of other keys (`a` and `a/b`): the second write
//! fails, and there are no presigned upload URLs ([`Blobs::presign_put`] is `None`): the local
//! host serves uploads itself.

use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use smscrm_domain::ports::blobs::{
    BlobError, BlobReader, BlobStat, Blobs, PresignedUpload, validate_key, validate_presign_expiry,
};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _};

/// Chunk size of [`Blobs::put_stream`] (bytes read from the body, then written, at a time) and
/// read-ahead of [`Blobs::open`].
const STREAM_CHUNK: usize = 256 << 10;

/// Names of files being written start with this; they are never listed or returned.
pub const TEMP_PREFIX: &str = ".~tmp-";

/// True for a file name (last path segment) that is a write in progress, for watchers of the
/// directory to skip.
pub fn is_temp_file(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX)
}

#[derive(Debug, Clone)]
pub struct DirBlobs {
    root: PathBuf,
}

impl DirBlobs {
    /// Blobs under `root`, which is created on the first write.
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file that holds `key`.
    /// The file under `key` as a reader, when it is a file and `wanted` says yes to it.
    async fn open_if(
        &self,
        key: &str,
        wanted: impl FnOnce(&std::fs::Metadata) -> bool,
    ) -> Result<Option<BlobReader>, BlobError> {
        Ok(self.open_file_if(key, wanted).await?.map(buffered))
    }

    /// The file of `key`, opened, if it is one and `wanted` says yes to it.
    async fn open_file_if(
        &self,
        key: &str,
        wanted: impl FnOnce(&std::fs::Metadata) -> bool,
    ) -> Result<Option<tokio::fs::File>, BlobError> {
        let path = self.path_of(key)?;
        let file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(err) if is_absent(&err) => return Ok(None),
            Err(err) => return Err(BlobError::backend(err)),
        };
        // Opening a directory succeeds on Unix; it is not an object.
        let meta = file.metadata().await.map_err(BlobError::backend)?;
        if !meta.is_file() || !wanted(&meta) {
            return Ok(None);
        }
        Ok(Some(file))
    }

    pub fn path_of(&self, key: &str) -> Result<PathBuf, BlobError> {
        validate_key(key)?;
        if key.split('/').any(is_temp_file) {
            // Would collide with, or be hidden as, a write in progress.
            return Err(BlobError::InvalidKey(key.to_owned()));
        }
        Ok(self.root.join(key))
    }
}

/// Runs blocking file-system work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, BlobError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(BlobError::backend),
        Err(err) => Err(BlobError::backend(err)),
    }
}

/// "No object here": the path is missing, goes through a file, or is a directory.
fn is_absent(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::NotFound | ErrorKind::NotADirectory | ErrorKind::IsADirectory
    )
}

/// A fresh temporary file name beside `path`, in a directory that exists.
fn temp_beside(path: &Path) -> std::io::Result<PathBuf> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::new(ErrorKind::InvalidInput, "blob path has no parent"))?;
    std::fs::create_dir_all(dir)?;
    Ok(dir.join(format!("{TEMP_PREFIX}{}", ulid::Ulid::new())))
}

fn write_atomically(path: &Path, body: &[u8]) -> std::io::Result<()> {
    let temp = temp_beside(path)?;
    let written = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(body)?;
        // On disk before the rename makes it visible: a crash leaves the old file or the new.
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// Removes the temporary file of a streamed write when dropped before [`TempFile::keep`]:
/// on an error, and when the writing future is dropped half-way (cancelled).
struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    fn new(path: PathBuf) -> Self {
        Self { path, armed: true }
    }

    /// The write succeeded and renamed the file: nothing to clean up.
    fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            // One unlink, quick enough to do inline; it may already be gone.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Streams `body` into a new temporary file beside `path`, syncs it and renames it over `path`.
async fn write_stream_atomically(path: PathBuf, mut body: BlobReader) -> Result<u64, BlobError> {
    // The guard is made in the blocking task with the file: if this future is dropped while
    // the task runs, the runtime drops the task's output, guard included, and the file goes.
    let (temp, file) = {
        let path = path.clone();
        blocking(move || {
            let temp_path = temp_beside(&path)?;
            let file = std::fs::File::create(&temp_path)?;
            Ok((TempFile::new(temp_path), file))
        })
        .await?
    };
    let mut file = tokio::fs::File::from_std(file);
    let mut buf = vec![0u8; STREAM_CHUNK];
    let mut written = 0u64;
    loop {
        let n = match body.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) => return Err(BlobError::Body(err)),
        };
        file.write_all(&buf[..n])
            .await
            .map_err(BlobError::backend)?;
        written += n as u64;
    }
    // `flush` waits for the write in flight (tokio writes in the background) and reports its
    // error; on disk before the rename makes it visible.
    file.flush().await.map_err(BlobError::backend)?;
    file.sync_all().await.map_err(BlobError::backend)?;
    drop(file);
    tokio::fs::rename(&temp.path, &path)
        .await
        .map_err(BlobError::backend)?;
    temp.keep();
    Ok(written)
}

/// Collects the files under `dir` (whose key is `dir_key`) whose keys start with `prefix`.
fn walk(dir: &Path, dir_key: &str, prefix: &str, out: &mut Vec<String>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if is_absent(&err) => return Ok(()),
        Err(err) => return Err(err),
    };
    for entry in entries {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue; // not UTF-8: cannot be a key
        };
        if is_temp_file(&name) {
            continue;
        }
        let key = if dir_key.is_empty() {
            name
        } else {
            format!("{dir_key}/{name}")
        };
        // Does not follow symlinks: only what was written through the port is listed.
        let kind = entry.file_type()?;
        if kind.is_dir() {
            let as_dir = format!("{key}/");
            if as_dir.starts_with(prefix) || prefix.starts_with(&as_dir) {
                walk(&entry.path(), &key, prefix, out)?;
            }
        } else if kind.is_file() && key.starts_with(prefix) {
            out.push(key);
        }
    }
    Ok(())
}

/// Each read of a tokio file is a trip to the blocking pool: read ahead in large chunks for
/// callers that read a few KiB at a time.
fn buffered(file: tokio::fs::File) -> BlobReader {
    Box::pin(tokio::io::BufReader::with_capacity(STREAM_CHUNK, file))
}

#[async_trait]
impl Blobs for DirBlobs {
    async fn put(&self, key: &str, body: Bytes, _content_type: &str) -> Result<(), BlobError> {
        let path = self.path_of(key)?;
        blocking(move || write_atomically(&path, &body)).await
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, BlobError> {
        let path = self.path_of(key)?;
        blocking(move || match std::fs::read(&path) {
            Ok(body) => Ok(Some(Bytes::from(body))),
            Err(err) if is_absent(&err) => Ok(None),
            Err(err) => Err(err),
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        let path = self.path_of(key)?;
        blocking(move || match std::fs::remove_file(&path) {
            Err(err) if !is_absent(&err) => Err(err),
            _ => Ok(()),
        })
        .await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        // Start at the deepest directory the prefix names in full. When that part could not
        // belong to a valid key (`..`, empty segments, ...), no key can match.
        let dir_key = prefix.rsplit_once('/').map_or("", |(dir, _)| dir);
        if !dir_key.is_empty() && validate_key(dir_key).is_err() {
            return Ok(Vec::new());
        }
        let (start, prefix, dir_key) = (
            self.root.join(dir_key),
            prefix.to_owned(),
            dir_key.to_owned(),
        );
        blocking(move || {
            let mut keys = Vec::new();
            walk(&start, &dir_key, &prefix, &mut keys)?;
            // Byte order, as S3 lists keys.
            keys.sort_unstable();
            Ok(keys)
        })
        .await
    }

    async fn open(&self, key: &str) -> Result<Option<BlobReader>, BlobError> {
        self.open_if(key, |_| true).await
    }

    async fn open_version(&self, key: &str, tag: &str) -> Result<Option<BlobReader>, BlobError> {
        // Writes rename a new file into place, so the file opened stays this version.
        self.open_if(key, |meta| file_tag(meta) == tag).await
    }

    async fn open_range(
        &self,
        key: &str,
        tag: &str,
        start: u64,
        end: u64,
    ) -> Result<Option<BlobReader>, BlobError> {
        let Some(mut file) = self.open_file_if(key, |meta| file_tag(meta) == tag).await? else {
            return Ok(None);
        };
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(BlobError::backend)?;
        let reader = tokio::io::BufReader::with_capacity(STREAM_CHUNK, file);
        Ok(Some(Box::pin(reader.take(end.saturating_sub(start)))))
    }

    async fn put_stream(
        &self,
        key: &str,
        body: BlobReader,
        _content_type: &str,
    ) -> Result<u64, BlobError> {
        let path = self.path_of(key)?;
        write_stream_atomically(path, body).await
    }

    /// Always `None`: the local host serves an upload endpoint of its own.
    async fn presign_put(
        &self,
        key: &str,
        expires_in: Duration,
        _content_type: &str,
    ) -> Result<Option<PresignedUpload>, BlobError> {
        self.path_of(key)?;
        validate_presign_expiry(expires_in)?;
        Ok(None)
    }

    async fn stat(&self, key: &str) -> Result<Option<BlobStat>, BlobError> {
        let path = self.path_of(key)?;
        match tokio::fs::metadata(&path).await {
            Ok(meta) if meta.is_file() => Ok(Some(BlobStat {
                size: meta.len(),
                tag: file_tag(&meta),
            })),
            Ok(_) => Ok(None),
            Err(err) if is_absent(&err) => Ok(None),
            Err(err) => Err(BlobError::backend(err)),
        }
    }
}

/// Every write goes to a new file renamed into place, so the file's identity (inode) tells
/// writes apart even within one clock tick; the modification time covers other platforms.
fn file_tag(meta: &std::fs::Metadata) -> String {
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    #[cfg(unix)]
    let identity = std::os::unix::fs::MetadataExt::ino(meta);
    #[cfg(not(unix))]
    let identity = 0u64;
    format!("{identity:x}-{modified:x}-{:x}", meta.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs() -> (tempfile::TempDir, DirBlobs) {
        let dir = tempfile::tempdir().expect("temp dir");
        let blobs = DirBlobs::new(dir.path().join("blobs"));
        (dir, blobs)
    }

    #[tokio::test]
    async fn put_get_delete_round_trip() -> Result<(), BlobError> {
        let (_dir, blobs) = blobs();
        assert_eq!(blobs.get("imports/t1/a.csv").await?, None);
        blobs
            .put("imports/t1/a.csv", Bytes::from_static(b"x,y"), "text/csv")
            .await?;
        blobs
            .put("imports/t1/a.csv", Bytes::from_static(b"1,2"), "text/csv")
            .await?;
        assert_eq!(
            blobs.get("imports/t1/a.csv").await?,
            Some(Bytes::from_static(b"1,2"))
        );
        blobs.delete("imports/t1/a.csv").await?;
        blobs.delete("imports/t1/a.csv").await?;
        assert_eq!(blobs.get("imports/t1/a.csv").await?, None);
        Ok(())
    }

    #[tokio::test]
    async fn list_is_sorted_recursive_and_by_string_prefix() -> Result<(), BlobError> {
        let (dir, blobs) = blobs();
        for key in ["b/2", "a/x/1", "a/1", "ab", "a/x/0"] {
            blobs
                .put(key, Bytes::from_static(b"."), "text/plain")
                .await?;
        }
        // A write in progress is never listed.
        std::fs::write(
            dir.path().join("blobs/a").join(format!("{TEMP_PREFIX}1")),
            b"",
        )
        .map_err(BlobError::backend)?;
        assert_eq!(
            blobs.list("").await?,
            ["a/1", "a/x/0", "a/x/1", "ab", "b/2"]
        );
        assert_eq!(blobs.list("a").await?, ["a/1", "a/x/0", "a/x/1", "ab"]);
        assert_eq!(blobs.list("a/").await?, ["a/1", "a/x/0", "a/x/1"]);
        assert_eq!(blobs.list("a/x/1").await?, ["a/x/1"]);
        assert!(blobs.list("c/").await?.is_empty());
        assert!(blobs.list("../").await?.is_empty());
        Ok(())
    }

    #[tokio::test]
    async fn invalid_keys_are_rejected() {
        let (_dir, blobs) = blobs();
        for key in [
            "",
            "/a",
            "a//b",
            "../a",
            "a/./b",
            &format!("a/{TEMP_PREFIX}x"),
        ] {
            let put = blobs.put(key, Bytes::new(), "text/plain").await;
            assert!(matches!(put, Err(BlobError::InvalidKey(_))), "{key}");
            assert!(
                matches!(blobs.get(key).await, Err(BlobError::InvalidKey(_))),
                "{key}"
            );
        }
    }

    #[tokio::test]
    async fn a_failed_write_leaves_no_temp_file() -> Result<(), BlobError> {
        let (dir, blobs) = blobs();
        blobs
            .put("a/b", Bytes::from_static(b"1"), "text/plain")
            .await?;
        // `a` is a directory now, so a blob named `a` cannot be renamed into place.
        assert!(
            blobs
                .put("a", Bytes::from_static(b"2"), "text/plain")
                .await
                .is_err()
        );
        let streamed = blobs
            .put_stream(
                "a",
                smscrm_domain::ports::blobs::reader_from_bytes(Bytes::from_static(b"3")),
                "text/plain",
            )
            .await;
        assert!(
            matches!(streamed, Err(BlobError::Backend(_))),
            "{streamed:?}"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path().join("blobs"))
            .map_err(BlobError::backend)?
            .filter_map(|e| e.ok().and_then(|e| e.file_name().into_string().ok()))
            .collect();
        assert_eq!(names, ["a"]);
        Ok(())
    }
}
