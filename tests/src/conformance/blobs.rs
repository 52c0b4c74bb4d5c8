//! Conformance cases of the [`Blobs`] port. Every case works under a prefix of its own.

use std::fmt::Debug;
use std::io::ErrorKind;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use smscrm_domain::ports::blobs::{
    BlobError, BlobReader, Blobs, MAX_PRESIGN_EXPIRY, reader_from_bytes,
};
use tokio::io::{AsyncRead, AsyncReadExt as _, ReadBuf};

use super::{eventually, unique};
use crate::backends::Backend;

/// The part size of the S3 adapter's multipart uploads: the streaming cases write bodies on
/// both sides of it (the directory adapter has no such threshold, which is the point).
const PART: u64 = smscrm_aws::S3Blobs::PART_SIZE as u64;
const MIB: u64 = 1 << 20;

/// This module's source, for the check that every case is listed in the suite macro.
pub const SOURCE: &str = include_str!("blobs.rs");

async fn put(blobs: &dyn Blobs, key: &str, body: impl Into<Bytes>) {
    blobs
        .put(key, body.into(), "application/octet-stream")
        .await
        .unwrap_or_else(|e| panic!("put {key:?}: {e:?}"));
}

async fn get(blobs: &dyn Blobs, key: &str) -> Option<Bytes> {
    blobs
        .get(key)
        .await
        .unwrap_or_else(|e| panic!("get {key:?}: {e:?}"))
}

async fn list(blobs: &dyn Blobs, prefix: &str) -> Vec<String> {
    blobs
        .list(prefix)
        .await
        .unwrap_or_else(|e| panic!("list {prefix:?}: {e:?}"))
}

async fn open(blobs: &dyn Blobs, key: &str) -> Option<BlobReader> {
    blobs
        .open(key)
        .await
        .unwrap_or_else(|e| panic!("open {key:?}: {e:?}"))
}

async fn size(blobs: &dyn Blobs, key: &str) -> Option<u64> {
    blobs
        .size(key)
        .await
        .unwrap_or_else(|e| panic!("size {key:?}: {e:?}"))
}

/// The whole object through `open` (small objects only).
async fn read_all(blobs: &dyn Blobs, key: &str) -> Option<Vec<u8>> {
    let mut reader = open(blobs, key).await?;
    let mut body = Vec::new();
    reader
        .read_to_end(&mut body)
        .await
        .unwrap_or_else(|e| panic!("read {key:?}: {e:?}"));
    Some(body)
}

async fn put_stream(blobs: &dyn Blobs, key: &str, body: BlobReader) -> u64 {
    blobs
        .put_stream(key, body, "text/csv")
        .await
        .unwrap_or_else(|e| panic!("put_stream {key:?}: {e:?}"))
}

async fn unfinished_writes(backend: &dyn Backend, prefix: &str) -> Vec<String> {
    let mut found = backend.unfinished_blob_writes().await;
    found.retain(|what| what.contains(prefix));
    found
}

#[track_caller]
fn assert_invalid_key<T: Debug>(result: Result<T, BlobError>, what: &str) {
    assert!(
        matches!(result, Err(BlobError::InvalidKey(_))),
        "{what}: expected Err(InvalidKey(_)), got {result:?}"
    );
}

/// put, get, overwrite, list by prefix, delete (twice: deleting a missing key is fine).
pub async fn put_get_list_delete(backend: &dyn Backend) {
    let blobs = backend.blobs();
    let p = unique("blobs");
    let a = format!("{p}/a.csv");
    let c = format!("{p}/b/c.txt");
    blobs
        .put(&a, Bytes::from_static(b"alpha"), "text/csv")
        .await
        .expect("put a");
    blobs
        .put(&c, Bytes::from_static(b"gamma"), "text/plain")
        .await
        .expect("put c");
    assert_eq!(get(&*blobs, &a).await.as_deref(), Some(&b"alpha"[..]));
    assert_eq!(get(&*blobs, &c).await.as_deref(), Some(&b"gamma"[..]));

    put(&*blobs, &a, &b"beta, longer than alpha"[..]).await;
    assert_eq!(
        get(&*blobs, &a).await.as_deref(),
        Some(&b"beta, longer than alpha"[..]),
        "an overwrite replaces the content"
    );
    put(&*blobs, &a, &b"b"[..]).await;
    assert_eq!(
        get(&*blobs, &a).await.as_deref(),
        Some(&b"b"[..]),
        "a shorter overwrite leaves no tail"
    );

    assert_eq!(
        list(&*blobs, &format!("{p}/")).await,
        vec![a.clone(), c.clone()]
    );
    assert_eq!(list(&*blobs, &format!("{p}/b/")).await, vec![c.clone()]);

    blobs.delete(&a).await.expect("delete a");
    assert_eq!(get(&*blobs, &a).await, None, "gone after delete");
    assert_eq!(list(&*blobs, &format!("{p}/")).await, vec![c.clone()]);
    blobs
        .delete(&a)
        .await
        .expect("deleting a missing key is not an error");
    blobs.delete(&c).await.expect("delete c");
    assert_eq!(list(&*blobs, &format!("{p}/")).await, Vec::<String>::new());
}

/// A missing key is `None`, an unused prefix lists nothing.
pub async fn missing_is_none(backend: &dyn Backend) {
    let blobs = backend.blobs();
    let p = unique("missing");
    assert_eq!(get(&*blobs, &format!("{p}/nothing.csv")).await, None);
    assert_eq!(get(&*blobs, &p).await, None);
    assert_eq!(list(&*blobs, &format!("{p}/")).await, Vec::<String>::new());
    // A "directory" is not an object.
    put(&*blobs, &format!("{p}/dir/file"), &b"x"[..]).await;
    assert_eq!(
        get(&*blobs, &format!("{p}/dir")).await,
        None,
        "a key's parent is not a blob"
    );
    for key in [format!("{p}/nothing.csv"), p.clone(), format!("{p}/dir")] {
        assert!(open(&*blobs, &key).await.is_none(), "open {key:?} is None");
        assert_eq!(size(&*blobs, &key).await, None, "size {key:?}");
    }
}

/// Keys that are not relative `/`-paths are rejected by put, get and delete alike.
pub async fn invalid_keys_are_rejected(backend: &dyn Backend) {
    let blobs = backend.blobs();
    let p = unique("invalid");
    let long = "x".repeat(1025);
    let bad = [
        String::new(),
        "/absolute".to_owned(),
        format!("{p}/"),
        format!("{p}//double"),
        format!("{p}/./dot"),
        format!("{p}/../escape"),
        "..".to_owned(),
        format!("{p}\\back"),
        format!("{p}/nul\0byte"),
        long,
    ];
    for key in &bad {
        let shown: String = key.chars().take(40).collect();
        assert_invalid_key(
            blobs.put(key, Bytes::from_static(b"x"), "text/plain").await,
            &format!("put {shown:?}"),
        );
        assert_invalid_key(blobs.get(key).await, &format!("get {shown:?}"));
        assert_invalid_key(blobs.delete(key).await, &format!("delete {shown:?}"));
        assert_invalid_key(
            blobs.open(key).await.map(|reader| reader.is_some()),
            &format!("open {shown:?}"),
        );
        assert_invalid_key(blobs.size(key).await, &format!("size {shown:?}"));
        assert_invalid_key(
            blobs
                .put_stream(
                    key,
                    reader_from_bytes(Bytes::from_static(b"x")),
                    "text/plain",
                )
                .await,
            &format!("put_stream {shown:?}"),
        );
        assert_invalid_key(
            blobs
                .presign_put(key, Duration::from_secs(60), "text/csv")
                .await,
            &format!("presign_put {shown:?}"),
        );
    }
    assert_eq!(
        list(&*blobs, &format!("{p}/")).await,
        Vec::<String>::new(),
        "nothing written"
    );
    // The longest valid key is fine (in segments a file system takes).
    let mut longest = p.clone();
    while longest.len() < 1024 {
        let room = (1024 - longest.len() - 1).min(200);
        longest = format!("{longest}/{}", "y".repeat(room.max(1)));
    }
    assert_eq!(longest.len(), 1024);
    put(&*blobs, &longest, &b"ok"[..]).await;
    assert_eq!(get(&*blobs, &longest).await.as_deref(), Some(&b"ok"[..]));
}

/// Every byte value, a large body and an empty body come back intact.
pub async fn binary_content_is_intact(backend: &dyn Backend) {
    let blobs = backend.blobs();
    let p = unique("binary");
    let every_byte: Vec<u8> = (0..=255u8).collect();
    let large: Vec<u8> = (0..(3 << 20) + 7)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for (name, body) in [
        ("every-byte.bin", every_byte),
        ("large.bin", large),
        ("empty.bin", Vec::new()),
        ("crlf.txt", b"a\r\nb\rc\n\xef\xbb\xbfbom".to_vec()),
    ] {
        let key = format!("{p}/{name}");
        put(&*blobs, &key, body.clone()).await;
        let got = get(&*blobs, &key)
            .await
            .unwrap_or_else(|| panic!("{name} missing"));
        assert!(
            got.as_ref() == body.as_slice(),
            "{name}: {} bytes came back as {} different bytes",
            body.len(),
            got.len()
        );
    }
}

/// Keys with spaces, `+`, `%`, `=`, `&`, quotes and non-ASCII round-trip through put, get,
/// list and delete unchanged (S3 URL-encodes keys on the wire and in events).
pub async fn unusual_keys_round_trip(backend: &dyn Backend) {
    let blobs = backend.blobs();
    let p = unique("keys");
    let names = [
        "with space.csv",
        "plus+sign.csv",
        "a+b c.csv",
        "percent%20literal.csv",
        "pct%2Bplus",
        "ünïcödé/日本語 ファイル.csv",
        "emoji 😀 x=y&z.csv",
        "quote'double\"",
        "parens (1) [2] {3}.csv",
        "tilde~hash#question?.csv",
        "UPPER.CSV",
        "semi;colon,comma:colon",
    ];
    let mut keys = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let key = format!("{p}/{name}");
        put(&*blobs, &key, format!("content {i}")).await;
        keys.push(key);
    }
    for (i, key) in keys.iter().enumerate() {
        let want = format!("content {i}");
        assert_eq!(
            get(&*blobs, key).await.as_deref(),
            Some(want.as_bytes()),
            "get {key:?}"
        );
        assert_eq!(
            read_all(&*blobs, key).await.as_deref(),
            Some(want.as_bytes()),
            "open {key:?}"
        );
        assert_eq!(
            size(&*blobs, key).await,
            Some(want.len() as u64),
            "size {key:?}"
        );
    }
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        list(&*blobs, &format!("{p}/")).await,
        sorted,
        "list returns the keys as written, sorted"
    );
    assert_eq!(
        list(&*blobs, &format!("{p}/ünïcödé/")).await,
        vec![format!("{p}/ünïcödé/日本語 ファイル.csv")],
        "a non-ASCII prefix"
    );
    for key in &keys {
        blobs
            .delete(key)
            .await
            .unwrap_or_else(|e| panic!("delete {key:?}: {e:?}"));
        assert_eq!(get(&*blobs, key).await, None, "deleted {key:?}");
    }
    assert_eq!(list(&*blobs, &format!("{p}/")).await, Vec::<String>::new());
}

/// `list` matches a plain string prefix (as S3 does), not only whole directories, is
/// case-sensitive, and sorts by bytes.
pub async fn list_uses_string_prefixes_and_sorts(backend: &dyn Backend) {
    let blobs = backend.blobs();
    let p = unique("prefix");
    let keys = [
        "imports/2025-01.csv",
        "imports/2024-02.csv",
        "imports/2024-01.csv",
        "imports/2024-01.csv.done",
        "imports/sub/deep/2024-03.csv",
        "imports-old/x.csv",
        "Imports/upper.csv",
        "importsZ",
        "exports/a.csv",
    ];
    for key in keys {
        put(&*blobs, &format!("{p}/{key}"), &b"x"[..]).await;
    }
    let listed = |prefix: &str| {
        let blobs = blobs.clone();
        let full = format!("{p}/{prefix}");
        async move { list(&*blobs, &full).await }
    };
    let with_p =
        |names: &[&str]| -> Vec<String> { names.iter().map(|n| format!("{p}/{n}")).collect() };

    assert_eq!(
        listed("imports/").await,
        with_p(&[
            "imports/2024-01.csv",
            "imports/2024-01.csv.done",
            "imports/2024-02.csv",
            "imports/2025-01.csv",
            "imports/sub/deep/2024-03.csv",
        ]),
        "a directory prefix lists everything beneath it, sorted"
    );
    assert_eq!(
        listed("imports/2024").await,
        with_p(&[
            "imports/2024-01.csv",
            "imports/2024-01.csv.done",
            "imports/2024-02.csv"
        ]),
        "a partial file-name prefix"
    );
    assert_eq!(
        listed("imports").await,
        with_p(&[
            "imports-old/x.csv",
            "imports/2024-01.csv",
            "imports/2024-01.csv.done",
            "imports/2024-02.csv",
            "imports/2025-01.csv",
            "imports/sub/deep/2024-03.csv",
            "importsZ",
        ]),
        "a partial directory-name prefix"
    );
    assert_eq!(
        listed("Imports/").await,
        with_p(&["Imports/upper.csv"]),
        "case-sensitive"
    );
    assert_eq!(
        listed("imports/2024-01.csv").await,
        with_p(&["imports/2024-01.csv", "imports/2024-01.csv.done"])
    );
    assert_eq!(listed("nothing").await, Vec::<String>::new());
    assert_eq!(
        list(&*blobs, &p).await.len(),
        keys.len(),
        "the bare case prefix lists all"
    );
}

// ---------------------------------------------------------------------------------------------
// Streaming and presigned uploads

/// Generated content: byte `i` of the body with `seed`. Every 8-byte word differs, so a part
/// stored twice, dropped or swapped does not compare equal.
#[derive(Debug, Clone, Copy)]
struct Pattern {
    seed: u64,
}

impl Pattern {
    fn new() -> Self {
        // A fresh seed per body: content left over from another body never matches.
        let seed = ulid::Ulid::new().random() as u64;
        Self { seed }
    }

    fn word(self, index: u64) -> u64 {
        // splitmix64
        let mut z = (self.seed ^ index).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Fills `out` with the bytes at `offset..offset + out.len()`: word `n` (little-endian) is
    /// bytes `8n..8n + 8`.
    fn fill(self, offset: u64, out: &mut [u8]) {
        // Up to the next word boundary byte by byte, then whole words.
        let head = usize::try_from(offset.next_multiple_of(8) - offset)
            .expect("less than 8")
            .min(out.len());
        let (unaligned, aligned) = out.split_at_mut(head);
        for (i, byte) in (offset..).zip(unaligned.iter_mut()) {
            *byte = self.word(i >> 3).to_le_bytes()[(i & 7) as usize];
        }
        let first_word = (offset + head as u64) >> 3;
        for (n, chunk) in (first_word..).zip(aligned.chunks_mut(8)) {
            let len = chunk.len();
            chunk.copy_from_slice(&self.word(n).to_le_bytes()[..len]);
        }
    }

    fn bytes(self, len: u64) -> Vec<u8> {
        let mut out = vec![0; usize::try_from(len).expect("a body that fits in memory")];
        self.fill(0, &mut out);
        out
    }

    /// The first offset at which `got` (read from `offset`) differs, if any.
    fn mismatch(self, offset: u64, got: &[u8]) -> Option<u64> {
        let mut want = vec![0; got.len()];
        self.fill(offset, &mut want);
        got.iter()
            .zip(&want)
            .position(|(g, w)| g != w)
            .map(|at| offset + at as u64)
    }
}

/// How a [`PatternReader`] ends.
#[derive(Debug, Clone)]
enum Ending {
    /// After `len` bytes, as a body should.
    Eof,
    /// With a `ConnectionReset` error after `at` of the `len` bytes.
    FailAt(u64),
    /// Never: after `at` bytes every read is pending forever, with `reached` set.
    StallAt(u64, Arc<AtomicBool>),
}

/// A body of `len` [`Pattern`] bytes, produced the way a network body arrives: reads of uneven
/// sizes, some of them not ready at first.
struct PatternReader {
    pattern: Pattern,
    len: u64,
    pos: u64,
    polls: usize,
    ending: Ending,
}

impl PatternReader {
    fn boxed(pattern: Pattern, len: u64, ending: Ending) -> BlobReader {
        Box::pin(Self {
            pattern,
            len,
            pos: 0,
            polls: 0,
            ending,
        })
    }
}

impl AsyncRead for PatternReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        const CHUNKS: [u64; 5] = [65_536, 1, 100_003, 4_096, 777_777];
        let this = &mut *self;
        this.polls += 1;
        let stop = match &this.ending {
            Ending::Eof => this.len,
            Ending::FailAt(at) => {
                if this.pos >= *at {
                    return Poll::Ready(Err(std::io::Error::new(
                        ErrorKind::ConnectionReset,
                        "the test body fails here",
                    )));
                }
                *at
            }
            Ending::StallAt(at, reached) => {
                if this.pos >= *at {
                    reached.store(true, Ordering::SeqCst);
                    // Never woken: the writer waits until it is dropped.
                    return Poll::Pending;
                }
                *at
            }
        };
        if this.polls.is_multiple_of(3) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let left = stop.min(this.len).saturating_sub(this.pos);
        let n = CHUNKS[this.polls % CHUNKS.len()]
            .min(buf.remaining() as u64)
            .min(left);
        let n = usize::try_from(n).expect("at most a buffer's length");
        this.pattern.fill(this.pos, buf.initialize_unfilled_to(n));
        buf.advance(n);
        this.pos += n as u64;
        Poll::Ready(Ok(()))
    }
}

/// Reads `key` through `open` in uneven pieces, checking each against `pattern` as it comes
/// (nothing is collected), and that there are exactly `len` bytes.
async fn assert_open_matches(blobs: &dyn Blobs, key: &str, pattern: Pattern, len: u64) {
    let mut reader = open(blobs, key)
        .await
        .unwrap_or_else(|| panic!("open {key:?}: missing"));
    let mut buf = vec![0u8; 100_000];
    let mut offset = 0u64;
    for piece in [1usize, 7, 4096, 100_000].into_iter().cycle() {
        let n = reader
            .read(&mut buf[..piece])
            .await
            .unwrap_or_else(|e| panic!("read {key:?} at {offset}: {e:?}"));
        if n == 0 {
            break;
        }
        if let Some(at) = pattern.mismatch(offset, &buf[..n]) {
            panic!("{key:?}: byte {at} of {len} differs");
        }
        offset += n as u64;
        assert!(offset <= len, "{key:?}: more than {len} bytes");
    }
    assert_eq!(offset, len, "{key:?}: the stream ended early");
}

async fn assert_get_matches(blobs: &dyn Blobs, key: &str, pattern: Pattern, len: u64) {
    let got = get(blobs, key)
        .await
        .unwrap_or_else(|| panic!("get {key:?}: missing"));
    assert_eq!(got.len() as u64, len, "get {key:?}: length");
    if let Some(at) = pattern.mismatch(0, &got) {
        panic!("get {key:?}: byte {at} of {len} differs");
    }
}

/// `open` streams a large object (written whole with `put`) byte for byte, and a small one; a
/// reader read halfway and dropped is fine.
pub async fn open_streams_the_object(backend: &dyn Backend) {
    let blobs = backend.blobs();
    let p = unique("open");
    let key = format!("{p}/large.csv");
    let len = 20 * MIB + 12_345;
    let pattern = Pattern::new();
    put(&*blobs, &key, pattern.bytes(len)).await;
    assert_open_matches(&*blobs, &key, pattern, len).await;

    let small = format!("{p}/small.csv");
    put(&*blobs, &small, &b"phone,name\n+15551230000,Ann\n"[..]).await;
    assert_eq!(
        read_all(&*blobs, &small).await.as_deref(),
        Some(&b"phone,name\n+15551230000,Ann\n"[..])
    );

    // Two readers at once, one abandoned early.
    let mut first = open(&*blobs, &key).await.expect("open again");
    let mut head = [0u8; 1000];
    first
        .read_exact(&mut head)
        .await
        .unwrap_or_else(|e| panic!("read the head of {key:?}: {e:?}"));
    assert_eq!(pattern.mismatch(0, &head), None);
    assert_open_matches(&*blobs, &key, pattern, len).await;
    drop(first);

    let empty = format!("{p}/empty.csv");
    put(&*blobs, &empty, Bytes::new()).await;
    assert_eq!(read_all(&*blobs, &empty).await.as_deref(), Some(&[][..]));
}

/// `size` of objects written by `put` and `put_stream`; `None` for a missing key or a
/// "directory"; an overwrite changes it.
pub async fn size_of_present_and_missing(backend: &dyn Backend) {
    let blobs = backend.blobs();
    let p = unique("size");
    for (name, len) in [("empty", 0u64), ("five", 5), ("three-mib", 3 * MIB + 1)] {
        let key = format!("{p}/{name}");
        put(&*blobs, &key, vec![b'x'; len as usize]).await;
        assert_eq!(size(&*blobs, &key).await, Some(len), "size {name}");
    }
    let key = format!("{p}/five");
    put(&*blobs, &key, &b"ab"[..]).await;
    assert_eq!(size(&*blobs, &key).await, Some(2), "after an overwrite");
    let streamed = format!("{p}/streamed");
    let pattern = Pattern::new();
    let len = PART + 3;
    let written = put_stream(
        &*blobs,
        &streamed,
        PatternReader::boxed(pattern, len, Ending::Eof),
    )
    .await;
    assert_eq!(written, len);
    assert_eq!(
        size(&*blobs, &streamed).await,
        Some(len),
        "a streamed object"
    );

    assert_eq!(size(&*blobs, &format!("{p}/missing")).await, None);
    assert_eq!(
        size(&*blobs, &p).await,
        None,
        "a directory is not an object"
    );
    blobs.delete(&key).await.expect("delete");
    assert_eq!(size(&*blobs, &key).await, None, "after delete");
}

/// `open_version` reads the object while it is the version `stat` named: a reader opened then
/// reads that version's bytes even when the key is overwritten meanwhile; once another
/// version is stored, or none, opening the old one answers `None`.
pub async fn open_version_reads_only_that_version(backend: &dyn Backend) {
    let blobs = backend.blobs();
    let key = format!("{}/file.csv", unique("version"));
    put(&*blobs, &key, &b"phone\n+15551230001\n"[..]).await;
    let first = blobs.stat(&key).await.expect("stat").expect("stored").tag;
    let open_first = || async {
        blobs
            .open_version(&key, &first)
            .await
            .unwrap_or_else(|e| panic!("open_version {key:?}: {e:?}"))
    };
    let mut early = open_first().await.expect("the current version opens");
    let mut first_bytes = Vec::new();
    let mut again = open_first().await.expect("and opens again");
    again.read_to_end(&mut first_bytes).await.expect("read");
    assert_eq!(first_bytes, b"phone\n+15551230001\n");

    put(&*blobs, &key, &b"phone\n+15551230002\n+15551230003\n"[..]).await;
    let second = blobs.stat(&key).await.expect("stat").expect("stored").tag;
    assert_ne!(second, first, "another version has another tag");
    assert!(open_first().await.is_none(), "an old version does not open");
    let mut read_early = Vec::new();
    early.read_to_end(&mut read_early).await.expect("read");
    // S3 streams the version the GET matched; a local file stays the one opened.
    assert_eq!(
        read_early, first_bytes,
        "a reader opened before the overwrite"
    );
    let current = blobs
        .open_version(&key, &second)
        .await
        .expect("open_version");
    assert!(current.is_some(), "the new version opens");

    blobs.delete(&key).await.expect("delete");
    assert!(
        blobs
            .open_version(&key, &second)
            .await
            .expect("open_version")
            .is_none(),
        "nothing stored"
    );
}

/// `open_range` reads the bytes asked for of the version named: the middle, up to the end
/// when the range runs past it, nothing when it starts past it; `None` once another version
/// is stored.
pub async fn open_range_reads_part_of_a_version(backend: &dyn Backend) {
    let blobs = backend.blobs();
    let key = format!("{}/file.csv", unique("range"));
    put(&*blobs, &key, &b"phone\n+15551230001\n+15551230002\n"[..]).await;
    let tag = blobs.stat(&key).await.expect("stat").expect("stored").tag;
    let read = |start: u64, end: u64| {
        let (blobs, key, tag) = (blobs.clone(), key.clone(), tag.clone());
        async move {
            let reader = blobs
                .open_range(&key, &tag, start, end)
                .await
                .unwrap_or_else(|e| panic!("open_range {start}..{end}: {e:?}"));
            match reader {
                None => None,
                Some(mut reader) => {
                    let mut bytes = Vec::new();
                    reader.read_to_end(&mut bytes).await.expect("read");
                    Some(String::from_utf8(bytes).expect("utf-8"))
                }
            }
        }
    };
    assert_eq!(read(6, 19).await.as_deref(), Some("+15551230001\n"));
    assert_eq!(read(0, 6).await.as_deref(), Some("phone\n"));
    assert_eq!(read(19, 1000).await.as_deref(), Some("+15551230002\n"));
    assert_eq!(read(1000, 2000).await.as_deref(), Some(""));
    assert_eq!(read(5, 5).await.as_deref(), Some(""));

    put(&*blobs, &key, &b"phone\n"[..]).await;
    assert_eq!(read(0, 6).await, None, "another version is stored");
    assert_eq!(
        read(1000, 2000).await,
        None,
        "another version, read past its end"
    );
    assert_eq!(read(5, 5).await, None, "another version is stored");
    blobs.delete(&key).await.expect("delete");
    assert_eq!(read(0, 6).await, None, "nothing is stored");
}

/// A 20 MiB body streamed in (a multipart upload on S3) comes back byte for byte through
/// `get` and `open`, with the count `put_stream` returned; nothing is left half-written.
pub async fn put_stream_large_round_trips(backend: &dyn Backend) {
    let blobs = backend.blobs();
    let p = unique("stream");
    let key = format!("{p}/contacts.csv");
    let len = 20 * MIB + 7;
    let pattern = Pattern::new();
    let written = put_stream(
        &*blobs,
        &key,
        PatternReader::boxed(pattern, len, Ending::Eof),
    )
    .await;
    assert_eq!(written, len, "put_stream returns the bytes written");
    assert_eq!(size(&*blobs, &key).await, Some(len));
    assert_get_matches(&*blobs, &key, pattern, len).await;
    assert_open_matches(&*blobs, &key, pattern, len).await;
    assert_eq!(list(&*blobs, &format!("{p}/")).await, vec![key.clone()]);
    assert_eq!(
        unfinished_writes(backend, &p).await,
        Vec::<String>::new(),
        "nothing half-written is left"
    );

    // Streaming over an object replaces it whole, shorter or not.
    let shorter = Pattern::new();
    let written = put_stream(
        &*blobs,
        &key,
        PatternReader::boxed(shorter, PART + 1, Ending::Eof),
    )
    .await;
    assert_eq!(written, PART + 1);
    assert_open_matches(&*blobs, &key, shorter, PART + 1).await;
}

/// Bodies on each side of the S3 part size (one PutObject up to one part, multipart above)
/// round-trip with the right count.
pub async fn put_stream_around_the_part_size(backend: &dyn Backend) {
    let blobs = backend.blobs();
    let p = unique("parts");
    for len in [1, PART - 1, PART, PART + 1, 2 * PART] {
        let key = format!("{p}/{len}.bin");
        let pattern = Pattern::new();
        let written = put_stream(
            &*blobs,
            &key,
            PatternReader::boxed(pattern, len, Ending::Eof),
        )
        .await;
        assert_eq!(written, len, "{len} bytes");
        assert_eq!(size(&*blobs, &key).await, Some(len), "size of {len} bytes");
        assert_open_matches(&*blobs, &key, pattern, len).await;
    }
    assert_eq!(unfinished_writes(backend, &p).await, Vec::<String>::new());
}

/// An empty body stores an empty object (replacing any content), and counts 0.
pub async fn put_stream_empty_body(backend: &dyn Backend) {
    let blobs = backend.blobs();
    let p = unique("stream-empty");
    let fresh = format!("{p}/fresh.csv");
    let written = put_stream(&*blobs, &fresh, reader_from_bytes(Bytes::new())).await;
    assert_eq!(written, 0);
    assert_eq!(get(&*blobs, &fresh).await.as_deref(), Some(&[][..]));
    assert_eq!(size(&*blobs, &fresh).await, Some(0));

    let replaced = format!("{p}/replaced.csv");
    put(&*blobs, &replaced, &b"old content"[..]).await;
    let written = put_stream(&*blobs, &replaced, reader_from_bytes(Bytes::new())).await;
    assert_eq!(written, 0);
    assert_eq!(get(&*blobs, &replaced).await.as_deref(), Some(&[][..]));
    assert_eq!(read_all(&*blobs, &replaced).await.as_deref(), Some(&[][..]));

    let small = format!("{p}/small.csv");
    let body = Bytes::from_static(b"phone\n+15551230000\n");
    let written = put_stream(&*blobs, &small, reader_from_bytes(body.clone())).await;
    assert_eq!(written, body.len() as u64);
    assert_eq!(get(&*blobs, &small).await, Some(body));
}

/// A body that fails early (within the first part), in the second part (before S3 starts a
/// multipart upload), right after it or half-way through a multipart upload is
/// `BlobError::Body` with the reader's error, and leaves the key as it was: absent, or the old
/// content; no partial object, no temporary file or unfinished upload.
pub async fn put_stream_failing_body_stores_nothing(backend: &dyn Backend) {
    let blobs = backend.blobs();
    let p = unique("stream-fail");
    let fail_ats = [1_000, PART + PART / 2, 2 * PART, 2 * PART + PART / 2];
    for fail_at in fail_ats {
        let len = 3 * PART;
        let fresh = format!("{p}/fresh-{fail_at}.csv");
        let result = blobs
            .put_stream(
                &fresh,
                PatternReader::boxed(Pattern::new(), len, Ending::FailAt(fail_at)),
                "text/csv",
            )
            .await;
        assert!(
            matches!(&result, Err(BlobError::Body(e)) if e.kind() == ErrorKind::ConnectionReset),
            "failing at {fail_at}: expected Err(Body(ConnectionReset)), got {result:?}"
        );
        assert_eq!(get(&*blobs, &fresh).await, None, "failed at {fail_at}");
        assert_eq!(size(&*blobs, &fresh).await, None, "failed at {fail_at}");

        let existing = format!("{p}/existing-{fail_at}.csv");
        put(&*blobs, &existing, &b"the old content"[..]).await;
        let result = blobs
            .put_stream(
                &existing,
                PatternReader::boxed(Pattern::new(), len, Ending::FailAt(fail_at)),
                "text/csv",
            )
            .await;
        assert!(matches!(result, Err(BlobError::Body(_))), "{result:?}");
        assert_eq!(
            get(&*blobs, &existing).await.as_deref(),
            Some(&b"the old content"[..]),
            "a failed stream at {fail_at} keeps the old content"
        );
    }
    let mut expected: Vec<String> = fail_ats
        .iter()
        .map(|at| format!("{p}/existing-{at}.csv"))
        .collect();
    expected.sort();
    assert_eq!(list(&*blobs, &format!("{p}/")).await, expected);
    assert_eq!(
        unfinished_writes(backend, &p).await,
        Vec::<String>::new(),
        "no temporary file or unfinished upload is left"
    );
}

/// A `put_stream` dropped half-way (its caller gave up, its task was aborted) stores nothing
/// and cleans up: the temporary file at once, the multipart upload soon after.
pub async fn put_stream_cancelled_stores_nothing(backend: &dyn Backend) {
    let blobs = backend.blobs();
    let p = unique("stream-cancel");
    let key = format!("{p}/contacts.csv");
    let reached = Arc::new(AtomicBool::new(false));
    // Past two full parts, so that S3 has a multipart upload under way.
    let body = PatternReader::boxed(
        Pattern::new(),
        4 * PART,
        Ending::StallAt(2 * PART + MIB, reached.clone()),
    );
    let task = {
        let (blobs, key) = (blobs.clone(), key.clone());
        tokio::spawn(async move { blobs.put_stream(&key, body, "text/csv").await })
    };
    let prefix = p.as_str();
    eventually("the write to be under way", Duration::from_secs(30), || {
        let reached = reached.clone();
        async move {
            let started = !unfinished_writes(backend, prefix).await.is_empty();
            (started && reached.load(Ordering::SeqCst)).then_some(())
        }
    })
    .await;
    task.abort();
    let joined = task.await;
    assert!(
        joined.as_ref().is_err_and(|e| e.is_cancelled()),
        "the task was cancelled, not finished: {joined:?}"
    );
    eventually(
        "the cancelled write to be cleaned up",
        Duration::from_secs(10),
        move || async move {
            unfinished_writes(backend, prefix)
                .await
                .is_empty()
                .then_some(())
        },
    )
    .await;
    assert_eq!(get(&*blobs, &key).await, None);
    assert_eq!(list(&*blobs, &format!("{p}/")).await, Vec::<String>::new());
}

/// `presign_put` on a backend that presigns (S3): a URL that takes a PUT of the body with the
/// returned headers and no credentials, after which the object is there. On one that does not
/// (the directory adapter, whose host serves uploads itself): `None`. Which one a backend is
/// is stated by [`Backend::presigns_uploads`], so an S3 adapter returning `None` fails.
pub async fn presign_put_uploads_or_is_none(backend: &dyn Backend) {
    let blobs = backend.blobs();
    let p = unique("presign");
    // A key that needs encoding in a URL.
    let key = format!("{p}/ünï côde+plus %20.csv");
    let expires_in = Duration::from_secs(15 * 60);
    let before = chrono::Utc::now();
    let presigned = blobs
        .presign_put(&key, expires_in, "text/csv")
        .await
        .unwrap_or_else(|e| panic!("presign_put {key:?}: {e:?}"));
    let after = chrono::Utc::now();

    for bad in [Duration::ZERO, MAX_PRESIGN_EXPIRY + Duration::from_secs(1)] {
        let result = blobs.presign_put(&key, bad, "text/csv").await;
        assert!(
            matches!(result, Err(BlobError::InvalidRequest(_))),
            "expiry {bad:?}: expected Err(InvalidRequest(_)), got {result:?}"
        );
    }
    blobs
        .presign_put(&key, MAX_PRESIGN_EXPIRY, "text/csv")
        .await
        .unwrap_or_else(|e| panic!("the longest expiry is fine: {e:?}"));

    if !backend.presigns_uploads() {
        assert_eq!(presigned, None, "this backend hands out no upload URLs");
        assert_eq!(get(&*blobs, &key).await, None, "presigning writes nothing");
        return;
    }
    let presigned = presigned
        .unwrap_or_else(|| panic!("this backend presigns uploads, but presign_put returned None"));
    assert_eq!(presigned.method, "PUT");
    let expiry = chrono::Duration::from_std(expires_in).expect("15 minutes");
    let slack = chrono::Duration::seconds(1);
    assert!(
        presigned.expires_at >= before + expiry - slack
            && presigned.expires_at <= after + expiry + slack,
        "expires_at {} is not {expires_in:?} from now ({before})",
        presigned.expires_at
    );
    assert!(
        presigned
            .headers
            .iter()
            .any(|(name, value)| name.eq_ignore_ascii_case("content-type") && value == "text/csv"),
        "the content type is part of the signed request: {:?}",
        presigned.headers
    );
    assert_eq!(get(&*blobs, &key).await, None, "presigning writes nothing");

    let body = format!("phone,name\n+15551230000,Ann\n{}", "x".repeat(100_000));
    let http = reqwest::Client::new();
    let mut request = http.put(&presigned.url).body(body.clone());
    for (name, value) in &presigned.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("PUT to the presigned URL: {e:?}"));
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(
        status.is_success(),
        "PUT to the presigned URL: {status}: {text}"
    );
    assert_eq!(get(&*blobs, &key).await.as_deref(), Some(body.as_bytes()));
    assert_eq!(size(&*blobs, &key).await, Some(body.len() as u64));
    assert_eq!(list(&*blobs, &format!("{p}/")).await, vec![key.clone()]);
}

/// `stat` gives the size and a tag that tells two versions of a key apart, however they were
/// written; `None` for a missing key.
pub async fn stat_tag_changes_with_the_content(backend: &dyn Backend) {
    let blobs = backend.blobs();
    let key = format!("{}/file.csv", unique("stat"));
    assert_eq!(blobs.stat(&key).await.expect("stat"), None);
    put(&*blobs, &key, &b"phone\n+14155550100\n"[..]).await;
    let first = blobs.stat(&key).await.expect("stat").expect("present");
    assert_eq!(first.size, 19);
    assert_eq!(
        blobs.stat(&key).await.expect("stat"),
        Some(first.clone()),
        "stable while the object is unchanged"
    );
    put(&*blobs, &key, &b"phone\n+14155550199\n"[..]).await;
    let second = blobs.stat(&key).await.expect("stat").expect("present");
    assert_eq!(second.size, 19);
    assert_ne!(second.tag, first.tag, "same size, other bytes");
    let len = PART + 3;
    put_stream(
        &*blobs,
        &key,
        PatternReader::boxed(Pattern::new(), len, Ending::Eof),
    )
    .await;
    let third = blobs.stat(&key).await.expect("stat").expect("present");
    assert_eq!(third.size, len);
    assert_ne!(third.tag, second.tag, "streamed over");
}
