//! Files saved in the code pages of other scripts than Latin's (Excel's plain "CSV" in
//! Russian, Greek, Hebrew, Arabic, Thai, Japanese, Korean or Chinese Windows), which read as
//! Latin would be garbage: they are read in their code page, and what no code page reads with
//! confidence is refused, not imported.

use std::io::Cursor;

use smscrm_import::{ImportError, ImportOptions, PhoneReader, RowOutcome, open};

fn options(region: &str) -> ImportOptions {
    ImportOptions::new(region.parse().unwrap())
}

/// A contact list in each script: its language, the code page its Windows Excel saves plain
/// "CSV" in, its region, and its text.
fn lists() -> Vec<(
    &'static str,
    &'static encoding_rs::Encoding,
    &'static str,
    String,
)> {
    use encoding_rs::{
        BIG5, EUC_KR, GBK, KOI8_R, KOI8_U, SHIFT_JIS, WINDOWS_874, WINDOWS_1251, WINDOWS_1253,
        WINDOWS_1255, WINDOWS_1256,
    };
    let list = |rows: &str| format!("First Name,Last Name,Mobile,City\n{rows}");
    vec![
        (
            "Russian",
            WINDOWS_1251,
            "RU",
            list(
                "Иван,Петров,+7 916 123-45-67,Москва\nОльга,Смирнова,+7 921 234-56-78,Санкт-Петербург\n\
             Сергей,Кузнецов,+7 903 345-67-89,Новосибирск\n",
            ),
        ),
        (
            "Russian (KOI8-R)",
            KOI8_R,
            "RU",
            list("Иван,Петров,+7 916 123-45-67,Москва\nОльга,Смирнова,+7 921 234-56-78,Казань\n"),
        ),
        (
            "Ukrainian (KOI8-U)",
            KOI8_U,
            "UA",
            list("Олена,Шевченко,+380 67 123 4567,Київ\nАндрій,Коваленко,+380 50 234 5678,Львів\n"),
        ),
        (
            "Ukrainian",
            WINDOWS_1251,
            "UA",
            list(
                "Олена,Шевченко,+380 67 123 4567,Київ\nАндрій,Коваленко,+380 50 234 5678,Львів\n\
             Тарас,Бондаренко,+380 63 345 6789,Харків\n",
            ),
        ),
        (
            "Greek",
            WINDOWS_1253,
            "GR",
            list(
                "Γιώργος,Παπαδόπουλος,+30 691 234 5678,Αθήνα\nΜαρία,Ιωάννου,+30 697 345 6789,Θεσσαλονίκη\n\
             Νίκος,Γεωργίου,+30 694 456 7890,Πάτρα\n",
            ),
        ),
        (
            "Hebrew",
            WINDOWS_1255,
            "IL",
            list(
                "דוד,כהן,052-234-5678,תל אביב\nשרה,לוי,054-345-6789,ירושלים\nמשה,מזרחי,050-456-7890,חיפה\n",
            ),
        ),
        (
            "Arabic",
            WINDOWS_1256,
            "AE",
            list(
                "محمد,العلي,050 123 4567,دبي\nفاطمة,الحسن,055 234 5678,أبوظبي\n\
             أحمد,السيد,056 345 6789,الشارقة\n",
            ),
        ),
        (
            "Thai",
            WINDOWS_874,
            "TH",
            list(
                "สมชาย,ใจดี,081-234-5678,กรุงเทพ\nสมหญิง,รักไทย,089-345-6789,เชียงใหม่\n\
             ประยุทธ,ศรีสุข,086-456-7890,ภูเก็ต\n",
            ),
        ),
        (
            "Japanese",
            SHIFT_JIS,
            "JP",
            list(
                "太郎,山田,090-1234-5678,東京\n花子,佐藤,080-2345-6789,大阪\n一郎,鈴木,070-3456-7890,名古屋\n",
            ),
        ),
        // One contact: short names, and little to judge by.
        (
            "Japanese, one row",
            SHIFT_JIS,
            "JP",
            list("太郎,山田,090-1234-5678,東京\n"),
        ),
        // Half-width katakana, one byte each, of old systems' name readings.
        (
            "Japanese, half-width kana",
            SHIFT_JIS,
            "JP",
            list(
                "ﾀﾛｳ,ﾔﾏﾀﾞ,090-1234-5678,ﾄｳｷｮｳ\nﾊﾅｺ,ｻﾄｳ,080-2345-6789,ｵｵｻｶ\n\
             ｲﾁﾛｳ,ｽｽﾞｷ,070-3456-7890,ﾅｺﾞﾔ\n",
            ),
        ),
        (
            "Korean",
            EUC_KR,
            "KR",
            list(
                "민준,김,010-1234-5678,서울\n서연,이,010-2345-6789,부산\n지호,박,010-3456-7890,인천\n",
            ),
        ),
        (
            "Chinese (GBK)",
            GBK,
            "CN",
            list(
                "小明,王,138 1234 5678,北京\n丽,李,139 2345 6789,上海\n伟,张,137 3456 7890,广州\n",
            ),
        ),
        (
            "Chinese (Big5)",
            BIG5,
            "TW",
            list(
                "小明,王,0912 345 678,臺北\n美玲,陳,0922 345 678,高雄\n志偉,林,0933 456 789,臺中\n",
            ),
        ),
    ]
}

/// The first names and numbers of `text`'s rows, as written.
fn written(text: &str) -> Vec<(String, String)> {
    let rows = text
        .lines()
        .skip(1)
        .map(|line| line.split(',').collect::<Vec<_>>());
    rows.map(|cells| (cells[0].to_owned(), cells[2].to_owned()))
        .collect()
}

/// The valid rows' first names and numbers.
fn imported(bytes: &[u8], region: &str) -> (String, Vec<(String, String)>) {
    let mut rows = open(Cursor::new(bytes.to_vec()), &options(region)).unwrap();
    let outcomes: Vec<RowOutcome> = rows.by_ref().collect();
    let got = outcomes
        .into_iter()
        .map(|outcome| match outcome {
            RowOutcome::Valid(row) => (row.first_name.unwrap_or_default(), row.phone.to_string()),
            other => panic!("{other:?}"),
        })
        .collect();
    (rows.encoding(), got)
}

fn e164(number: &str, region: &str) -> String {
    PhoneReader::new(region.parse().unwrap())
        .read(number)
        .unwrap()
        .to_string()
}

/// The name each list's code page is reported under.
fn label(encoding: &'static encoding_rs::Encoding) -> &'static str {
    match encoding {
        _ if encoding == encoding_rs::MACINTOSH => "mac-roman",
        _ => encoding.name(),
    }
}

/// The list as written, its numbers in E.164.
fn as_written(text: &str, region: &str) -> Vec<(String, String)> {
    written(text)
        .into_iter()
        .map(|(name, number)| (name, e164(&number, region)))
        .collect()
}

/// Excel's plain "CSV" in Cyrillic, Greek, Hebrew, Arabic, Thai, Japanese, Korean or Chinese
/// Windows would read as Latin garbage (`Иван` as `Èâàí`): each is read in its code page, and
/// imports as written, as the same list saved as UTF-8 does.
#[test]
fn code_pages_of_other_scripts_are_read() {
    for (language, encoding, region, text) in lists() {
        let (bytes, _, unmappable) = encoding.encode(&text);
        assert!(!unmappable, "{language}");
        let want = as_written(&text, region);
        assert_eq!(
            imported(&bytes, region),
            (label(encoding).to_owned(), want.clone()),
            "{language}"
        );
        assert_eq!(
            imported(text.as_bytes(), region),
            ("utf-8".to_owned(), want),
            "{language}"
        );
    }
}

/// Latin-script files import as written in their Windows (or Mac) code page: Western,
/// Central European and Turkish.
#[test]
fn latin_code_pages_are_read() {
    use encoding_rs::{MACINTOSH, WINDOWS_1250, WINDOWS_1252, WINDOWS_1254};
    let french = "First Name;Last Name;Mobile;City\nÉlodie;Hélène Bérénice;06 12 34 56 78;Besançon\n\
                  Françoise;Lefèvre;06 12 34 56 79;Nîmes\nJérôme;Gérard;06 12 34 56 70;Orléans\n\
                  Aurélie;Dupré;06 12 34 56 71;Sète\n";
    let cases = [
        (WINDOWS_1252, "FR", french, "windows-1252"),
        (MACINTOSH, "FR", french, "mac-roman"),
        (
            WINDOWS_1252,
            "DE",
            "First Name;Last Name;Mobile;City\nJürgen;Größe;0151 12345678;Müllerstraße 5\n\
                  Änne;Schröder;0151 12345679;Über 3\nGünther;Weiß;0151 12345670;Bäckerstraße\n\
                  Jörg;Köhler;0151 12345671;Fußgängerzone\n",
            "windows-1252",
        ),
        (
            WINDOWS_1252,
            "ES",
            "First Name;Last Name;Mobile;City\nJosé;Núñez;612 345 678;Sí\n\
                  María;Muñoz;612 345 679;No\nÁngel;Gómez Pérez;612 345 670;Sí\n\
                  Iñaki;Ibáñez;612 345 671;Sí\n",
            "windows-1252",
        ),
        (
            WINDOWS_1252,
            "BR",
            "First Name;Last Name;Mobile;City\nJoão;Conceição;(11) 98765-4321;São Paulo\n\
                  Antônio;Magalhães;(61) 98765-4322;Brasília\nMárcia;Gonçalves;(91) 98765-4323;Belém\n\
                  Sebastião;Assunção;(82) 98765-4324;Maceió\n",
            "windows-1252",
        ),
        (
            WINDOWS_1252,
            "NO",
            "First Name;Last Name;Mobile;City\nSøren;Kierkegaard;912 34 567;Århus\n\
                  Æsa;Ødegård;912 34 568;Tromsø\nBjørn;Løkkeberg;912 34 569;Bærum\n\
                  Åse;Ærøe;912 34 560;Ålesund\n",
            "windows-1252",
        ),
        (
            WINDOWS_1250,
            "PL",
            "First Name;Last Name;Mobile;City\nŁukasz;Wiśniewski;501 234 567;Łódź\n\
                  Małgorzata;Żółkiewska;502 345 678;Kraków\nGrzegorz;Brzęczyszczykiewicz;503 456 789;\
                  Chrząszczyżewoszyce\nJózef;Świątek;505 678 901;Żółtów\n",
            "windows-1250",
        ),
        (
            WINDOWS_1250,
            "CZ",
            "First Name;Last Name;Mobile;City\nJiří;Dvořák;601 234 567;Plzeň\n\
                  Růžena;Nováková;602 345 678;České Budějovice\nŽaneta;Černá;603 456 789;\
                  Ústí nad Labem\nOndřej;Šťastný;604 567 890;Přerov\n",
            "windows-1250",
        ),
        (
            WINDOWS_1250,
            "SK",
            "First Name;Last Name;Mobile;City\nĽubomír;Ďurčo;0901 234 567;Košice\n\
                  Ľudmila;Kráľová;0901 234 568;Žilina\nĹudovít;Šťastný;0901 234 569;Prešov\n\
                  Ľuboš;Ťažký;0901 234 560;Poľana\n",
            "windows-1250",
        ),
        (
            WINDOWS_1250,
            "HR",
            "First Name;Last Name;Mobile;City\nĐurđa;Kovačić;091 123 4567;Đakovo\n\
                  Željko;Marić;091 123 4568;Čakovec\nĐorđe;Jurić;091 123 4569;Šibenik\n\
                  Ivana;Babić;091 123 4560;Požega\n",
            "windows-1250",
        ),
        (
            WINDOWS_1250,
            "RO",
            "First Name;Last Name;Mobile;City\nŞtefan;Popescu;0721 234 567;Timişoara\n\
                  Ioana;Ţăranu;0721 234 568;Iaşi\nMădălina;Bălănescu;0721 234 569;Brăila\n\
                  Gheorghe;Brâncuşi;0721 234 560;Târgu Jiu\n",
            "windows-1250",
        ),
        (
            WINDOWS_1254,
            "TR",
            "First Name;Last Name;Mobile;City\nŞükrü;Güneş;0532 123 45 67;İstanbul\n\
                  Çağrı;Öztürk;0533 123 45 67;Eskişehir\nIşık;Ağaoğlu;0534 123 45 67;Kadıköy\n\
                  Gülşah;Yıldırım;0535 123 45 67;Üsküdar\n",
            "windows-1254",
        ),
        (
            WINDOWS_1250,
            "HU",
            "First Name;Last Name;Mobile;City\nŐrs;Szőke;06 30 123 4567;Győr\n\
                  Győző;Fűzfa;06 30 234 5678;Kőszeg\nÖdön;Lőrincz;06 30 345 6789;Pécs\n\
                  Ernő;Kővári;06 30 456 7890;Hódmezővásárhely\n",
            "windows-1250",
        ),
    ];
    for (encoding, region, text, label) in cases {
        let (bytes, _, unmappable) = encoding.encode(text);
        assert!(!unmappable, "{text}");
        let (read_as, rows) = imported(&bytes, region);
        assert_eq!(read_as, label, "{text}");
        let names: Vec<String> = rows.into_iter().map(|(name, _)| name).collect();
        let want: Vec<String> = written(&text.replace(';', ","))
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(names, want, "{text}");
    }
}

/// A few accented letters are no evidence of a Central European file: a Spanish list whose
/// only letter Windows-1250 reads otherwise is `ñ` stays Windows-1252 (`Ibáñez`, not
/// `Ibáńez`), and so does one the detector takes for Cyrillic (`Íñigo`); a Polish list with
/// no `ś` or `ź`, which read as ISO-8859-2 would have `Dšbrowski` for `Dąbrowski`, is
/// Windows-1250, as Excel saves it.
#[test]
fn latin_code_pages_are_told_apart_by_enough_of_their_letters() {
    let spanish = "first name,last name,phone\nInés,Peña,612739566\nRaúl,Ibáñez,612063277\n\
                   Ana,Fernández,612049380\nInés,Ibáñez,612432833\nRaúl,Martínez,612717889\n";
    let polish = "first name,last name,phone\nŁukasz,Dąbrowski,501234567\nAnna,Wójcik,501234568\n\
                  Paweł,Kowalczyk,501234569\nZofia,Dąbrowska,501234560\nMichał,Mazur,501234561\n\
                  Agnieszka,Kozłowska,501234562\nMałgorzata,Wróbel,501234563\nJan,Dąbek,501234564\n";
    let basque = "first name,last name,phone,note\nÍñigo,Jones,612784937,n° 12\n";
    // `ñ` and `Ñ` are one letter, not two that Windows-1250 reads otherwise.
    let capitals = "first name,last name,phone,note\nRaúl,SÁNCHEZ,681993674,Llamar después \
                    de las 18 h\nBegoña,YÁÑEZ,608715019,Málaga: Alcalá\n";
    // Mac Roman, which the detector takes for Windows-1250 (`Bjšrn`).
    let swedish = "Förnamn,Efternamn,Mobilnummer,Ort,Anteckningar\nBjörn,Ängquist,\
                   +46 76 4312788,Göteborg,Rabatt 10 €\nKåre,Löfgren,079-666 47 06,Gävle,\
                   Order nr 4 levererad\n";
    for (text, region, encoding) in [
        (spanish, "ES", encoding_rs::WINDOWS_1252),
        (basque, "ES", encoding_rs::WINDOWS_1252),
        (capitals, "ES", encoding_rs::WINDOWS_1252),
        (swedish, "SE", encoding_rs::MACINTOSH),
        (polish, "PL", encoding_rs::WINDOWS_1250),
    ] {
        let (bytes, _, _) = encoding.encode(text);
        let mut rows = open(Cursor::new(bytes.into_owned()), &options(region)).unwrap();
        let last_names: Vec<String> = rows
            .by_ref()
            .map(|outcome| match outcome {
                RowOutcome::Valid(row) => row.last_name.unwrap_or_default(),
                other => panic!("{other:?}"),
            })
            .collect();
        let want: Vec<&str> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap())
            .collect();
        assert_eq!(last_names, want);
        assert_eq!(rows.encoding(), label(encoding));
    }
}

/// Accounting software writes names in capitals: Windows-1251's and Windows-1253's capitals
/// are the bytes of Shift-JIS's half-width katakana, and still Cyrillic and Greek.
#[test]
fn names_in_capitals_stay_cyrillic_and_greek() {
    for (encoding, region, text) in [
        (
            encoding_rs::WINDOWS_1251,
            "RU",
            "Name;Phone\r\nПЕТРОВ ИВАН;+7 916 123-45-67\r\n",
        ),
        (
            encoding_rs::WINDOWS_1251,
            "RU",
            "ФАМИЛИЯ;ИМЯ;ТЕЛЕФОН\r\nПЕТРОВ;ИВАН;+7 916 123-45-67\r\n",
        ),
        (
            encoding_rs::WINDOWS_1253,
            "GR",
            // (One or two Greek rows in capitals the detector takes for KOI8-U.)
            "Name;Phone\r\nΠΑΠΑΔΟΠΟΥΛΟΣ ΓΙΩΡΓΟΣ;+30 691 234 5678\r\nΙΩΑΝΝΟΥ ΜΑΡΙΑ;+30 697 345 \
             6789\r\nΓΕΩΡΓΙΟΥ ΝΙΚΟΣ;+30 694 456 7890\r\n",
        ),
    ] {
        let (bytes, _, _) = encoding.encode(text);
        let mut rows = open(Cursor::new(bytes.into_owned()), &options(region)).unwrap();
        let mut names: Vec<String> = rows
            .by_ref()
            .flat_map(|outcome| match outcome {
                RowOutcome::Valid(row) => [row.first_name, row.last_name],
                other => panic!("{other:?}"),
            })
            .flatten()
            .collect();
        assert_eq!(rows.encoding(), encoding.name(), "{text}");
        let cells = text.lines().skip(1).flat_map(|line| line.split(';'));
        let written = cells.filter(|c| !c.starts_with('+'));
        let mut want: Vec<&str> = written.flat_map(str::split_whitespace).collect();
        names.sort();
        want.sort();
        assert_eq!(names, want, "{text}");
    }
}

/// A double-byte file longer than the sample its code page is guessed from: wherever the
/// sample's end cuts a character in two, the file is read in its code page.
#[test]
fn a_character_cut_by_the_samples_end_is_no_evidence() {
    let rows = |name: &str, city: &str, mobile: &dyn Fn(usize) -> String| {
        (1..3000)
            .map(|i| format!("{name},{},{city},\r\n", mobile(i)))
            .collect::<String>()
    };
    let cases: [(&'static encoding_rs::Encoding, &str, &str, &str, String); 4] = [
        (
            encoding_rs::GBK,
            "CN",
            "王伟",
            "北京",
            rows("王伟", "北京", &|i| format!("138{i:08}")),
        ),
        (
            encoding_rs::BIG5,
            "TW",
            "陳美玲",
            "臺北",
            rows("陳美玲", "臺北", &|i| format!("0912{i:06}")),
        ),
        (
            encoding_rs::SHIFT_JIS,
            "JP",
            "山田太郎",
            "東京",
            rows("山田太郎", "東京", &|i| format!("0901{i:07}")),
        ),
        (
            encoding_rs::EUC_KR,
            "KR",
            "김민준",
            "서울",
            rows("김민준", "서울", &|i| format!("010{i:08}")),
        ),
    ];
    for (encoding, region, name, city, rest) in cases {
        // The first row's note moves the sample's end one byte at a time, a row's length.
        for pad in 0..30 {
            let text = format!(
                "Name,Mobile,City,Notes\r\n{name},{},{city},{}\r\n{rest}",
                match region {
                    "CN" => "13800000000",
                    "TW" => "0912000000",
                    "JP" => "09012345678",
                    _ => "01000000000",
                },
                "x".repeat(pad)
            );
            let (bytes, _, _) = encoding.encode(&text);
            assert!(bytes.len() > 64 * 1024);
            let mut rows = open(Cursor::new(bytes.into_owned()), &options(region)).unwrap();
            assert_eq!(rows.encoding(), encoding.name(), "{region}, {pad}");
            if pad > 0 {
                continue;
            }
            let names: Vec<String> = rows
                .by_ref()
                .map(|outcome| match outcome {
                    RowOutcome::Valid(row) => [row.first_name, row.last_name]
                        .into_iter()
                        .flatten()
                        .collect(),
                    other => panic!("{other:?}"),
                })
                .collect();
            assert_eq!(rows.encoding(), encoding.name(), "{region}, {pad}");
            assert!(names.iter().all(|n| n == name), "{region}, {pad}");
        }
    }
}

/// A code page's accented capital before a symbol or another capital is well-formed UTF-8
/// by chance (`É’` is `ɒ`, Polish `ÓŁ` is `ӣ`): no reason to read the file as UTF-8, nor
/// the row of a UTF-8 file as UTF-8 there.
#[test]
fn chance_utf8_in_a_code_page_is_no_utf8() {
    let polish = "Imię;Nazwisko;Telefon;Miasto\r\nJan;ŻÓŁKIEWSKI;501 234 567;Kraków\r\n\
                  Anna;Kowalska;600 111 222;Łódź\r\nPiotr;Wiśniewski;691 222 333;Gdańsk\r\n";
    let cafe = "First Name,Last Name,Phone,Notes\r\nRené,Dupont,(415) 555-2671,RENÉ’S CAFÉ\r\n\
                Zoë,Brontë,(415) 555-2672,“CAFÉ” «\u{a0}RÉSERVÉ\u{a0}»\r\n";
    for (encoding, region, text, column) in [
        (encoding_rs::WINDOWS_1250, "PL", polish, 1),
        (encoding_rs::WINDOWS_1252, "US", cafe, 3),
    ] {
        let (bytes, _, _) = encoding.encode(text);
        let mut rows = open(Cursor::new(bytes.into_owned()), &options(region)).unwrap();
        let cells: Vec<String> = rows
            .by_ref()
            .map(|outcome| match outcome {
                RowOutcome::Valid(row) if column == 1 => row.last_name.unwrap_or_default(),
                RowOutcome::Valid(row) => row.attributes["notes"].clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(rows.encoding(), encoding.name(), "{text}");
        let written = text
            .lines()
            .skip(1)
            .map(|line| line.split([';', ',']).nth(column));
        assert_eq!(cells, written.flatten().collect::<Vec<_>>(), "{text}");
    }
    // A Thai name whose bytes are well-formed UTF-8 (`เกด` is UTF-8's `ࡴ`, Samaritan), alone
    // in its row of a Windows-874 file.
    let thai = "ชื่อ,นามสกุล,มือถือ\nสมชาย,ใจดี,081 234 5678\nสมหญิง,รักไทย,082 345 6789\n\
                วิชัย,ศรีสุข,083 456 7890\nมาลี,สุขใจ,084 567 8901\nเกด,Smith,085 678 9012\n\
                John,รถToyota,086 789 0123\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_874.encode(thai);
    assert!(std::str::from_utf8(&bytes[bytes.len() - 58..bytes.len() - 28]).is_ok());
    assert!(std::str::from_utf8(&bytes[bytes.len() - 28..]).is_ok());
    let (read_as, names) = first_names(&bytes, "TH");
    assert_eq!(read_as, "windows-874");
    assert_eq!(names, ["สมชาย", "สมหญิง", "วิชัย", "มาลี", "เกด", "John"]);
    // `รถ` (a car) glued to a brand is UTF-8's `öToyota`, no name.
    let rows = open(Cursor::new(bytes.into_owned()), &options("TH")).unwrap();
    let last = rows.filter_map(|outcome| match outcome {
        RowOutcome::Valid(row) => row.last_name,
        _ => None,
    });
    assert_eq!(last.last().as_deref(), Some("รถToyota"));
    // The same row pasted into a UTF-8 file.
    let mut file = "First Name,Last Name,Phone,Notes\r\nZoë,Brontë,(415) 555-2672,Café\r\n"
        .as_bytes()
        .to_vec();
    file.extend_from_slice(
        &encoding_rs::WINDOWS_1252
            .encode("René,Dupont,(415) 555-2671,RENÉ’S CAFÉ\r\n")
            .0,
    );
    let mut rows = open(Cursor::new(file), &options("US")).unwrap();
    let notes: Vec<String> = rows
        .by_ref()
        .map(|outcome| match outcome {
            RowOutcome::Valid(row) => row.attributes["notes"].clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(notes, ["Café", "RENÉ’S CAFÉ"]);
    assert_eq!(rows.encoding(), "utf-8 with windows-1252 rows");
}

/// Bytes in words of their own that no code page reads as a script's words are refused as
/// text the import cannot tell, not imported as whatever a guess makes of them.
#[test]
fn text_no_code_page_reads_as_words_is_refused() {
    let mut file = b"name,phone\n".to_vec();
    for i in 0..40u32 {
        file.extend((0..5).map(|j| 0x80 + ((i * 37 + j * 11) % 128) as u8));
        file.extend_from_slice(format!(",415555{i:04}\n").as_bytes());
    }
    let refused = open(Cursor::new(file), &options("US"));
    assert!(
        matches!(refused, Err(ImportError::CodePage)),
        "{:?}",
        refused.err()
    );
}

/// Shift-JIS text holds well-formed UTF-8 pairs by chance, which made the file UTF-8 with
/// rows "in Mac Roman"; a UTF-8 file with rows pasted in from a Windows tool holds UTF-8 of
/// its own, and imports so, whatever the script of its UTF-8 names.
#[test]
fn a_file_is_judged_by_what_of_it_is_not_utf8() {
    let japanese = lists().into_iter().find(|list| list.0 == "Japanese");
    let (_, encoding, region, text) = japanese.unwrap();
    let (bytes, _, _) = encoding.encode(&text);
    assert!(bytes.utf8_chunks().any(|chunk| !chunk.valid().is_ascii()));
    assert_eq!(
        imported(&bytes, region),
        ("Shift_JIS".to_owned(), as_written(&text, region))
    );
    // UTF-8 names in other scripts, and rows from Windows-1252 beside them.
    let mut file = "First Name,Last Name,Mobile\nИван,Петров,+7 916 123-45-67\n\
                    Γιώργος,Παπαδόπουλος,+30 691 234 5678\n太郎,山田,+81 90-1234-5678\n"
        .as_bytes()
        .to_vec();
    file.extend_from_slice(
        &encoding_rs::WINDOWS_1252
            .encode("José,Núñez,+34 612 345 678\n")
            .0,
    );
    file.extend_from_slice(
        &encoding_rs::WINDOWS_1252
            .encode("Søren,Ødegård,+47 912 34 567\n")
            .0,
    );
    let (label, rows) = imported(&file, "US");
    assert_eq!(label, "utf-8 with windows-1252 rows");
    let names: Vec<&str> = rows.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["Иван", "Γιώργος", "太郎", "José", "Søren"]);
    // A row pasted from a Cyrillic Windows tool is read in its code page, the UTF-8 ones as
    // UTF-8.
    let mut file = "First Name,Last Name,Mobile,City\nИван,Петров,+7 916 123-45-67,Москва\n"
        .as_bytes()
        .to_vec();
    let (russian, _, _) =
        encoding_rs::WINDOWS_1251.encode("Ольга,Смирнова,+7 921 234-56-78,Санкт-Петербург\n");
    file.extend_from_slice(&russian);
    let (label, rows) = imported(&file, "RU");
    assert_eq!(label, "utf-8 with windows-1251 rows");
    let names: Vec<&str> = rows.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["Иван", "Ольга"]);
}

/// ASCII rows to past the 64 KiB the encoding is guessed from.
fn ascii_rows(file: &mut Vec<u8>) -> usize {
    let mut rows = 0;
    while file.len() < 70 * 1024 {
        rows += 1;
        let row = format!("Name{rows},Family,+1 415 555 {:04},Town\n", rows % 10_000);
        file.extend_from_slice(row.as_bytes());
    }
    rows
}

/// Past an all-ASCII start, the text in such a code page is judged where it starts, and read
/// in its code page from there.
#[test]
fn a_code_page_past_an_ascii_start_is_read_from_there() {
    for (language, encoding, region, text) in lists() {
        let mut file = b"First Name,Last Name,Mobile,City\n".to_vec();
        let ascii = ascii_rows(&mut file);
        let rows = text.split_once('\n').map_or("", |(_, rows)| rows);
        file.extend_from_slice(&encoding.encode(rows).0);
        let (read_as, got) = imported(&file, region);
        assert_eq!(read_as, label(encoding), "{language}");
        assert_eq!(got.len(), ascii + rows.lines().count(), "{language}");
        assert_eq!(got[ascii..], as_written(&text, region), "{language}");
    }
}

/// Past an all-ASCII start, the choice made where other text starts is the same as at a
/// file's start: a Windows file's UTF-8 rows further on are read as UTF-8, and a UTF-8 file's
/// Czech rows in the code page those 64 KiB show.
#[test]
fn past_an_ascii_start_mixed_rows_are_read_as_at_the_start() {
    let mut file = b"First Name,Last Name,Mobile,City\n".to_vec();
    let ascii = ascii_rows(&mut file);
    // The UTF-8 row past the 64 KiB the choice is made on.
    let mut windows = file.clone();
    let renee = encoding_rs::WINDOWS_1252.encode("Renée,Noël,+1 415 555 0101,Orléans\n");
    let renees = 70 * 1024 / renee.0.len() + 1;
    windows.extend_from_slice(&renee.0.repeat(renees));
    windows.extend_from_slice("Zoë,Brontë,+1 415 555 0102,Haworth\n".as_bytes());
    let (read_as, names) = first_names(&windows, "US");
    assert_eq!(read_as, "windows-1252 with utf-8 rows");
    assert_eq!(names.len(), ascii + renees + 1);
    assert!(
        names[ascii..ascii + renees]
            .iter()
            .all(|name| name == "Renée")
    );
    assert_eq!(names[names.len() - 1], "Zoë");

    let mut czech = file;
    czech.extend_from_slice("Zdeněk,Růžička,+420 603 123 456,Brno\n".as_bytes());
    for row in [
        "Jiří,Dvořák,+420 604 234 567,Plzeň\n",
        "Luboš,Šťastný,+420 605 345 678,Ostrava\n",
    ] {
        czech.extend_from_slice(&encoding_rs::WINDOWS_1250.encode(row).0);
    }
    let (read_as, names) = first_names(&czech, "US");
    assert_eq!(read_as, "utf-8 with windows-1250 rows");
    assert_eq!(names[ascii..], ["Zdeněk", "Jiří", "Luboš"]);
}

/// A UTF-8 file (UTF-8 in its sample) with rows in such code pages further on: each such row
/// is read in its code page, as a Windows-1252 row is in its own.
#[test]
fn rows_in_such_a_code_page_inside_a_utf8_file_are_read_in_it() {
    let mut file = "First Name,Last Name,Mobile,City\nZoë,Brontë,+1 415 555 9999,Haworth\n"
        .as_bytes()
        .to_vec();
    ascii_rows(&mut file);
    let (russian, _, _) = encoding_rs::WINDOWS_1251.encode(
        "Ольга,Смирнова,+7 921 234-56-78,Санкт-Петербург\nИван,Петров,+7 916 123-45-67,Москва\n",
    );
    file.extend_from_slice(&russian);
    file.extend_from_slice(
        &encoding_rs::WINDOWS_1252
            .encode("José,Núñez,+34 612 345 678,Sevilla\n")
            .0,
    );
    // GBK's `伟` is well-formed UTF-8 (`ΰ`) by chance: the row is read in GBK whole.
    file.extend_from_slice(
        &encoding_rs::GBK
            .encode("伟,张,+86 137 3456 7890,广州市天河区\n")
            .0,
    );
    let (label, rows) = imported(&file, "US");
    let names: Vec<&str> = rows.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names[names.len() - 4..], ["Ольга", "Иван", "José", "伟"]);
    assert_eq!(label, "utf-8 with windows-1251 rows");
}

/// First names of a file's rows, each row read as one (duplicates too).
fn first_names(bytes: &[u8], region: &str) -> (String, Vec<String>) {
    let options = ImportOptions {
        find_duplicates: false,
        ..options(region)
    };
    let mut rows = open(Cursor::new(bytes.to_vec()), &options).unwrap();
    let names = (rows.by_ref())
        .map(|outcome| match outcome {
            RowOutcome::Valid(row) => row.first_name.unwrap_or_default(),
            other => panic!("{other:?}"),
        })
        .collect();
    (rows.encoding(), names)
}

/// A Windows export with rows merged in from a UTF-8 one, in its start or past it: the
/// UTF-8 rows are read as UTF-8, the others in the file's code page.
#[test]
fn utf8_rows_inside_a_code_page_file_are_read_as_utf8() {
    let list = |rows: &str| format!("First Name,Last Name,Mobile,City\n{rows}");
    let latin = [
        (
            "French",
            encoding_rs::WINDOWS_1252,
            "FR",
            list("Élodie,Bérénice,06 12 34 56 78,Besançon\nRenée,Noël,06 23 45 67 89,Orléans\n"),
        ),
        (
            "Polish",
            encoding_rs::WINDOWS_1250,
            "PL",
            list("Łukasz,Wiśniewski,501 234 567,Łódź\nŻaneta,Dąbrowska,600 111 222,Gdańsk\n"),
        ),
    ];
    for (language, encoding, region, text) in lists().into_iter().chain(latin) {
        let (header, rows) = text.split_once('\n').unwrap();
        let mut file = format!("{header}\n").into_bytes();
        let mut want = Vec::new();
        // Past the sample (Latin lists) or a few among many (another script's: in a file
        // with as much UTF-8 as code page, UTF-8 is the file's and the others are its rows).
        while file.len() < 70 * 1024 {
            file.extend_from_slice(&encoding.encode(rows).0);
            want.extend(written(&text).into_iter().map(|(name, _)| name));
        }
        file.extend_from_slice(rows.as_bytes());
        want.extend(written(&text).into_iter().map(|(name, _)| name));
        let (read_as, names) = first_names(&file, region);
        assert_eq!(
            read_as,
            format!("{} with utf-8 rows", label(encoding)),
            "{language}"
        );
        assert!(names == want, "{language}: {:?}", &names[names.len() - 3..]);
    }
}

/// A header saved as UTF-8 (typed into a UTF-8 template) over rows exported from Windows in
/// a code page: the header is read as UTF-8 and the rows in the code page all of them show,
/// which one row alone could not tell (a Czech `Dvořák` reads as well as `Dvoøák`).
#[test]
fn a_utf8_header_over_code_page_rows_reads_both() {
    use encoding_rs::{WINDOWS_1250, WINDOWS_1251, WINDOWS_1254};
    let cases = [
        (
            "Имя,Фамилия,Телефон\n",
            WINDOWS_1251,
            "RU",
            "Иван,Петров,+7 916 123-45-67\nОльга,Смирнова,+7 921 234-56-78\n",
        ),
        (
            "Jméno;Příjmení;Telefon\n",
            WINDOWS_1250,
            "CZ",
            "Jiří;Dvořák;603 123 456\nZdeněk;Růžička;604 234 567\nLuboš;Šťastný;605 345 678\n",
        ),
        (
            "Adı;Soyadı;Cep Telefonu\n",
            WINDOWS_1254,
            "TR",
            "Şükrü;Yılmaz;0532 123 45 67\nAyşe;Çelik;0533 234 56 78\nİsmail;Doğan;0534 345 67 89\n",
        ),
    ];
    for (header, encoding, region, rows) in cases {
        let mut file = header.as_bytes().to_vec();
        file.extend_from_slice(&encoding.encode(rows).0);
        let (_, names) = first_names(&file, region);
        let want: Vec<&str> = rows
            .lines()
            .map(|row| row.split([',', ';']).next().unwrap())
            .collect();
        assert_eq!(names, want, "{header}");
    }
}

/// Capitals of a Central European code page that pair up into well-formed UTF-8 (Polish
/// `JÓŹWIAK` is UTF-8's `JӏWIAK`, Slovak `PÄŤKO` its `PčKO`) are read in the code page, in a
/// file of it and beside rows of a UTF-8 export alike.
#[test]
fn capitals_that_pair_up_as_utf8_are_read_in_their_code_page() {
    let cp1250 = encoding_rs::WINDOWS_1250;
    let polish = "Imię;Nazwisko;Telefon\r\nJan;JÓŹWIAK;501 234 567\r\nAnna;GÓŁKA;501 234 568\r\n\
                  Ewa;CIĘŻKI;501 234 570\r\nEwa;RŮŽENA;501 234 571\r\n";
    let mut file = cp1250.encode(polish).0.into_owned();
    file.extend_from_slice("Łukasz;Żółć;501 234 569\r\n".as_bytes());
    let slovak = "Meno;Priezvisko;Telefón\r\nTibor;PÄŤKO;0905 123 456\r\nĽubomír;Šťastný;0905 123 457\r\n\
                  Zuzana;Kováčová;0905 123 458\r\nJán;Ďurčo;0905 123 459\r\n";
    // Mac Roman's `–É` is UTF-8's Cyrillic `Ѓ`, and its `’É` Armenian.
    let french = "Prénom;Nom;Portable\r\nJean–Édouard;Dupont;06 12 34 56 78\r\n\
                  Luc;L’Écuyer;06 12 34 56 77\r\nHélène;Bérénice;06 23 45 67 89\r\nFrançois;Noël;06 34 56 78 90\r\n";
    let mac_roman = encoding_rs::MACINTOSH.encode(french).0.into_owned();
    for (bytes, region, text) in [
        (file, "PL", format!("{polish}Łukasz;Żółć;501 234 569\r\n")),
        (
            cp1250.encode(slovak).0.into_owned(),
            "SK",
            slovak.to_owned(),
        ),
        (mac_roman, "FR", french.to_owned()),
    ] {
        let mut rows = open(Cursor::new(bytes), &options(region)).unwrap();
        let names: Vec<String> = (rows.by_ref())
            .map(|outcome| match outcome {
                RowOutcome::Valid(row) => format!(
                    "{};{}",
                    row.first_name.unwrap_or_default(),
                    row.last_name.unwrap_or_default()
                ),
                other => panic!("{other:?}"),
            })
            .collect();
        let written = text
            .lines()
            .skip(1)
            .map(|row| row.rsplit_once(';').unwrap().0);
        assert_eq!(names, written.collect::<Vec<_>>(), "{}", rows.encoding());
    }
}

/// Hungarian Windows-1250 differs from Windows-1252 only in `ő` and `ű` (its `õ` and `û`),
/// which no detector tells apart: a Hungarian tenant's file is read in its country's code page
/// when that reads it as the country's letters; a French list in a Polish tenant's stays
/// Windows-1252 (its `è` is no Polish `č`).
#[test]
fn a_tenants_country_tells_its_code_page_where_the_bytes_cannot() {
    let hungarian = "Vezetéknév;Keresztnév;Mobil;Város\r\nKovács;Lőrinc;+36 20 123 4567;Győr\r\n\
                     Szűcs;Ödön;+36 30 234 5678;Pécs\r\nNagy;Erzsébet;+36 70 345 6789;Eger\r\n";
    let estonian =
        "Last Name;First Name;Mobile\r\nŠmidt;Tõnu;+372 5123 4567\r\nŽukov;Jüri;+372 5234 5678\r\n";
    let french =
        "Prénom;Nom;Portable\r\nHélène;Lefèvre;+48 501 234 567\r\nRenée;Noël;+48 501 234 568\r\n";
    // Polish's `ń` and Spanish's `ñ` are one byte; Polish never puts `ń` before a vowel.
    let spanish = "Nombre;Apellidos;Móvil\r\nBegoña;Núñez;+48 501 234 567\r\n\
                   José;Ibáñez;+48 501 234 568\r\n";
    let polish = "Imię;Nazwisko;Telefon\r\nJan;Bończyk;+48 501 234 567\r\n";
    // The detector takes Icelandic `þ` and `ð` for Central European `ţ` and `đ`.
    let icelandic = "Last Name;First Name;Mobile\r\nPétursson;Jón;+354 611 1000\r\n\
                     Björnsson;Eyþór;+354 611 1001\r\nStefánsdóttir;Aðalsteinn;+354 611 1002\r\n";
    let cases = [
        (hungarian, encoding_rs::WINDOWS_1250, "HU", "windows-1250"),
        (estonian, encoding_rs::WINDOWS_1257, "EE", "windows-1257"),
        (french, encoding_rs::WINDOWS_1252, "PL", "windows-1252"),
        (spanish, encoding_rs::WINDOWS_1252, "PL", "windows-1252"),
        (polish, encoding_rs::WINDOWS_1250, "PL", "windows-1250"),
        (icelandic, encoding_rs::WINDOWS_1252, "IS", "windows-1252"),
    ];
    for (text, encoding, region, label) in cases {
        let (bytes, _, unmappable) = encoding.encode(text);
        assert!(!unmappable, "{region}");
        let mut rows = open(Cursor::new(bytes.into_owned()), &options(region)).unwrap();
        let names: Vec<String> = (rows.by_ref())
            .map(|outcome| match outcome {
                RowOutcome::Valid(row) => format!(
                    "{};{}",
                    row.last_name.unwrap_or_default(),
                    row.first_name.unwrap_or_default()
                ),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(rows.encoding(), label, "{region}");
        let written = text.lines().skip(1).map(|line| {
            let cells: Vec<&str> = line.split(';').collect();
            match region {
                "PL" => format!("{};{}", cells[1], cells[0]),
                _ => format!("{};{}", cells[0], cells[1]),
            }
        });
        assert_eq!(names, written.collect::<Vec<_>>(), "{region}");
    }
}

/// The encoding a file was read in, and each row's first name, last name and notes.
fn names_and_notes(bytes: &[u8], region: &str) -> (String, Vec<String>) {
    let mut rows = open(Cursor::new(bytes.to_vec()), &options(region)).unwrap();
    let got = (rows.by_ref())
        .map(|outcome| match outcome {
            RowOutcome::Valid(row) => format!(
                "{},{},{}",
                row.first_name.unwrap_or_default(),
                row.last_name.unwrap_or_default(),
                row.attributes.get("notes").cloned().unwrap_or_default()
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    (rows.encoding(), got)
}

/// A Central European tenant's Windows-1252 list of foreign names or symbols stays
/// Windows-1252 where its country's code page would read letters where that country's words
/// never put them: a consonant alone (`£10` as `Ł10`, French `à` as `ŕ`), a Polish `ń` before
/// a vowel (`Begońa`), a Slovak or Czech `č` or `ň` ending a word after a consonant
/// (`Caffč`, `Niccolň`), or a spacing accent (`½` as `˝`). Its own lists, which put them
/// there, keep reading in it.
#[test]
fn a_central_european_tenants_foreign_list_stays_western() {
    let list = |first: &str, last: &str, notes: &str| {
        format!("First Name,Last Name,Mobile,Notes\r\n{first},{last},+48 501 234 567,{notes}\r\n")
    };
    let western = [
        ("PL", list("Adam", "Nowak", "£10")),
        ("PL", list("Noémie", "Bœuf", "")),
        ("PL", list("Begoña", "Núñez", "")),
        ("SK", list("Mattia", "Fontanà", "")),
        ("SK", list("Ann", "Lee", "Rendez-vous à 10h")),
        ("SK", list("Ann", "Lee", "Caffè Nero")),
        ("CZ", list("Niccolò", "Rossi", "")),
        ("HU", list("Anna", "Nagy", "½ prezzo")),
        ("CZ", list("Anna", "Nagy", "½ price")),
        ("HU", list("Tõnu", "Tamm", "½ prezzo")),
    ];
    let native = [
        ("PL", list("Łukasz", "Bończyk", "Gdańsk")),
        ("PL", list("Anna", "Nowak", "Łódź")),
        ("CZ", list("Jan", "Novák", "Brně")),
        ("SK", list("Ján", "Kováč", "Žilina")),
        ("SK", list("Peter", "Sládkovič", "")),
        ("SK", list("Miroslav", "Kŕč", "Žilina")),
        ("CZ", list("Kateřina", "Horák", "Sleva 100 Kč")),
        ("CZ", list("Ondřej", "Černý", "Husova č. 5")),
        ("CZ", list("Jan", "Novák", "Krč")),
        ("CZ", list("Jiří", "Dvořák", "Plzeň")),
        ("HU", list("Lőrinc", "Kovács", "Győr")),
    ];
    let cases = (western.iter().map(|c| (c, encoding_rs::WINDOWS_1252)))
        .chain(native.iter().map(|c| (c, encoding_rs::WINDOWS_1250)));
    for ((region, text), code_page) in cases {
        let (bytes, _, unmappable) = code_page.encode(text);
        assert!(!unmappable, "{text}");
        let (encoding, got) = names_and_notes(&bytes, region);
        let cells: Vec<&str> = text.lines().nth(1).unwrap_or_default().split(',').collect();
        let want = format!("{},{},{}", cells[0], cells[1], cells[3]);
        assert_eq!(
            (encoding, got),
            (code_page.name().to_lowercase(), vec![want]),
            "{region}"
        );
    }
}

/// A UTF-8 file's Hungarian Windows-1250 rows past its first 64 KiB, read one at a time, are
/// read as a Hungarian tenant's country writes too.
/// A file of a row or two whose every word is well-formed UTF-8 by chance: a Thai name of a
/// leading vowel and two consonants (`แดง` is UTF-8's phonetic `ᴧ`), a Chinese or Korean
/// character alone (GBK's `伟` is UTF-8's `ΰ`, cp949's `황` its `Ȳ`). Read so, the names
/// are garbage no one writes; in a tenant of the country whose code page reads them as its
/// words, that code page reads them. Such UTF-8 in another tenant, and any UTF-8 that reads
/// as words, stays UTF-8.
#[test]
fn a_tiny_file_in_the_countrys_code_page_is_read_in_it() {
    use encoding_rs::{EUC_KR, GBK, UTF_8, WINDOWS_874};
    let list =
        |name: &str, number: &str| format!("First Name,Last Name,Mobile\n{name},Lee,{number}\n");
    let cases = [
        (
            WINDOWS_874,
            "TH",
            list("แดง", "081 234 5678"),
            "windows-874",
        ),
        (GBK, "CN", list("伟", "138 0013 8000"), "GBK"),
        (EUC_KR, "KR", list("황", "010-1234-5678"), "EUC-KR"),
        (WINDOWS_874, "US", list("แดง", "(415) 555-2671"), "utf-8"),
        (UTF_8, "TH", list("แดง", "081 234 5678"), "utf-8"),
        (UTF_8, "CN", list("Νίκος", "138 0013 8000"), "utf-8"),
        (UTF_8, "CN", list("И. Петров", "138 0013 8000"), "utf-8"),
        (UTF_8, "KR", list("Ȳves", "010-1234-5678"), "utf-8"),
        (UTF_8, "JP", list("さくら", "090-1234-5678"), "utf-8"),
    ];
    for (code_page, region, text, label) in cases {
        let (bytes, _, unmappable) = code_page.encode(&text);
        assert!(!unmappable, "{text}");
        let as_utf8 = std::str::from_utf8(&bytes);
        assert!(as_utf8.is_ok(), "{region}: {text}");
        let (read_as, names) = first_names(&bytes, region);
        let want = match label {
            "utf-8" => as_utf8
                .unwrap_or_default()
                .lines()
                .nth(1)
                .unwrap_or_default(),
            _ => text.lines().nth(1).unwrap_or_default(),
        };
        assert_eq!(
            (read_as.as_str(), names[0].as_str()),
            (label, want.split(',').next().unwrap_or_default()),
            "{region}: {text}"
        );
    }
}

/// A short Chinese or Korean list has too few characters for the detector, which took
/// `王,伟` for Cyrillic (`РХ`) and refused a header of `名,姓,手机` as holding no phone
/// column. In a tenant of the country, text its code page reads cleanly as its script is in
/// it; a French list in a Japanese tenant stays Windows-1252 (read as Shift_JIS, its accents
/// would be kanji glued to Latin letters).
#[test]
fn a_short_list_in_the_countrys_east_asian_code_page_is_read_in_it() {
    use encoding_rs::{EUC_KR, GBK, WINDOWS_1252};
    let cases = [
        (
            GBK,
            "CN",
            "名,姓,手机\r\n伟,王,138 0013 8000\r\n娜,李,138 0013 8001\r\n敏,张,138 0013 8002\r\n",
            "GBK",
        ),
        (
            GBK,
            "CN",
            "名,姓,手机\r\n李,莉,138 0013 8000\r\n杨,霞,138 0013 8001\r\n陈,宁,138 0013 8002\r\n",
            "GBK",
        ),
        (
            EUC_KR,
            "KR",
            "이름,성,휴대폰\r\n예은,김,010-1234-5678\r\n",
            "EUC-KR",
        ),
        // English names, and East Asian words only glued to Latin ones.
        (
            GBK,
            "CN",
            "First Name,Mobile,Notes\r\nWang,138 0013 8000,5G套餐\r\nLi,138 0013 8001,NBA球迷\r\n\
             Chen,138 0013 8002,卡拉OK\r\n",
            "GBK",
        ),
        (
            WINDOWS_1252,
            "JP",
            "Prénom,Nom,Portable\r\nHélène,Lefèvre,090-1234-5678\r\nAmélie,Gérard,090-1234-5679\r\n",
            "windows-1252",
        ),
    ];
    for (code_page, region, text, label) in cases {
        let (bytes, _, unmappable) = code_page.encode(text);
        assert!(!unmappable, "{text}");
        let (read_as, names) = first_names(&bytes, region);
        let want: Vec<_> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap_or_default().to_owned())
            .collect();
        assert_eq!((read_as.as_str(), names), (label, want), "{region}: {text}");
    }
}

#[test]
fn rows_read_alone_follow_the_tenants_country() {
    let mut file = "Last Name,First Name,Mobile,City\nZoë,Brontë,+36 20 999 9999,Haworth\n"
        .as_bytes()
        .to_vec();
    let ascii = ascii_rows(&mut file);
    let hungarian = "Szőke,Lőrinc,+36 20 123 4567,Győr\n";
    file.extend_from_slice(&encoding_rs::WINDOWS_1250.encode(hungarian).0);
    for (region, want) in [("HU", "Lőrinc"), ("AT", "Lõrinc")] {
        let (_, names) = first_names(&file, region);
        assert_eq!(names.len(), ascii + 2, "{region}");
        assert_eq!(names[ascii + 1], want, "{region}");
    }
}

/// A Windows export in another script with a row merged in from a UTF-8 one in Latin
/// letters (`José Müller` in a Russian list) keeps that row's letters.
#[test]
fn a_latin_utf8_row_in_a_file_of_another_script_is_read_as_utf8() {
    let mut file = encoding_rs::WINDOWS_1251
        .encode("Имя,Фамилия,Телефон\n")
        .0
        .into_owned();
    for i in 0..40 {
        let row = format!("Ольга,Смирнова,+7 921 234-56-{i:02}\n");
        file.extend_from_slice(&encoding_rs::WINDOWS_1251.encode(&row).0);
    }
    file.extend_from_slice("José,Müller,+7 921 234-57-00\n".as_bytes());
    let (read_as, names) = first_names(&file, "RU");
    assert_eq!(read_as, "windows-1251 with utf-8 rows");
    assert_eq!(names.last().map(String::as_str), Some("José"));
}

/// An East Asian Windows export with a row merged in from a UTF-8 one keeps it, though the
/// code page does not write its characters (simplified `晓` in a Big5 file, `伟` in a
/// Shift_JIS one).
#[test]
fn a_utf8_row_in_a_double_byte_file_is_read_as_utf8() {
    let cases = [
        (
            encoding_rs::BIG5,
            "TW",
            "名,姓,手機\r\n志明,陳,0912 345 678\r\n淑芬,林,0912 345 679\r\n",
            "晓明,孙,0912 345 670\r\n",
        ),
        (
            encoding_rs::SHIFT_JIS,
            "JP",
            "名,姓,携帯電話\r\n太郎,佐藤,090-1234-5678\r\n花子,鈴木,090-1234-5679\r\n",
            "伟,马,090-1234-5670\r\n",
        ),
    ];
    for (code_page, region, rows, utf8) in cases {
        let mut file = code_page.encode(rows).0.into_owned();
        file.extend_from_slice(utf8.as_bytes());
        let (read_as, names) = first_names(&file, region);
        assert_eq!(read_as, format!("{} with utf-8 rows", code_page.name()));
        assert_eq!(
            names.last(),
            utf8.split(',').next().map(str::to_owned).as_ref()
        );
    }
}

/// An East Asian Windows export with rows merged in from a UTF-8 one in Latin letters keeps
/// their accents: `José`'s UTF-8 bytes are also a GBK character (`Jos茅`), a Big5 or cp949
/// one, or two half-width katakana, but glued to Latin letters, where these scripts'
/// characters seldom stand in names. (A Thai file's are read in Windows-874, unless it
/// cannot read them: Thai glues its words to Latin ones, see the next test.)
#[test]
fn a_latin_utf8_row_in_an_east_asian_file_is_read_as_utf8() {
    let merged = [
        "José,Müller",
        "Zoë,Núñez",
        "Łukasz,Wiśniewski",
        "Renée,O’Brien",
    ];
    let lists = lists().into_iter();
    let wide = lists.filter(|(_, cp, _, _)| !cp.is_single_byte());
    let mut seen = 0;
    for (language, code_page, region, text) in wide {
        let (header, rows) = text.split_once('\n').unwrap();
        let mut file = code_page.encode(&format!("{header}\n")).0.into_owned();
        for _ in 0..20 {
            file.extend_from_slice(&code_page.encode(rows).0);
        }
        let number = &written(&text)[0].1;
        for names in merged {
            file.extend_from_slice(format!("{names},{number},São Paulo\n").as_bytes());
        }
        let (read_as, names) = first_names(&file, region);
        assert_eq!(
            read_as,
            format!("{} with utf-8 rows", label(code_page)),
            "{language}"
        );
        let want: Vec<_> = merged
            .iter()
            .map(|n| n.split(',').next().unwrap())
            .collect();
        assert_eq!(names[names.len() - merged.len()..], want, "{language}");
        seen += 1;
    }
    assert_eq!(seen, 6);
}

/// East Asian and Thai words glued to Latin ones (a brand, a title, a note) whose bytes pair
/// up into well-formed UTF-8 stay in the file's code page: GBK `Mr谭` is UTF-8's `Mr` and a
/// combining mark, cp949 `DJ킹` its `DJŷ`, `KT체` its `KTü`, Thai `Grabรถ` its `Grabö`.
#[test]
fn glued_words_of_a_code_page_file_stay_in_it() {
    let cases = [
        ("Chinese (GBK)", ["Mr谭", "T台", "VIP客户", "A股"]),
        ("Korean", ["DJ킹", "KT체크", "KT체", "LG전자"]),
        ("Thai", ["Grabรถ", "SALEลด", "Aรก", "iPhoneรุ่นใหม่"]),
    ];
    let lists = lists();
    for (language, glued) in cases {
        let Some((_, code_page, region, text)) = lists.iter().find(|l| l.0 == language) else {
            panic!("{language}");
        };
        let mut file = code_page.encode(text).0.into_owned();
        let number = &written(text)[0].1;
        for word in glued {
            let row = format!("Ken,Lee,{number},{word}\n");
            file.extend_from_slice(&code_page.encode(&row).0);
        }
        let options = ImportOptions {
            find_duplicates: false,
            ..options(region)
        };
        let mut rows = open(Cursor::new(file), &options).unwrap();
        let cities: Vec<String> = (rows.by_ref())
            .filter_map(|outcome| match outcome {
                RowOutcome::Valid(row) => row.attributes.get("city").cloned(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(rows.encoding(), label(code_page), "{language}");
        assert_eq!(cities[cities.len() - glued.len()..], glued, "{language}");
    }
}

/// A Thai or Japanese Windows export with rows merged in from a UTF-8 one in another script
/// (Chinese, Korean, Russian, Greek) keeps them, though the code page reads their bytes as its
/// own characters (`Ελένη` as Thai `ฮ•ฮปฮญฮฝฮท`, `Глеб` as half-width katakana).
#[test]
fn a_utf8_row_in_another_script_in_a_thai_or_japanese_file_is_read_as_utf8() {
    let thai = "ชื่อ,นามสกุล,มือถือ\nสมชาย,ใจดี,081-234-5678\nสมหญิง,รักไทย,089-345-6789\n\
                ประยุทธ,ศรีสุข,086-456-7890\n";
    let japanese = "名,姓,携帯電話\n太郎,佐藤,090-1234-5678\n花子,鈴木,090-1234-5679\n";
    let cases = [
        (
            encoding_rs::WINDOWS_874,
            "TH",
            thai,
            "081-234-5670",
            &["丽华", "민준", "Глеб", "Ελένη", "伟"][..],
        ),
        (
            encoding_rs::SHIFT_JIS,
            "JP",
            japanese,
            "090-1234-5670",
            &["Глеб", "Ελένη"][..],
        ),
    ];
    for (code_page, region, text, number, merged) in cases {
        let (header, rows) = text.split_once('\n').unwrap();
        let mut file = code_page.encode(header).0.into_owned();
        file.push(b'\n');
        for _ in 0..20 {
            file.extend_from_slice(&code_page.encode(rows).0);
        }
        for name in merged {
            file.extend_from_slice(format!("{name},{name},{number}\n").as_bytes());
        }
        let (read_as, names) = first_names(&file, region);
        assert_eq!(read_as, format!("{} with utf-8 rows", code_page.name()));
        assert_eq!(names[names.len() - merged.len()..], *merged, "{region}");
    }
}

/// A UTF-8 file's rows in a double-byte code page are read in the one its start shows them
/// in, though their second bytes, ASCII letters at times, make them look like Latin accents
/// (Big5 `淑芬` is `\xB2Q\xAA\xE2`).
#[test]
fn double_byte_rows_of_a_utf8_file_are_read_in_the_files_code_page() {
    let mut file = "名,姓,手機\r\n志明,陳,0912 345 670\r\n".as_bytes().to_vec();
    for row in ["淑芬,張,0912 345 678\r\n", "美玲,林,0912 345 679\r\n"] {
        file.extend_from_slice(&encoding_rs::BIG5.encode(row).0);
    }
    let (_, names) = first_names(&file, "TW");
    assert_eq!(names, ["志明", "淑芬", "美玲"]);
}

/// UTF-16 without a byte-order mark (little- or big-endian) is read as UTF-16, not refused as
/// binary data for its zero bytes; binary data with zeros in a like pattern still is.
#[test]
fn utf16_without_a_byte_order_mark_is_read() {
    for (_, _, region, text) in lists() {
        let want: Vec<(String, String)> = written(&text)
            .into_iter()
            .map(|(name, number)| (name, e164(&number, region)))
            .collect();
        for (big, label) in [(false, "utf-16le"), (true, "utf-16be")] {
            let bytes: Vec<u8> = text
                .encode_utf16()
                .flat_map(|unit| match big {
                    true => unit.to_be_bytes(),
                    false => unit.to_le_bytes(),
                })
                .collect();
            assert_eq!(
                imported(&bytes, region),
                (label.to_owned(), want.clone()),
                "{text}"
            );
        }
    }
    let counters: Vec<u8> = (0..4096u16).flat_map(|n| (n % 200).to_le_bytes()).collect();
    assert!(matches!(
        open(Cursor::new(counters), &options("US")),
        Err(ImportError::Binary)
    ));
}

/// The notes of a file's rows, and the encoding it was read in.
fn notes(bytes: &[u8], region: &str) -> (String, Vec<String>) {
    let mut rows = open(Cursor::new(bytes.to_vec()), &options(region)).unwrap();
    let notes = (rows.by_ref())
        .map(|outcome| match outcome {
            RowOutcome::Valid(row) => row.attributes.get("notes").cloned().unwrap_or_default(),
            other => panic!("{other:?}"),
        })
        .collect();
    (rows.encoding(), notes)
}

/// A Thai tenant's Windows export whose only Thai words are glued to English ones (a brand, a
/// product) is read in Windows-874: read as a Latin code page they are symbols (`Grabรถ` as
/// `GrabÃ¶`), and those that pair up into UTF-8 Latin letters (`Grabö`) are Thai too.
#[test]
fn a_thai_list_whose_thai_words_are_glued_to_english_ones_is_read_in_thai() {
    let lists = [
        ["Grabรถ", "SALEลด", "iPhoneรุ่นใหม่"],
        ["VIPลูกค้า", "Lineกลุ่ม", "KFCสาขา2"],
        ["KFCสาขา2", "7-Elevenสาขา", "Shopeeร้าน"],
    ];
    for glued in lists {
        let mut text = String::from("First Name,Mobile,Notes\r\n");
        for (at, word) in glued.iter().enumerate() {
            text.push_str(&format!("Somchai,081 234 567{at},{word}\r\n"));
        }
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_874.encode(&text);
        assert!(!unmappable);
        let (read_as, got) = notes(&bytes, "TH");
        assert_eq!(
            (read_as.as_str(), got),
            ("windows-874", glued.map(String::from).to_vec())
        );
    }
}

/// A Thai tenant's list of a row or two in Windows-874 is read in it, where the detector takes
/// it for another script's code page (GBK's `仍迷久` for `ศิริพร`, Hebrew for `ไปๆมาๆ`) or
/// a Latin one (`BTSÊÂÒÁ` for `BTSสยาม`): those read it as no Thai spelling. A Russian or
/// Korean row, which Windows-874 reads as no Thai spelling (`ศโเํ`), stays as written.
#[test]
fn a_short_thai_list_is_read_in_thai() {
    let cases = [
        (encoding_rs::WINDOWS_874, "ศิริพร,สุขสวัสดิ์,"),
        (encoding_rs::WINDOWS_874, "ปุ๋ย,ศรีสุข,"),
        (encoding_rs::WINDOWS_874, "Somchai,Jaidee,ไลน์@shop"),
        (encoding_rs::WINDOWS_874, "Somchai,Jaidee,ไปๆมาๆ"),
        (encoding_rs::WINDOWS_874, "Somchai,Jaidee,BTSสยาม"),
        // Well-formed UTF-8 by chance: `Facebookྨ`, a Tibetan sign.
        (encoding_rs::WINDOWS_874, "Somchai,Jaidee,Facebookเพจ"),
        (encoding_rs::WINDOWS_1251, "Иван,Петров,Москва"),
        // Windows-874 reads it `วฯภบ,นฺ,VIP ฐํฐด`: no Thai spelling.
        (encoding_rs::EUC_KR, "하은,박,VIP 고객"),
        // `นฮมุ,มค`: Thai spelling, but one vowel in six letters.
        (encoding_rs::EUC_KR, "민준,정,"),
        // `นฮมุ,ฑ่,` and `นฮมุ,ภฬ,วาภฮ 10%`: no Thai syllable ends with `ฮ` or goes on
        // without its vowel; `นฮมุ,วั,VIP`: `ั` comes before a final consonant.
        (encoding_rs::EUC_KR, "민준,김,"),
        (encoding_rs::EUC_KR, "민준,이,할인 10%"),
        (encoding_rs::EUC_KR, "민준,한,VIP"),
        (encoding_rs::WINDOWS_874, "ฮอนด้า,เฮง,ตัวแทน"),
        // UTF-8 Thai, Lao and Hindi stay UTF-8.
        (encoding_rs::UTF_8, "Somchai,Jaidee,Facebookเพจ"),
        (encoding_rs::UTF_8, "ສົມພອນ,ແກ້ວ,ວຽງຈັນ"),
        (encoding_rs::UTF_8, "प्रिया,शर्मा,"),
    ];
    for (code_page, row) in cases {
        let text = format!("First Name,Last Name,Notes,Mobile\r\n{row},081 234 5678\r\n");
        let (bytes, _, unmappable) = code_page.encode(&text);
        assert!(!unmappable, "{text}");
        let (encoding, got) = names_and_notes(&bytes, "TH");
        let label = match code_page {
            _ if code_page == encoding_rs::UTF_8 => "utf-8",
            _ => code_page.name(),
        };
        assert_eq!(
            (encoding, got),
            (label.to_owned(), vec![row.to_owned()]),
            "{row}"
        );
    }
}

/// What a Thai tenant's list holds of Latin accents stays Latin: a French `à` or a `®` alone
/// reads in Windows-874 as one Thai character, `Hélène` as Latin letters, and Windows-874
/// has no `ü`.
#[test]
fn a_thai_tenants_latin_list_stays_latin() {
    let lists = [
        ["Rendez-vous à 10h", "Widgets® Inc", "Café ½ prix"],
        ["Hélène Brûlé", "Rendez-vous à 10h", "Widgets® Inc"],
        ["Müßig", "Hélène Brûlé", "Rendez-vous à 10h"],
    ];
    let list = |notes: &[&str]| {
        let mut text = String::from("First Name,Mobile,Notes\r\n");
        for (at, note) in notes.iter().enumerate() {
            text.push_str(&format!("Ann,081 234 567{at},{note}\r\n"));
        }
        text
    };
    for latin in lists {
        let text = list(&latin);
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
        let (read_as, got) = notes(&bytes, "TH");
        assert_eq!(
            (read_as.as_str(), got),
            ("windows-1252", latin.map(String::from).to_vec())
        );
    }
    let text = list(&["Rendez-vous à 10h", "José Núñez", "Müßig", "Hélène Brûlé"]);
    // A UTF-8 list of European names with a Windows row in it.
    let mut file = text.into_bytes();
    file.extend_from_slice(
        &encoding_rs::WINDOWS_1252
            .encode("Ann,081 234 5679,Gärtner\r\n")
            .0,
    );
    let (read_as, got) = notes(&file, "TH");
    assert_eq!(read_as, "utf-8 with windows-1252 rows");
    assert_eq!(got[1..], ["José Núñez", "Müßig", "Hélène Brûlé", "Gärtner"]);
}

/// A list of short Chinese or Japanese names under English headers, in a tenant of another
/// country: the detector may take GBK for Cyrillic (`伟,王` as Windows-1251's `О°,Нх`) or
/// Shift-JIS for Arabic, or see too little to say. Such readings are no words of their script
/// (signs inside words, a capital after a lower-case letter, no vowel, letters of languages
/// that never meet), and the East Asian code page whose everyday characters the bytes are is
/// read instead. Russian lists, abbreviations and all, stay Cyrillic.
#[test]
fn short_east_asian_names_are_no_cyrillic_or_arabic() {
    let names = |pairs: &[(&str, &str)]| {
        let mut text = String::from("First Name,Last Name,Mobile\r\n");
        for (at, (first, last)) in pairs.iter().enumerate() {
            text.push_str(&format!("{first},{last},+1 415 555 10{at:02}\r\n"));
        }
        text
    };
    let lists = [
        // Read as Windows-1251, ISO-8859-5, and refused.
        (
            encoding_rs::GBK,
            names(&[("伟", "王"), ("静", "杨"), ("军", "徐")]),
        ),
        (
            encoding_rs::GBK,
            names(&[("建华", "黄"), ("伟", "孙"), ("静", "李")]),
        ),
        (
            encoding_rs::GBK,
            names(&[("娜", "吴"), ("洋", "郭"), ("杰", "刘")]),
        ),
        // Read as Windows-1256, and refused.
        (
            encoding_rs::SHIFT_JIS,
            names(&[("大輔", "小林"), ("蓮", "鈴木"), ("翔太", "小林")]),
        ),
        (
            encoding_rs::SHIFT_JIS,
            names(&[("ゆい", "伊藤"), ("花子", "田中"), ("健", "伊藤")]),
        ),
        (
            encoding_rs::WINDOWS_1251,
            "First Name,Last Name,Mobile,Notes\r\nИван,Петров,+7 916 123-45-67,ТЦ Мега\r\n"
                .to_owned(),
        ),
    ];
    // Words whose bytes GBK reads as everyday characters, with a brand in camel case, an
    // abbreviation without a vowel: Russian still.
    let russian = ["кв. 12", "СберБанк", "МосГаз", "ГБДД", "2 шт"].map(|notes| {
        (
            encoding_rs::WINDOWS_1251,
            format!(
                "First Name,Last Name,Mobile,Notes\r\nИван,Власов,+7 921 742-73-56,{notes}\r\n"
            ),
        )
    });
    let lists = lists.into_iter().chain(russian);
    for (code_page, text) in lists {
        let (bytes, _, unmappable) = code_page.encode(&text);
        assert!(!unmappable, "{text}");
        let expected: Vec<String> = (text.lines().skip(1))
            .map(|line| line.split(',').next().unwrap_or_default().to_owned())
            .collect();
        for region in ["US", "GB"] {
            assert_eq!(
                first_names(&bytes, region),
                (code_page.name().to_owned(), expected.clone()),
                "{text}"
            );
        }
    }
}
