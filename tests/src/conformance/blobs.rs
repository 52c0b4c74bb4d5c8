//! Conformance cases of the [`Blobs`] port. Every case works under a prefix of its own.

use std::fmt::Debug;
use std::sync::Arc;

use bytes::Bytes;
use smscrm_domain::ports::blobs::{BlobError, Blobs};

use super::unique;

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

#[track_caller]
fn assert_invalid_key<T: Debug>(result: Result<T, BlobError>, what: &str) {
    assert!(
        matches!(result, Err(BlobError::InvalidKey(_))),
        "{what}: expected Err(InvalidKey(_)), got {result:?}"
    );
}

/// put, get, overwrite, list by prefix, delete (twice: deleting a missing key is fine).
pub async fn put_get_list_delete(blobs: Arc<dyn Blobs>) {
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
pub async fn missing_is_none(blobs: Arc<dyn Blobs>) {
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
}

/// Keys that are not relative `/`-paths are rejected by put, get and delete alike.
pub async fn invalid_keys_are_rejected(blobs: Arc<dyn Blobs>) {
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
pub async fn binary_content_is_intact(blobs: Arc<dyn Blobs>) {
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
pub async fn unusual_keys_round_trip(blobs: Arc<dyn Blobs>) {
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
pub async fn list_uses_string_prefixes_and_sorts(blobs: Arc<dyn Blobs>) {
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
