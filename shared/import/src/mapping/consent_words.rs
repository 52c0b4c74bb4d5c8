//! Consent and opt-out columns found by their words, and the attribute columns that may
//! still say no to texts. Every guess here errs away from messaging: a wrong opt-out column
//! loses a customer's contacts, a wrong consent column texts people who never agreed.

use super::{Target, words};

/// How opt-out columns say it, in English, German, French, Dutch, Italian, Portuguese,
/// Polish and the Nordic languages.
const OPT_OUT_STEMS: [&str; 17] = [
    "optout",
    "optedout",
    "unsub",
    "abgemeldet",
    "desabonne",
    "desinscrit",
    "afgemeld",
    "afmeld",
    "uitgeschreven",
    "werbewiderspruch",
    "disiscri",
    "descadastr",
    "wypisan",
    "rezygnacj",
    "avregistrer",
    "avmeld",
    "afmelding",
];

/// Words that may stand beside "opt out" or "unsubscribed" in a column of people's opt-outs
/// from contact ([`consent_by_words`]).
const OPT_OUT_BESIDE: [&str; 42] = [
    "opt",
    "opted",
    "out",
    "is",
    "has",
    "sms",
    "text",
    "texts",
    "texting",
    "txt",
    "mobile",
    "cell",
    "phone",
    "marketing",
    "global",
    "all",
    "contact",
    "communications",
    "from",
    "of",
    "flag",
    "date",
    "time",
    "timestamp",
    "datetime",
    "at",
    "on",
    "reason",
    "yes",
    "the",
    "le",
    "la",
    "des",
    "de",
    "sms",
    "unsubscribe",
    "unsubscribed",
    "optout",
    "optedout",
    "y",
    "z",
    "popia",
];

/// An opt-out or SMS-consent column named in words, in the many ways exports name them
/// ("Texting Opt Out", "Global Unsubscribe", "DND", "Opt-in SMS", "OK to Text",
/// "SMS-Einwilligung"). An import can never lift an opt-out, so a guess errs away from both:
/// an opt-out counts whatever channel it names but email (and fax, tracking, cookies) alone,
/// and not when the column is about an opt-out rather than saying it (a token, a keyword, a
/// scrub date, quiet hours); consent counts only when it names texts, says nothing negative
/// ("No SMS Marketing", "Consent Withdrawn": neither) and is not about a consent (its time,
/// source, wording). Anything else is an attribute, or mapped by hand.
pub(super) fn consent_by_words(header: &str) -> Option<(Target, u8)> {
    if let Some(found) = in_phrases(header) {
        return Some(found);
    }
    let words = words(header);
    let has = |set: &[&str]| words.iter().any(|w| set.contains(&w.as_str()));
    let joined = words.concat();
    let joined_has = |set: &[&str]| set.iter().any(|w| joined.contains(w));
    // The TCPA's consent is to calls and texts ("TCPA Consent", "Prior Express Consent").
    // Canada's CASL consent is to electronic messages, texts among them.
    // Turkey's IYS registers consent to commercial messages; "ileti" and "mesaj" are messages.
    let texts = has(&[
        "sms", "text", "texts", "texting", "txt", "tcpa", "casl", "iys", "ileti", "mesaj",
        "mensajes",
    ]) || (has(&["express"]) && has(&["consent"]));
    let other_channel = joined_has(&[
        "email",
        "mail",
        "newsletter",
        "whatsapp",
        "push",
        "fax",
        "track",
        "cookie",
        "sell",
        "sale",
        "profiling",
    ]);
    if (other_channel && !texts) || has(&["url", "link", "href", "token", "key"]) {
        return None;
    }
    if asks_for_opt_out(header) {
        return Some((Target::OptOut, 0));
    }
    if is_consent_question(header) {
        return Some((Target::Consent, 2));
    }
    // Columns about an opt-out or a consent rather than saying it.
    let about_a_text = has(&[
        "keyword",
        "instructions",
        "language",
        "wording",
        "disclosure",
        "form",
        "version",
        "template",
    ]);
    let about_a_time = has(&[
        "time",
        "timestamp",
        "datetime",
        "date",
        "at",
        "on",
        "until",
        "before",
        "after",
        "hours",
    ]);
    let about_a_record = has(&[
        "ip", "source", "method", "by", "channel", "type", "campaign", "id", "count", "updated",
        "delivery", "check", "checked", "scrub",
    ]);
    // Counts and codes of texts ("Promo SMS Sent", "SMS Promo Code") hold no answer.
    let measures = has(&[
        "sent",
        "received",
        "delivered",
        "code",
        "codes",
        "credits",
        "clicks",
        "total",
        "balance",
        "opens",
    ]);
    // Texts about an appointment or an order, not marketing: their consent is another.
    let transactional = has(&[
        "reminder",
        "reminders",
        "notification",
        "notifications",
        "alert",
        "alerts",
        "appointment",
        "appointments",
        "order",
        "orders",
        "shipping",
        "account",
        "transactional",
        // "Can Receive SMS": the line's capability.
        "can",
        "capable",
    ]);
    let opt_out_words = joined_has(&OPT_OUT_STEMS)
        // A form's box: "Withdraw my consent to receive text messages".
        || joined_has(&["withdrawmyconsent", "revokemyconsent"]);
    // Whose opt-out: a person's from contact ("SMS Opt Out", "Global Unsubscribe", "Opt-out
    // date"), not from something else ("Directory Opt Out", "Paperless Opt Out"), nor one
    // said of it ("Not Unsubscribed", "Opt-Out Cleared"), a count ("Unsubscribes", "Opt-Out
    // Rate") or its wording or settings ("Opt Out Message", "Unsubscribe Groups").
    let a_persons_opt_out = words.iter().all(|w| {
        let w = w.as_str();
        OPT_OUT_BESIDE.contains(&w)
            || OPT_OUT_STEMS
                .iter()
                .any(|stem| w.starts_with(stem) && !w.ends_with("outs") && !w.ends_with("bes"))
            || (texts && ["message", "messages"].contains(&w))
    }) || joined_has(&["withdrawmyconsent", "revokemyconsent"]);
    // "Do Not Text", "DNC", "DND": short flags; a header that is only "Stop".
    // A raw "No." or "No of" is a count's "number".
    let lower = header.trim_start().to_lowercase();
    let counts = lower.starts_with("no.") || lower.starts_with("no:") || has(&["of"]);
    // "Do Not Text", "Don't Call", "Do Not Disturb": not "(Do Not Modify) Contact" (every
    // Dynamics 365 export) or "Do Not Resuscitate".
    let do_not = ["donot", "dont"].iter().any(|not| {
        ["text", "sms", "txt", "msg", "message", "contact", "call", "phone", "market", "solicit", "disturb", "dial"]
            .iter()
            .any(|verb| joined.contains(&format!("{not}{verb}")))
            // "Tick this box if you do not want to receive SMS".
            || (texts && joined.contains(&format!("{not}want")))
    });
    // "SMS Blocked", "Block SMS", "Blocked": not "Blocked Number", "Card Blocked".
    let only = |set: &[&str]| words.iter().all(|w| set.contains(&w.as_str()));
    let blocked = has(&["blocked", "block"])
        && only(&[
            "blocked", "block", "sms", "text", "texts", "texting", "txt", "is", "contact",
        ]);
    // "SMS Disabled", "Texts Off".
    let switched_off = texts
        && has(&["disabled", "off"])
        && only(&[
            "sms", "text", "texts", "texting", "txt", "disabled", "off", "messages",
        ]);
    let flags = do_not
        || blocked
        || switched_off
        || has(&["dnd", "dnc", "nosms"])
        // "No Contact", "No Marketing", "No Solicitation"; in other languages.
        || ["nocontact", "nomarketing", "nosolicitation", "nocontactar", "geensms", "refussms",
            "keinkontakt", "keinewerbung", "nepascontacter", "nepasappeler", "nietbellen",
            "nietcontacteren", "nepastexter", "baja", "bajasms", "smsbaja", "dadodebaja",
            "noncontattare", "revocaconsenso", "naoenviarsms", "naoperturbe", "niewysylacsms",
            "ejsms", "ingensms", "sparrsms", "smssparr", "smskielto", "suoramarkkinointikielto",
            "ndnc", "dncr", "robinson", "reservert"]
            .contains(&joined.as_str())
        || joined == "stop"
        || (has(&["keine", "kein"]) && texts)
        // Brevo's SMS_BLACKLISTED; a bare "Suppressed" is Klaviyo's email suppression.
        || (texts && joined_has(&["blacklist", "blocklist", "suppress"]))
        // "No Texts", not "Mobile No" (a number's column) nor "No. of SMS" (a count).
        || (words.first().is_some_and(|w| w == "no") && texts && !counts && !measures)
        // "STOP received", "SMS Stop", not "Bus Stop".
        || (has(&["stop", "stopped"])
            && words.iter().all(|w| {
                [
                    "stop", "stopped", "received", "replied", "reply", "requested", "sms", "text",
                    "texts",
                ]
                .contains(&w.as_str())
            }));
    // An opt-out's time or reason is filled for those who opted out; a flag's status, check
    // or hours are filled for everyone.
    let opts_out = (opt_out_words && a_persons_opt_out && !about_a_text && !about_a_record)
        || (flags && !about_a_text && !about_a_time && !about_a_record && !has(&["status"]));
    if opts_out {
        return Some((Target::OptOut, 0));
    }
    let about = about_a_text
        || about_a_time
        || about_a_record
        || measures
        || transactional
        || has(&["reason"]);
    let negated = has(&[
        "no",
        "not",
        "dont",
        "never",
        "withdraw",
        "revoke",
        "decline",
        "refuse",
        "withdrawn",
        "revoked",
        "declined",
        "refused",
        "denied",
        "rejected",
        "disallowed",
        "kein",
        "keine",
        "nicht",
        "non",
        "nao",
        "nie",
        "nee",
        "niet",
        "nej",
        "nei",
        "ei",
        "ej",
        "ingen",
        "ikke",
        "revoca",
    ]);
    let consents = joined_has(&[
        "optin",
        "optedin",
        "consent",
        "einwilligung",
        "accept",
        "acepta",
        "subscri",
        // Italian, Spanish and Portuguese; Dutch; Portuguese; Polish; the Nordic languages.
        "consenso",
        "toestemming",
        "aceita",
        "aceito",
        "accetto",
        "zgoda",
        "samtyck",
        "samtykke",
        "lupa",
        // Spanish, Turkish, Indonesian and Malay, Swahili, Vietnamese.
        "autoriza",
        "izin",
        "izni",
        "onay",
        "durumu",
        "persetujuan",
        "idhini",
        "dongy",
    ]) || has(&[
        "permission",
        "ok",
        "allowed",
        "allow",
        "receive",
        "marketing",
        "promotional",
        "promotions",
        "status",
    ]);
    // A phone's own column ("Cell (text OK)") holds a number, not an answer.
    let names_a_line = has(&["phone", "mobile", "cell", "number"]);
    // "Unsubscribe" holds "subscri": a header about opting out never grants.
    (texts && consents && !about && !negated && !names_a_line && !opt_out_words)
        .then_some((Target::Consent, 2))
}

/// Opt-out and SMS-consent columns named in phrases [`words`] does not split: in scripts
/// without spaces between words ("SMS配信停止", "수신거부"), or in languages whose phrases
/// the word lists do not hold ("No molestar", "Abonelikten çıktı", "Berhenti langganan").
/// Matched in the header lower-cased, Latin letters as ASCII.
fn in_phrases(header: &str) -> Option<(Target, u8)> {
    const OPT_OUTS: [&str; 28] = [
        "desuscri",
        "no molestar",
        "repep",
        "cancelar suscrip",
        "suscripcion cancelada",
        "lista negra",
        "no llame",
        "sms iptal",
        "abonelikten",
        "ileti ret",
        "berhenti langganan",
        "berhenti melanggan",
        "huy dang ky",
        "配信停止",
        "수신거부",
        "取消訂閱",
        "取消订阅",
        "退订",
        "退訂",
        "إلغاء الاشتراك",
        "الغاء الاشتراك",
        "הסרה",
        "отписал",
        "отписк",
        "відписав",
        "відписк",
        "διαγραφή",
        "拒收",
    ];
    // Consent to texts, or to mailings (in an SMS tool's file, its "no" must not be lost).
    const CONSENTS: [&str; 12] = [
        "同意",
        "동의",
        "موافق",
        "אישור",
        "согласие",
        "згода",
        "συναίνεση",
        "ยินยอม",
        "訂閱",
        "订阅",
        "dong y nhan",
        "consentimiento",
    ];
    const NEGATIONS: [&str; 6] = ["不", "미", "非", "غير", "не ", "без"];
    let lower = crate::latin::folded(header.trim());
    if OPT_OUTS.iter().any(|p| lower.contains(p)) {
        return Some((Target::OptOut, 0));
    }
    (CONSENTS.iter().any(|p| lower.contains(p)) && !NEGATIONS.iter().any(|n| lower.contains(n)))
        .then_some((Target::Consent, 2))
}

/// Whether a header is a form's question asking whether to stop texts ("Would you like to
/// unsubscribe from texts?", "Should we stop texting you?", "Can we NOT text you?", "Did you
/// opt out of SMS?"): its yes is an opt-out.
fn asks_for_opt_out(header: &str) -> bool {
    let first_sentence = header
        .split_inclusive(['.', '?', '!'])
        .next()
        .unwrap_or(header);
    if !first_sentence.trim_end().ends_with('?') {
        return false;
    }
    let words = words(first_sentence);
    let has = |set: &[&str]| words.iter().any(|w| set.contains(&w.as_str()));
    let joined = words.concat();
    let texts = has(&["sms", "text", "texts", "texting", "txt", "messages"]);
    let stops = has(&["stop", "not", "dont", "never", "no", "unsubscribe"])
        || OPT_OUT_STEMS.iter().any(|stem| joined.contains(stem));
    texts && stops
}

/// Whether an attribute column (neither the consent nor an opt-out column) may say its row's
/// person wants no texts: a second consent column ("SMS Status" beside "SMS Opt-In"), a
/// subscription or consent status naming no channel ("Subscription Status", "Consent
/// Status", "Status"), a texts column no list knows ("Text Messages"). `Some(true)` when it
/// names texts, so that a plain "no" in it counts too; `None` for other columns, and for
/// those naming another channel only ("Email Status", "Newsletter").
pub(crate) fn may_refuse_texts(header: &str) -> Option<bool> {
    let words = words(header);
    let has = |set: &[&str]| words.iter().any(|w| set.contains(&w.as_str()));
    let joined = words.concat();
    let joined_has = |set: &[&str]| set.iter().any(|w| joined.contains(w));
    let texts = has(&["sms", "text", "texts", "texting", "txt"]);
    if !texts && joined_has(&["email", "mail", "newsletter", "fax", "push", "whatsapp"]) {
        return None;
    }
    // Not a status of anything ("Account Status", "Order Status"): of a subscription.
    let about_consent = has(&[
        "subscription",
        "subscribed",
        "subscriber",
        "consent",
        "permission",
        "marketing",
        "iscrizione",
        "suscripcion",
        "inscricao",
    ]) || joined_has(&[
        "unsub",
        "optout",
        "optin",
        "blacklist",
        "blocklist",
        "suppress",
    ]);
    // A texts column counting or dating something ("SMS Sent", "Texts Received", "Last
    // Text Date") holds no answer: its 0 or "no" is not one.
    // Nor one holding a message or notes about it ("SMS Template", "Text Notes").
    let content = has(&[
        "template", "body", "content", "language", "notes", "note", "comment", "comments", "reply",
        "response", "keyword",
    ]);
    if content {
        return None;
    }
    let measures = has(&[
        "count",
        "sent",
        "received",
        "delivered",
        "credits",
        "clicks",
        "total",
        "number",
        "num",
        "last",
        "first",
        "date",
        "time",
        "at",
        "id",
        "rate",
        "balance",
        "cost",
        "segments",
        "length",
        "replies",
        "opens",
    ]);
    (texts || about_consent).then_some(texts && !measures)
}

/// Whether a header is the question or statement a form asked people to agree to ("I agree
/// to receive ... text messages ... Reply STOP to opt out", "Can we text you about offers?
/// Reply STOP anytime to unsubscribe"): its answers say yes or no to marketing texts. Only
/// its first sentence is the question: the disclosure after it ("not a condition of
/// purchase", "Reply STOP to opt out") makes it no opt-out column. A question asking for an
/// opt-out ("Tick this box if you do not want texts", "Withdraw my consent") is none, nor is
/// one about reminders, another channel, or several ("Email, text or call?").
pub(crate) fn is_consent_question(header: &str) -> bool {
    let first_sentence = header
        .split_inclusive(['.', '?', '!'])
        .next()
        .unwrap_or(header);
    // A short header is a question only when it says so ("Can we text you?", "OK to text?").
    let least = if first_sentence.trim_end().ends_with('?') {
        3
    } else {
        6
    };
    let words = words(first_sentence);
    words.len() >= least && asks_for_consent(&words)
}

fn asks_for_consent(words: &[String]) -> bool {
    let has = |set: &[&str]| words.iter().any(|w| set.contains(&w.as_str()));
    let texts = has(&["sms", "text", "texts", "texting", "txt"]);
    let negated = has(&[
        "not",
        "dont",
        "don",
        "never",
        "no",
        "nicht",
        "pas",
        "withdraw",
        "withdrawn",
        "revoke",
        "revoked",
        "decline",
        "declined",
        "refuse",
        "refused",
        "stop",
        "unsubscribe",
    ]);
    let elsewhere = has(&[
        "email",
        "mail",
        "call",
        "calls",
        "phone",
        "voicemail",
        "whatsapp",
        "post",
        "reminder",
        "reminders",
        "notification",
        "notifications",
        "appointment",
        "appointments",
        "order",
        "orders",
        "delivery",
        "transactional",
        "leave",
    ]);
    let phrase = |p: &[&str]| {
        words
            .windows(p.len())
            .any(|w| w.iter().zip(p).all(|(a, b)| a == b))
    };
    let asks = has(&["agree", "consent", "accept", "subscribe"])
        || [
            &["can", "we"][..],
            &["may", "we"],
            &["would", "you", "like"],
            &["do", "you", "want"],
            &["want", "to", "receive"],
            &["sign", "me", "up"],
            &["opt", "in"],
            &["ok", "to", "text"],
        ]
        .iter()
        .any(|p| phrase(p));
    texts && asks && !negated && !elsewhere
}
