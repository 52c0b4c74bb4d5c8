//! Stores what a first load of the 1M-row benchmark file stores, with nothing else to do: for
//! each of 925,927 contacts a phone claim (written first, in phone order, 16,384 a commit, as
//! the pass ahead does), then a read of the contact's key, the contact (about 300 bytes of
//! JSON, keys in creation order) and a name-index entry (random order), `batch` contacts a
//! commit. Prints the time and the process's memory (VmHWM counts mapped file pages).
//!
//!   engine-probe lmdb|lmdb-writemap|fjall|sqlite|sqlite-rowid|sqlite-by-name [batch]
//!
//! `sqlite` is the embedded store's layout (a `WITHOUT ROWID` table, the name index an SQLite
//! index); `sqlite-rowid` keeps rows in a rowid table with the key as a unique index;
//! `sqlite-by-name` writes the contacts in name order with ids given in that order, so every
//! insert appends.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng, rngs::StdRng};

const CONTACTS: usize = 925_927;
const PARTITION: &str = "TENANT#tn_01JABCDEFGHJKMNPQRSTVWXYZ0";
const CLAIMS_A_COMMIT: usize = 16_384;

struct Contact {
    key: Vec<u8>,
    claim_key: Vec<u8>,
    id: String,
    index_key: Vec<u8>,
    json: Vec<u8>,
}

fn key(pk: &str, sk: &str) -> Vec<u8> {
    [pk.as_bytes(), b"\0", sk.as_bytes()].concat()
}

fn contacts() -> Vec<Contact> {
    let mut rng = StdRng::seed_from_u64(7);
    let first = [
        "anna", "bob", "carla", "dave", "eve", "frank", "gina", "hugo", "ida", "jon",
    ];
    (0..CONTACTS)
        .map(|i| {
            let name = format!(
                "{} {}{}",
                first[rng.random_range(0..first.len())],
                char::from(b'a' + rng.random_range(0..26u8)),
                rng.random_range(0..1_000_000u32)
            );
            let phone = format!("+1{:010}", rng.random_range(2_000_000_000u64..9_999_999_999));
            let id = format!("ct_01JABCDEF{i:017}");
            let sk = format!("CONTACT#{id}");
            let json = format!(
                r#"{{"id":"{id}","phone":"{phone}","first_name":"{name}","last_name":"x","email":"someone{i}@example.com","consent":{{"status":"unknown"}},"tags":[],"attributes":{{}},"created_at":"2026-12-06T12:00:00Z","updated_at":"2026-12-06T12:00:00Z","version":1}}"#
            );
            let index_key = format!("{PARTITION}#NAME#{}\0{name}#{id}\0{PARTITION}\0{sk}", &name[..1]);
            Contact {
                key: key(PARTITION, &sk),
                claim_key: key(PARTITION, &format!("PHONE#{phone}")),
                id,
                index_key: index_key.into_bytes(),
                json: json.into_bytes(),
            }
        })
        .collect()
}

/// Claims in key order (a phone twice keeps its last contact, as a probe may).
fn claims_in_order(contacts: &[Contact]) -> Vec<(&[u8], &[u8])> {
    let mut claims: Vec<_> = contacts
        .iter()
        .map(|c| (c.claim_key.as_slice(), c.id.as_bytes()))
        .collect();
    claims.sort_unstable();
    claims
}

fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .filter(|l| {
            ["VmHWM", "RssAnon", "RssFile"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ")
}

fn report(engine: &str, batch: usize, claims: Duration, total: Duration) {
    println!(
        "{engine}, {batch} contacts a commit: claims {:.2} s, all {:.2} s; {}",
        claims.as_secs_f64(),
        total.as_secs_f64(),
        memory()
    );
}

fn lmdb(contacts: &[Contact], batch: usize, flags: heed::EnvFlags) -> heed::Result<()> {
    use heed::types::Bytes;
    let dir = std::env::temp_dir().join("engine-probe-lmdb");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    // SAFETY: the directory is this process's alone, opened once.
    let env = unsafe {
        heed::EnvOpenOptions::new()
            .map_size(1 << 40)
            .max_dbs(2)
            .flags(flags)
            .open(&dir)?
    };
    let mut txn = env.write_txn()?;
    let items: heed::Database<Bytes, Bytes> = env.create_database(&mut txn, Some("items"))?;
    let names: heed::Database<Bytes, Bytes> = env.create_database(&mut txn, Some("gsi1"))?;
    txn.commit()?;
    let started = Instant::now();
    for chunk in claims_in_order(contacts).chunks(CLAIMS_A_COMMIT) {
        let mut txn = env.write_txn()?;
        for (key, id) in chunk {
            items.put(&mut txn, key, id)?;
        }
        txn.commit()?;
    }
    let claims = started.elapsed();
    for chunk in contacts.chunks(batch) {
        let mut txn = env.write_txn()?;
        for c in chunk {
            let _ = items.get(&txn, &c.key)?;
            items.put(&mut txn, &c.key, &c.json)?;
            names.put(&mut txn, &c.index_key, &[])?;
        }
        txn.commit()?;
    }
    report(&format!("lmdb {flags:?}"), batch, claims, started.elapsed());
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn fjall(contacts: &[Contact], batch: usize) -> fjall::Result<()> {
    let dir = std::env::temp_dir().join("engine-probe-fjall");
    let _ = std::fs::remove_dir_all(&dir);
    let keyspace = fjall::Config::new(&dir).cache_size(16 << 20).open()?;
    let options = || fjall::PartitionCreateOptions::default().max_memtable_size(16 << 20);
    let items = keyspace.open_partition("items", options())?;
    let names = keyspace.open_partition("gsi1", options())?;
    let started = Instant::now();
    for chunk in claims_in_order(contacts).chunks(CLAIMS_A_COMMIT) {
        let mut write = keyspace.batch();
        for (key, id) in chunk {
            write.insert(&items, *key, *id);
        }
        write.commit()?;
    }
    let claims = started.elapsed();
    for chunk in contacts.chunks(batch) {
        let mut write = keyspace.batch();
        for c in chunk {
            let _ = items.get(&c.key)?;
            write.insert(&items, c.key.as_slice(), c.json.as_slice());
            write.insert(&names, c.index_key.as_slice(), []);
        }
        write.commit()?;
    }
    keyspace.persist(fjall::PersistMode::SyncAll)?;
    report("fjall", batch, claims, started.elapsed());
    drop((items, names, keyspace));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// SQLite as the product opens it (WAL, synchronous=NORMAL, checkpoints every 16,384 pages),
/// with the current `WITHOUT ROWID` table or a rowid table whose key is a unique index.
fn sqlite(contacts: &[Contact], batch: usize, rowid: bool) -> rusqlite::Result<()> {
    let path = std::env::temp_dir().join("engine-probe.sqlite");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let mut conn = rusqlite::Connection::open(&path)?;
    let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "wal_autocheckpoint", 16384)?;
    // SQLITE_CACHE_MB: the page cache (SQLite's default is 2 MB a connection).
    if let Some(mb) = std::env::var("SQLITE_CACHE_MB").ok().and_then(|v| v.parse::<i64>().ok()) {
        conn.pragma_update(None, "cache_size", -mb * 1024)?;
    }
    let table = if rowid {
        "CREATE TABLE items (pk BLOB NOT NULL, sk BLOB NOT NULL, gsi1pk BLOB, gsi1sk BLOB, data BLOB NOT NULL);
         CREATE UNIQUE INDEX items_key ON items (pk, sk);"
    } else {
        "CREATE TABLE items (pk BLOB NOT NULL, sk BLOB NOT NULL, gsi1pk BLOB, gsi1sk BLOB, data BLOB NOT NULL,
         PRIMARY KEY (pk, sk)) WITHOUT ROWID;"
    };
    conn.execute_batch(table)?;
    conn.execute_batch(
        "CREATE INDEX items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;",
    )?;
    let split = |key: &[u8]| {
        let at = key.iter().position(|b| *b == 0).unwrap_or(0);
        (key[..at].to_vec(), key[at + 1..].to_vec())
    };
    let insert =
        "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, data) VALUES (?1, ?2, ?3, ?4, ?5)";
    let started = Instant::now();
    for chunk in claims_in_order(contacts).chunks(CLAIMS_A_COMMIT) {
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(insert)?;
            for (key, id) in chunk {
                let (pk, sk) = split(key);
                stmt.execute(rusqlite::params![
                    pk,
                    sk,
                    None::<Vec<u8>>,
                    None::<Vec<u8>>,
                    id
                ])?;
            }
        }
        tx.commit()?;
    }
    let claims = started.elapsed();
    for chunk in contacts.chunks(batch) {
        let tx = conn.transaction()?;
        {
            let mut get = tx.prepare_cached("SELECT data FROM items WHERE pk = ?1 AND sk = ?2")?;
            let mut stmt = tx.prepare_cached(insert)?;
            for c in chunk {
                let (pk, sk) = split(&c.key);
                let _ = get
                    .query_row(rusqlite::params![pk, sk], |r| r.get::<_, Vec<u8>>(0))
                    .ok();
                let mut parts = c.index_key.split(|b| *b == 0);
                let gpk = parts.next().unwrap_or_default();
                let gsk = parts.next().unwrap_or_default();
                stmt.execute(rusqlite::params![pk, sk, gpk, gsk, c.json])?;
            }
        }
        tx.commit()?;
    }
    report(
        if rowid {
            "sqlite rowid"
        } else {
            "sqlite without rowid"
        },
        batch,
        claims,
        started.elapsed(),
    );
    println!(
        "file {} MB",
        std::fs::metadata(&path).map(|m| m.len() >> 20).unwrap_or(0)
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let engine = args.next().unwrap_or_default();
    let batch = args.next().map(|b| b.parse()).transpose()?.unwrap_or(2000);
    let contacts = contacts();
    println!("generated {} contacts; {}", contacts.len(), memory());
    match engine.as_str() {
        // No fsync a commit, as SQLite's WAL with synchronous=NORMAL (the product's store)
        // syncs only at checkpoints. Unlike SQLite's, a machine crash can corrupt the file.
        "lmdb" => lmdb(&contacts, batch, heed::EnvFlags::NO_SYNC)?,
        "lmdb-writemap" => lmdb(
            &contacts,
            batch,
            heed::EnvFlags::NO_SYNC | heed::EnvFlags::WRITE_MAP,
        )?,
        "fjall" => fjall(&contacts, batch)?,
        "sqlite" => sqlite(&contacts, batch, false)?,
        "sqlite-rowid" => sqlite(&contacts, batch, true)?,
        "sqlite-by-name" => {
            // Contacts written in name order, their ids given in that order: every insert appends.
            let mut contacts = contacts;
            contacts.sort_by(|a, b| a.index_key.cmp(&b.index_key));
            for (i, c) in contacts.iter_mut().enumerate() {
                let id = format!("ct_01JABCDEF{i:017}");
                let old = c.id.clone();
                c.key = key(PARTITION, &format!("CONTACT#{id}"));
                let ik = String::from_utf8_lossy(&c.index_key).replace(&old, &id);
                c.index_key = ik.into_bytes();
                c.id = id;
            }
            sqlite(&contacts, batch, false)?
        }
        other => {
            return Err(format!(
                "unknown engine `{other}`: lmdb, lmdb-writemap, fjall, sqlite, sqlite-rowid, \
                 sqlite-by-name"
            )
            .into());
        }
    }
    Ok(())
}
