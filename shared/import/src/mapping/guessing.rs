//! Guessing a column's target from its header: aliases, then the words it holds.

use super::consent_words::consent_by_words;
use super::{Target, fold, normalise, words};

/// A column named just "Name": a full name, or a family name beside a first name.
pub(super) const BARE_NAME: &str = "name";

/// Which target a header name suggests, with a rank: among several columns suggesting the
/// same target the lowest rank wins (a mobile number beats a generic phone), then the
/// leftmost. Keys are [`normalise`]d.
fn alias(key: &str) -> Option<(Target, u8)> {
    use Target::*;
    Some(match key {
        "mobilephonenumber" | "mobilephone" | "mobilenumber" | "mobileno" | "mobilenr"
        | "mobile" | "cellphone" | "cellphonenumber" | "cellnumber" | "cellno" | "cell"
        | "msisdn" | "smsnumber" | "smsphone" | "iphone"
        // German, French, Spanish and Portuguese exports.
        | "handy" | "handynummer" | "mobil" | "mobilnummer" | "mobiltelefon" | "portable"
        | "telephoneportable" | "movil" | "telefonomovil" | "celular"
        // Portuguese, Polish, Finnish, Canadian French, Singaporean and Malaysian English.
        | "telemovel" | "telefonkomorkowy" | "komorka" | "matkapuhelin" | "cellulaire"
        | "handphone" | "hp" | "hpno"
        // Croatian, Serbian and Slovenian, Hungarian, Romanian, Baltic, Icelandic, Vietnamese.
        | "mobitel" | "mobilni" | "mobilnitelefon" | "mobiltelefonszam" | "telefonmobil"
        | "mobilusistelefonas" | "mobilaistalrunis" | "mobiil" | "mobiiltelefon" | "farsimi"
        | "didong" | "sodidong" => (Phone, 0),
        "whatsapp" | "whatsappnumber" | "whatsappno" => (Phone, 1),
        "phone" | "phonenumber" | "phoneno" | "phone1value" | "phone1" | "primaryphone" => {
            (Phone, 2)
        }
        "tel" | "telno" | "telephone" | "telephonenumber" | "telephoneno" | "telefon"
        | "telefono" | "telefonnummer" | "contactno" | "contactnumber" | "contactnr"
        | "telefonszam" | "telefonas" | "talrunis" | "telefoninumber" | "simi" | "sodienthoai"
        | "dienthoai" => (Phone, 3),
        // Shopify's customers export: the number of the customer's default address, which
        // its rows without a `Phone` have.
        "number" | "defaultaddressphone" | "billingphone" | "billingaddressphone" => (Phone, 4),
        // Brevo's number for texts; elsewhere a bare "SMS" may be a flag, so any other
        // phone column goes first.
        "sms" => (Phone, 5),
        "firstname" | "givenname" | "fname" | "forename" | "vorname" | "prenom" | "voornaam"
        // Spanish, Italian and Portuguese, Polish, Swedish, Danish and Norwegian, Finnish.
        | "nombre" | "nome" | "primeironome" | "imie" | "fornamn" | "fornavn" | "etunimi"
        // Latin American Spanish, Turkish, Indonesian and Malay, Filipino.
        | "nombres" | "primernombre" | "ad" | "adi" | "namadepan" | "pangalan"
        // Czech, Slovak, Hungarian, Romanian, Croatian and Slovenian, Baltic, Icelandic.
        | "jmeno" | "krestnijmeno" | "meno" | "keresztnev" | "utonev" | "prenume" | "ime"
        | "vardas" | "vards" | "eesnimi" | "fornafn" => (FirstName, 0),
        "first" => (FirstName, 1),
        "lastname" | "surname" | "familyname" | "lname" | "nachname" | "familienname"
        | "nomdefamille" | "apellido" | "apellidos" | "achternaam" | "cognome" | "apelido"
        | "sobrenome" | "nazwisko" | "efternamn" | "efternavn" | "etternavn" | "sukunimi"
        | "apellidopaterno" | "soyad" | "soyadi" | "namabelakang" | "apelyido" | "prijmeni"
        | "priezvisko" | "vezeteknev" | "csaladnev" | "nume" | "numedefamilie" | "prezime"
        | "priimek" | "pavarde" | "uzvards" | "perekonnanimi" | "eftirnafn" => (LastName, 0),
        "last" => (LastName, 1),
        "fullname" | "contactname" | "displayname" | "customername" | "clientname"
        | "guestname" | "membername" | "kundenname" | "nomcomplet"
        | "firstnamelastname" | "vornamenachname" | "nombreyapellidos" | "nombrecompleto"
        | "nomecompleto" | "nomeecognome" | "imieinazwisko" | "naam" | "namn" | "navn" | "nimi" | "nafn"
        | "adisoyadi" | "adsoyad" | "nama" | "namalengkap" | "jina" | "jinakamili"
        // A full name as "Last, First" ("Müller, Hans"; see `Plan::name_last_first`).
        | "lastnamefirstname" | "surnamefirstname" | "nachnamevorname" | "nomprenom" => {
            (Name, 0)
        }
        // Beside a first-name column, a bare "Name" is the family name ("Name;Vorname").
        BARE_NAME | "nom" => (Name, 1),
        "email" | "emailaddress" | "email1value" | "emailadresse" | "adresseemail"
        | "adressemail" | "courriel" | "correo" | "correoelectronico" | "emailadres" => (Email, 0),
        "mail" => (Email, 1),
        "smsconsent"
        | "acceptssmsmarketing"
        | "smsoptin"
        | "smsmarketingconsent"
        | "smssubscribed"
        | "smsmarketing"
        | "smsmarketingoptin"
        | "smsmarketingstatus"
        | "smsoptinstatus"
        | "smssubscriptionstatus"
        | "smsconsentstatus"
        | "smspermission"
        | "textoptin"
        | "textconsent"
        | "textingconsent"
        | "acceptstextmessages"
        | "acceptssms"
        | "mobileoptin"
        | "mobilemarketing" => (Consent, 0),
        "consent" | "optin" | "optedin" | "marketingconsent" | "subscribed"
        | "marketingallowed" => (Consent, 1),
        // Opt-outs: CRMs' flags, TCPA do-not-call lists (texts are calls there), Mailchimp's
        // unsubscribed export. Not email-only ones ("Email Opt Out"): those say nothing about
        // texts.
        "smsoptout" | "smsoptedout" | "optout" | "optedout" | "smsunsubscribed"
        | "unsubscribed" | "donottext" | "donotsms" | "nosms" | "hasoptedoutofsms"
        | "textoptout" | "donotcall" | "dnc" | "donotcontact" | "unsubtime"
        | "unsubscribedat" | "unsubscribedate" | "unsubscribeddate" | "optoutdate"
        | "optouttime" | "smsoptoutdate" | "smsoptouttime" => (OptOut, 0),
        // Google Contacts calls them `Labels` now, `Group Membership` before.
        "tags" | "tag" | "labels" | "label" | "groups" | "segments" | "groupmembership" => {
            (Tags, 0)
        }
        "categories" | "category" | "kategorien" | "etiquettes" => (Tags, 1),
        _ => return None,
    })
}

/// How surely a header, in any script, names a row's country ([`country_rank`]).
pub(super) fn country_rank_of(header: &str) -> Option<u8> {
    country_rank(&normalise(header)).or_else(|| {
        let lower = header.trim().to_lowercase();
        [
            "страна",
            "країна",
            "الدولة",
            "البلد",
            "国家",
            "國家",
            "国",
            "地區",
            "地区",
            "χώρα",
            "מדינה",
            "국가",
            "나라",
            "ประเทศ",
            "nchi",
            "bansa",
            "ulke",
            "ülke",
            "negara",
        ]
        .contains(&lower.as_str())
        .then_some(0)
    })
}

/// The rank of a column that may name countries or hold something else.
pub(super) const COUNTRY_MAY_BE_OTHER: u8 = 3;

/// How surely a header names a row's country (lower is surer); `None` if it does not.
pub(super) fn country_rank(key: &str) -> Option<u8> {
    Some(match key {
        "country" | "countrycode" | "countryregion" | "land" | "pays" | "pais"
        // Italian, Finnish, Polish, Dutch and Nordic; Outlook's "Country/Region" in Dutch,
        // Spanish and Italian.
        | "paese" | "nazione" | "maa" | "kraj" | "landcode" | "landskod" | "landekode"
        | "maakoodi" | "kodkraju" | "codicepaese" | "codigopais" | "codigodepais"
        | "landregio" | "paisregion" | "paeseareageografica"
        // Calling codes: Italian, Spanish, Portuguese, Brazilian.
        | "prefisso" | "prefissointernazionale" | "prefijo" | "prefijointernacional"
        | "indicativo" | "indicativopais" | "ddi" => 0,
        "addresscountry"
        | "addresscountrycode"
        | "address1country"
        | "defaultaddresscountrycode"
        | "homecountryregion"
        | "homecountry"
        | "mailingcountry" => 1,
        // Addresses less surely the person's own.
        "billingcountry"
        | "billingcountrycode"
        | "shippingcountry"
        | "shippingcountrycode"
        | "businesscountryregion"
        | "othercountryregion"
        => 2,
        // Mailchimp's audience export ("CC": GB); elsewhere such a column holds no
        // countries, and a cell naming none changes nothing.
        "cc" => COUNTRY_MAY_BE_OTHER,
        _ => return None,
    })
}

/// Whether a header names a column of area codes kept apart from the numbers.
pub(super) fn is_area_code(key: &str) -> bool {
    matches!(
        key,
        "ddd" | "lada" | "areacode" | "codigodearea" | "codigoarea" | "codarea" | "vorwahl"
    )
}

/// What a header suggests: a known alias, else, for the many ways of naming a phone column
/// ("Phone (Home)", "Personal Cell", "Mobil-Nr.", "Tél. portable"), its words.
pub(super) fn guess(header: &str) -> Option<(Target, u8)> {
    // Pipedrive names a person's fields "Person - Name", "Person - Phone - Mobile".
    if let Some(field) = header
        .get(..9)
        .filter(|prefix| prefix.eq_ignore_ascii_case("person - "))
        .map(|_| &header[9..])
    {
        return guess(field);
    }
    if family_name_first(header) {
        return Some((Target::Name, 0));
    }
    if let Some(found) = in_other_scripts(header) {
        return Some(found);
    }
    // Letters `normalise` drops (other scripts) could say anything: "Mobile 紧急联系人" is an
    // emergency contact's mobile. Such headers go by their words, which no list knows.
    let other_script = header
        .chars()
        .any(|c| c.is_alphabetic() && !c.is_ascii() && fold(c).next() == Some(c));
    (!other_script)
        .then(|| alias(&normalise(header)))
        .flatten()
        .or_else(|| consent_by_words(header))
        .or_else(|| phone_by_words(header))
        .or_else(|| email_by_words(header))
        .or_else(|| asked(header))
}

/// Whether the header names a full name written family name first, as the language writes
/// names: Russian "ФИО" (Фамилия Имя Отчество), Ukrainian "ПІБ", Japanese "氏名" or "お名前", Chinese
/// "姓名" or "全名", Korean "성명", Vietnamese "Họ và tên", Hungarian "Név" (see
/// `Plan::name_last_first`).
pub(super) fn family_name_first(header: &str) -> bool {
    let key: String = (crate::latin::folded(header).chars())
        .filter(|c| c.is_alphanumeric())
        .collect();
    matches!(
        key.as_str(),
        "фио"
            | "фамилияимяотчество"
            | "фамилияимя"
            | "фамилияиимя"
            | "піб"
            | "прізвищеімяпобатькові"
            | "氏名"
            | "姓名"
            | "全名"
            | "お名前"
            | "성명"
            | "hovaten"
            | "hoten"
            | "nev"
            | "teljesnev"
    )
}

/// Phone and name columns named in scripts `normalise` drops, or in phrases the word lists
/// do not hold ("Cep Telefonu", "Số điện thoại", "Nomor HP"), matched in the header
/// lower-cased (Latin letters as ASCII). Not someone else's number or a fax.
fn in_other_scripts(header: &str) -> Option<(Target, u8)> {
    const MOBILE: [&str; 22] = [
        "携帯",
        "휴대폰",
        "핸드폰",
        "手機",
        "手机",
        "手提",
        "мобильн",
        "мобільн",
        "κινητό",
        "جوال",
        "موبايل",
        "محمول",
        "נייד",
        "มือถือ",
        "cep tel",
        "di dong",
        "bimbit",
        "nomor hp",
        "no. hp",
        "no hp",
        "cp no",
        "safaricom",
    ];
    const PHONE: [&str; 14] = [
        "電話",
        "电话",
        "전화",
        "연락처",
        "телефон",
        "τηλέφωνο",
        "هاتف",
        "טלפון",
        "โทรศัพท์",
        "dien thoai",
        "namba ya simu",
        "nomor telepon",
        "no. telefon",
        "telepon",
    ];
    const SOMEONE_ELSES_OR_FAX: [&str; 12] = [
        "緊急",
        "紧急",
        "비상",
        "экстренн",
        "طوارئ",
        "חירום",
        "fax",
        "传真",
        "傳真",
        "팩스",
        "факс",
        "ファックス",
    ];
    const NAMES: [(&str, Target); 28] = [
        ("名", Target::FirstName),
        // Chinese forms' "given name" and "family name" (名字 alone is often the whole name,
        // which a given name's column holds unsplit as well).
        ("名字", Target::FirstName),
        ("姓氏", Target::LastName),
        // Japanese: the family name (名字 too, beside 名前: `guess_among`).
        ("苗字", Target::LastName),
        // Bulgarian and Serbian, and Serbian's family name; Arabic's given and family names.
        ("име", Target::FirstName),
        ("презиме", Target::LastName),
        ("الاسم الأول", Target::FirstName),
        ("اسم العائلة", Target::LastName),
        ("名前", Target::FirstName),
        ("이름", Target::FirstName),
        ("имя", Target::FirstName),
        ("ім'я", Target::FirstName),
        ("όνομα", Target::FirstName),
        ("שם פרטי", Target::FirstName),
        ("ชื่อ", Target::FirstName),
        ("姓", Target::LastName),
        ("성", Target::LastName),
        ("фамилия", Target::LastName),
        ("прізвище", Target::LastName),
        ("επώνυμο", Target::LastName),
        ("שם משפחה", Target::LastName),
        ("นามสกุล", Target::LastName),
        ("الاسم", Target::Name),
        ("الاسم الكامل", Target::Name),
        ("שם מלא", Target::Name),
        ("ονοματεπώνυμο", Target::Name),
        ("ชื่อ-นามสกุล", Target::Name),
        ("cep", Target::Phone),
    ];
    let lower = crate::latin::folded(header.trim());
    if let Some((_, target)) = NAMES.iter().find(|(name, _)| *name == lower) {
        return Some((target.clone(), 0));
    }
    if SOMEONE_ELSES_OR_FAX.iter().any(|w| lower.contains(w)) {
        return None;
    }
    if MOBILE.iter().any(|w| lower.contains(w)) {
        return Some((Target::Phone, 1));
    }
    PHONE
        .iter()
        .any(|w| lower.contains(w))
        .then_some((Target::Phone, 3))
}

/// A form's question for a field: "What's your first name?", "And your last name?",
/// "Please enter your email".
fn asked(header: &str) -> Option<(Target, u8)> {
    const FORM_WORDS: [&str; 7] = ["what", "whats", "s", "your", "and", "please", "enter"];
    let words = words(header);
    let field: String = (words.iter())
        .filter(|w| !FORM_WORDS.contains(&w.as_str()))
        .map(String::as_str)
        .collect();
    (field.len() < words.concat().len())
        .then(|| alias(&field))
        .flatten()
}

/// An email column named with its kind: "Email (Home)" (Apple), "Email - Work" (Pipedrive),
/// "E-mail Address (Personal)". A personal one ranks before a work one.
fn email_by_words(header: &str) -> Option<(Target, u8)> {
    let words = words(header);
    let rest = match words.as_slice() {
        [first, rest @ ..] if first == "email" => rest,
        [e, mail, rest @ ..] if e == "e" && mail == "mail" => rest,
        _ => return None,
    };
    let personal = [
        "home", "personal", "private", "primary", "main", "privat", "perso",
    ];
    let other = [
        "work", "business", "office", "other", "value", "address", "1", "2", "3",
    ];
    if !rest
        .iter()
        .all(|w| personal.contains(&w.as_str()) || other.contains(&w.as_str()))
    {
        return None;
    }
    let is_personal = rest.iter().any(|w| personal.contains(&w.as_str()));
    Some((Target::Email, if is_personal { 1 } else { 2 }))
}

/// A phone column named in words: a mobile one ranks just after the known mobile aliases, any
/// other just after "phone". Only headers made of words naming the person's own line count
/// ("Phone (Home)", "Personal Cell", "Mobil-Nr.", "Tél. portable", "Business Phone 2"): not
/// someone else's number ("Emergency Contact Mobile", "Assistant's Phone"), nor something
/// about a phone ("Mobile Carrier", "Phone 1 - Type", "Letzter Telefonkontakt").
fn phone_by_words(header: &str) -> Option<(Target, u8)> {
    let words = words(header);
    let is_mobile =
        |w: &str| MOBILE_WORDS.contains(&w) || MOBILE_STEMS.iter().any(|s| w.starts_with(s));
    let is_phone =
        |w: &str| PHONE_WORDS.contains(&w) || ["telephone", "telefon", "telefoon"].contains(&w);
    // "Cell (No Text)": a number not to text.
    let not_to_text = words.windows(2).any(|pair| {
        ["no", "not", "dont"].contains(&pair[0].as_str())
            && ["text", "texts", "sms", "txt", "texting"].contains(&pair[1].as_str())
    });
    if not_to_text {
        return None;
    }
    // "No" after the line ("Mobile No"), not before it ("No Mobile" is a flag).
    let own_line = words.iter().enumerate().all(|(at, w)| {
        let w = w.as_str();
        is_mobile(w)
            || is_phone(w)
            || OWN_LINE_WORDS.contains(&w)
            || (w == "no" && at > 0)
            // "WhatsApp", which `words` splits ("Celular (WhatsApp)"); not "Mobile App".
            || (w == "app" && at > 0 && words[at - 1] == "whats")
            || w.bytes().all(|b| b.is_ascii_digit())
    });
    if !own_line {
        return None;
    }
    if words.iter().any(|w| is_mobile(w)) {
        return Some((Target::Phone, 1));
    }
    words
        .iter()
        .any(|w| is_phone(w))
        .then_some((Target::Phone, 3))
}

const MOBILE_WORDS: [&str; 20] = [
    "mob",
    "mobiele",
    "telemovel",
    "komorkowy",
    "komorka",
    "matkapuhelin",
    "cellulaire",
    "handphone",
    "mobile",
    "cell",
    "cellphone",
    "cellular",
    "handy",
    "mobil",
    "portable",
    "movil",
    "celular",
    "cellulare",
    "mobiel",
    "gsm",
];
/// Compounds naming a mobile number ("Mobilfunknummer", "Handynr").
const MOBILE_STEMS: [&str; 7] = [
    "mobilfunk",
    "mobilnummer",
    "mobiltelefon",
    "mobilnr",
    "handynummer",
    "handynr",
    "mobielnummer",
];
const PHONE_WORDS: [&str; 18] = [
    "ph",
    "tlf",
    "fone",
    "puhelin",
    "puhelinnumero",
    "telefoonnummer",
    "telefonu",
    "phone",
    "phones",
    "tel",
    "fon",
    "phonenumber",
    "phoneno",
    "telnr",
    "telephonenumber",
    "telefonnummer",
    "telefono",
    "telefone",
];
/// Words that may stand beside "phone" in a column holding the person's own number, in the
/// languages the aliases cover.
const OWN_LINE_WORDS: [&str; 50] = [
    "home",
    "work",
    "business",
    "office",
    "personal",
    "private",
    "own",
    "primary",
    "other",
    "direct",
    "main",
    "sms",
    "text",
    "for",
    "nr",
    "num",
    "number",
    "value",
    "s",
    // A form's question: "What's your mobile number?", "Your phone".
    "what",
    "whats",
    "your",
    "best",
    "fixed",
    "landline",
    // German, French, Spanish, Dutch.
    "privat",
    "geschaftlich",
    "dienstlich",
    "festnetz",
    "nummer",
    "de",
    "du",
    "numero",
    "fixe",
    "domicile",
    "bureau",
    "travail",
    "perso",
    "personnel",
    "professionnel",
    "casa",
    "trabajo",
    "particular",
    "werk",
    "prive",
    "thuis",
    // Italian, Polish, Spanish ("Nº"), and a number for WhatsApp too.
    "di",
    "numer",
    "n",
    "nº",
];
