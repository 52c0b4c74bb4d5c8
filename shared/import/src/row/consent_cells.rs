//! What a consent or an opt-out cell says, as people and tools write it.

use smscrm_domain::ConsentStatus;
use smscrm_domain::contact::{ConsentInput, MAX_SOURCE_CHARS};

/// Whether an opt-out column's header is also a common noun: a bare "Stop" is a bus stop's or
/// a route's as often as a STOP received.
pub(super) fn names_something_else_too(header: &str) -> bool {
    word_key(header) == "stop"
}

/// Whether a cell holds what an opt-out flag does and nothing a stop's name or number could:
/// a yes or a no in words (not `1`, `0`, `x` or another single letter: stop numbers and
/// names), a tick or a cross, an opt-out word alone ("STOP", "Opted out", "Unsubscribed"),
/// a date or a time.
pub(super) fn reads_as_flag(value: &str) -> bool {
    let key = word_key(value);
    (key.chars().count() > 1
        && !key.bytes().all(|b| b.is_ascii_digit())
        && yes_or_no(&key).is_some())
        || TICKS_AND_CROSSES.contains(&value)
        || FLAG_WORDS.contains(&key.as_str())
        || is_a_date_or_time(value)
}

/// What a STOP column's cells say besides yes and no, as `word_key` writes them.
const FLAG_WORDS: [&str; 20] = [
    "",
    "stop",
    "stopped",
    "stopreceived",
    "repliedstop",
    "optedout",
    "optout",
    "unsubscribed",
    "unsubscribe",
    "blocked",
    "revoked",
    "none",
    "unchecked",
    "checked",
    "na",
    "null",
    "unknown",
    "optin",
    "optedin",
    "subscribed",
];

/// `2024-03-01`, `03/01/2024 14:05`, `9:30 AM`, `1 Mar 2024`, `Fri, 01 Mar 2024 10:00:00 GMT`,
/// `2024-03-01T14:05:00Z`: a date or a time, with nothing but days, months, years, weekdays
/// and clock words beside it.
fn is_a_date_or_time(value: &str) -> bool {
    let (mut clock, mut month, mut year) = (false, false, false);
    let every_part_fits = value
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|part| !part.is_empty())
        .flat_map(|part| match part.split_once(['T', 't']) {
            // ISO 8601's date and time glued together.
            Some((date, time)) if is_numeric_date(date) => vec![date, time],
            _ => vec![part],
        })
        .all(|part| {
            let lower = part.to_lowercase();
            let lower = lower.trim_end_matches('.');
            if is_numeric_date(lower) || is_clock(lower) {
                clock = true;
            } else if MONTHS
                .iter()
                .any(|m| lower == *m || (m.len() > 3 && lower == &m[..3]))
            {
                month = true;
            } else if lower.len() == 4 && lower.bytes().all(|b| b.is_ascii_digit()) {
                year = true;
            } else {
                let day = lower.trim_end_matches(['s', 't', 'n', 'd', 'r', 'h']);
                let is_day =
                    !day.is_empty() && day.len() <= 2 && day.bytes().all(|b| b.is_ascii_digit());
                let beside = ["am", "pm", "a.m", "p.m", "z", "utc", "gmt"].contains(&lower)
                    || WEEKDAYS.iter().any(|d| lower == *d || lower == &d[..3]);
                return is_day || beside;
            }
            true
        });
    every_part_fits && (clock || (month && year))
}

const MONTHS: [&str; 13] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "sept",
    "october",
    "november",
    "december",
];

const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// `2024-03-01`, `03/01/2024`, `1.3.24`: three numbers, the day's and the month's short.
fn is_numeric_date(part: &str) -> bool {
    let numbers: Vec<&str> = part.split(['-', '/', '.']).collect();
    numbers.len() == 3
        && numbers
            .iter()
            .all(|n| (1..=4).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
        && numbers.iter().filter(|n| n.len() <= 2).count() >= 2
}

/// `14:05`, `9:30`, `10:00:00`, `10:00:00.123z`, `14:05+01:00`.
fn is_clock(part: &str) -> bool {
    let time = part
        .split(['+', '-', 'z', 'Z'])
        .next()
        .unwrap_or(part)
        .split('.')
        .next()
        .unwrap_or(part);
    let fields: Vec<&str> = time.split(':').collect();
    (2..=3).contains(&fields.len())
        && fields
            .iter()
            .all(|f| (1..=2).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()))
}

/// The marks spreadsheets and forms fill boxes with.
const TICKS_AND_CROSSES: [&str; 9] = [
    "\u{2713}", "\u{2714}", "\u{2611}", "\u{2612}", "\u{2705}", "\u{2717}", "\u{2718}", "\u{274c}",
    "\u{2610}",
];

/// Whether an opt-out cell says the person opted out: yes-words do, no-words, placeholders
/// and an empty cell do not, and anything else does (a time, a reason, "Yes - replied
/// STOP"): an opt-out column is read erring towards not messaging.
pub(super) fn opt_out_cell(value: &str) -> bool {
    if value.is_empty() {
        return false;
    }
    // A tick or a ticked box is a yes; a cross (beside ticks) and an empty box a no.
    match value {
        "\u{2713}" | "\u{2714}" | "\u{2611}" | "\u{2612}" | "\u{2705}" => return true,
        "\u{2717}" | "\u{2718}" | "\u{274c}" | "\u{2610}" => return false,
        _ => {}
    }
    let key = word_key(value);
    if let Some(yes) = yes_or_no(&key) {
        return yes;
    }
    !matches!(
        key.as_str(),
        "" | "none"
            | "unchecked"
            | "na"
            | "null"
            | "nil"
            | "unknown"
            | "subscribed"
            | "optedin"
            | "optin"
            | "active"
            | "notoptedout"
            | "off"
            | "disabled"
            | "inactive"
            | "notset"
            | "clean"
            // Subscribed, active: Dutch, Italian, Spanish, Portuguese.
            | "ingeschreven"
            | "aangemeld"
            | "actief"
            | "iscritto"
            | "attivo"
            | "suscrito"
            | "activo"
            | "inscrito"
            | "ativo"
    )
}

/// What a cell saying the person opted out holds ("Unsubscribed", "No - opted out", "SMS
/// blocked", "Stopped", "Do not text"), as `word_key` writes them.
const OPT_OUT_WORDS: [&str; 22] = [
    "unsub",
    "optedout",
    "optout",
    "revoked",
    "blocked",
    "blacklist",
    "blocklist",
    "suppress",
    "stopped",
    "abgemeldet",
    "donot",
    // Dutch, French, Italian, Portuguese, Polish, Swedish, Danish and Norwegian.
    "afgemeld",
    "uitgeschreven",
    "désabonné",
    "desabonne",
    "désinscrit",
    "disiscritt",
    "descadastrad",
    "wypisan",
    "avregistrerad",
    "afmeldt",
    "avmeldt",
];

/// Whether a cell of a column that may refuse texts does: "Unsubscribed", "Opted out",
/// "SMS blocked", "Stopped" (not "Not unsubscribed"), and where the column names texts, "No",
/// "Declined", "Never subscribed".
pub(super) fn says_no_to_texts(value: &str, names_texts: bool) -> bool {
    let words = value
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .count();
    // An answer, not a sentence ("Reply STOP to unsubscribe", "No answer, call back").
    if words == 0 || words > 3 {
        return false;
    }
    let key = word_key(value);
    // "Do Not Email", "Unsubscribed (email)": another channel's.
    let texts = ["sms", "text"].iter().any(|w| key.contains(w));
    if !texts
        && ["email", "mail", "call", "whatsapp", "post"]
            .iter()
            .any(|w| key.contains(w))
    {
        return false;
    }
    let negated = matches!(first_word(value).as_str(), "not" | "never");
    let opts_out = OPT_OUT_WORDS.iter().any(|w| key.contains(w));
    if opts_out {
        return !negated;
    }
    // A plain no, in words ("0" may as well be a count).
    names_texts
        && key != "0"
        && (yes_or_no(&key) == Some(false)
            || matches!(
                key.as_str(),
                "declined"
                    | "denied"
                    | "refused"
                    | "nothanks"
                    | "neversubscribed"
                    | "notsubscribed"
                    | "nonsubscribed"
                    | "notoptedin"
            ))
}

/// A form's answer in words: "I agree", "Yes please", "Yes - SMS & Email", "I do not
/// agree"; a sentence ("I agree to receive text messages from ...") only where the column
/// asks the question (a form's check box holds its label when ticked): elsewhere it may be
/// the wording people were shown, which says nothing of whether they agreed.
fn form_answer(value: &str, first_word: &str, header: &str) -> Option<ConsentStatus> {
    if !matches!(first_word, "yes" | "agreed" | "agree" | "i") {
        return None;
    }
    let words: Vec<String> = value
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '\u{2019}')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.len() > 4 && !crate::mapping::is_consent_question(header) {
        return None;
    }
    // "Yes - Email only" answers for another channel.
    let any = |set: &[&str]| words.iter().any(|w| set.contains(&w.as_str()));
    if any(&[
        "email", "mail", "call", "calls", "phone", "whatsapp", "post",
    ]) && !any(&["sms", "text", "texts", "texting"])
    {
        return None;
    }
    let opening = &words[..words.len().min(4)];
    let has = |set: &[&str]| opening.iter().any(|w| set.contains(&w.as_str()));
    let negated = has(&[
        "not",
        "don't",
        "don\u{2019}t",
        "dont",
        "never",
        "no",
        "nicht",
    ]);
    let agrees =
        first_word != "i" || has(&["agree", "consent", "accept", "want", "would", "authorize"]);
    match (agrees, negated) {
        (true, false) => Some(ConsentStatus::Explicit),
        (_, true) if first_word == "i" => Some(ConsentStatus::Unknown),
        _ => None,
    }
}

fn not_understood(value: &str) -> String {
    format!(
        "consent `{value}` is not understood: use yes or no (or unsubscribed to record an \
         opt-out; explicit, implied, revoked and unknown as this product exports them)"
    )
}

/// A cell's first word, lowercased: "No - unsubscribed" -> `no`.
fn first_word(value: &str) -> String {
    value
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())
        .map(str::to_lowercase)
        .unwrap_or_default()
}

/// A cell's letters and digits, lowercased: `Opted-Out` -> `optedout`.
pub(super) fn word_key(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Yes and no as spreadsheets and people write them, in English, German, French, Spanish,
/// Italian, Portuguese, Dutch, Polish and the Nordic languages, with what Excel writes for
/// TRUE and FALSE in each (WAHR and FALSCH in German, VRAI and FAUX in French, ...).
fn yes_or_no(key: &str) -> Option<bool> {
    match key {
        "yes" | "y" | "true" | "1" | "x" | "ja" | "j" | "wahr" | "oui" | "vrai" | "si" | "sí"
        | "sì" | "sim" | "tak" | "kyllä" | "kylla" | "verdadero" | "vero" | "verdadeiro"
        | "waar" | "prawda" | "sant" | "sand" | "sann" | "tosi"
        // Japanese, Korean, Chinese, Arabic, Hebrew, Russian, Ukrainian, Greek, Turkish,
        // Vietnamese, Indonesian and Malay, Filipino, Swahili, Thai.
        | "はい" | "예" | "네" | "是" | "نعم" | "כן" | "да" | "так" | "ναι" | "evet" | "có"
        // (Thai without its tone mark: `word_key` keeps letters only.)
        | "ya" | "oo" | "ndiyo" | "ใช่" | "ใช" => Some(true),
        "no" | "n" | "false" | "0" | "nein" | "falsch" | "non" | "faux" | "não" | "nao" | "nee"
        | "nie" | "nej" | "nei" | "ei" | "falso" | "onwaar" | "fałsz" | "falsz" | "falskt"
        | "falsk" | "usann" | "epätosi" | "epatosi"
        | "いいえ" | "아니오" | "아니요" | "否" | "لا" | "לא" | "нет" | "ні" | "όχι" | "hayır"
        | "hayir" | "không" | "khong" | "tidak" | "hindi" | "hapana" | "ไม่" | "ไม" => Some(false),
        _ => None,
    }
}

/// A consent cell. Granting words give explicit consent sourced to the column ("implied",
/// as this product's own contact status reads, gives implied consent); a plain "no" is
/// `Unknown`: no consent (a new contact's stays unknown, an existing contact's consent is
/// withdrawn), but not an opt-out, since not having ticked a box is not one; opt-out words
/// record a revocation; a grant's source names the import's declared source too, when it has
/// one; "unknown", "none" and what mailing tools write for a subscription that is not settled
/// (Mailchimp's "pending", an unconfirmed opt-in, and "cleaned", a bounced address) say
/// nothing (consent stays as it is, and the import's declaration does not apply). How each
/// meets a contact's consent is `ContactMerge`'s rule. Anything else makes the row invalid
/// rather than guess about consent.
pub(super) fn consent_cell(
    value: &str,
    header: &str,
    declared: Option<&str>,
) -> Result<Option<ConsentInput>, String> {
    let key = word_key(value);
    // The first word, for answers put in a few words: "No - unsubscribed", "Not opted in".
    let first_word = first_word(value);
    let negated = matches!(first_word.as_str(), "not" | "never");
    // A sentence (the consent wording, "Reply STOP to opt out") is not an answer.
    let short = value.split_whitespace().count() <= 3;
    let says_opt_out = OPT_OUT_WORDS.iter().any(|w| key.contains(w));
    // Check marks have no letters to read.
    match value.trim() {
        // Japanese forms' circle is a yes, their cross a no.
        "\u{2713}" | "\u{2714}" | "\u{2611}" | "\u{2705}" | "\u{25cb}" | "\u{3007}" => {
            return consent_cell("yes", header, declared);
        }
        "\u{2717}" | "\u{2718}" | "\u{2610}" | "\u{274c}" | "\u{00d7}" => {
            return consent_cell("no", header, declared);
        }
        _ => {}
    }
    let status = match key.as_str() {
        // Says nothing either way: leaves consent as it is (bounced, cleaned: an email's).
        "" | "na" | "null" | "none" | "unknown" | "pending" | "cleaned" | "bounced" => {
            return Ok(None);
        }
        // A message's delivery, in a status column: nothing about consent.
        "delivered" | "undelivered" | "failed" | "sent" | "queued" | "sending" => return Ok(None),
        yes if yes_or_no(yes) == Some(true) => ConsentStatus::Explicit,
        no if yes_or_no(no) == Some(false) => ConsentStatus::Unknown,
        "optedin" | "optin" | "subscribed" | "granted" | "agreed" | "consented" | "explicit"
        | "confirmed" | "doubleoptin" | "singleoptin" | "checked" | "on" | "ok" | "okay"
        | "iagree" | "agree" | "accepted" | "iaccept" | "iconsent" => ConsentStatus::Explicit,
        // "I agree" in Spanish, Italian, Dutch and Portuguese; Australia's and Canada's
        // express consent.
        "acepto" | "accetto" | "acconsento" | "akkoord" | "aceito" | "express" | "exprès"
        | "expres" => ConsentStatus::Explicit,
        // Airtable's and forms' empty boxes.
        "unchecked" | "off" => ConsentStatus::Unknown,
        // Constant Contact's "Implicit" permission; Australia's inferred and Canada's tacit
        // consent.
        "implied" | "implicit" | "inferred" | "tacite" => ConsentStatus::Implied,
        "unsubscribed" | "optedout" | "optout" | "revoked" | "stop" | "stopped" | "withdrawn" => {
            ConsentStatus::Revoked
        }
        // Spanish and Finnish: unsubscribed, cancelled; Chinese and Japanese: unsubscribed.
        "baja" | "dadodebaja" | "peruttu" | "退订" | "退訂" | "配信停止" | "取消訂閱" => {
            ConsentStatus::Revoked
        }
        // "I do not agree", "refused", "without consent" in Japanese, Chinese, Korean, Arabic
        // and Turkish (RET: refused, Turkey's IYS).
        "同意しない" | "不同意" | "미동의" | "거부" | "拒否" | "拒绝" | "拒絕" | "غيرموافق"
        | "onaysız" | "onaysiz" | "ret" => ConsentStatus::Unknown,
        // Turkey's IYS: ONAY, consent given.
        "onay" => ConsentStatus::Explicit,
        // An opt-out however it is put ("No - unsubscribed", "Unsubscribed (STOP)").
        _ if short && says_opt_out && !negated => ConsentStatus::Revoked,
        // "Not opted out", "never unsubscribed": no opt-out, but no consent either.
        _ if short && says_opt_out => return Ok(None),
        _ if let Some(status) = form_answer(value, &first_word, header) => status,
        // Klaviyo's NEVER_SUBSCRIBED, "not opted in", "declined".
        _ if short
            && matches!(
                first_word.as_str(),
                "no" | "not"
                    | "never"
                    | "non"
                    | "declined"
                    | "denied"
                    | "refused"
                    | "nicht"
                    | "kein"
                    | "keine"
                    // "Non acconsento", "Niet akkoord", "Não aceito", "Nie wyrażam zgody",
                    // "Nej tack", "En hyväksy".
                    | "niet"
                    | "nee"
                    | "não"
                    | "nao"
                    | "nie"
                    | "nej"
                    | "nei"
                    | "ei"
                    | "neversubscribed"
                    | "nonsubscribed"
                    | "notsubscribed"
            ) =>
        {
            ConsentStatus::Unknown
        }
        _ => return Err(not_understood(value)),
    };
    // A grant keeps where the import says consent was given, as well as the column.
    let source = match declared {
        Some(declared) if status.allows_marketing() => {
            format!("{declared} (import column {header})")
        }
        _ => format!("import column {header}"),
    };
    let source: String = source.chars().take(MAX_SOURCE_CHARS).collect();
    Ok(Some(ConsentInput {
        status,
        source: Some(source),
    }))
}
