//! Reading a UTF-8 file on from a place between two rows gives the rows a whole read gives
//! from there, numbered the same, and the same places after them: what a worker that imports
//! only its part of a large file relies on.

use std::io::Cursor;

use smscrm_import::{ImportOptions, Resume, RowOutcome, open, open_at};

fn options() -> ImportOptions {
    ImportOptions {
        // A part cannot know earlier rows' phones: duplicates are found by other means then.
        find_duplicates: false,
        ..ImportOptions::new("GB".parse().expect("region"))
    }
}

/// Every row of `bytes` with the place after it, and the place after the header.
fn whole(bytes: &[u8]) -> (Resume, Vec<(RowOutcome, Option<Resume>)>) {
    let mut rows = open(Cursor::new(bytes.to_vec()), &options()).expect("open");
    let header_end = rows.resume_point().expect("a UTF-8 file");
    let mut read = Vec::new();
    while let Some(outcome) = rows.next() {
        read.push((outcome, rows.resume_point()));
    }
    (header_end, read)
}

/// The rows of `bytes` read on from `at`, given only the header and the bytes from there.
fn from(bytes: &[u8], header_end: &Resume, at: &Resume) -> Vec<(RowOutcome, Option<Resume>)> {
    let header = &bytes[..header_end.offset as usize];
    let rest = &bytes[at.offset as usize..];
    let input = [header, rest].concat();
    let mut rows = open_at(Cursor::new(input), &options(), at).expect("open_at");
    let mut read = Vec::new();
    while let Some(outcome) = rows.next() {
        read.push((outcome, rows.resume_point()));
    }
    read
}

fn check(name: &str, bytes: &[u8]) {
    check_every(name, bytes, 1);
}

/// Reads on from every `stride`th row, and from each of the last 40.
fn check_every(name: &str, bytes: &[u8], stride: usize) {
    let (header_end, all) = whole(bytes);
    assert!(all.len() >= 6, "{name}: {} rows", all.len());
    assert_eq!(
        from(bytes, &header_end, &header_end),
        all,
        "{name}: from the header"
    );
    for (k, (_, at)) in all.iter().enumerate() {
        if k % stride != 0 && k + 40 < all.len() {
            continue;
        }
        let Some(at) = at else { continue };
        assert_eq!(
            from(bytes, &header_end, at),
            all[k + 1..],
            "{name}: on from row {k} ({at:?})"
        );
    }
}

/// A header and `n` rows of nothing but ASCII, past the 64 KiB the encoding is judged on.
fn ascii_rows(n: u32) -> String {
    let mut text = String::from("name,phone,notes\n");
    for i in 0..n {
        text.push_str(&format!("Name{i},07911 1{i:05},some notes here\n"));
    }
    text
}

/// Rows joined by `end`: blank lines, a quoted cell holding line ends and the delimiter, an
/// invalid phone, names beyond ASCII.
fn file(end: &str, delimiter: char) -> String {
    let d = delimiter;
    [
        format!("Name{d}Mobile{d}Notes"),
        format!("Ada Lovelace{d}07911 123456{d}first"),
        String::new(),
        format!("Zoë Brontë{d}07911 123457{d}\"two{end}lines{d} and a {d}\""),
        format!("Bob{d}not a phone{d}"),
        String::new(),
        String::new(),
        format!("Łukasz Nowak{d}+44 7911 123458{d}\"\"\"quoted\"\"\""),
        format!("Chloé{d}07911 123459{d}last but one"),
        format!("Dan{d}07911 123460{d}last"),
    ]
    .join(end)
}

#[test]
fn reading_on_from_any_row_gives_the_rest_of_a_whole_read() {
    for (end, name) in [("\r\n", "CRLF"), ("\n", "LF"), ("\r", "CR")] {
        for delimiter in [',', ';', '\t'] {
            let text = file(end, delimiter);
            check(&format!("{name} {delimiter:?}"), text.as_bytes());
            check(
                &format!("{name} {delimiter:?}, line end at the end"),
                format!("{text}{end}").as_bytes(),
            );
            let bom = [&b"\xEF\xBB\xBF"[..], text.as_bytes()].concat();
            check(&format!("{name} {delimiter:?} with a BOM"), &bom);
        }
    }
}

/// Exports edited by hand mix line ends: the header's may differ from the rows'.
#[test]
fn reading_on_works_whatever_line_end_the_header_has() {
    for (header_end, rows_end) in [
        ("\n", "\r\n"),
        ("\r\n", "\n"),
        ("\r", "\r\n"),
        ("\r\n", "\r"),
    ] {
        let text = file(rows_end, ',');
        let (header, rows) = text.split_once(rows_end).expect("a header");
        let mixed = format!("{header}{header_end}{rows}{rows_end}");
        check(
            &format!("header {header_end:?}, rows {rows_end:?}"),
            mixed.as_bytes(),
        );
    }
}

/// A part of a file is read as the whole read reads it there. Judged alone, a part could look
/// like another encoding (a stray Windows-1252 byte in a UTF-8 file), or binary, or undecided
/// where the whole read had decided.
#[test]
fn a_part_is_read_in_the_encoding_the_whole_read_uses_there() {
    let tail = |bytes: &[u8]| [ascii_rows(2700).as_bytes(), bytes].concat();
    let cases: [(&str, Vec<u8>); 5] = [
        (
            "UTF-8 from the start, a stray byte late",
            [
                "name,phone,notes\nZoë,07911 100000,x\n".as_bytes(),
                &ascii_rows(2700).as_bytes()[17..],
                b"Jos\xE9,07911 123456,cp1252\nChlo\xC3\xA9,07911 123457,after\n",
                b"Dan,07911 123458,end\n",
            ]
            .concat(),
        ),
        (
            "ASCII, then UTF-8, then a stray byte",
            tail(b"Chlo\xC3\xA9,07911 123457,a\nJos\xE9,07911 123456,b\nDan,07911 123458,c\n"),
        ),
        (
            "ASCII, then Windows-1252",
            tail(b"Jos\xE9,07911 123456,a\nChlo\xE9,07911 123457,b\nDan,07911 123458,c\n"),
        ),
        (
            "control bytes late",
            tail(b"Nul,07911 123456,a\x00b\nEsc,07911 123457,\x1B\x1B\x1B\nDan,07911 123458,c\n"),
        ),
        ("ASCII to the end", ascii_rows(3000).into_bytes()),
    ];
    for (name, bytes) in cases {
        check_every(name, &bytes, 97);
    }
}

/// The rows of a UTF-8 file that are not UTF-8 are read in the code page its start shows them
/// in (a Czech header saved as UTF-8 over rows from Czech Windows): a part reads them in it
/// too, though some rows alone read as well in Windows-1252 (`Jiří` as `Jiøí`).
#[test]
fn a_part_reads_rows_in_the_code_page_the_whole_read_found() {
    let mut bytes = "jméno,příjmení,telefon\n".as_bytes().to_vec();
    let people = [
        ("Jiří", "Dvořák"),
        ("Zdeněk", "Růžička"),
        ("Luboš", "Šťastný"),
    ];
    for i in 0..60 {
        let (first, last) = people[i % 3];
        let row = format!("{first},{last},07911 2{i:05}\n");
        bytes.extend_from_slice(&encoding_rs::WINDOWS_1250.encode(&row).0);
    }
    let (_, all) = whole(&bytes);
    let names: Vec<String> = (all.iter().take(3))
        .map(|(outcome, _)| match outcome {
            RowOutcome::Valid(row) => row.first_name.clone().unwrap_or_default(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names, ["Jiří", "Zdeněk", "Luboš"]);
    check("UTF-8 header, Windows-1250 rows", &bytes);
}

/// Places before the first non-ASCII byte can be read on from whatever the decoder has read
/// ahead, and after a Windows-1252 decision too: such a file is read as its bytes.
#[test]
fn places_before_and_after_a_late_decision_stay_places() {
    let text = [
        ascii_rows(2700).as_bytes(),
        b"Jos\xE9,07911 123456,a\nDan,07911 123458,c\n",
    ]
    .concat();
    let (_, all) = whole(&text);
    assert!(all.iter().all(|(_, at)| at.is_some()), "every place");
    check_every("late Windows-1252", &text, 97);
}

/// A file in a single-byte code page (or a double-byte one without `|` in its start) is read
/// as its bytes, so a part of it is read on from a place as a UTF-8 file's is, its UTF-8 rows
/// as UTF-8.
#[test]
fn a_file_in_a_code_page_is_read_on_from_its_places() {
    let files = [
        (
            encoding_rs::WINDOWS_1252,
            "name,phone,notes\n",
            "Renée",
            "Noël «x»",
        ),
        (
            encoding_rs::WINDOWS_1251,
            "Имя,Телефон,Заметки\n",
            "Ольга",
            "Санкт-Петербург",
        ),
    ];
    for (code_page, header, name, note) in files {
        let mut bytes = code_page.encode(header).0.into_owned();
        for i in 0..300 {
            let row = format!("{name} {i},07911 1{i:05},{note}\n");
            match i % 50 {
                // Rows merged in from a UTF-8 export.
                7 => bytes.extend_from_slice(row.as_bytes()),
                _ => bytes.extend_from_slice(&code_page.encode(&row).0),
            }
        }
        let (_, all) = whole(&bytes);
        let names: Vec<String> = (all.iter().take(9))
            .map(|(outcome, _)| match outcome {
                RowOutcome::Valid(row) => row.first_name.clone().unwrap_or_default(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(names.iter().all(|n| n.starts_with(name)), "{names:?}");
        check_every(code_page.name(), &bytes, 7);
    }
}

#[test]
fn a_file_decoded_whole_has_no_places_to_read_on_from() {
    let mut text = vec![0xFF, 0xFE];
    for unit in "name,phone\nJosé,07911 123456\n".encode_utf16() {
        text.extend_from_slice(&unit.to_le_bytes());
    }
    let mut rows = open(Cursor::new(text), &options()).expect("open");
    assert!(rows.next().is_some());
    assert_eq!(rows.resume_point(), None);
}
