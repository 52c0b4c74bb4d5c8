//! Throughput of the whole parse stage (`open` + iterate) on a generated 1M-row file:
//! first name, last name, phone in mixed national and international formats (US, GB, DE, FR),
//! email. Run with `cargo bench -p smscrm-import` (release). `ROWS=100000` for a shorter run.

use std::io::Cursor;
use std::time::Instant;

use smscrm_import::{ImportOptions, PhoneReader, RowOutcome, open};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic, good enough to spread digits.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

const FIRST: [&str; 8] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Linus", "Margaret",
];
const LAST: [&str; 8] = [
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Torvalds", "Hamilton",
];
const NPA: [&str; 12] = [
    "201", "212", "213", "305", "312", "415", "503", "617", "702", "713", "808", "917",
];

fn phone(rng: &mut Rng) -> String {
    let format = rng.below(10);
    phone_of(rng, format)
}

fn phone_of(rng: &mut Rng, format: u64) -> String {
    let exchange = format!("{}{}", 2 + rng.below(8), rng.digits(2));
    let line = rng.digits(4);
    let npa = NPA[rng.below(NPA.len() as u64) as usize];
    match format {
        0 => format!("({npa}) {exchange}-{line}"),
        1 => format!("{npa}-{exchange}-{line}"),
        2 => format!("{npa}{exchange}{line}"),
        3 => format!("+1 {npa} {exchange} {line}"),
        4 => format!("1-{npa}-{exchange}-{line}"),
        5 => format!(
            "+44 7{}{} {}",
            4 + rng.below(6),
            rng.digits(2),
            rng.digits(6)
        ),
        6 => format!("0044 7911 {}", rng.digits(6)),
        7 => format!(
            "+49 15{} {}",
            [1, 2, 7][rng.below(3) as usize],
            rng.digits(8)
        ),
        8 => format!("+49 30 {}", rng.digits(8)),
        _ => format!(
            "+33 6 {} {} {} {}",
            rng.digits(2),
            rng.digits(2),
            rng.digits(2),
            rng.digits(2)
        ),
    }
}

fn file(rows: usize) -> Vec<u8> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = String::with_capacity(rows * 64);
    out.push_str("First Name,Last Name,Phone,Email\n");
    for i in 0..rows {
        let first = FIRST[rng.below(8) as usize];
        let last = LAST[rng.below(8) as usize];
        let phone = phone(&mut rng);
        out.push_str(&format!(
            "{first},{last},{phone},{}.{}{i}@example.com\n",
            first.to_lowercase(),
            last.to_lowercase()
        ));
    }
    out.into_bytes()
}

/// The phone stage alone, per format, to see where the time goes.
fn phones_only() {
    for format in 0..10u64 {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 + format);
        let phones: Vec<String> = (0..100_000)
            .map(|_| {
                loop {
                    let mut probe = Rng(rng.next());
                    if probe.below(10) == format {
                        let mut again = Rng(probe.0);
                        let _ = &mut again;
                        break phone_of(&mut rng, format);
                    }
                }
            })
            .collect();
        let mut reader = PhoneReader::new("US".parse().expect("region"));
        let started = Instant::now();
        let ok = phones.iter().filter(|p| reader.read(p).is_ok()).count();
        let secs = started.elapsed().as_secs_f64();
        println!(
            "  format {format} (e.g. {:>22}): {:>9.0} numbers/s, valid {ok}, fast path {}",
            phones[0],
            phones.len() as f64 / secs,
            reader.fast_path_hits()
        );
    }
}

/// Every phone of the file through both paths (slow: ~10 s).
fn check() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut reader = PhoneReader::new("US".parse().expect("region"));
    let mut differ = 0;
    for _ in 0..1_000_000 {
        let _ = (rng.below(8), rng.below(8));
        let raw = phone(&mut rng);
        let fast = reader.read(&raw);
        let slow = reader.read_slow(&raw);
        if fast != slow {
            differ += 1;
            if differ < 10 {
                println!("DIFFER `{raw}`: fast {fast:?} slow {slow:?}");
            }
        }
    }
    println!("fast and slow paths differ on {differ} of 1000000 numbers");
}

/// `FILE=path`: import a file from disk (for peak-RSS measurements with `/usr/bin/time -v`).
fn from_file(path: &str) {
    let options = ImportOptions::new("US".parse().expect("region"));
    let file = std::io::BufReader::new(std::fs::File::open(path).expect("open file"));
    let started = Instant::now();
    let mut rows = open(file, &options).expect("open");
    let mut counts = [0usize; 3];
    for outcome in &mut rows {
        counts[match outcome {
            RowOutcome::Valid(_) => 0,
            RowOutcome::Invalid { .. } => 1,
            RowOutcome::Duplicate { .. } => 2,
        }] += 1;
    }
    rows.finish().expect("clean end");
    println!(
        "{path}: valid {}, invalid {}, duplicate {} in {:.3} s",
        counts[0],
        counts[1],
        counts[2],
        started.elapsed().as_secs_f64()
    );
}

fn main() {
    if let Ok(path) = std::env::var("FILE") {
        from_file(&path);
        return;
    }
    if std::env::var("GENERATE").is_ok() {
        let rows = std::env::var("ROWS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(1_000_000);
        std::io::Write::write_all(&mut std::io::stdout(), &file(rows)).expect("write");
        return;
    }
    if std::env::var("CHECK").is_ok() {
        check();
        return;
    }
    if std::env::var("PHONES").is_ok() {
        phones_only();
        return;
    }
    let rows: usize = std::env::var("ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1_000_000);
    let data = file(rows);
    let options = ImportOptions::new("US".parse().expect("region"));
    for run in 1..=3 {
        let started = Instant::now();
        let mut counts = [0usize; 3];
        let mut rows_iter = open(Cursor::new(&data), &options).expect("open");
        for outcome in &mut rows_iter {
            counts[match outcome {
                RowOutcome::Valid(_) => 0,
                RowOutcome::Invalid { .. } => 1,
                RowOutcome::Duplicate { .. } => 2,
            }] += 1;
        }
        rows_iter.finish().expect("clean end");
        let secs = started.elapsed().as_secs_f64();
        println!(
            "run {run}: {rows} rows ({} MB) in {secs:.3} s = {:.0} rows/s single-threaded \
             (valid {}, invalid {}, duplicate {})",
            data.len() / 1_000_000,
            rows as f64 / secs,
            counts[0],
            counts[1],
            counts[2]
        );
    }
}
