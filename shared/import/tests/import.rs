//! The whole pipeline on files made here: encodings, delimiters, line ends, quoting, real
//! export headers, mapping, duplicates, invalid rows, consent, formulas, Excel phones, and
//! files that cannot be imported.

use std::io::{Cursor, Read};

use smscrm_domain::contact::ConsentStatus;
use smscrm_import::{
    ConsentDeclaration, ExplicitMapping, ImportError, ImportOptions, RowOutcome, Rows, Target, open,
};

fn options(region: &str) -> ImportOptions {
    ImportOptions::new(region.parse().unwrap())
}

fn rows<R: Read>(rows: Rows<R>) -> Vec<RowOutcome> {
    rows.collect()
}

fn import(bytes: &[u8], options: &ImportOptions) -> (smscrm_import::Detected, Vec<RowOutcome>) {
    let opened = open(Cursor::new(bytes.to_vec()), options).unwrap();
    let detected = opened.detected().clone();
    (detected, rows(opened))
}

fn valid(outcomes: &[RowOutcome]) -> Vec<(u64, String, Option<String>)> {
    outcomes
        .iter()
        .filter_map(|o| match o {
            RowOutcome::Valid(r) => Some((r.row, r.phone.to_string(), r.first_name.clone())),
            _ => None,
        })
        .collect()
}

fn invalid(outcomes: &[RowOutcome]) -> Vec<(u64, String)> {
    outcomes
        .iter()
        .filter_map(|o| match o {
            RowOutcome::Invalid { row, reason, .. } => Some((*row, reason.clone())),
            _ => None,
        })
        .collect()
}

const SIMPLE: &str =
    "First Name,Last Name,Phone\nAda,Lovelace,(415) 555-2671\nAlan,Turing,+44 7911 123456\n";

fn simple_expected() -> Vec<(u64, String, Option<String>)> {
    vec![
        (2, "+14155552671".into(), Some("Ada".into())),
        (3, "+447911123456".into(), Some("Alan".into())),
    ]
}

#[test]
fn every_encoding() {
    let text =
        "First Name,Last Name,Phone\nZoë,Brontë,(415) 555-2671\nJosé,Núñez,+44 7911 123456\n";
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    let (win, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    assert!(!unmappable);
    let (mac, _, unmappable) = encoding_rs::MACINTOSH.encode(text);
    assert!(!unmappable);
    let utf16 = |big: bool| {
        let mut out = if big {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in text.encode_utf16() {
            out.extend(if big {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        out
    };
    for (bytes, label) in [
        (text.as_bytes().to_vec(), "utf-8"),
        (bom, "utf-8-bom"),
        (win.into_owned(), "windows-1252"),
        (mac.into_owned(), "mac-roman"),
        (utf16(false), "utf-16le"),
        (utf16(true), "utf-16be"),
    ] {
        let (detected, outcomes) = import(&bytes, &options("US"));
        assert_eq!(detected.encoding, label);
        assert_eq!(detected.headers[0], "First Name", "{label}: BOM stripped");
        assert_eq!(
            valid(&outcomes),
            vec![
                (2, "+14155552671".into(), Some("Zoë".into())),
                (3, "+447911123456".into(), Some("José".into())),
            ],
            "{label}"
        );
    }
}

/// Polish Excel saves CSV in Windows-1250, whose `ł`, `ą`, `ż` and `ś` are Windows-1252's
/// `³`, `¹`, `¿` and `œ`: such a file is read in Windows-1250. (Czech and Hungarian letters
/// read as letters in both, which tells nothing: such files stay Windows-1252.) Western files
/// (a Spanish question opening with `¿` too) stay Windows-1252.
#[test]
fn central_european_excel_files_are_windows_1250() {
    let polish = "Imię;Nazwisko;Telefon;Miasto\nŁukasz;Wiśniewski;501234567;Łódź\n\
                  Małgorzata;Żółkiewska;502345678;Kraków\n";
    // One `ł` among letters both read alike.
    let one_letter = "Imię;Telefon;Ulica\nAnna;501234567;Złota 5\nPiotr;502345678;Wiejska 4\n";
    for (text, region) in [(polish, "PL"), (one_letter, "PL")] {
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_1250.encode(text);
        assert!(!unmappable);
        let (detected, outcomes) = import(&bytes, &options(region));
        assert_eq!(detected.encoding, "windows-1250", "{text}");
        let names: Vec<Option<String>> = valid(&outcomes).into_iter().map(|r| r.2).collect();
        let want: Vec<Option<String>> = text
            .lines()
            .skip(1)
            .map(|line| line.split(';').next().map(str::to_owned))
            .collect();
        assert_eq!(names, want);
    }
    let western = [
        "Nombre;Móvil;¿Acepta SMS?\nJosé;612345678;Sí\nMaría;612345679;No\n",
        "Prénom;Portable;Ville\nFrançoise;0612345678;Besançon\nJérôme;0612345679;Nîmes\n",
        "Vorname;Handy;Straße\nJürgen;015112345678;Hauptstraße 5\nÄnne;015112345679;Über 3\n",
    ];
    for text in western {
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
        assert!(!unmappable);
        let (detected, _) = import(&bytes, &options("ES"));
        assert_eq!(detected.encoding, "windows-1252", "{text}");
        assert_eq!(
            detected.headers[0],
            text.split(';').next().unwrap_or_default()
        );
    }
}

/// A large export whose first accented name comes after the 64 KiB the encoding is guessed
/// from: its encoding is decided there, Windows-1252 or UTF-8, and no row is lost.
#[test]
fn an_accent_past_the_sample_decides_the_encoding() {
    let mut ascii = String::from("First Name,Phone\n");
    let mut row = 1;
    while ascii.len() < 70 * 1024 {
        row += 1;
        ascii.push_str(&format!("Name{row},+1 415 555 {:04}\n", row % 10_000));
    }
    let late = [
        ("René", "+1 202 555 0199", row + 1),
        ("Zoë", "+1 202 555 0198", row + 2),
    ];
    let tail: String = late
        .iter()
        .map(|(name, phone, _)| format!("{name},{phone}\n"))
        .collect();
    let (windows, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&tail);
    assert!(!unmappable);
    for (label, tail) in [
        ("windows-1252", windows.into_owned()),
        ("utf-8", tail.into_bytes()),
    ] {
        let mut file = ascii.clone().into_bytes();
        file.extend_from_slice(&tail);
        let mut opened = open(Cursor::new(file.clone()), &options("US")).unwrap();
        assert_eq!(opened.encoding(), "utf-8", "{label}: all ASCII so far");
        opened.by_ref().for_each(drop);
        assert_eq!(opened.encoding(), label);
        let (_, outcomes) = import(&file, &options("US"));
        assert!(
            invalid(&outcomes).is_empty(),
            "{label}: {:?}",
            invalid(&outcomes)
        );
        let found = valid(&outcomes);
        assert_eq!(found.len() as u64, row + 1, "{label}");
        for (name, phone, at) in late {
            let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
            assert!(
                found.contains(&(at, format!("+{digits}"), Some(name.into()))),
                "{label}: {name} on row {at}"
            );
        }
    }
}

/// A UTF-8 export with rows pasted from a Windows or old Mac tool: each such row is read in
/// its own encoding and every name comes out as written, wherever the rows sit (in the
/// sample the encoding is guessed from, past it, or past an all-ASCII start), and the
/// report's encoding says the file is mixed.
#[test]
fn rows_in_another_encoding_inside_a_utf8_file_are_read_as_written() {
    let names = [
        "Zoë",
        "René",
        "José",
        "Chloé",
        "Anaïs",
        "Müller",
        "François",
        "Søren",
    ];
    let row_of = |n: usize| format!("{},+1 415 555 {:04}\n", names[n % names.len()], n % 10_000);
    let windows = |text: &str| encoding_rs::WINDOWS_1252.encode(text).0.into_owned();
    let mac = |text: &str| encoding_rs::MACINTOSH.encode(text).0.into_owned();
    let filler = |file: &mut Vec<u8>, from: usize| {
        let mut n = from;
        while file.len() < 70 * 1024 {
            file.extend_from_slice(format!("Name{n},+1 202 555 {:04}\n", n % 10_000).as_bytes());
            n += 1;
        }
    };
    let mut cases: Vec<(&str, Vec<u8>, &str)> = Vec::new();
    // In the sample: most names UTF-8, one row Windows-1252.
    let mut file = b"First Name,Phone\n".to_vec();
    for n in 0..8 {
        let row = row_of(n);
        file.extend(if n == 3 {
            windows(&row)
        } else {
            row.into_bytes()
        });
    }
    cases.push(("in the sample", file, "utf-8 with windows-1252 rows"));
    // Past the sample, after UTF-8 names: a Mac Roman row.
    let mut file = b"First Name,Phone\n".to_vec();
    file.extend(row_of(0).into_bytes());
    filler(&mut file, 1000);
    file.extend(mac(&row_of(1)));
    file.extend(row_of(2).into_bytes());
    cases.push(("past the sample", file, "utf-8 with mac-roman rows"));
    // An all-ASCII start, then a Windows-1252 row among UTF-8 ones.
    let mut file = b"First Name,Phone\n".to_vec();
    filler(&mut file, 1000);
    file.extend(windows(&row_of(4)));
    for n in 5..8 {
        file.extend(row_of(n).into_bytes());
    }
    cases.push(("after ASCII", file, "utf-8 with windows-1252 rows"));
    for (case, file, label) in cases {
        let mut opened = open(Cursor::new(file), &options("US")).unwrap();
        let outcomes: Vec<RowOutcome> = opened.by_ref().collect();
        assert_eq!(opened.encoding(), label, "{case}");
        assert!(
            invalid(&outcomes).is_empty(),
            "{case}: {:?}",
            invalid(&outcomes)
        );
        let accented: Vec<String> = valid(&outcomes)
            .into_iter()
            .filter_map(|(_, _, name)| name)
            .filter(|name| !name.is_ascii())
            .collect();
        assert!(!accented.is_empty(), "{case}");
        for name in accented {
            assert!(names.contains(&name.as_str()), "{case}: {name} garbled");
        }
    }
}

/// A row of UTF-8 with one field in Windows-1252 (a note with a Windows dash): that field is
/// read in Windows-1252, the row's UTF-8 names stay as written.
#[test]
fn a_windows_field_in_a_utf8_row_leaves_the_other_fields_alone() {
    let mut file = "First Name,Last Name,Phone,Note\nZoë,Renée,(415) 555-0402,ok "
        .as_bytes()
        .to_vec();
    file.extend_from_slice(b"\x96 fine\nJos\xC3\xA9,O\x92Brien,(415) 555-0403,\n");
    // A UTF-8 letter beside a Windows quote is no evidence of Mac Roman; a field mixing both
    // keeps both.
    file.extend_from_slice(b"Fran\xC3\xA7ois,Dubois,(415) 555-0404,Don\x92t call before 10\n");
    file.extend_from_slice(b"Ann,Ren\xC3\xA9e \x96 VIP,(415) 555-0405,\n");
    let mut opened = open(Cursor::new(file), &options("US")).unwrap();
    let outcomes: Vec<RowOutcome> = opened.by_ref().collect();
    let rows: Vec<_> = outcomes
        .iter()
        .map(|o| match o {
            RowOutcome::Valid(r) => (
                r.first_name.clone(),
                r.last_name.clone(),
                r.attributes.get("note").cloned(),
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(
        rows,
        vec![
            (some("Zoë"), some("Renée"), some("ok – fine")),
            (some("José"), some("O’Brien"), None),
            (
                some("François"),
                some("Dubois"),
                some("Don’t call before 10")
            ),
            (some("Ann"), some("Renée – VIP"), None),
        ]
    );
    assert_eq!(opened.encoding(), "utf-8 with windows-1252 rows");
}

/// Names written decomposed (a letter, then its accent: macOS writes file names so, and
/// Vietnamese Windows-1258 writes its tones so) are imported composed, as typed: the same
/// name as its composed spelling, and an `é` that GSM-7 sends (a lone combining accent would
/// send the whole message as UCS-2, at more than twice the segments).
#[test]
fn decomposed_names_are_imported_composed() {
    let decomposed = "Pre\u{301}nom,Nom,Te\u{301}le\u{301}phone,Ville\n\
                      Jose\u{301},Nu\u{301}n\u{303}ez,06 12 34 56 78,Orle\u{301}ans\n\
                      Zoe\u{308},Bronte\u{308},06 23 45 67 89,Haworth\n";
    let (detected, outcomes) = import(decomposed.as_bytes(), &options("FR"));
    assert_eq!(detected.headers, ["Prénom", "Nom", "Téléphone", "Ville"]);
    let people: Vec<_> = (outcomes.iter())
        .map(|outcome| match outcome {
            RowOutcome::Valid(row) => (
                row.first_name.clone().unwrap_or_default(),
                row.last_name.clone().unwrap_or_default(),
                row.attributes.get("ville").cloned().unwrap_or_default(),
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        people,
        [
            ("José".into(), "Núñez".into(), "Orléans".into()),
            ("Zoë".into(), "Brontë".into(), "Haworth".into())
        ]
    );
    // Windows-1258 has no `ọ` or `ễ`: it writes the tone mark after the letter.
    let vietnamese =
        "Ho\u{323} và tên,Điê\u{323}n thoa\u{323}i\nNguyê\u{303}n Văn An,090 123 4567\n";
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1258.encode(vietnamese);
    assert!(!unmappable);
    let (detected, outcomes) = import(&bytes, &options("VN"));
    assert_eq!(detected.encoding, "windows-1258");
    match &outcomes[..] {
        [RowOutcome::Valid(row)] => {
            assert_eq!(row.last_name.as_deref(), Some("Nguyễn"));
            assert_eq!(row.first_name.as_deref(), Some("Văn An"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_delimiter_and_line_end() {
    for delimiter in [",", ";", "\t", "|"] {
        for line_end in ["\n", "\r\n", "\r"] {
            let text = SIMPLE.replace(',', delimiter).replace('\n', line_end);
            let (detected, outcomes) = import(text.as_bytes(), &options("US"));
            assert_eq!(detected.delimiter.to_string(), delimiter);
            assert_eq!(
                valid(&outcomes),
                simple_expected(),
                "{delimiter:?} {line_end:?}"
            );
            // Blank lines are rows of the sheet, so the rows after them keep their numbers.
            let spaced = text.replacen(line_end, &line_end.repeat(3), 2);
            let (_, outcomes) = import(spaced.as_bytes(), &options("US"));
            let rows: Vec<u64> = valid(&outcomes).iter().map(|r| r.0).collect();
            assert_eq!(rows, [4, 7], "{delimiter:?} {line_end:?}");
        }
    }
}

#[test]
fn quoted_fields_keep_row_numbers() {
    let text = "Name,Phone,Notes\n\
                \"Lovelace, Ada\",4155552671,\"line one\nline two\r\nline \"\"three\"\"\"\n\
                Bad,123,x\n\
                Grace Hopper,4155552672,\"a;b|c\"\n";
    let (_, outcomes) = import(text.as_bytes(), &options("US"));
    assert_eq!(
        valid(&outcomes),
        vec![
            (2, "+14155552671".into(), Some("Ada".into())),
            (4, "+14155552672".into(), Some("Grace".into())),
        ]
    );
    assert_eq!(invalid(&outcomes)[0].0, 3);
    let RowOutcome::Valid(first) = &outcomes[0] else {
        panic!("{outcomes:?}")
    };
    assert_eq!(
        first.attributes["notes"],
        "line one\nline two\r\nline \"three\""
    );
    let RowOutcome::Valid(grace) = &outcomes[2] else {
        panic!("{outcomes:?}")
    };
    assert_eq!(grace.last_name.as_deref(), Some("Hopper"));
}

#[test]
fn real_export_headers() {
    let files = [
        "Given Name,Family Name,Phone 1 - Value\nAda,Lovelace,+1 415-555-2671\n",
        "First Name,Last Name,Phone,Accepts SMS Marketing\nAda,Lovelace,+14155552671,no\n",
        "First Name,Last Name,Mobile Phone Number\nAda,Lovelace,415.555.2671\n",
        "Email Address,First Name,Last Name,Phone Number\nada@example.com,Ada,Lovelace,4155552671\n",
    ];
    for file in files {
        let (detected, outcomes) = import(file.as_bytes(), &options("US"));
        assert!(detected.mapping.iter().any(|(_, t)| *t == Target::Phone));
        assert_eq!(
            valid(&outcomes),
            vec![(2, "+14155552671".into(), Some("Ada".into()))],
            "{file}"
        );
    }
}

#[test]
fn explicit_mapping() {
    let mut opts = options("DE");
    opts.mapping = Some(
        "phone=Telefon,first_name=Vorname,tags=Labels,attr:city=Ort"
            .parse()
            .unwrap(),
    );
    let text = "Vorname;Telefon;Labels;Ort\nAnna;0151 23456789;vip, kunde|vip;Berlin\n";
    let (detected, outcomes) = import(text.as_bytes(), &opts);
    assert_eq!(
        detected.mapping[3],
        ("Ort".into(), Target::Attribute("city".into()))
    );
    let RowOutcome::Valid(row) = &outcomes[0] else {
        panic!("{outcomes:?}")
    };
    assert_eq!(row.phone.as_str(), "+4915123456789");
    assert_eq!(row.first_name.as_deref(), Some("Anna"));
    assert_eq!(row.tags, vec!["vip", "kunde"]);
    assert_eq!(row.attributes["city"], "Berlin");

    opts.mapping = Some("phone=Handy".parse().unwrap());
    let err = open(Cursor::new(text), &opts).err().unwrap();
    assert!(matches!(err, ImportError::UnknownMappingColumn { .. }));
    assert!(
        err.to_string()
            .contains("`Vorname`, `Telefon`, `Labels`, `Ort`"),
        "{err}"
    );
}

#[test]
fn duplicates_and_invalid_rows() {
    let text = "phone,first name,email\n\
                4155552671,Ada,\n\
                (415) 555-2671,Again,\n\
                555-0199,Short,\n\
                ,Missing,\n\
                4155552672,Mail,not-an-email\n\
                +1 415 555 2671,Third,\n\
                ,,\n\
                4155552673,Ok,ok@example.com\n";
    let (_, outcomes) = import(text.as_bytes(), &options("US"));
    let rows: Vec<u64> = outcomes.iter().map(RowOutcome::row).collect();
    // Row 8 (empty cells) is skipped silently.
    assert_eq!(rows, vec![2, 3, 4, 5, 6, 7, 9]);
    assert!(matches!(
        &outcomes[1],
        RowOutcome::Duplicate { row: 3, first_row: 2, phone } if phone.as_str() == "+14155552671"
    ));
    assert!(matches!(
        &outcomes[5],
        RowOutcome::Duplicate {
            row: 7,
            first_row: 2,
            ..
        }
    ));
    let bad = invalid(&outcomes);
    assert_eq!(bad.iter().map(|b| b.0).collect::<Vec<_>>(), vec![4, 5, 6]);
    assert!(bad[0].1.contains("`555-0199`"), "{}", bad[0].1);
    assert_eq!(bad[1].1, "phone is missing");
    assert!(bad[2].1.contains("`not-an-email`"), "{}", bad[2].1);
}

/// A mobile column wins the phone, but a row without a mobile takes its other number rather
/// than being refused (which column is the phone is still the mobile one).
#[test]
fn a_row_without_a_mobile_takes_its_landline() {
    let text = "Name,Tel.,Mobile No.\nAda,020 7946 0018,07911 123456\nBob,020 7946 0019,\n\
                Cy,,\n";
    let (_, outcomes) = import(text.as_bytes(), &options("GB"));
    let phones: Vec<(u64, String)> = valid(&outcomes)
        .into_iter()
        .map(|(row, phone, _)| (row, phone))
        .collect();
    assert_eq!(
        phones,
        [(2, "+447911123456".into()), (3, "+442079460019".into())]
    );
    assert_eq!(invalid(&outcomes).len(), 1, "a row with no number at all");
}

#[test]
fn consent_words_of_this_product_and_of_mailing_tools() {
    let cases = [
        ("explicit", Some(ConsentStatus::Explicit)),
        ("Implied", Some(ConsentStatus::Implied)),
        ("revoked", Some(ConsentStatus::Revoked)),
        ("unknown", None),
        ("Double opt-in", Some(ConsentStatus::Explicit)),
        ("confirmed", Some(ConsentStatus::Explicit)),
        ("pending", None),
        ("cleaned", None),
        ("non-subscribed", Some(ConsentStatus::Unknown)),
        ("ja", Some(ConsentStatus::Explicit)),
        ("Nein", Some(ConsentStatus::Unknown)),
        ("oui", Some(ConsentStatus::Explicit)),
        ("sí", Some(ConsentStatus::Explicit)),
    ];
    let mut text = String::from("phone,consent\n");
    for (n, (word, _)) in cases.iter().enumerate() {
        text.push_str(&format!("415555{:04},{word}\n", 2600 + n));
    }
    let (_, outcomes) = import(text.as_bytes(), &options("US"));
    assert_eq!(invalid(&outcomes), vec![]);
    let got: Vec<Option<ConsentStatus>> = outcomes
        .iter()
        .filter_map(|o| match o {
            RowOutcome::Valid(r) => Some(r.consent.as_ref().map(|c| c.status)),
            _ => None,
        })
        .collect();
    let want: Vec<Option<ConsentStatus>> = cases.iter().map(|(_, status)| *status).collect();
    assert_eq!(got, want);
}

#[test]
fn consent_column_and_declaration() {
    let text = "phone,sms consent\n4155552671,yes\n4155552672,no\n4155552673,unsubscribed\n4155552674,\n4155552675,maybe\n";
    let consent = |outcomes: &[RowOutcome]| -> Vec<Option<(ConsentStatus, String)>> {
        outcomes
            .iter()
            .filter_map(|o| match o {
                RowOutcome::Valid(r) => Some(
                    r.consent
                        .clone()
                        .map(|c| (c.status, c.source.unwrap_or_default())),
                ),
                _ => None,
            })
            .collect()
    };
    let (_, outcomes) = import(text.as_bytes(), &options("US"));
    let column = "import column sms consent".to_owned();
    assert_eq!(
        consent(&outcomes),
        vec![
            Some((ConsentStatus::Explicit, column.clone())),
            // No consent: withdraws a contact's, but is no opt-out.
            Some((ConsentStatus::Unknown, column.clone())),
            Some((ConsentStatus::Revoked, column.clone())),
            None,
        ]
    );
    assert!(invalid(&outcomes)[0].1.contains("`maybe`"));

    let mut opts = options("US");
    opts.consent = Some(ConsentDeclaration {
        source: "paper forms 2024".into(),
    });
    let (_, outcomes) = import(text.as_bytes(), &opts);
    let declared = Some((ConsentStatus::Explicit, "paper forms 2024".to_owned()));
    assert_eq!(
        consent(&outcomes)[3],
        declared,
        "empty cell takes the declaration"
    );
    assert_eq!(
        consent(&outcomes)[1],
        Some((ConsentStatus::Unknown, column.clone())),
        "an explicit no is not overridden"
    );
    assert_eq!(
        consent(&outcomes)[0],
        Some((
            ConsentStatus::Explicit,
            "paper forms 2024 (import column sms consent)".to_owned()
        )),
        "a yes keeps the declared source as well as the column"
    );
    let (_, outcomes) = import(b"phone\n4155552671\n", &opts);
    assert_eq!(consent(&outcomes), vec![declared]);
    // Default: unknown.
    let (_, outcomes) = import(b"phone\n4155552671\n", &options("US"));
    assert_eq!(consent(&outcomes), vec![None]);
    opts.consent = Some(ConsentDeclaration {
        source: "  ".into(),
    });
    assert!(matches!(
        open(Cursor::new("phone\n"), &opts),
        Err(ImportError::InvalidConsent(_))
    ));
}

#[test]
fn formula_cells_are_kept_as_text() {
    let text = "phone,first name,note,city\n'+14155552671,=cmd|' /C calc'!A0,@SUM(1+1),-2+3\n";
    let (_, outcomes) = import(text.as_bytes(), &options("US"));
    let RowOutcome::Valid(row) = &outcomes[0] else {
        panic!("{outcomes:?}")
    };
    assert_eq!(row.phone.as_str(), "+14155552671");
    assert_eq!(row.first_name.as_deref(), Some("=cmd|' /C calc'!A0"));
    assert_eq!(row.attributes["note"], "@SUM(1+1)");
    assert_eq!(row.attributes["city"], "-2+3");
}

#[test]
fn excel_mangled_phones() {
    let text = "phone\n7911123456\n4.47911123456E+11\n4.48E+11\n07911123457.0\n'07911 123458\n";
    let (_, outcomes) = import(text.as_bytes(), &options("GB"));
    assert_eq!(
        valid(&outcomes)
            .into_iter()
            .map(|v| (v.0, v.1))
            .collect::<Vec<_>>(),
        vec![
            (2, "+447911123456".into()),
            (5, "+447911123457".into()),
            (6, "+447911123458".into())
        ]
    );
    // The exact scientific form is the same number as row 2.
    assert!(matches!(
        &outcomes[1],
        RowOutcome::Duplicate {
            row: 3,
            first_row: 2,
            ..
        }
    ));
    let bad = invalid(&outcomes);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].0, 4);
    assert!(
        bad[0].1.contains("`4.48E+11`") && bad[0].1.contains("shortened by Excel"),
        "{bad:?}"
    );
}

#[test]
fn files_that_cannot_be_imported() {
    let err = open(
        Cursor::new("Name,Email\nAda,ada@example.com\n"),
        &options("US"),
    )
    .err()
    .unwrap();
    assert!(matches!(err, ImportError::NoPhoneColumn { .. }));
    assert!(
        err.to_string().contains("[`Name`, `Email`]")
            && err.to_string().contains("mapping such as phone=")
    );
    // A mapping that gave the phone column to another field says so.
    let mut mapped = options("US");
    mapped.mapping = Some("name=Phone".parse().unwrap());
    let err = open(Cursor::new("Name,Phone\nAda,4155552671\n"), &mapped)
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("the mapping gives `Phone`, which reads as a phone column, to name"),
        "{err}"
    );
    assert!(err.is_the_mappings());

    for empty in [&b""[..], b"\xEF\xBB\xBF", b"\n\r\n  \n"] {
        assert!(
            matches!(
                open(Cursor::new(empty), &options("US")),
                Err(ImportError::Empty)
            ),
            "{empty:?}"
        );
    }
    // Header only: zero rows from the parser; an import run refuses such a file.
    let (detected, outcomes) = import(b"phone,name\n", &options("US"));
    assert_eq!(detected.headers, vec!["phone", "name"]);
    assert!(outcomes.is_empty());

    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01".to_vec();
    let mut zip = b"PK\x03\x04\x14\0\0\0\x08\0".to_vec();
    zip.extend(std::iter::repeat_n(0xAB, 500));
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    for binary in [png, zip, noise] {
        assert!(matches!(
            open(Cursor::new(binary), &options("US")),
            Err(ImportError::Binary)
        ));
    }
}

/// A reader that produces a 10 MB field without ever holding it.
struct Huge {
    head: Cursor<Vec<u8>>,
    left: usize,
    tail: Cursor<Vec<u8>>,
}

impl Read for Huge {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.head.read(buf)?;
        if n > 0 {
            return Ok(n);
        }
        if self.left > 0 {
            let n = buf.len().min(self.left);
            buf[..n].fill(b'x');
            self.left -= n;
            return Ok(n);
        }
        self.tail.read(buf)
    }
}

#[test]
fn a_10_mb_field_rejects_its_row_only() {
    let input = Huge {
        head: Cursor::new(b"phone,notes\n4155552671,ok\n4155552672,\"".to_vec()),
        left: 10 * 1024 * 1024,
        tail: Cursor::new(b"\"\n4155552673,fine\n".to_vec()),
    };
    let outcomes: Vec<RowOutcome> = open(input, &options("US")).unwrap().collect();
    assert_eq!(outcomes.len(), 3);
    assert_eq!(
        invalid(&outcomes),
        vec![(3, "field notes is longer than 65536 bytes".to_owned())]
    );
    assert_eq!(outcomes[2].row(), 4);
}

#[test]
fn an_unquoted_delimiter_in_a_value_is_reported() {
    let (_, outcomes) = import(b"phone,name\n4155552671,Smith, John\n", &options("US"));
    let bad = invalid(&outcomes);
    assert_eq!(bad[0].0, 2);
    assert!(bad[0].1.contains("`John`"), "{}", bad[0].1);
}

#[test]
fn a_quote_never_closed_rejects_its_row_and_says_what_it_swallowed() {
    let text = "phone,note\n4155552671,\"abc\n4155552672,x\n4155552673,y\n";
    let (_, outcomes) = import(text.as_bytes(), &options("US"));
    let bad = invalid(&outcomes);
    assert_eq!(outcomes.len(), 1, "the rows after the quote are its text");
    assert_eq!(bad[0].0, 2);
    assert!(
        bad[0].1.contains("never closed") && bad[0].1.contains("2 more line"),
        "{}",
        bad[0].1
    );
}

#[test]
fn placeholder_emails_are_empty_and_tag_lists_may_span_lines() {
    let text = "phone,email,tags\n\
                4155552671,n/a,\"vip\nspring\r\nnewsletter\"\n\
                4155552672,-,\n\
                4155552673,N/A ,\n\
                4155552674,john@@x,\n";
    let (_, outcomes) = import(text.as_bytes(), &options("US"));
    let kept: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            RowOutcome::Valid(r) => Some((r.email.clone(), r.tags.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        kept,
        vec![
            (
                None,
                vec!["vip".into(), "spring".into(), "newsletter".into()]
            ),
            (None, vec![]),
            (None, vec![]),
        ]
    );
    // A malformed address is still refused, with its row: it is not a placeholder.
    let bad = invalid(&outcomes);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].0, 5);
    assert!(bad[0].1.contains("john@@x"), "{}", bad[0].1);
}

#[test]
fn a_cell_with_several_numbers() {
    let text = "Name,Phone 1 - Value\n\
                Ada,+1 415-555-2691 ::: +1 415-555-2692\n\
                Bob,415-555-2693 / 415-555-2694\n\
                Cy,4155552695 or 4155552696\n";
    let (_, outcomes) = import(text.as_bytes(), &options("US"));
    let RowOutcome::Valid(ada) = &outcomes[0] else {
        panic!("{outcomes:?}")
    };
    // Google Contacts' list: the first is the phone, the others are kept.
    assert_eq!(ada.phone.as_str(), "+14155552691");
    assert_eq!(ada.attributes["other_phones"], "+1 415-555-2692");
    let bad = invalid(&outcomes);
    assert_eq!(bad.iter().map(|b| b.0).collect::<Vec<_>>(), [3, 4]);
    for (_, why) in bad {
        assert!(why.contains("more than one number"), "{why}");
    }

    // Beside an `Other Phones` column the numbers are added to it, within the value limit.
    let long = "1".repeat(smscrm_domain::contact::MAX_ATTRIBUTE_VALUE_CHARS - 5);
    let text = format!(
        "Phone 1 - Value,Other Phones\n+1 415-555-2691 ::: +1 415-555-2692,{long}\n\
         +1 415-555-2693 ::: +1 415-555-2694,+1 415-555-2695\n"
    );
    let (_, outcomes) = import(text.as_bytes(), &options("US"));
    assert!(
        matches!(&outcomes[0], RowOutcome::Invalid { row: 2, reason, .. } if reason.contains("other_phones")),
        "{:?}",
        outcomes[0]
    );
    let RowOutcome::Valid(row) = &outcomes[1] else {
        panic!("{outcomes:?}")
    };
    assert_eq!(
        row.attributes["other_phones"],
        "+1 415-555-2695, +1 415-555-2694"
    );
}

#[test]
fn a_mapping_can_name_a_column_by_position() {
    let text = "Name,Phone,PHONE,\nAda,4155552671,4155552672,4155552673\n";
    let mut opts = options("US");
    opts.mapping = Some("phone=PHONE".parse().unwrap());
    let (_, outcomes) = import(text.as_bytes(), &opts);
    let RowOutcome::Valid(row) = &outcomes[0] else {
        panic!("{outcomes:?}")
    };
    assert_eq!(row.phone.as_str(), "+14155552672", "the exact header first");

    opts.mapping = Some("phone=phone".parse().unwrap());
    let err = open(Cursor::new(text), &opts).err().unwrap();
    assert!(
        matches!(&err, ImportError::AmbiguousMappingColumn { positions, .. } if positions == &[2, 3]),
        "{err}"
    );
    assert!(err.to_string().contains("phone=#2"), "{err}");

    // The second of two alike, or a column with no name at all.
    for (column, phone) in [("#3", "+14155552672"), ("#4", "+14155552673")] {
        opts.mapping = Some(format!("phone={column}").parse().unwrap());
        let (_, outcomes) = import(text.as_bytes(), &opts);
        let RowOutcome::Valid(row) = &outcomes[0] else {
            panic!("{column}: {outcomes:?}")
        };
        assert_eq!(row.phone.as_str(), phone, "{column}");
    }
    // One column mapped twice, by position and by name, is refused, not overwritten.
    opts.mapping = Some("phone=#2,attr:mob=Phone".parse().unwrap());
    let err = open(Cursor::new(text), &opts).err().unwrap();
    assert!(matches!(err, ImportError::InvalidMapping { .. }), "{err}");
    // Two headers written the same way: by position only.
    let twins = "Phone,Phone\n4155552671,4155552672\n";
    opts.mapping = Some("phone=Phone".parse().unwrap());
    let err = open(Cursor::new(twins), &opts).err().unwrap();
    assert!(
        matches!(err, ImportError::AmbiguousMappingColumn { .. }),
        "{err}"
    );
    assert!(
        "phone=#0".parse::<ExplicitMapping>().is_err(),
        "positions start at 1"
    );
    opts.mapping = Some("phone=#9".parse().unwrap());
    assert!(matches!(
        open(Cursor::new(text), &opts).err().unwrap(),
        ImportError::UnknownMappingColumn { .. }
    ));
}

#[test]
fn a_consent_cell_saying_unknown_leaves_consent_alone() {
    let text = "phone,sms consent\n4155552671,unknown\n4155552672,None\n4155552673,false\n";
    let (_, outcomes) = import(text.as_bytes(), &options("US"));
    let consent: Vec<_> = outcomes
        .iter()
        .map(|o| match o {
            RowOutcome::Valid(r) => r.consent.as_ref().map(|c| c.status),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(consent, [None, None, Some(ConsentStatus::Unknown)]);
}

/// Exports carry opt-outs in columns of their own: a yes there records an opt-out, whatever
/// the consent column or the import's declaration says; a no says nothing.
#[test]
fn opt_out_columns_win_over_consent_and_the_declaration() {
    let statuses = consent_statuses;
    let mut declared = options("US");
    declared.consent = Some(ConsentDeclaration {
        source: "web form".into(),
    });
    // Salesforce's report: an SMS opt-out flag and a do-not-call flag.
    let salesforce = "First Name,Mobile,SMS Opt Out,Do Not Call,Email Opt Out\n\
                      Ada,4155552671,0,0,1\n\
                      Bob,4155552672,1,0,0\n\
                      Cy,4155552673,0,1,0\n\
                      Di,4155552674,,,\n";
    use ConsentStatus::{Explicit, Revoked};
    assert_eq!(
        statuses(salesforce, &declared),
        vec![
            Ok(Some(Explicit)),
            Ok(Some(Revoked)),
            Ok(Some(Revoked)),
            Ok(Some(Explicit))
        ]
    );
    // Mailchimp's unsubscribed export: a time is an opt-out, even beside a "yes".
    let mailchimp = "Email Address,Phone Number,SMS Consent,UNSUB_TIME,UNSUB_REASON\n\
                     a@example.com,4155552671,yes,2024-03-01 10:00:00,SPAM\n\
                     b@example.com,4155552672,yes,,\n";
    assert_eq!(
        statuses(mailchimp, &declared),
        vec![Ok(Some(Revoked)), Ok(Some(Explicit))]
    );
    // German Excel's booleans, in an opt-out column and a consent column.
    let german =
        "Telefon;Kein SMS;SMS-Einwilligung\n4155552671;FALSCH;WAHR\n4155552672;WAHR;WAHR\n";
    let mut mapped = options("US");
    mapped.mapping = Some(
        "opt_out=Kein SMS,consent=SMS-Einwilligung"
            .parse::<ExplicitMapping>()
            .unwrap(),
    );
    assert_eq!(
        statuses(german, &mapped),
        vec![Ok(Some(Explicit)), Ok(Some(Revoked))]
    );
    // Anything but a clear no or a placeholder errs towards an opt-out: a reason, a time, a
    // "yes" with a remark.
    let unclear = "phone,Do Not Text\n4155552671,maybe\n4155552672,Yes - replied STOP\n\
                   4155552673,n/a\n4155552674,No\n";
    assert_eq!(
        statuses(unclear, &declared),
        vec![
            Ok(Some(Revoked)),
            Ok(Some(Revoked)),
            Ok(Some(Explicit)),
            Ok(Some(Explicit))
        ]
    );
    // Consent cells as tools write them: an opt-out however put, a never-subscribed.
    let values = "phone,SMS Status\n4155552671,No - unsubscribed\n4155552672,NEVER_SUBSCRIBED\n\
                  4155552673,not opted in\n4155552674,bounced\n4155552675,Subscribed\n\
                  4155552676,Not opted out\n";
    use ConsentStatus::Unknown;
    assert_eq!(
        statuses(values, &options("US")),
        vec![
            Ok(Some(Revoked)),
            Ok(Some(Unknown)),
            Ok(Some(Unknown)),
            Ok(None),
            Ok(Some(Explicit)),
            // No opt-out, and no consent either: consent stays as it is.
            Ok(None),
        ]
    );
    // Mapping an opt-out column as consent would turn every opt-out into consent.
    let mut flipped = options("US");
    flipped.mapping = Some("consent=SMS Opt Out".parse::<ExplicitMapping>().unwrap());
    let refused = open(Cursor::new(salesforce), &flipped)
        .err()
        .expect("refused");
    assert!(
        refused.to_string().contains("opt_out=SMS Opt Out"),
        "{refused}"
    );
}

/// A Salesforce report's footer lines are refused saying what they hold, so the report
/// explains them; a name alone is a contact without a phone, as before.
#[test]
fn report_footers_are_told_apart_from_contacts() {
    let file = "First Name,Last Name,Mobile\n\
                Ada,Lovelace,4155552671\n\
                Bob,,\n\
                \"\"\n\
                \"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved.\"\n\
                \"Confidential Information - Do Not Distribute\"\n";
    let (_, outcomes) = import(file.as_bytes(), &options("US"));
    let refused = invalid(&outcomes);
    assert_eq!(refused.len(), 3, "{refused:?}");
    assert_eq!(refused[0], (3, "phone is missing".into()));
    for (row, reason) in &refused[1..] {
        assert!(reason.starts_with("phone is missing"), "{row}: {reason}");
        assert!(reason.contains("title or footer line"), "{row}: {reason}");
    }
    assert!(
        refused[1].1.contains("`Copyright (c) 2000-2026"),
        "{refused:?}"
    );
}

/// A row refused for another field still says its person opted out: the refusal carries the
/// number and where the opt-out was read, so the import can record it. Not where the number
/// is invalid, nor where extra cells may have shifted the columns.
#[test]
fn a_refused_row_keeps_its_opt_out() {
    let file = "Phone,Email,SMS Opt Out,SMS Consent\n\
                4155552671,ann@@example,yes,\n\
                4155552672,bob@@example,no,yes\n\
                12,cy@example.com,yes,\n\
                (Do not text) 415-555-2674,di@@example,,\n\
                4155552675,ed@@example,yes,,extra\n\
                4155552676,fay@@example,,unsubscribed\n";
    let (_, outcomes) = import(file.as_bytes(), &options("US"));
    let kept: Vec<_> = outcomes
        .iter()
        .map(|o| match o {
            RowOutcome::Invalid { row, opt_out, .. } => (
                *row,
                opt_out
                    .as_ref()
                    .map(|o| (o.phone.to_string(), o.source.clone())),
            ),
            other => panic!("every row is refused: {other:?}"),
        })
        .collect();
    let kept_for =
        |phone: &str, column: &str| Some((phone.into(), format!("import column {column}")));
    assert_eq!(
        kept,
        vec![
            (2, kept_for("+14155552671", "SMS Opt Out")),
            (3, None),
            (4, None),
            (5, kept_for("+14155552674", "Phone")),
            (6, None),
            (7, kept_for("+14155552676", "SMS Consent")),
        ]
    );
}

/// A bare "Stop" column is a STOP received as often as a school's bus stop: its flags, dates
/// and STOPs opt out as another opt-out column's do, and a row holding anything else there
/// is refused saying how to map the column, neither opted out nor listed.
#[test]
fn a_bare_stop_column_of_something_else_opts_nobody_out() {
    use ConsentStatus::{Explicit, Revoked};
    let opted_out = "Phone,Stop\n4155552671,yes\n4155552672,\n4155552673,2024-03-01 10:00\n\
                     4155552674,STOP\n4155552675,no\n4155552676,\u{2713}\n4155552677,1 Mar 2024\n\
                     4155552678,9:30 AM\n4155552679,\"Fri, 01 Mar 2024 10:00:00 GMT\"\n\
                     4155552680,2024-03-01T14:05:00Z\n4155552681,Opted out\n";
    let revoked = Ok(Some(Revoked));
    let explicit = Ok(Some(Explicit));
    assert_eq!(
        consent_statuses(opted_out, &declared("web form")),
        vec![
            revoked.clone(),
            explicit.clone(),
            revoked.clone(),
            revoked.clone(),
            explicit.clone(),
            revoked.clone(),
            revoked.clone(),
            revoked.clone(),
            revoked.clone(),
            revoked.clone(),
            revoked.clone(),
        ]
    );
    // Stops' names and numbers, however much they look like dates or flags, opt nobody out.
    let stops = "Phone,Stop\n4155552671,1600 Market St\n4155552672,4521\n4155552673,Blocked Rd\n\
                 4155552674,Monroe & 1234th\n4155552675,Octavia St 1500\n4155552676,1\n\
                 4155552677,x\n4155552678,Y\n4155552679,12 & 3\n";
    for (at, status) in consent_statuses(stops, &declared("web form"))
        .iter()
        .enumerate()
    {
        let reason = status.as_ref().expect_err("refused");
        assert!(
            reason.contains("attr:stop=Stop"),
            "row {}: {reason}",
            at + 2
        );
    }
    let bus = "Student,Phone,Stop,Email\nAda,4155552671,Elm St & 5th,\n\
               Bob,4155552672,Stop 12,\nCy,4155552673,,\nDi,4155552674,A,\n\
               Ed,4155552675,Oak Ave,ed@@example\n";
    let (_, outcomes) = import(bus.as_bytes(), &declared("web form"));
    let refused: Vec<_> = outcomes
        .iter()
        .map(|o| match o {
            RowOutcome::Invalid {
                row,
                opt_out,
                reason,
            } => {
                assert_eq!(*opt_out, None, "row {row} listed: {reason}");
                Err((*row, reason.clone()))
            }
            RowOutcome::Valid(r) => Ok(r.consent.as_ref().map(|c| c.status)),
            other => panic!("{other:?}"),
        })
        .collect();
    let Err((2, reason)) = &refused[0] else {
        panic!("{refused:?}")
    };
    assert!(
        reason.contains("`Elm St & 5th`") && reason.contains("attr:stop=Stop"),
        "{reason}"
    );
    assert!(matches!(refused[1], Err((3, _))), "{refused:?}");
    assert_eq!(refused[2], Ok(Some(Explicit)));
    assert!(matches!(refused[3], Err((5, _))), "{refused:?}");
    assert!(matches!(refused[4], Err((6, _))), "{refused:?}");
    // Mapped as the reason says, the column is kept and nobody is opted out.
    let mut mapped = declared("web form");
    mapped.mapping = Some("attr:stop=Stop".parse::<ExplicitMapping>().unwrap());
    assert_eq!(
        consent_statuses(bus, &mapped)[..4],
        [const { Ok(Some(Explicit)) }; 4]
    );
}

/// Each row's cells as written, for a report of refused rows that can be fixed and imported
/// again: a Windows-1252 row of a UTF-8 file decoded, a quoted delimiter kept, cells past the
/// header kept, empty cells in place; none for a row refused unread.
#[test]
fn a_rows_cells_are_given_as_written() {
    // Mostly UTF-8, so the file is read as UTF-8 and only the row that is not is decoded.
    let mut file = "Name,Phone,Note\nZo\u{eb} Adams,12,\"\u{e4}, \u{f6}, \u{fc}\"\n"
        .as_bytes()
        .to_vec();
    file.extend(b"Jos\xe9,415 555 2671,,extra\n");
    file.extend(format!("Long,4155552672,{}\n", "x".repeat(100)).as_bytes());
    file.extend(b",4155552673,\n");
    let mut opts = options("US");
    opts.max_field_bytes = 64;
    let mut rows = open(Cursor::new(file), &opts).unwrap();
    let mut seen = Vec::new();
    while let Some(outcome) = rows.next() {
        seen.push((outcome.row(), rows.cells()));
    }
    assert_eq!(rows.encoding(), "utf-8 with windows-1252 rows");
    let cells = |c: &[&str]| c.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    assert_eq!(
        seen,
        vec![
            (
                2,
                cells(&["Zo\u{eb} Adams", "12", "\u{e4}, \u{f6}, \u{fc}"])
            ),
            (3, cells(&["Jos\u{e9}", "415 555 2671", "", "extra"])),
            (4, Vec::new()),
            (5, cells(&["", "4155552673", ""])),
        ]
    );
}

/// A report of refused rows, fixed in a spreadsheet and imported again, reads as the file it
/// came from would: its own columns left out (both, or `error_reason` alone), cells it
/// protected against formulas as they were, the file's mapping positions as they were, a
/// header a spreadsheet padded to the widest row still refusing cells past the file's
/// columns, and duplicates still refused.
#[test]
fn a_fixed_report_of_refused_rows_reads_as_its_file_would() {
    let report = "\u{feff}error_row,error_reason,Name,Phone,Handle,\n\
                  2,bad phone,'-Ann,'+1 415 555 2671,'@ann,\n\
                  3,shifted,\"Smith, John\",4155552672,x,extra\n\
                  4,duplicate of row 2 (+14155552671),Bob,4155552671,'=1+2,\n";
    let (detected, outcomes) = import(report.as_bytes(), &options("US"));
    let mapped: Vec<_> = detected.mapping.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(mapped, ["Name", "Phone", "Handle"]);
    let RowOutcome::Valid(ann) = &outcomes[0] else {
        panic!("{outcomes:?}")
    };
    assert_eq!(ann.first_name.as_deref(), Some("-Ann"));
    assert_eq!(ann.phone.as_str(), "+14155552671");
    assert_eq!(ann.attributes["handle"], "@ann");
    let refused = invalid(&outcomes);
    assert!(
        refused[0].1.starts_with("row has more cells"),
        "{refused:?}"
    );
    assert!(
        refused[1].1.starts_with("duplicate of row 2"),
        "{refused:?}"
    );
    assert_eq!(refused.len(), 2);
    // Refused again unfixed, its report's reason says where the row came from once.
    let again = format!(
        "error_row,error_reason,Name,Phone\n4,\"{}\",Bob,4155552671\n",
        refused[1].1
    );
    let (_, outcomes) = import(again.as_bytes(), &options("US"));
    let reason = &invalid(&outcomes)[0].1;
    assert_eq!(reason, &refused[1].1);

    // Without its row numbers; with the file's mapping by position.
    let report = "error_reason,Name,Phone,Handle\nbad phone,Ann,4155552671,'@ann\n";
    let mut mapped = options("US");
    mapped.mapping = Some("attr:nick=#1,phone=#2".parse::<ExplicitMapping>().unwrap());
    let (_, outcomes) = import(report.as_bytes(), &mapped);
    let RowOutcome::Valid(ann) = &outcomes[0] else {
        panic!("{outcomes:?}")
    };
    assert_eq!(ann.attributes.get("nick").map(String::as_str), Some("Ann"));
    assert_eq!(
        ann.attributes.get("handle").map(String::as_str),
        Some("@ann")
    );
    assert!(!ann.attributes.contains_key("error_reason"), "{ann:?}");
    // Any other file keeps its apostrophes: they may be what was typed.
    let (_, outcomes) = import(b"Phone,Handle\n4155552671,'@ann\n", &options("US"));
    let RowOutcome::Valid(row) = &outcomes[0] else {
        panic!("{outcomes:?}")
    };
    assert_eq!(row.attributes["handle"], "'@ann");
}

/// A delimiter between the halves of what would be one UTF-8 character (`\xC3` `,` `\xBC`)
/// is two fields in another encoding, not a `ü` across two cells (found by fuzzing: it
/// panicked, splitting the text inside the character).
#[test]
fn a_character_split_by_a_delimiter_is_read_field_by_field() {
    for file in [
        &b"\xEF\xBB\xBF\xC3;\xBC"[..],
        b"phone\n\xC3\xA9\xC3\xA9\xC3\xA9\n\xC3,\xBC\n",
    ] {
        if let Ok(rows) = open(Cursor::new(file.to_vec()), &options("DE")) {
            rows.for_each(drop);
        }
    }
    // A UTF-8 export with one pasted Windows-1252 row.
    let file = b"Name,Phone,Note\nZo\xC3\xAB,4155552671,ok\nRen\xC3\xA9e,4155552672,ok\n\
                 Jos\xC3\xA9,4155552674,ok\nStrau\xDF,\xA04155552673,VIP\n";
    let (_, outcomes) = import(file, &options("US"));
    assert_eq!(
        valid(&outcomes)[3],
        (5, "+14155552673".into(), Some("Strau\u{df}".into()))
    );
}

/// Tags as exports write them: Google Contacts' ` ::: ` lists with its `* ` groups,
/// Mailchimp's quoted tags, Outlook's categories.
#[test]
fn tags_as_exports_write_them() {
    let tags = |text: &str| -> Vec<Vec<String>> {
        let (_, outcomes) = import(text.as_bytes(), &options("US"));
        outcomes
            .into_iter()
            .map(|o| match o {
                RowOutcome::Valid(r) => r.tags,
                other => panic!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(
        tags("Phone 1 - Value,Labels\n4155552671,* myContacts ::: VIP ::: Book Club\n"),
        vec![vec!["myContacts", "VIP", "Book Club"]]
    );
    assert_eq!(
        tags("Phone Number,TAGS\n4155552671,\"\"\"VIP\"\",\"\"Customer\"\"\"\n"),
        vec![vec!["VIP", "Customer"]]
    );
    assert_eq!(
        tags("Mobile Phone,Categories\n4155552671,VIP;Kunden\n"),
        vec![vec!["VIP", "Kunden"]]
    );
}

/// A country column says where each row's number may be from: a US number in a GB tenant's
/// file is not read as a London landline. Where the number reads validly both ways, the
/// reading that may be a mobile wins (an address's country is not always the phone's), and
/// where both may, the row is refused. A country the import does not know refuses a number
/// written without its country code (read for the tenant's region, it would be a stranger's).
#[test]
fn a_country_column_reads_each_number_for_its_country() {
    let text = "First Name,Phone,Address Country Code\n\
                Ada,(201) 555-0102,US\n\
                Bea,07911 123456,United Kingdom\n\
                Di,0612345678,+33\n\
                Ed,07911 123457,\n\
                Flo,+1 201 555 0103,Narnia\n\
                Gus,07911 123458,IN\n\
                Hal,07911 123459,N/A\n\
                Ida,'07911 123460,'44\n";
    let (detected, outcomes) = import(text.as_bytes(), &options("GB"));
    assert!(
        detected
            .mapping
            .iter()
            .any(|(h, t)| h == "Address Country Code" && t.to_string().starts_with("attr:")),
        "the column is kept as an attribute too: {:?}",
        detected.mapping
    );
    // ... and the report says what else it does.
    assert_eq!(
        detected.number_columns,
        [("Address Country Code".to_owned(), "country")]
    );
    let phones = |outcomes: &[RowOutcome]| -> Vec<String> {
        outcomes
            .iter()
            .map(|o| match o {
                RowOutcome::Valid(r) => r.phone.to_string(),
                other => format!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(
        phones(&outcomes),
        [
            "+12015550102",
            "+447911123456",
            "+33612345678",
            // No country: the import's region.
            "+447911123457",
            // Written with its country code: the column is not needed.
            "+12015550103",
            // A UK mobile with an Indian address: no valid Indian number.
            "+447911123458",
            "+447911123459",
            "+447911123460",
        ]
    );
    // A German mobile with an Austrian billing address, and a country written in German.
    let text =
        "Vorname,Handy,Billing Country\nAnn,0151 23456789,AT\nBen,0151 23456780,Deutschland\n";
    let (_, outcomes) = import(text.as_bytes(), &options("DE"));
    assert_eq!(phones(&outcomes), ["+4915123456789", "+4915123456780"]);
    // An Austrian mobile in a German shop's file, its country in German.
    let text = "Vorname,Handy,Land\nAnn,0664 1234567,Österreich\n";
    let (_, outcomes) = import(text.as_bytes(), &options("DE"));
    assert_eq!(phones(&outcomes), ["+436641234567"]);
    // A US shop's Mexican customer: a New Jersey number or a Mexico City one, both perhaps
    // mobiles; which is meant cannot be told, so the row is refused.
    let text = "Name,Phone,Country\nAna,55 1234 5678,Mexico\n";
    let (_, outcomes) = import(text.as_bytes(), &options("US"));
    let refused = invalid(&outcomes);
    assert!(
        refused.len() == 1 && refused[0].1.contains("write it with its country code"),
        "{outcomes:?}"
    );
}

/// Email cells as exports write them: the contact gets the first address, the others are
/// kept; an Outlook colleague's Exchange address is kept but is not an email; a malformed
/// address still refuses its row.
#[test]
fn email_cells_as_exports_write_them() {
    let text = "Phone,E-mail Address\n\
                4155552671,Di Jones <di@example.com>\n\
                4155552672,a@example.com ::: b@example.com\n\
                4155552673,c@example.com; c2@example.com\n\
                4155552674,MAILTO:fa@example.com?subject=Hi\n\
                4155552677,\"\"\"Lovelace, Ada\"\" <ada@example.com>, Bob <b@example.com>\"\n\
                4155552675,/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=ab12\n\
                4155552676,b@example\n";
    let (_, outcomes) = import(text.as_bytes(), &options("US"));
    let kept: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            RowOutcome::Valid(r) => Some((
                r.email.clone(),
                r.attributes.get("other_emails").cloned(),
                r.attributes.contains_key("exchange_address"),
            )),
            _ => None,
        })
        .collect();
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(
        kept,
        vec![
            (some("di@example.com"), None, false),
            (some("a@example.com"), some("b@example.com"), false),
            (some("c@example.com"), some("c2@example.com"), false),
            (some("fa@example.com"), None, false),
            (some("ada@example.com"), some("b@example.com"), false),
            (None, None, true),
        ]
    );
    let refused = invalid(&outcomes);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].1.contains("`b@example`"), "{}", refused[0].1);
}

/// Shopify writes ids and zip codes with Excel's text prefix: the attribute is the number;
/// other text starting with `'` stays as written.
#[test]
fn excels_text_prefix_is_dropped_from_numbers_only() {
    let text = "Phone,Customer ID,Zip,Note\n'+1 415 555 2671,'7012345678901,'07102,'70s music\n";
    let (_, outcomes) = import(text.as_bytes(), &options("US"));
    let [RowOutcome::Valid(row)] = outcomes.as_slice() else {
        panic!("{outcomes:?}");
    };
    assert_eq!(row.attributes["customer_id"], "7012345678901");
    assert_eq!(row.attributes["zip"], "07102");
    assert_eq!(row.attributes["note"], "'70s music");
}

/// A note in the phone cell saying the person is not to be texted imports the contact opted
/// out (it used to refuse the row, leaving an existing contact's consent standing); a note
/// saying the number is a fax still refuses it.
#[test]
fn a_do_not_text_note_in_the_phone_cell_is_an_opt_out() {
    let mut declared = options("US");
    declared.consent = Some(ConsentDeclaration {
        source: "web form".into(),
    });
    let text = "Name,Phone,SMS Consent\n\
                Ann,201-555-0132 (Do not text),yes\n\
                Bob,Fax: 201-555-0133,\n";
    let (_, outcomes) = import(text.as_bytes(), &declared);
    let RowOutcome::Valid(ann) = &outcomes[0] else {
        panic!("{outcomes:?}");
    };
    let consent = ann.consent.as_ref().expect("consent");
    assert_eq!(consent.status, ConsentStatus::Revoked);
    assert_eq!(consent.source.as_deref(), Some("import column Phone"));
    assert!(
        matches!(&outcomes[1], RowOutcome::Invalid { row: 3, .. }),
        "{outcomes:?}"
    );
}

/// A CRM's "all properties" export: 150 filled custom columns and a long note still import.
#[test]
fn a_wide_export_with_long_notes_imports() {
    let mut header = String::from("Phone Number,Notes");
    let mut row = format!("4155552671,{}", "n".repeat(3000));
    for i in 0..150 {
        header.push_str(&format!(",Property {i}"));
        row.push_str(&format!(",value {i}"));
    }
    let text = format!("{header}\n{row}\n");
    let (_, outcomes) = import(text.as_bytes(), &options("US"));
    let [RowOutcome::Valid(contact)] = outcomes.as_slice() else {
        panic!("{outcomes:?}");
    };
    assert_eq!(contact.attributes.len(), 151);
}

/// Consent cells that are not short answers are refused rather than read as opt-outs (the
/// consent wording, "Reply STOP to opt out", on every row); dates are not "no"s; placeholders
/// say nothing; off-values in an opt-out column are no.
#[test]
fn consent_cells_that_are_not_answers() {
    let text = "Phone,SMS Consent,DND\n\
                4155552671,I agree to receive texts. Reply STOP to opt out.,Off\n\
                4155552672,\"Nov 5, 2023\",Disabled\n\
                4155552673,N/A,Not Set\n\
                4155552674,Not opted in,\n";
    let (_, outcomes) = import(text.as_bytes(), &options("US"));
    let got: Vec<Result<Option<ConsentStatus>, u64>> = outcomes
        .iter()
        .map(|o| match o {
            RowOutcome::Valid(r) => Ok(r.consent.as_ref().map(|c| c.status)),
            RowOutcome::Invalid { row, .. } => Err(*row),
            RowOutcome::Duplicate { row, .. } => Err(*row),
        })
        .collect();
    assert_eq!(
        got,
        vec![Err(2), Err(3), Ok(None), Ok(Some(ConsentStatus::Unknown))]
    );
}

/// Each valid row's consent status, or the refused row's reason.
fn consent_statuses(
    text: &str,
    opts: &ImportOptions,
) -> Vec<Result<Option<ConsentStatus>, String>> {
    let (_, outcomes) = import(text.as_bytes(), opts);
    outcomes
        .into_iter()
        .map(|o| match o {
            RowOutcome::Valid(r) => Ok(r.consent.map(|c| c.status)),
            RowOutcome::Invalid { reason, .. } => Err(reason),
            RowOutcome::Duplicate { .. } => Err("duplicate".into()),
        })
        .collect()
}

fn declared(source: &str) -> ImportOptions {
    let mut opts = options("US");
    opts.consent = Some(ConsentDeclaration {
        source: source.into(),
    });
    opts
}

/// Google Forms and Typeform put the consent question in the header, disclosure and all
/// ("Reply STOP to opt out"): its answers grant or refuse consent; it is no opt-out column.
#[test]
fn a_forms_consent_question_is_a_consent_column() {
    use ConsentStatus::{Explicit, Unknown};
    let google = "Timestamp,Full name,Mobile number,\"I agree to receive recurring automated \
                  marketing text messages from Acme Bakery at the number provided. Consent is \
                  not a condition of purchase. Msg & data rates may apply. Reply STOP to opt \
                  out, HELP for help.\"\n\
                  3/1/2024 10:00:00,Ann Lee,415-555-2761,I agree to receive recurring automated \
                  marketing text messages from Acme Bakery at the number provided.\n\
                  3/1/2024 10:05:00,Bo Ho,415-555-2762,\n\
                  3/1/2024 10:07:00,Cy Po,415-555-2763,Yes\n";
    let (detected, _) = import(google.as_bytes(), &options("US"));
    assert_eq!(
        detected.mapping[3].1,
        Target::Consent,
        "{:?}",
        detected.mapping
    );
    assert_eq!(
        consent_statuses(google, &options("US")),
        [Ok(Some(Explicit)), Ok(None), Ok(Some(Explicit))]
    );
    let typeform = "#,What's your mobile number?,Can we text you about offers and events? \
                    Reply STOP anytime to unsubscribe.\n\
                    abc1,+14155552781,1\nabc2,+14155552782,0\nabc3,+14155552783,\n";
    assert_eq!(
        consent_statuses(typeform, &options("US")),
        [Ok(Some(Explicit)), Ok(Some(Unknown)), Ok(None)]
    );
    // A short question, when it is asked as one.
    for header in ["Can we text you?", "OK to text?"] {
        let short = format!("Phone,{header}\n+14155552784,Yes\n+14155552785,No\n");
        assert_eq!(
            consent_statuses(&short, &options("US")),
            [Ok(Some(Explicit)), Ok(Some(Unknown))],
            "{header}"
        );
    }
    // "Yes" for another channel is no answer about texts.
    let email_only =
        "Phone,SMS Opt-In\n4155552671,Yes - Email only\n4155552672,\"Yes, SMS and email\"\n";
    let got = consent_statuses(email_only, &options("US"));
    assert!(got[0].is_err(), "{got:?}");
    assert_eq!(got[1], Ok(Some(Explicit)));
    // A negated question is a do-not-text box.
    let negated = "Phone,I do not want to receive text messages from Acme Bakery\n\
                   4155552671,Yes\n4155552672,\n";
    assert_eq!(
        consent_statuses(negated, &declared("web form")),
        [Ok(Some(ConsentStatus::Revoked)), Ok(Some(Explicit))]
    );
}

/// Check boxes as Airtable, forms and spreadsheets export them, and answers in a few words.
#[test]
fn check_boxes_and_short_answers() {
    use ConsentStatus::{Explicit, Implied, Revoked, Unknown};
    let cells = [
        ("checked", Ok(Some(Explicit))),
        ("unchecked", Ok(Some(Unknown))),
        ("\u{2713}", Ok(Some(Explicit))),
        ("\u{2714}", Ok(Some(Explicit))),
        ("\u{2717}", Ok(Some(Unknown))),
        ("on", Ok(Some(Explicit))),
        ("off", Ok(Some(Unknown))),
        ("OK", Ok(Some(Explicit))),
        ("I agree", Ok(Some(Explicit))),
        ("yes please", Ok(Some(Explicit))),
        ("Yes - SMS & Email", Ok(Some(Explicit))),
        ("I do not agree", Ok(Some(Unknown))),
        ("Sim", Ok(Some(Explicit))),
        ("Não", Ok(Some(Unknown))),
        ("Implicit", Ok(Some(Implied))),
        ("Stopped", Ok(Some(Revoked))),
        // A message's delivery, in an "SMS Status" column, says nothing of consent.
        ("delivered", Ok(None)),
        ("failed", Ok(None)),
    ];
    let mut text = "Phone,SMS Opt-In\n".to_owned();
    for (i, (cell, _)) in cells.iter().enumerate() {
        text.push_str(&format!("41555526{:02},{cell}\n", 10 + i));
    }
    let want: Vec<_> = cells.iter().map(|(_, want)| want.clone()).collect();
    assert_eq!(consent_statuses(&text, &options("US")), want);
    // In an opt-out column a tick says opted out; a cross (beside ticks), an empty box or a
    // dash does not.
    let boxes = "Phone,Do not text\n4155552671,checked\n4155552672,unchecked\n\
                 4155552673,\u{2713}\n4155552674,-\n4155552675,\u{2717}\n4155552676,\u{274c}\n";
    assert_eq!(
        consent_statuses(boxes, &declared("web form")),
        [
            Ok(Some(Revoked)),
            Ok(Some(Explicit)),
            Ok(Some(Revoked)),
            Ok(Some(Explicit)),
            Ok(Some(Explicit)),
            Ok(Some(Explicit))
        ]
    );
}

/// A column no rule maps that says the person wants no texts ("Subscription Status" of
/// UNSUBSCRIBED, "No" under "Text Messages") keeps the import's declaration, or a yes in
/// another column, from granting consent; a column about email only does not.
#[test]
fn another_column_saying_no_to_texts_withholds_consent() {
    use ConsentStatus::{Explicit, Unknown};
    let text = "Name,Mobile,Subscription Status,Text Messages,Email Status\n\
                Ann,4155552671,UNSUBSCRIBED,,\n\
                Bo,4155552672,,No,\n\
                Cy,4155552673,,,Unsubscribed\n\
                Di,4155552674,Active,Yes,\n\
                Ed,4155552675,Not unsubscribed,,\n\
                Fe,4155552676,Opted out,,\n\
                Gi,4155552677,\"Do Not Email\",,\n\
                Hu,4155552678,,\"No answer, call back\",\n\
                Iv,4155552679,UNSUBSCRIBED,No,\n";
    // A status naming no channel withholds the declaration; one naming texts says no.
    assert_eq!(
        consent_statuses(text, &declared("store sign-up")),
        [
            Ok(None),
            Ok(Some(Unknown)),
            Ok(Some(Explicit)),
            Ok(Some(Explicit)),
            Ok(Some(Explicit)),
            Ok(None),
            Ok(Some(Explicit)),
            Ok(Some(Explicit)),
            Ok(Some(Unknown))
        ]
    );
    // Columns holding a message, a template or notes about texts never say no.
    let content = "Mobile,SMS Template,Text Notes,SMS Language\n\
                   4155552671,Reply STOP to unsubscribe,No show,no\n";
    assert_eq!(
        consent_statuses(content, &declared("store sign-up")),
        [Ok(Some(Explicit))]
    );
    // Nor does an account's or an order's status.
    let statuses = "Mobile,Account Status,Order Status\n4155552671,Blocked,Stopped\n";
    assert_eq!(
        consent_statuses(statuses, &declared("store sign-up")),
        [Ok(Some(Explicit))]
    );
    // Nor does a count of texts, or a status naming something else.
    let counts = "Mobile,SMS Sent,Texts Received\n4155552671,0,no\n";
    assert_eq!(
        consent_statuses(counts, &declared("store sign-up")),
        [Ok(Some(Explicit))]
    );
    // A texts column's no wins over the consent column's yes.
    let with_column = "Mobile,SMS Opt-In,SMS Status\n4155552671,yes,Unsubscribed\n\
                       4155552672,yes,Active\n";
    assert_eq!(
        consent_statuses(with_column, &options("US")),
        [Ok(Some(Unknown)), Ok(Some(Explicit))]
    );
    // Without a declaration a texts column's "no" still counts (it withdraws a consent the
    // contact had), and says where it was read; a status naming no channel changes nothing.
    let (_, outcomes) = import(text.as_bytes(), &options("US"));
    let consent_of = |at: usize| match &outcomes[at] {
        RowOutcome::Valid(row) => row.consent.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(consent_of(0), None);
    let bo = consent_of(1).expect("consent");
    assert_eq!(bo.status, Unknown);
    assert_eq!(bo.source.as_deref(), Some("import column Text Messages"));
}

/// Excel writes `sep=;` as a first line so that other locales read the file; it shows no
/// such row, so the header is row 1.
#[test]
fn an_excel_separator_line_names_the_delimiter() {
    for line_end in ["\n", "\r\n"] {
        let text = format!(
            "sep=;{line_end}{}",
            SIMPLE.replace(',', ";").replace('\n', line_end)
        );
        let (detected, outcomes) = import(text.as_bytes(), &options("US"));
        assert_eq!(detected.delimiter, ';');
        assert_eq!(detected.headers, ["First Name", "Last Name", "Phone"]);
        assert_eq!(valid(&outcomes), simple_expected(), "{line_end:?}");
    }
}

/// A sheet once formatted far to the right exports its empty columns too: past the limit of
/// named columns, the unnamed ones at the end are left out rather than the file refused.
#[test]
fn empty_columns_past_the_last_named_one_are_left_out() {
    let empties = ",".repeat(1100);
    let text = format!("Name,Phone{empties}\nAda,4155552671{empties}\nAlan,4155552672\n");
    let (detected, outcomes) = import(text.as_bytes(), &options("US"));
    assert_eq!(detected.headers, ["Name", "Phone"]);
    assert_eq!(
        valid(&outcomes)
            .iter()
            .map(|r| r.1.as_str())
            .collect::<Vec<_>>(),
        ["+14155552671", "+14155552672"]
    );
    let named: Vec<String> = (0..1100).map(|i| format!("c{i}")).collect();
    let text = format!("Phone,{}\n4155552671\n", named.join(","));
    let Err(ImportError::BadHeader(why)) = open(Cursor::new(text.into_bytes()), &options("US"))
    else {
        panic!("a header of 1101 named columns must be refused");
    };
    assert!(
        why.contains("past the 1024th") && why.contains("column 1101"),
        "{why}"
    );
}

/// Brevo keeps the number for texts in "SMS", beside "WHATSAPP": a row without a WhatsApp
/// number takes its SMS one.
#[test]
fn brevos_sms_column_is_a_phone() {
    let text = "EMAIL;FIRSTNAME;SMS;WHATSAPP\n\
                a@x.fr;Ann;+33612345678;+33612345678\n\
                b@x.fr;Bo;+33612345679;\n";
    let (_, outcomes) = import(text.as_bytes(), &options("FR"));
    assert_eq!(
        valid(&outcomes),
        [
            (2, "+33612345678".to_owned(), Some("Ann".to_owned())),
            (3, "+33612345679".to_owned(), Some("Bo".to_owned()))
        ]
    );
}

/// Google Contacts lists a person's numbers as `Phone N - Type` / `Phone N - Value` pairs
/// (`Phone N - Label` since 2024) in no set order: a row's phone is its mobile, else a number
/// that is not a fax or a pager; a row with only a fax or a pager is refused, saying so.
#[test]
fn google_contacts_numbers_are_chosen_by_their_kind() {
    let old = "Name,Phone 1 - Type,Phone 1 - Value,Phone 2 - Type,Phone 2 - Value\n\
               Ann,Work Fax,(415) 555-2601,Mobile,(415) 555-2602\n\
               Bo,Home,(415) 555-2603,* Mobile,(415) 555-2604\n\
               Cy,Pager,(415) 555-2605,Work,(415) 555-2606\n\
               Di,Mobile,(415) 555-2607,,\n\
               Ed,Work Fax,(415) 555-2608,,\n";
    let new = old.replace(" - Type", " - Label");
    for text in [old, new.as_str()] {
        chosen_by_their_kind(text);
    }
}

fn chosen_by_their_kind(text: &str) {
    let (_, outcomes) = import(text.as_bytes(), &options("US"));
    let phones: Vec<(u64, String)> = valid(&outcomes).into_iter().map(|r| (r.0, r.1)).collect();
    assert_eq!(
        phones,
        [
            (2, "+14155552602".to_owned()),
            (3, "+14155552604".to_owned()),
            (4, "+14155552606".to_owned()),
            (5, "+14155552607".to_owned())
        ]
    );
    // The numbers not chosen are kept, under their columns' names.
    let kept: Vec<Option<&str>> = (outcomes.iter())
        .filter_map(|o| match o {
            RowOutcome::Valid(r) => Some(r.attributes.get("phone_1_value").map(String::as_str)),
            _ => None,
        })
        .collect();
    assert_eq!(
        kept,
        [
            Some("(415) 555-2601"),
            Some("(415) 555-2603"),
            Some("(415) 555-2605"),
            None
        ]
    );
    let refused = invalid(&outcomes);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].0, 6);
    assert!(
        refused[0].1.contains("Work Fax") && refused[0].1.contains("not a mobile"),
        "{refused:?}"
    );
    // A mapping naming the phone column is followed as written.
    let mut mapped = options("US");
    mapped.mapping = Some("phone=Phone 1 - Value".parse().unwrap());
    let (_, outcomes) = import(text.as_bytes(), &mapped);
    assert_eq!(valid(&outcomes)[0].1, "+14155552601");
}

/// Other exports' columns: Google's old `Group Membership` holds labels, Shopify's customers
/// without a `Phone` have their address's, Mailchimp's `CC` is the country.
#[test]
fn tags_fallback_numbers_and_countries_of_named_exports() {
    let google = "Name,Group Membership,Phone 1 - Type,Phone 1 - Value\n\
                  Ann,* myContacts ::: VIP,Mobile,(415) 555-2601\n";
    let (_, outcomes) = import(google.as_bytes(), &options("US"));
    let RowOutcome::Valid(ann) = &outcomes[0] else {
        panic!("{outcomes:?}");
    };
    // Google's own group keeps its name without Google's mark.
    assert_eq!(ann.tags, ["myContacts", "VIP"]);

    let shopify = "First Name,Last Name,Phone,Default Address Phone\n\
                   Ann,Lee,,(415) 555-2602\n\
                   Bo,Ray,(415) 555-2603,(415) 555-2604\n";
    let (_, outcomes) = import(shopify.as_bytes(), &options("US"));
    let phones: Vec<String> = valid(&outcomes).into_iter().map(|r| r.1).collect();
    assert_eq!(phones, ["+14155552602", "+14155552603"]);
    // A fallback holding words gives way to a later one holding a number.
    let words = "First Name,Phone,Default Address Phone,Billing Phone\n\
                 Cy,,Call front desk,(415) 555-2606\n";
    let (_, outcomes) = import(words.as_bytes(), &options("US"));
    assert_eq!(valid(&outcomes)[0].1, "+14155552606", "{outcomes:?}");
    // Not past a note saying not to text.
    let note = "First Name,Phone,Default Address Phone,Billing Phone\n\
                Cy,,do not text,(415) 555-2607\n";
    let (_, outcomes) = import(note.as_bytes(), &options("US"));
    assert!(valid(&outcomes).is_empty(), "{outcomes:?}");

    let mailchimp = "Email Address,First Name,Phone Number,CC\n\
                     a@x.uk,Ann,07911 123602,GB\n\
                     b@x.com,Bo,(415) 555-2605,\n\
                     c@x.uk,Cy,07911 123603,0044\n";
    let (_, outcomes) = import(mailchimp.as_bytes(), &options("US"));
    let phones: Vec<String> = valid(&outcomes).into_iter().map(|r| r.1).collect();
    assert_eq!(phones, ["+447911123602", "+14155552605", "+447911123603"]);
}

/// A file with UTF-8 rows among Windows-1252 ones is read as UTF-8, each other row in its own
/// encoding: every name comes out right (read as Windows-1252, `René` was `RenÃ©`).
#[test]
fn as_many_windows_1252_rows_as_utf8_ones_read_each_in_its_own() {
    let bytes = b"Name,Phone\nJos\xE9 Ruiz,4155550101\nRen\xC3\xA9 Roy,4155550102\n";
    let (_, outcomes) = import(bytes, &options("US"));
    let names: Vec<Option<String>> = valid(&outcomes).into_iter().map(|r| r.2).collect();
    assert_eq!(names, [Some("José".to_owned()), Some("René".to_owned())]);
    // Fewer UTF-8 rows than Windows ones, under a Windows header: each still its own.
    let bytes = b"Pr\xE9nom,T\xE9l\xE9phone\nZo\xC3\xAB,4155550103\n\
                  Ren\xE9e,4155550104\nJos\xE9,4155550105\n";
    let (detected, outcomes) = import(bytes, &options("US"));
    let names: Vec<Option<String>> = valid(&outcomes).into_iter().map(|r| r.2).collect();
    let want = ["Zoë", "Renée", "José"].map(|n| Some(n.to_owned()));
    assert_eq!(names, want);
    assert_eq!(detected.headers, ["Prénom", "Téléphone"]);
}

/// A header naming the full name as "Last, First" is a full name, split as written, and in
/// the header's order where a cell has no comma; "First Name, Last Name" in its own.
#[test]
fn a_last_first_name_column_is_split() {
    for (header, cell) in [
        ("\"Last Name, First Name\"", "\"M\u{fc}ller, Hans\""),
        ("\"Nachname, Vorname\"", "\"M\u{fc}ller, Hans\""),
        ("\"Nachname, Vorname\"", "M\u{fc}ller Hans"),
        ("\"First Name, Last Name\"", "Hans M\u{fc}ller"),
    ] {
        let text = format!("{header},Phone\n{cell},+4915123456789\n");
        let (_, outcomes) = import(text.as_bytes(), &options("DE"));
        let RowOutcome::Valid(row) = &outcomes[0] else {
            panic!("{header}: {outcomes:?}");
        };
        assert_eq!(
            (row.first_name.as_deref(), row.last_name.as_deref()),
            (Some("Hans"), Some("M\u{fc}ller")),
            "{header} {cell}"
        );
    }
}

/// Phone apps name columns by the line alone ("Home", "Work"): a row without a mobile takes
/// the number there, when the cell holds one (such a header may name an address or employer).
#[test]
fn a_row_without_a_mobile_takes_a_number_from_a_home_or_work_column() {
    let text = "Name,Home,Mobile,Work\n\
                Ann,,(415) 555-2701,\n\
                Bo,(415) 555-2702,,\n\
                Cy,12 Elm St,,(415) 555-2703\n\
                Di,12 Elm St,,Acme\n";
    let (_, outcomes) = import(text.as_bytes(), &options("US"));
    let phones: Vec<(u64, String)> = valid(&outcomes).into_iter().map(|r| (r.0, r.1)).collect();
    assert_eq!(
        phones,
        [
            (2, "+14155552701".to_owned()),
            (3, "+14155552702".to_owned()),
            (4, "+14155552703".to_owned())
        ]
    );
    let refused = invalid(&outcomes);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].1.contains("phone is missing"), "{refused:?}");
    let RowOutcome::Valid(cy) = &outcomes[2] else {
        panic!("{outcomes:?}");
    };
    assert_eq!(cy.attributes["home"], "12 Elm St");
}

/// A question asking whether to stop texts is an opt-out column: its yes must never grant
/// consent (an "unsubscribe" question was read as consent, its "yes" made the person textable).
#[test]
fn a_question_asking_to_stop_texts_is_an_opt_out_column() {
    for header in [
        "Would you like to unsubscribe from texts?",
        "Do you want to stop receiving texts?",
        "Should we stop texting you?",
        "Did you opt out of texts?",
        "Can we NOT text you?",
    ] {
        let text = format!("Phone,{header}\n+14155552801,Yes\n+14155552802,No\n");
        let statuses = consent_statuses(&text, &options("US"));
        assert_eq!(
            statuses,
            [Ok(Some(ConsentStatus::Revoked)), Ok(None)],
            "{header}"
        );
    }
}

/// Consent and opt-out columns as Italian, Spanish, Portuguese, Dutch, Polish, Nordic and
/// Canadian exports name and fill them. With a declaration ("I have consent"), a column
/// missed would make every "no" and every opt-out textable: each row here must come out as
/// its cell says, whatever the declaration.
#[test]
fn consent_and_opt_out_columns_in_other_languages() {
    use ConsentStatus::{Explicit, Implied, Revoked, Unknown};
    type Cells = &'static [(&'static str, Option<ConsentStatus>)];
    let cases: &[(&str, Cells)] = &[
        (
            "Consenso SMS",
            &[
                ("Sì", Some(Explicit)),
                ("Non acconsento", Some(Unknown)),
                ("FALSO", Some(Unknown)),
            ],
        ),
        (
            "Toestemming SMS",
            &[
                ("Ja", Some(Explicit)),
                ("Nee", Some(Unknown)),
                ("ONWAAR", Some(Unknown)),
                ("Niet akkoord", Some(Unknown)),
                ("Afgemeld", Some(Revoked)),
            ],
        ),
        (
            "Aceita receber SMS",
            &[
                ("Sim", Some(Explicit)),
                ("Não", Some(Unknown)),
                ("Não aceito", Some(Unknown)),
                ("Descadastrado", Some(Revoked)),
            ],
        ),
        (
            "Zgoda SMS",
            &[
                ("Tak", Some(Explicit)),
                ("Nie", Some(Unknown)),
                ("Nie wyrażam zgody", Some(Unknown)),
                ("FAŁSZ", Some(Unknown)),
                ("Wypisany", Some(Revoked)),
            ],
        ),
        (
            "Samtycke SMS",
            &[
                ("Ja", Some(Explicit)),
                ("Nej", Some(Unknown)),
                ("Nej tack", Some(Unknown)),
                ("Avregistrerad", Some(Revoked)),
            ],
        ),
        (
            "Samtykke SMS",
            &[
                ("Ja", Some(Explicit)),
                ("Nei", Some(Unknown)),
                ("Avmeldt", Some(Revoked)),
                ("Afmeldt", Some(Revoked)),
            ],
        ),
        (
            "SMS-lupa",
            &[
                ("Kyllä", Some(Explicit)),
                ("Ei", Some(Unknown)),
                ("Peruttu", Some(Revoked)),
            ],
        ),
        (
            "CASL Consent",
            &[
                ("Express", Some(Explicit)),
                ("Implied", Some(Implied)),
                ("Withdrawn", Some(Revoked)),
                ("No", Some(Unknown)),
            ],
        ),
        // Opt-out columns: a yes opts out, a no in any language does not.
        (
            "Afgemeld",
            &[
                ("Ja", Some(Revoked)),
                ("Nee", Some(Explicit)),
                ("ONWAAR", Some(Explicit)),
            ],
        ),
        (
            "No enviar SMS",
            &[("Sí", Some(Revoked)), ("FALSO", Some(Explicit))],
        ),
        ("Baja SMS", &[("Sí", Some(Revoked)), ("No", Some(Explicit))]),
        ("Dado de baja", &[("Sí", Some(Revoked))]),
        (
            "Disiscritto",
            &[("Sì", Some(Revoked)), ("No", Some(Explicit))],
        ),
        ("Non contattare", &[("Sì", Some(Revoked))]),
        ("Revoca consenso", &[("Sì", Some(Revoked))]),
        ("Afmelding SMS", &[("Ja", Some(Revoked))]),
        (
            "Descadastrado",
            &[("Sim", Some(Revoked)), ("Não", Some(Explicit))],
        ),
        ("Não enviar SMS", &[("Sim", Some(Revoked))]),
        (
            "Wypisany",
            &[("Tak", Some(Revoked)), ("Nie", Some(Explicit))],
        ),
        ("Rezygnacja z SMS", &[("Tak", Some(Revoked))]),
        ("Nie wysyłać SMS", &[("Tak", Some(Revoked))]),
        ("Avregistrerad", &[("Ja", Some(Revoked))]),
        ("Ej SMS", &[("Ja", Some(Revoked))]),
        ("Afmeldt", &[("Ja", Some(Revoked))]),
        ("Ingen SMS", &[("Ja", Some(Revoked))]),
        ("Avmeldt SMS", &[("Ja", Some(Revoked))]),
        ("Reservert", &[("Ja", Some(Revoked))]),
        ("SMS-kielto", &[("Kyllä", Some(Revoked))]),
        ("Ne pas texter", &[("Oui", Some(Revoked))]),
        ("NDNC", &[("Yes", Some(Revoked))]),
        ("DNCR", &[("Yes", Some(Revoked))]),
        (
            "POPIA Opt Out",
            &[("Yes", Some(Revoked)), ("No", Some(Explicit))],
        ),
        // Other scripts and languages, consent.
        (
            "SMS配信同意",
            &[
                ("はい", Some(Explicit)),
                ("いいえ", Some(Unknown)),
                ("同意しない", Some(Unknown)),
                ("○", Some(Explicit)),
                ("×", Some(Unknown)),
            ],
        ),
        (
            "SMS 수신동의",
            &[
                ("예", Some(Explicit)),
                ("미동의", Some(Unknown)),
                ("아니오", Some(Unknown)),
            ],
        ),
        (
            "同意接收簡訊",
            &[
                ("是", Some(Explicit)),
                ("否", Some(Unknown)),
                ("不同意", Some(Unknown)),
            ],
        ),
        (
            "短信订阅",
            &[("是", Some(Explicit)), ("退订", Some(Revoked))],
        ),
        (
            "الموافقة على الرسائل",
            &[
                ("نعم", Some(Explicit)),
                ("لا", Some(Unknown)),
                ("غير موافق", Some(Unknown)),
            ],
        ),
        (
            "אישור דיוור",
            &[("כן", Some(Explicit)), ("לא", Some(Unknown))],
        ),
        (
            "ยินยอมรับ SMS",
            &[("ใช่", Some(Explicit)), ("ไม่", Some(Unknown))],
        ),
        (
            "Согласие на рассылку",
            &[("Да", Some(Explicit)), ("Нет", Some(Unknown))],
        ),
        (
            "Згода на розсилку",
            &[("Так", Some(Explicit)), ("Ні", Some(Unknown))],
        ),
        (
            "Συναίνεση SMS",
            &[("Ναι", Some(Explicit)), ("Όχι", Some(Unknown))],
        ),
        (
            "SMS İzni",
            &[
                ("Evet", Some(Explicit)),
                ("Hayır", Some(Unknown)),
                ("Onaysız", Some(Unknown)),
            ],
        ),
        (
            "İYS Durumu",
            &[("ONAY", Some(Explicit)), ("RET", Some(Unknown))],
        ),
        (
            "Đồng ý nhận SMS",
            &[("Có", Some(Explicit)), ("Không", Some(Unknown))],
        ),
        (
            "Persetujuan SMS",
            &[("Ya", Some(Explicit)), ("Tidak", Some(Unknown))],
        ),
        (
            "Idhini ya SMS",
            &[("Ndiyo", Some(Explicit)), ("Hapana", Some(Unknown))],
        ),
        (
            "Autoriza envío de SMS",
            &[("Sí", Some(Explicit)), ("No autorizo", Some(Unknown))],
        ),
        // Other scripts and languages, opt-outs.
        (
            "Desuscrito",
            &[("Sí", Some(Revoked)), ("No", Some(Explicit))],
        ),
        ("No molestar", &[("Sí", Some(Revoked))]),
        ("REPEP", &[("Sí", Some(Revoked))]),
        ("Lista negra", &[("Sí", Some(Revoked))]),
        (
            "SMS İptal",
            &[("Evet", Some(Revoked)), ("Hayır", Some(Explicit))],
        ),
        ("Abonelikten çıktı", &[("Evet", Some(Revoked))]),
        (
            "Berhenti langganan",
            &[("Ya", Some(Revoked)), ("Tidak", Some(Explicit))],
        ),
        ("Hủy đăng ký", &[("Có", Some(Revoked))]),
        (
            "配信停止",
            &[("はい", Some(Revoked)), ("いいえ", Some(Explicit))],
        ),
        ("수신거부", &[("예", Some(Revoked))]),
        ("取消訂閱", &[("是", Some(Revoked))]),
        ("إلغاء الاشتراك", &[("نعم", Some(Revoked))]),
        ("הסרה מרשימת תפוצה", &[("כן", Some(Revoked))]),
        (
            "Отписался",
            &[("Да", Some(Revoked)), ("Нет", Some(Explicit))],
        ),
        ("Відписався", &[("Так", Some(Revoked))]),
        ("Διαγραφή", &[("Ναι", Some(Revoked))]),
        // A subscription status naming no channel keeps the declaration from granting.
        (
            "Stato iscrizione",
            &[("Disiscritto", None), ("Iscritto", Some(Explicit))],
        ),
    ];
    let mut wrong = Vec::new();
    for (header, cells) in cases {
        let mut text = format!("Name;Mobile;{header}\n");
        for (n, (cell, _)) in cells.iter().enumerate() {
            text.push_str(&format!("P{n};+1 415 555 26{n:02};{cell}\n"));
        }
        let got = consent_statuses(&text, &declared("shop form"));
        let want: Vec<Result<Option<ConsentStatus>, String>> =
            cells.iter().map(|(_, status)| Ok(*status)).collect();
        if got != want {
            wrong.push(format!("{header}: {cells:?} got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Column names of Spanish, Italian, Portuguese, Dutch, Polish, Nordic, Canadian and Asian
/// exports: the mobile column is the phone (not the landline beside it), and names are
/// names, not attributes.
#[test]
fn columns_named_in_other_languages() {
    let landline_then_mobile = [
        "Nome;Telefone;Telemóvel",
        "Imię;Telefon;Telefon komórkowy",
        "Prénom;Téléphone;Cellulaire",
        "Name;Office Phone;Handphone",
        "Nombre;Teléfono;Nº móvil",
        "Nome;Telefono;Numero di cellulare",
        "Voornaam;Telefoon;Mobiele telefoon",
        "Fornavn;Telefon;Tlf mobil",
        "First Name;Phone;Mob",
        "Nome;Telefone;Celular (WhatsApp)",
        "Etunimi;Puhelin;Matkapuhelin",
        "Name;Contact Number;Mob. No.",
        "Name;Phone;携帯電話",
        "Name;Phone;휴대폰",
        "Name;Phone;手機",
        "Name;Telefon;Cep Telefonu",
        "Name;Telefon;Cep",
        "Name;Phone;Мобильный телефон",
        "Name;Phone;No. Telefon Bimbit",
        "Name;Tel. No.;CP No.",
        "Name;Phone;الجوال",
        "Name;Phone;נייד",
        "Name;Tel;موبايل",
        "Name;Tel;มือถือ",
        "Ime;Telefon;Mobitel",
        "Név;Telefonszám;Mobiltelefonszám",
        "Vardas;Telefonas;Mobilusis telefonas",
        "Vārds;Tālrunis;Mobilais tālrunis",
        "Eesnimi;Telefon;Mobiil",
        "Nafn;Sími;Farsími",
        "Họ và tên;Điện thoại;Di động",
    ];
    for header in landline_then_mobile {
        let file = format!("{header}\nAna;+1 415 555 2601;+1 415 555 2602\n");
        let (detected, outcomes) = import(file.as_bytes(), &options("US"));
        let got = valid(&outcomes);
        assert_eq!(
            got,
            [(2, "+14155552602".to_owned(), Some("Ana".to_owned()))],
            "{header}: {:?}",
            detected.mapping
        );
    }
    let alone = [
        "Telefoonnummer",
        "Nr telefonu",
        "Puhelinnumero",
        "Tlf.",
        "Ph",
        "Fone",
        "Contact No.",
        "HP No.",
        "WhatsApp No.",
        "携帯電話番号",
        "電話番号",
        "휴대폰번호",
        "연락처",
        "手机号码",
        "رقم الجوال",
        "טלפון נייד",
        "เบอร์มือถือ",
        "Телефон",
        "Κινητό",
        "Số điện thoại",
        "Nomor HP",
        "Namba ya simu",
        "Cep Tel.",
    ];
    for header in alone {
        let file = format!("{header}\n+1 415 555 2601\n");
        let (detected, outcomes) = import(file.as_bytes(), &options("US"));
        assert_eq!(
            valid(&outcomes).len(),
            1,
            "{header}: {:?}",
            detected.mapping
        );
    }
    let names = [
        ("Nombre;Apellidos", "Ana", "García"),
        ("Nome;Cognome", "Ana", "Rossi"),
        ("Imię;Nazwisko", "Łucja", "Wiśniewska"),
        ("Förnamn;Efternamn", "Åsa", "Lindqvist"),
        ("Fornavn;Etternavn", "Åse", "Hansen"),
        ("Etunimi;Sukunimi", "Aino", "Virtanen"),
        ("Nombre y apellidos", "Ana", "García"),
        ("Nombre y apellidos", "María José", "García Pérez"),
        ("Nombre y apellidos", "Juan", "de la Cruz"),
        ("Nome completo", "Ana", "Silva"),
        ("Naam", "Ana", "Jansen"),
        ("名;姓", "太郎", "山田"),
        ("名字;姓氏", "小明", "王"),
        ("名字;姓", "小明", "王"),
        ("이름;성", "민준", "김"),
        ("Имя;Фамилия", "Иван", "Петров"),
        ("Όνομα;Επώνυμο", "Γιώργος", "Παπαδόπουλος"),
        ("Ad;Soyad", "Ayşe", "Yılmaz"),
        ("Nama Depan;Nama Belakang", "Siti", "Rahma"),
        ("Nombres;Apellido paterno", "María", "García"),
        ("Jméno;Příjmení", "Jiří", "Dvořák"),
        ("Meno;Priezvisko", "Ľubomír", "Kováč"),
        ("Keresztnév;Vezetéknév", "János", "Kovács"),
        ("Prenume;Nume", "Ștefan", "Popescu"),
        ("Ime;Prezime", "Ivan", "Horvat"),
        ("Ime;Priimek", "Žiga", "Novak"),
        ("Vardas;Pavardė", "Rūta", "Kazlauskienė"),
        ("Vārds;Uzvārds", "Jānis", "Bērziņš"),
        ("Eesnimi;Perekonnanimi", "Mari", "Tamm"),
        ("Fornafn;Eftirnafn", "Jón", "Jónsson"),
        ("Име;Фамилия", "Иван", "Петров"),
        ("Име;Презиме", "Марко", "Јовановић"),
        ("الاسم الأول;اسم العائلة", "محمد", "العلي"),
    ];
    for (header, first, last) in names {
        let cells = if header.contains(';') {
            format!("{first};{last}")
        } else {
            format!("{first} {last}")
        };
        let file = format!("{header};Mobil\n{cells};+1 415 555 2601\n");
        let (detected, outcomes) = import(file.as_bytes(), &options("US"));
        let [RowOutcome::Valid(row)] = outcomes.as_slice() else {
            panic!("{header}: {outcomes:?}");
        };
        assert_eq!(
            (row.first_name.as_deref(), row.last_name.as_deref()),
            (Some(first), Some(last)),
            "{header}: {:?}",
            detected.mapping
        );
    }
    // Japanese forms ask the family name, 名字 (or 苗字), first, beside the given name 名前.
    for header in ["名字;名前", "苗字;名前"] {
        let file = format!("{header};携帯\n山田;太郎;+1 415 555 2601\n");
        let (detected, outcomes) = import(file.as_bytes(), &options("US"));
        let [RowOutcome::Valid(row)] = outcomes.as_slice() else {
            panic!("{header}: {outcomes:?}");
        };
        assert_eq!(
            (row.first_name.as_deref(), row.last_name.as_deref()),
            (Some("太郎"), Some("山田")),
            "{header}: {:?}",
            detected.mapping
        );
    }
    // Attribute names keep every Latin letter, as ASCII.
    let file = "Mobil;Miejscowość;Œuvre;Đakovo\n+1 415 555 2601;Łódź;a;b\n";
    let (_, outcomes) = import(file.as_bytes(), &options("US"));
    let [RowOutcome::Valid(row)] = outcomes.as_slice() else {
        panic!("{outcomes:?}");
    };
    let names: Vec<&str> = row.attributes.keys().map(String::as_str).collect();
    assert_eq!(names, ["dakovo", "miejscowosc", "oeuvre"]);
}

/// A country column as Italian, Finnish, Dutch, Danish, Polish and Spanish files name it and
/// fill it: a number written without its country code is read for the country the row
/// names, not for the tenant's; one that reads as a mobile in both is refused as ambiguous,
/// never stored as the tenant country's.
#[test]
fn country_columns_in_other_languages() {
    const AMBIGUOUS: &str = "both";
    const UNKNOWN: &str = "unknown country";
    let cases = [
        ("IT", "Paese", "0612345678", "Paesi Bassi", "+31612345678"),
        (
            "IT",
            "Nazione",
            "01511 2345678",
            "Germania",
            "+4915112345678",
        ),
        ("IT", "Paese", "079 123 45 67", "Svizzera", "+41791234567"),
        (
            "IT",
            "Paese",
            "07911 123456",
            "Regno Unito",
            "+447911123456",
        ),
        ("FI", "Maa", "070 123 4567", "Ruotsi", "+46701234567"),
        ("FI", "Maa", "5123 4567", "Viro", "+37251234567"),
        ("NL", "Landcode", "0612345678", "33", AMBIGUOUS),
        ("NL", "Country", "06 12 34 56 78", "Frankrijk", AMBIGUOUS),
        ("NL", "Country", "06 12 34 56 78", "Francja", AMBIGUOUS),
        ("NL", "Country", "06 12 34 56 78", "Frankrike", AMBIGUOUS),
        ("NL", "Country", "06 12 34 56 78", "Frankrig", AMBIGUOUS),
        ("NL", "Country", "06 12 34 56 78", "Ranska", AMBIGUOUS),
        ("NL", "Country", "06 12 34 56 78", "França", AMBIGUOUS),
        ("NL", "Land/regio", "612345678", "Spanje", AMBIGUOUS),
        (
            "NL",
            "Land/regio",
            "0034 612345678",
            "Spanje",
            "+34612345678",
        ),
        (
            "NL",
            "Land/regio",
            "01511 2345678",
            "Duitsland",
            "+4915112345678",
        ),
        ("DK", "Land", "41234567", "Norja", AMBIGUOUS),
        ("DK", "Land", "41234567", "Noruega", AMBIGUOUS),
        ("DK", "Land", "0151 23456789", "Tyskland", "+4915123456789"),
        (
            "ES",
            "País/Región",
            "0612345678",
            "Países Bajos",
            "+31612345678",
        ),
        ("ES", "País", "0470 12 34 56", "Bélgica", "+32470123456"),
        ("PL", "Kraj", "0151 23456789", "Niemcy", "+4915123456789"),
        // Abbreviations, ISO's short names and other scripts.
        ("AE", "Country", "050 123 4567", "KSA", AMBIGUOUS),
        (
            "AE",
            "Country",
            "0151 23456789",
            "Almanya",
            "+4915123456789",
        ),
        ("SA", "Country", "0151 23456789", "ألمانيا", UNKNOWN),
        ("MX", "País", "(213) 555-1234", "EE.UU.", "+12135551234"),
        (
            "KE",
            "Country",
            "0712 345 678",
            "Tanzania, United Republic of",
            AMBIGUOUS,
        ),
        ("UA", "Країна", "501 234 567", "Польща", AMBIGUOUS),
        (
            "UA",
            "Країна",
            "0151 23456789",
            "Німеччина",
            "+4915123456789",
        ),
        ("AE", "الدولة", "06 12 34 56 78", "فرنسا", "+33612345678"),
        ("HK", "國家", "6612 3456", "澳門", AMBIGUOUS),
        ("HK", "國家", "0151 2345 6789", "中國", "+8615123456789"),
        ("PH", "Bansa", "(213) 555-1234", "USA", "+12135551234"),
        // A country it does not know refuses a number without its code, not a placeholder.
        ("AE", "Country", "055 512 3456", "Atlantis", UNKNOWN),
        (
            "AE",
            "Country",
            "+966 55 512 3456",
            "Atlantis",
            "+966555123456",
        ),
        ("AE", "Country", "055 512 3456", "-", "+971555123456"),
        ("AE", "Country", "055 512 3456", "N/A", "+971555123456"),
    ];
    let mut wrong = Vec::new();
    for (region, header, phone, country, want) in cases {
        let file = format!("Name;Mobile;{header}\nAna;{phone};{country}\n");
        let (detected, outcomes) = import(file.as_bytes(), &options(region));
        let read = match outcomes.as_slice() {
            [RowOutcome::Valid(row)] => row.phone.to_string(),
            [RowOutcome::Invalid { reason, .. }] if reason.contains("both") => AMBIGUOUS.into(),
            [RowOutcome::Invalid { reason, .. }]
                if reason.contains("is not one this import knows") =>
            {
                UNKNOWN.into()
            }
            other => format!("{other:?}"),
        };
        if read != want {
            wrong.push(format!(
                "{region} {header}={country}: {read} ({:?})",
                detected.mapping
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Brazilian ("DDD"), Mexican ("Lada") and some US exports keep the area code in a column of
/// its own: a number that does not read as written is read after it; one that does (its
/// area code written twice) is left as it is.
#[test]
fn area_codes_kept_apart_are_read_before_the_number() {
    let cases = [
        (
            "BR",
            "Nome;DDD;Celular",
            "Ana;11;98765-4321",
            Ok("+5511987654321"),
        ),
        (
            "BR",
            "Nome;DDD;Celular",
            "Ana;(011);98765-4321",
            Ok("+5511987654321"),
        ),
        (
            "BR",
            "Nome;DDD;Celular",
            "Ana;11;11 98765-4321",
            Ok("+5511987654321"),
        ),
        (
            "MX",
            "Nombre;Lada;Celular",
            "Ana;55;1234 5678",
            Ok("+525512345678"),
        ),
        (
            "US",
            "Name;Area Code;Phone",
            "Ana;415;555-2671",
            Ok("+14155552671"),
        ),
        (
            "US",
            "Name;Area Code;Phone",
            "Ana;415;+1 415 555 2671",
            Ok("+14155552671"),
        ),
        ("US", "Name;Area Code;Phone", "Ana;;555-2671", Err(())),
        ("US", "Name;Area Code;Phone", "Ana;North;555-2671", Err(())),
    ];
    for (region, header, row, want) in cases {
        let file = format!("{header}\n{row}\n");
        let (detected, outcomes) = import(file.as_bytes(), &options(region));
        let got = match outcomes.as_slice() {
            [RowOutcome::Valid(row)] => Ok(row.phone.to_string()),
            _ => Err(()),
        };
        assert_eq!(
            got,
            want.map(str::to_owned),
            "{region} {row}: {outcomes:?} {:?}",
            detected.mapping
        );
        // The area code is kept as written too, and the report says numbers are read with it.
        if let [RowOutcome::Valid(row)] = outcomes.as_slice() {
            assert_eq!(row.attributes.len(), 1, "{:?}", row.attributes);
        }
        let area_code = header.split(';').nth(1).unwrap_or_default().to_owned();
        assert_eq!(detected.number_columns, [(area_code, "area_code")]);
    }
}

/// A phone column whose cell is no number (an invalid landline) beside a fallback column
/// holding a valid mobile: the row takes the mobile and keeps the cell it could not read. Not
/// when the phone cell says not to text, which the row must keep.
#[test]
fn a_fallback_column_stands_in_for_a_phone_cell_that_is_no_number() {
    let text = "Name;Phone;Contact No.\n\
                Ravi;12345;+91 98765 43210\n\
                Asha;do not text;+91 98765 43211\n\
                Dev;+91 98765 43212;+91 98765 43213\n";
    let (detected, outcomes) = import(text.as_bytes(), &options("IN"));
    let [
        RowOutcome::Valid(ravi),
        RowOutcome::Invalid { .. },
        RowOutcome::Valid(dev),
    ] = outcomes.as_slice()
    else {
        panic!("{outcomes:?} {:?}", detected.mapping);
    };
    assert_eq!(ravi.phone.to_string(), "+919876543210");
    assert!(
        ravi.attributes.values().any(|v| v == "12345"),
        "{:?}",
        ravi.attributes
    );
    assert_eq!(dev.phone.to_string(), "+919876543212");
    assert!(
        !dev.attributes.values().any(|v| v == "+91 98765 43212"),
        "{:?}",
        dev.attributes
    );
}

/// Languages that write the family name first name their full-name column so: Russian "ФИО"
/// (family name, given name, patronymic), Ukrainian "ПІБ", Japanese "氏名", Chinese "姓名",
/// Korean "성명", Vietnamese "Họ và tên", Hungarian "Név". Greetings use the given name; a
/// name written as one word (`山田太郎`) stays whole.
#[test]
fn full_names_written_family_name_first_are_split_so() {
    let cases = [
        (
            "ФИО",
            "RU",
            "Петров Иван Сергеевич",
            "Иван Сергеевич",
            Some("Петров"),
        ),
        ("Ф.И.О.", "RU", "Смирнова Ольга", "Ольга", Some("Смирнова")),
        (
            "Фамилия Имя Отчество",
            "RU",
            "Петров, Иван",
            "Иван",
            Some("Петров"),
        ),
        (
            "ПІБ",
            "UA",
            "Шевченко Олена Петрівна",
            "Олена Петрівна",
            Some("Шевченко"),
        ),
        ("氏名", "JP", "山田　太郎", "太郎", Some("山田")),
        ("氏名", "JP", "山田太郎", "山田太郎", None),
        ("お名前", "JP", "山田 太郎", "太郎", Some("山田")),
        ("姓名", "CN", "王 小明", "小明", Some("王")),
        ("全名", "CN", "王 小明", "小明", Some("王")),
        ("성명", "KR", "김 민준", "민준", Some("김")),
        ("Họ và tên", "VN", "Nguyễn Văn An", "Văn An", Some("Nguyễn")),
        ("Név", "HU", "Kovács János", "János", Some("Kovács")),
        // In Latin letters under such a header: a romanised name keeps its order, an English
        // one is given name first.
        ("姓名", "SG", "Tan Wei Ming", "Wei Ming", Some("Tan")),
        ("姓名", "SG", "John Smith", "John", Some("Smith")),
        ("全名", "HK", "Peter Chan", "Peter", Some("Chan")),
        ("성명", "KR", "Kim Min-jun", "Min-jun", Some("Kim")),
        ("氏名", "JP", "Yamada Taro", "Taro", Some("Yamada")),
        ("ФИО", "RU", "Ivanov Ivan", "Ivan", Some("Ivanov")),
        (
            "ФИО",
            "RU",
            "Belaya Karina Ivanovna",
            "Karina Ivanovna",
            Some("Belaya"),
        ),
        (
            "ФИО",
            "RU",
            "Karina Ivanovna Belaya",
            "Karina Ivanovna",
            Some("Belaya"),
        ),
        ("ФИО", "RU", "Anna Smith", "Anna", Some("Smith")),
        ("Họ và tên", "VN", "Nguyen Van An", "Van An", Some("Nguyen")),
        // Other full names stay given name first.
        (
            "Full Name",
            "US",
            "Ada King Lovelace",
            "Ada King",
            Some("Lovelace"),
        ),
    ];
    for (header, region, full, first, last) in cases {
        let file = format!("{header};Mobile\n{full};+1 415 555 2671\n");
        let (_, outcomes) = import(file.as_bytes(), &options(region));
        let [RowOutcome::Valid(row)] = outcomes.as_slice() else {
            panic!("{header}: {outcomes:?}");
        };
        assert_eq!(
            (row.first_name.as_deref(), row.last_name.as_deref()),
            (Some(first), last),
            "{header}: {full}"
        );
    }
}

/// A full name starting with a title (`Mr. John Smith`, `Dr. Smith`, `Mr & Mrs Smith`): the
/// greeting's first name is the given name, and the title is kept as `name_title`.
#[test]
fn a_title_before_a_full_name_is_kept_apart() {
    let text = "Name,Mobile\n\
                Mr. John Smith,+1 415 555 2671\n\
                Dr. Smith,+1 415 555 2672\n\
                Mr & Mrs Jane Doe,+1 415 555 2673\n\
                Drew Barry,+1 415 555 2674\n";
    let (_, outcomes) = import(text.as_bytes(), &options("US"));
    let got: Vec<(Option<&str>, Option<&str>, Option<&str>)> = outcomes
        .iter()
        .map(|outcome| match outcome {
            RowOutcome::Valid(row) => (
                row.first_name.as_deref(),
                row.last_name.as_deref(),
                row.attributes.get("name_title").map(String::as_str),
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        [
            (Some("John"), Some("Smith"), Some("Mr.")),
            (None, Some("Smith"), Some("Dr.")),
            (Some("Jane"), Some("Doe"), Some("Mr & Mrs")),
            (Some("Drew"), Some("Barry"), None),
        ]
    );
}
