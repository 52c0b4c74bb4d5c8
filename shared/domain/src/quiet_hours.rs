//! Quiet hours: campaign messages reach a recipient only inside a daily window of the
//! recipient's local time, whose zone is read from the phone number.
//!
//! The zone lookup runs once per recipient of a fan-out, so it reads the calling code and area
//! code straight from the E.164 digits and indexes tables built at compile time, never the
//! `phonenumber` crate's regex parser (~7 µs a number). The tables' data is checked against
//! that crate's metadata by the tests.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::{GapInfo, Tz};
use serde::{Deserialize, Serialize};

use crate::{PhoneE164, ValidationError};

/// The daily window in which messages may be delivered, in the recipient's local time:
/// [opens, closes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "HoursOnTheWire", into = "HoursOnTheWire")]
pub struct QuietHours {
    pub opens: NaiveTime,
    pub closes: NaiveTime,
}

impl Default for QuietHours {
    fn default() -> Self {
        const OPENS: NaiveTime = hour(8);
        const CLOSES: NaiveTime = hour(21);
        Self {
            opens: OPENS,
            closes: CLOSES,
        }
    }
}

/// Only called in `const` items, so a bad hour fails the build rather than a request.
const fn hour(h: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(h, 0, 0) {
        Some(t) => t,
        None => panic!("not an hour of the day"),
    }
}

impl QuietHours {
    /// Windows never wrap past midnight: a window across midnight would make "today's" window
    /// ambiguous, and no tenant has asked for night-time sending.
    pub fn new(opens: NaiveTime, closes: NaiveTime) -> Result<Self, ValidationError> {
        let whole_minute = |t: NaiveTime| t.second() == 0 && t.nanosecond() == 0;
        if !whole_minute(opens) || !whole_minute(closes) {
            return Err(ValidationError::new(
                "quiet_hours",
                "opening and closing times must be whole minutes such as 08:00",
            ));
        }
        if opens >= closes {
            return Err(ValidationError::new(
                "quiet_hours",
                format!(
                    "opens at {} but closes at {}: it must open before it closes on the same day",
                    opens.format("%H:%M"),
                    closes.format("%H:%M")
                ),
            ));
        }
        Ok(Self { opens, closes })
    }

    /// The window on a local calendar day, as UTC instants. `opens == closes` when a DST gap
    /// swallows the whole window.
    fn on(self, day: NaiveDate, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            instant(zone, day.and_time(self.opens)),
            instant(zone, day.and_time(self.closes)),
        )
    }
}

/// Stored and sent as `{"opens": "08:00", "closes": "21:00"}`, validated on the way in.
#[derive(Serialize, Deserialize)]
struct HoursOnTheWire {
    #[serde(with = "hh_mm")]
    opens: NaiveTime,
    #[serde(with = "hh_mm")]
    closes: NaiveTime,
}

impl TryFrom<HoursOnTheWire> for QuietHours {
    type Error = ValidationError;

    fn try_from(wire: HoursOnTheWire) -> Result<Self, Self::Error> {
        Self::new(wire.opens, wire.closes)
    }
}

impl From<QuietHours> for HoursOnTheWire {
    fn from(hours: QuietHours) -> Self {
        Self {
            opens: hours.opens,
            closes: hours.closes,
        }
    }
}

mod hh_mm {
    use chrono::NaiveTime;
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    const FORMAT: &str = "%H:%M";

    pub fn serialize<S: Serializer>(time: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&time.format(FORMAT))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let raw = String::deserialize(d)?;
        NaiveTime::parse_from_str(&raw, FORMAT)
            .map_err(|_| D::Error::custom(format!("`{raw}` is not a time such as 08:00")))
    }
}

/// Whether a message may go now, and until when it is worth delivering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Inside the window: send now, deliver before `send_before` (the window's close today).
    Open { send_before: DateTime<Utc> },
    /// Outside: hold until `opens_at` (the next opening), then deliver before `send_before`
    /// (that day's close).
    Closed {
        opens_at: DateTime<Utc>,
        send_before: DateTime<Utc>,
    },
}

/// The window that `now` is in, or the next one. Days are local calendar days, so the window
/// keeps its local times across DST changes (23- and 25-hour days).
pub fn window(now: DateTime<Utc>, zone: Tz, hours: QuietHours) -> Window {
    let (opens_at, send_before) = next_window(now, zone, hours)
        // Only hours built by hand with `opens >= closes` never open; holding their messages
        // forever would lose them, so they get the default window instead.
        .or_else(|| next_window(now, zone, QuietHours::default()))
        // Only past chrono's last date (year 262143).
        .unwrap_or((now, now));
    if now >= opens_at {
        Window::Open { send_before }
    } else {
        Window::Closed {
            opens_at,
            send_before,
        }
    }
}

/// Today's window if it has not closed yet, else the next day's that is not empty. Today's may
/// have closed and a DST gap may swallow the next day's (Samoa skipped a whole day in 2011),
/// but not two days running: four days leave a margin.
fn next_window(
    now: DateTime<Utc>,
    zone: Tz,
    hours: QuietHours,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    now.with_timezone(&zone)
        .date_naive()
        .iter_days()
        .take(4)
        .map(|day| hours.on(day, zone))
        .find(|&(opens, closes)| opens < closes && now < closes)
}

/// A local time as an instant: an ambiguous time (clocks going back) is its earliest instant;
/// a time in a gap (clocks going forward) is the first instant after the gap, so a window
/// opening at 02:30 on a spring-forward night opens at 03:00 rather than being skipped.
fn instant(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    zone.from_local_datetime(&local)
        .earliest()
        .or_else(|| GapInfo::new(&local, &zone)?.end)
        .map_or_else(
            // A gap has no end only past the last transition chrono-tz knows, where no gap is.
            || local.and_utc(),
            |t| t.with_timezone(&Utc),
        )
}

/// The recipient's zone from the number, else `fallback` (the tenant's zone).
pub fn zone_for(phone: &PhoneE164, fallback: Tz) -> Tz {
    let e164 = phone.as_str();
    let digits = e164.strip_prefix('+').unwrap_or(e164).as_bytes();
    by_calling_code(digits, fallback)
}

/// Calling codes are prefix-free (ITU E.164), so the first match is the number's country.
fn by_calling_code(d: &[u8], fallback: Tz) -> Tz {
    match d {
        [b'1', rest @ ..] => nanp(rest, fallback),
        [b'7', rest @ ..] => russia_or_kazakhstan(rest, fallback),
        [b'3', b'4', rest @ ..] => spain(rest),
        [b'5', b'2', rest @ ..] => mexico(rest),
        [b'5', b'5', rest @ ..] => lookup(&BRAZIL, rest, 2).unwrap_or(Tz::America__Sao_Paulo),
        [b'6', b'1', rest @ ..] => australia(rest, fallback),
        [b'6', b'2', rest @ ..] => indonesia(rest, fallback),
        [b'2', b'6', b'2', rest @ ..] => reunion_or_mayotte(rest),
        [b'3', b'5', b'1', rest @ ..] => portugal(rest),
        _ => (1..=3)
            .find_map(|len| lookup(&CALLING_CODES, d, len))
            .unwrap_or(fallback),
    }
}

/// The table entry for the number formed by the first `len` digits of `d`.
fn lookup<const N: usize>(table: &[Option<Tz>; N], d: &[u8], len: usize) -> Option<Tz> {
    let digits = d.get(..len)?;
    let mut n = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + usize::from(b - b'0');
    }
    *table.get(n)?
}

/// For a number that names a country but no place in it (mobiles, toll-free): the tenant's own
/// zone when the tenant is in that country, as its customers are most likely near it, else the
/// country's most populous zone.
fn tenant_if(tenant_in_country: bool, fallback: Tz, primary: Tz) -> Tz {
    if tenant_in_country { fallback } else { primary }
}

/// US, Canada and the Caribbean and Pacific members of the North American Numbering Plan.
/// Area codes not in the table are non-geographic (toll-free 8YY, 5XX, 600, 900) or newer than
/// the table.
fn nanp(rest: &[u8], fallback: Tz) -> Tz {
    lookup(&NANP, rest, 3).unwrap_or_else(|| {
        let in_nanp = [NANP_US, NANP_CANADA, NANP_OTHER]
            .iter()
            .any(|groups| groups.iter().any(|(zone, _)| *zone == fallback))
            || OTHER_US_CA_ZONES.contains(&fallback);
        tenant_if(in_nanp, fallback, Tz::America__New_York)
    })
}

/// Geographic numbers start with the area code 2 (NSW, ACT), 3 (VIC, TAS), 7 (QLD) or 8 (WA,
/// SA, NT, where the subscriber number's first digits tell the state); 4 (mobiles) and the rest
/// are not geographic.
fn australia(rest: &[u8], fallback: Tz) -> Tz {
    match rest {
        [b'2', ..] => Tz::Australia__Sydney,
        [b'3', ..] => Tz::Australia__Melbourne,
        // Queensland keeps standard time all year, unlike Sydney.
        [b'7', ..] => Tz::Australia__Brisbane,
        [b'8', b'9', b'1', b'6', b'2', ..] => Tz::Indian__Cocos,
        [b'8', b'9', b'1', b'6', b'4', ..] => Tz::Indian__Christmas,
        [b'8', b'6' | b'9', ..] => Tz::Australia__Perth,
        [b'8', b'8', b'9', ..] => Tz::Australia__Darwin,
        [b'8', b'7' | b'8', ..] => Tz::Australia__Adelaide,
        _ => {
            let australian = fallback.name().starts_with("Australia/");
            tenant_if(australian, fallback, Tz::Australia__Sydney)
        }
    }
}

/// +7 is Russia and Kazakhstan (6xx, 7xx: one zone since 2024). Russian 9xx numbers are
/// mobiles and 800 is toll-free; the rest start with a geographic ABC code.
fn russia_or_kazakhstan(rest: &[u8], fallback: Tz) -> Tz {
    match rest {
        [b'6' | b'7', ..] => Tz::Asia__Almaty,
        [b'8', b'0', b'0', ..] | [b'9', ..] => {
            let russian = RUSSIA_GROUPS.iter().any(|(zone, _)| *zone == fallback)
                || OTHER_RUSSIAN_ZONES.contains(&fallback);
            tenant_if(russian, fallback, Tz::Europe__Moscow)
        }
        _ => lookup(&RUSSIA, rest, 3).unwrap_or(Tz::Europe__Moscow),
    }
}

/// Mobiles (8xx) are not geographic; fixed lines are by island: Papua and Maluku (9xx) are
/// eastern time, Sulawesi (4xx), Bali and Nusa Tenggara (36x-38x) and most of Kalimantan's
/// east and south (51x, 54x, 55x) central time, the rest (Java, Sumatra) western time.
fn indonesia(rest: &[u8], fallback: Tz) -> Tz {
    match rest {
        [b'8', ..] => {
            let indonesian = [
                Tz::Asia__Jakarta,
                Tz::Asia__Pontianak,
                Tz::Asia__Makassar,
                Tz::Asia__Jayapura,
            ]
            .contains(&fallback);
            tenant_if(indonesian, fallback, Tz::Asia__Jakarta)
        }
        [b'9', ..] => Tz::Asia__Jayapura,
        [b'4', ..] | [b'3', b'6'..=b'8', ..] | [b'5', b'1' | b'4' | b'5', ..] => Tz::Asia__Makassar,
        _ => Tz::Asia__Jakarta,
    }
}

/// Mexico's area codes are 2 digits (55, 56, 33, 81: all central time) or 3. Numbers written
/// before 2019 may still carry the mobile `1` after +52.
fn mexico(rest: &[u8]) -> Tz {
    let rest = match rest {
        [b'1', tail @ ..] if tail.len() == 10 => tail,
        _ => rest,
    };
    lookup(&MEXICO, rest, 3).unwrap_or(Tz::America__Mexico_City)
}

/// The Canary Islands' fixed lines (822, 827, 828, 922, 928) are an hour behind the mainland.
fn spain(rest: &[u8]) -> Tz {
    match rest {
        [b'8' | b'9', b'2', b'2' | b'8', ..] | [b'8', b'2', b'7', ..] => Tz::Atlantic__Canary,
        _ => Tz::Europe__Madrid,
    }
}

/// The Azores' fixed lines (292, 295, 296) are an hour behind Lisbon and Madeira.
fn portugal(rest: &[u8]) -> Tz {
    match rest {
        [b'2', b'9', b'2' | b'5' | b'6', ..] => Tz::Atlantic__Azores,
        _ => Tz::Europe__Lisbon,
    }
}

/// +262 is shared by Réunion (UTC+4) and Mayotte (UTC+3: 269 fixed, 63x mobile).
fn reunion_or_mayotte(rest: &[u8]) -> Tz {
    match rest {
        [b'2', b'6', b'9', ..] | [b'6', b'3', ..] => Tz::Indian__Mayotte,
        _ => Tz::Indian__Reunion,
    }
}

type Groups = &'static [(Tz, &'static [u16])];

/// A table indexed by code, so that a lookup is one array access. Fails the build if a code is
/// listed twice.
const fn table<const N: usize>(lists: &[Groups]) -> [Option<Tz>; N] {
    let mut table = [None; N];
    let mut l = 0;
    while l < lists.len() {
        let mut g = 0;
        while g < lists[l].len() {
            let (zone, codes) = lists[l][g];
            let mut c = 0;
            while c < codes.len() {
                let code = codes[c] as usize;
                assert!(table[code].is_none(), "a code is listed twice");
                table[code] = Some(zone);
                c += 1;
            }
            g += 1;
        }
        l += 1;
    }
    table
}

static NANP: [Option<Tz>; 1000] = table(&[NANP_US, NANP_CANADA, NANP_OTHER]);
static CALLING_CODES: [Option<Tz>; 1000] = table(&[COUNTRIES]);
static RUSSIA: [Option<Tz>; 1000] = table(&[RUSSIA_GROUPS]);
static MEXICO: [Option<Tz>; 1000] = table(&[MEXICO_GROUPS]);
static BRAZIL: [Option<Tz>; 100] = table(&[BRAZIL_GROUPS]);

/// US area codes by zone. An area code spanning two zones is listed under the zone most of its
/// people live in: 850 (Florida panhandle: Pensacola and Panama City outnumber Tallahassee)
/// and 270/364 (western Kentucky) are central; 219 (north-west Indiana) is central while the
/// rest of Indiana, 906 (Michigan's Upper Peninsula) and 423 (east Tennessee) are eastern;
/// 605, 701, 308, 620, 785 (the Dakotas, Nebraska, Kansas) are central; 208/986 (Idaho) are
/// mountain; 541 (Oregon), 775 (Nevada) are pacific; 915 (El Paso) is mountain. Indiana, most
/// of Michigan and Kentucky follow New York's rules today; Arizona keeps standard time.
const NANP_US: Groups = &[
    (
        Tz::America__New_York,
        &[
            201, 202, 203, 207, 212, 215, 216, 220, 223, 227, 229, 231, 234, 239, 240, 248, 252,
            260, 267, 269, 272, 276, 283, 301, 302, 304, 305, 313, 315, 317, 321, 324, 326, 329,
            330, 332, 336, 339, 347, 351, 352, 363, 380, 386, 401, 404, 407, 410, 412, 413, 419,
            423, 434, 440, 443, 445, 463, 470, 472, 475, 478, 484, 502, 508, 513, 516, 517, 518,
            540, 551, 561, 567, 570, 571, 574, 582, 585, 586, 603, 606, 607, 609, 610, 614, 616,
            617, 631, 640, 645, 646, 656, 667, 678, 680, 681, 686, 689, 703, 704, 706, 716, 717,
            718, 724, 727, 728, 732, 734, 740, 743, 754, 757, 762, 765, 770, 771, 772, 774, 781,
            786, 802, 803, 804, 810, 812, 813, 814, 821, 826, 828, 835, 838, 839, 843, 845, 848,
            854, 856, 857, 859, 860, 862, 863, 864, 865, 878, 904, 906, 908, 910, 912, 914, 917,
            919, 929, 930, 934, 937, 941, 943, 947, 948, 954, 959, 973, 978, 980, 984, 989,
        ],
    ),
    (
        Tz::America__Chicago,
        &[
            205, 210, 214, 217, 218, 219, 224, 225, 228, 235, 251, 254, 256, 262, 270, 274, 281,
            308, 309, 312, 314, 316, 318, 319, 320, 325, 327, 331, 334, 337, 346, 353, 361, 364,
            402, 405, 409, 414, 417, 430, 432, 447, 448, 464, 469, 479, 501, 504, 507, 512, 515,
            531, 534, 539, 557, 563, 572, 573, 580, 601, 605, 608, 612, 615, 618, 620, 629, 630,
            636, 641, 651, 659, 660, 662, 682, 701, 708, 712, 713, 715, 726, 730, 731, 737, 763,
            769, 773, 779, 785, 806, 815, 816, 817, 830, 832, 847, 850, 870, 872, 901, 903, 913,
            918, 920, 931, 936, 938, 940, 945, 952, 956, 972, 975, 979, 985,
        ],
    ),
    (
        Tz::America__Denver,
        &[
            208, 303, 307, 385, 406, 435, 505, 575, 719, 720, 748, 801, 915, 970, 983, 986,
        ],
    ),
    (Tz::America__Phoenix, &[480, 520, 602, 623, 928]),
    (
        Tz::America__Los_Angeles,
        &[
            206, 209, 213, 253, 279, 310, 323, 341, 350, 360, 369, 408, 415, 424, 425, 442, 458,
            503, 509, 510, 530, 541, 559, 562, 564, 619, 626, 628, 650, 657, 661, 669, 702, 707,
            714, 725, 738, 747, 760, 775, 805, 818, 820, 831, 840, 858, 909, 916, 925, 949, 951,
            971,
        ],
    ),
    (Tz::America__Anchorage, &[907]),
    (Tz::Pacific__Honolulu, &[808]),
];

/// Canadian area codes by zone. 807 (north-western Ontario) is mostly Thunder Bay, eastern;
/// 709 is mostly Newfoundland rather than Labrador; 250 is mostly pacific; 867 (the three
/// territories) spans four zones and is listed as mountain, the middle one.
const NANP_CANADA: Groups = &[
    (
        Tz::America__Toronto,
        &[
            226, 249, 263, 289, 343, 354, 365, 367, 382, 416, 418, 437, 438, 450, 468, 514, 519,
            548, 579, 581, 613, 647, 683, 705, 742, 753, 807, 819, 873, 905, 942,
        ],
    ),
    (Tz::America__Winnipeg, &[204, 431, 584]),
    // Saskatchewan keeps central standard time all year.
    (Tz::America__Regina, &[306, 474, 639]),
    (Tz::America__Edmonton, &[368, 403, 587, 780, 825, 867]),
    (Tz::America__Vancouver, &[236, 250, 257, 604, 672, 778]),
    (Tz::America__Halifax, &[782, 902]),
    (Tz::America__Moncton, &[428, 506]),
    (Tz::America__St_Johns, &[709, 879]),
];

/// The NANP's other members: US territories and Caribbean countries.
const NANP_OTHER: Groups = &[
    (Tz::America__Nassau, &[242]),
    (Tz::America__Barbados, &[246]),
    (Tz::America__Anguilla, &[264]),
    (Tz::America__Antigua, &[268]),
    (Tz::America__Tortola, &[284]),
    (Tz::America__St_Thomas, &[340]),
    (Tz::America__Cayman, &[345]),
    (Tz::Atlantic__Bermuda, &[441]),
    (Tz::America__Grenada, &[473]),
    (Tz::America__Grand_Turk, &[649]),
    (Tz::America__Jamaica, &[658, 876]),
    (Tz::America__Montserrat, &[664]),
    (Tz::Pacific__Saipan, &[670]),
    (Tz::Pacific__Guam, &[671]),
    (Tz::Pacific__Pago_Pago, &[684]),
    (Tz::America__Lower_Princes, &[721]),
    (Tz::America__St_Lucia, &[758]),
    (Tz::America__Dominica, &[767]),
    (Tz::America__St_Vincent, &[784]),
    (Tz::America__Puerto_Rico, &[787, 939]),
    (Tz::America__Santo_Domingo, &[809, 829, 849]),
    (Tz::America__Port_of_Spain, &[868]),
    (Tz::America__St_Kitts, &[869]),
];

/// US and Canadian zones a tenant may be in that the area code table does not use.
const OTHER_US_CA_ZONES: &[Tz] = &[
    Tz::America__Adak,
    Tz::America__Boise,
    Tz::America__Cambridge_Bay,
    Tz::America__Creston,
    Tz::America__Dawson,
    Tz::America__Dawson_Creek,
    Tz::America__Detroit,
    Tz::America__Fort_Nelson,
    Tz::America__Glace_Bay,
    Tz::America__Goose_Bay,
    Tz::America__Indiana__Indianapolis,
    Tz::America__Indiana__Knox,
    Tz::America__Indiana__Marengo,
    Tz::America__Indiana__Petersburg,
    Tz::America__Indiana__Tell_City,
    Tz::America__Indiana__Vevay,
    Tz::America__Indiana__Vincennes,
    Tz::America__Indiana__Winamac,
    Tz::America__Indianapolis,
    Tz::America__Inuvik,
    Tz::America__Iqaluit,
    Tz::America__Juneau,
    Tz::America__Kentucky__Louisville,
    Tz::America__Kentucky__Monticello,
    Tz::America__Menominee,
    Tz::America__Metlakatla,
    Tz::America__Montreal,
    Tz::America__Nome,
    Tz::America__North_Dakota__Beulah,
    Tz::America__North_Dakota__Center,
    Tz::America__North_Dakota__New_Salem,
    Tz::America__Rankin_Inlet,
    Tz::America__Resolute,
    Tz::America__Sitka,
    Tz::America__Swift_Current,
    Tz::America__Whitehorse,
    Tz::America__Yakutat,
    Tz::America__Yellowknife,
    Tz::Canada__Atlantic,
    Tz::Canada__Central,
    Tz::Canada__Eastern,
    Tz::Canada__Mountain,
    Tz::Canada__Newfoundland,
    Tz::Canada__Pacific,
    Tz::Canada__Saskatchewan,
    Tz::Canada__Yukon,
    Tz::US__Alaska,
    Tz::US__Aleutian,
    Tz::US__Arizona,
    Tz::US__Central,
    Tz::US__EastIndiana,
    Tz::US__Eastern,
    Tz::US__Hawaii,
    Tz::US__IndianaStarke,
    Tz::US__Michigan,
    Tz::US__Mountain,
    Tz::US__Pacific,
];

/// Russian geographic (ABC) codes outside Moscow time; every other one is Moscow time.
const RUSSIA_GROUPS: Groups = &[
    (Tz::Europe__Kaliningrad, &[401]),
    (Tz::Europe__Samara, &[341, 846, 848]),
    (Tz::Europe__Ulyanovsk, &[842]),
    (Tz::Europe__Saratov, &[845]),
    (Tz::Europe__Astrakhan, &[851]),
    (
        Tz::Asia__Yekaterinburg,
        &[342, 343, 345, 346, 347, 349, 351, 352, 353],
    ),
    (Tz::Asia__Omsk, &[381]),
    (Tz::Asia__Tomsk, &[382]),
    (Tz::Asia__Novosibirsk, &[383]),
    (Tz::Asia__Novokuznetsk, &[384]),
    (Tz::Asia__Barnaul, &[385, 388]),
    (Tz::Asia__Krasnoyarsk, &[390, 391, 394]),
    (Tz::Asia__Irkutsk, &[301, 395]),
    (Tz::Asia__Chita, &[302]),
    (Tz::Asia__Yakutsk, &[411, 416]),
    (Tz::Asia__Vladivostok, &[421, 423, 426]),
    (Tz::Asia__Magadan, &[413]),
    (Tz::Asia__Sakhalin, &[424]),
    (Tz::Asia__Kamchatka, &[415]),
    (Tz::Asia__Anadyr, &[427]),
];

/// Russian zones a tenant may be in that the ABC code table does not use.
const OTHER_RUSSIAN_ZONES: &[Tz] = &[
    Tz::Europe__Moscow,
    Tz::Europe__Kirov,
    Tz::Europe__Volgograd,
    Tz::Asia__Khandyga,
    Tz::Asia__UstNera,
    Tz::Asia__Srednekolymsk,
    Tz::WSU,
];

/// Mexican area codes outside central time: Baja California and the US border strip keep US
/// daylight saving time; Sonora, Sinaloa, Nayarit and Baja California Sur are an hour behind
/// central time all year; Quintana Roo an hour ahead.
const MEXICO_GROUPS: Groups = &[
    (Tz::America__Tijuana, &[616, 646, 658, 661, 664, 665, 686]),
    (
        Tz::America__Hermosillo,
        &[
            622, 623, 631, 632, 633, 634, 637, 638, 641, 642, 643, 644, 645, 647, 651, 653, 662,
        ],
    ),
    (
        Tz::America__Mazatlan,
        &[
            311, 319, 323, 324, 325, 327, 389, 612, 613, 615, 624, 667, 668, 669, 672, 673, 687,
            694, 695, 696, 697, 698,
        ],
    ),
    (Tz::America__Cancun, &[983, 984, 987, 998]),
    (Tz::America__Ciudad_Juarez, &[656]),
    (Tz::America__Ojinaga, &[626]),
    (Tz::America__Matamoros, &[867, 868, 877, 878, 899]),
];

/// Brazilian area codes (DDD) outside São Paulo's zone. The other UTC-3 zones keep their own
/// names because Brazil has changed daylight saving time by state before.
const BRAZIL_GROUPS: Groups = &[
    (Tz::America__Araguaina, &[63]),
    (Tz::America__Cuiaba, &[65, 66]),
    (Tz::America__Campo_Grande, &[67]),
    (Tz::America__Rio_Branco, &[68]),
    (Tz::America__Porto_Velho, &[69]),
    (Tz::America__Bahia, &[71, 73, 74, 75, 77]),
    (Tz::America__Maceio, &[79, 82]),
    (Tz::America__Recife, &[81, 87]),
    (Tz::America__Fortaleza, &[83, 84, 85, 86, 88, 89, 98, 99]),
    (Tz::America__Belem, &[91, 94, 96]),
    (Tz::America__Santarem, &[93]),
    (Tz::America__Manaus, &[92, 97]),
    (Tz::America__Boa_Vista, &[95]),
];

/// Countries by calling code, with one zone or one zone most people live in. Codes handled
/// above (1, 7, 34, 52, 55, 61, 62, 262, 351) are not here; neither are DR Congo (243) and
/// Micronesia (691), split between zones of similar size, nor non-country codes (800, 808,
/// 870, 878, 881-883, 888, 979): their numbers get the tenant's zone.
const COUNTRIES: Groups = &[
    // Europe
    (Tz::Europe__Athens, &[30]),
    (Tz::Europe__Amsterdam, &[31]),
    (Tz::Europe__Brussels, &[32]),
    (Tz::Europe__Paris, &[33]),
    (Tz::Europe__Budapest, &[36]),
    (Tz::Europe__Rome, &[39]),
    (Tz::Europe__Bucharest, &[40]),
    (Tz::Europe__Zurich, &[41]),
    (Tz::Europe__Vienna, &[43]),
    (Tz::Europe__London, &[44]),
    (Tz::Europe__Copenhagen, &[45]),
    (Tz::Europe__Stockholm, &[46]),
    (Tz::Europe__Oslo, &[47]),
    (Tz::Europe__Warsaw, &[48]),
    (Tz::Europe__Berlin, &[49]),
    (Tz::Europe__Istanbul, &[90]),
    (Tz::Atlantic__Faroe, &[298]),
    (Tz::Europe__Gibraltar, &[350]),
    (Tz::Europe__Luxembourg, &[352]),
    (Tz::Europe__Dublin, &[353]),
    (Tz::Atlantic__Reykjavik, &[354]),
    (Tz::Europe__Tirane, &[355]),
    (Tz::Europe__Malta, &[356]),
    (Tz::Asia__Nicosia, &[357]),
    (Tz::Europe__Helsinki, &[358]),
    (Tz::Europe__Sofia, &[359]),
    (Tz::Europe__Vilnius, &[370]),
    (Tz::Europe__Riga, &[371]),
    (Tz::Europe__Tallinn, &[372]),
    (Tz::Europe__Chisinau, &[373]),
    (Tz::Asia__Yerevan, &[374]),
    (Tz::Europe__Minsk, &[375]),
    (Tz::Europe__Andorra, &[376]),
    (Tz::Europe__Monaco, &[377]),
    (Tz::Europe__San_Marino, &[378]),
    (Tz::Europe__Kyiv, &[380]),
    (Tz::Europe__Belgrade, &[381, 383]),
    (Tz::Europe__Podgorica, &[382]),
    (Tz::Europe__Zagreb, &[385]),
    (Tz::Europe__Ljubljana, &[386]),
    (Tz::Europe__Sarajevo, &[387]),
    (Tz::Europe__Skopje, &[389]),
    (Tz::Europe__Prague, &[420]),
    (Tz::Europe__Bratislava, &[421]),
    (Tz::Europe__Vaduz, &[423]),
    // Americas
    (Tz::America__Aruba, &[297]),
    (Tz::America__Nuuk, &[299]),
    (Tz::America__Lima, &[51]),
    (Tz::America__Havana, &[53]),
    (Tz::America__Argentina__Buenos_Aires, &[54]),
    (Tz::America__Santiago, &[56]),
    (Tz::America__Bogota, &[57]),
    (Tz::America__Caracas, &[58]),
    (Tz::Atlantic__Stanley, &[500]),
    (Tz::America__Belize, &[501]),
    (Tz::America__Guatemala, &[502]),
    (Tz::America__El_Salvador, &[503]),
    (Tz::America__Tegucigalpa, &[504]),
    (Tz::America__Managua, &[505]),
    (Tz::America__Costa_Rica, &[506]),
    (Tz::America__Panama, &[507]),
    (Tz::America__Miquelon, &[508]),
    (Tz::America__PortauPrince, &[509]),
    (Tz::America__Guadeloupe, &[590]),
    (Tz::America__La_Paz, &[591]),
    (Tz::America__Guyana, &[592]),
    (Tz::America__Guayaquil, &[593]),
    (Tz::America__Cayenne, &[594]),
    (Tz::America__Asuncion, &[595]),
    (Tz::America__Martinique, &[596]),
    (Tz::America__Paramaribo, &[597]),
    (Tz::America__Montevideo, &[598]),
    (Tz::America__Curacao, &[599]),
    // Africa
    (Tz::Africa__Cairo, &[20]),
    (Tz::Africa__Johannesburg, &[27]),
    (Tz::Africa__Juba, &[211]),
    (Tz::Africa__Casablanca, &[212]),
    (Tz::Africa__Algiers, &[213]),
    (Tz::Africa__Tunis, &[216]),
    (Tz::Africa__Tripoli, &[218]),
    (Tz::Africa__Banjul, &[220]),
    (Tz::Africa__Dakar, &[221]),
    (Tz::Africa__Nouakchott, &[222]),
    (Tz::Africa__Bamako, &[223]),
    (Tz::Africa__Conakry, &[224]),
    (Tz::Africa__Abidjan, &[225]),
    (Tz::Africa__Ouagadougou, &[226]),
    (Tz::Africa__Niamey, &[227]),
    (Tz::Africa__Lome, &[228]),
    (Tz::Africa__PortoNovo, &[229]),
    (Tz::Indian__Mauritius, &[230]),
    (Tz::Africa__Monrovia, &[231]),
    (Tz::Africa__Freetown, &[232]),
    (Tz::Africa__Accra, &[233]),
    (Tz::Africa__Lagos, &[234]),
    (Tz::Africa__Ndjamena, &[235]),
    (Tz::Africa__Bangui, &[236]),
    (Tz::Africa__Douala, &[237]),
    (Tz::Atlantic__Cape_Verde, &[238]),
    (Tz::Africa__Sao_Tome, &[239]),
    (Tz::Africa__Malabo, &[240]),
    (Tz::Africa__Libreville, &[241]),
    (Tz::Africa__Brazzaville, &[242]),
    (Tz::Africa__Luanda, &[244]),
    (Tz::Africa__Bissau, &[245]),
    (Tz::Indian__Chagos, &[246]),
    (Tz::Atlantic__St_Helena, &[247, 290]),
    (Tz::Indian__Mahe, &[248]),
    (Tz::Africa__Khartoum, &[249]),
    (Tz::Africa__Kigali, &[250]),
    (Tz::Africa__Addis_Ababa, &[251]),
    (Tz::Africa__Mogadishu, &[252]),
    (Tz::Africa__Djibouti, &[253]),
    (Tz::Africa__Nairobi, &[254]),
    (Tz::Africa__Dar_es_Salaam, &[255]),
    (Tz::Africa__Kampala, &[256]),
    (Tz::Africa__Bujumbura, &[257]),
    (Tz::Africa__Maputo, &[258]),
    (Tz::Africa__Lusaka, &[260]),
    (Tz::Indian__Antananarivo, &[261]),
    (Tz::Africa__Harare, &[263]),
    (Tz::Africa__Windhoek, &[264]),
    (Tz::Africa__Blantyre, &[265]),
    (Tz::Africa__Maseru, &[266]),
    (Tz::Africa__Gaborone, &[267]),
    (Tz::Africa__Mbabane, &[268]),
    (Tz::Indian__Comoro, &[269]),
    (Tz::Africa__Asmara, &[291]),
    // Asia and the Pacific
    (Tz::Asia__Kuala_Lumpur, &[60]),
    (Tz::Asia__Manila, &[63]),
    (Tz::Pacific__Auckland, &[64]),
    (Tz::Asia__Singapore, &[65]),
    (Tz::Asia__Bangkok, &[66]),
    (Tz::Asia__Tokyo, &[81]),
    (Tz::Asia__Seoul, &[82]),
    (Tz::Asia__Ho_Chi_Minh, &[84]),
    (Tz::Asia__Shanghai, &[86]),
    (Tz::Asia__Kolkata, &[91]),
    (Tz::Asia__Karachi, &[92]),
    (Tz::Asia__Kabul, &[93]),
    (Tz::Asia__Colombo, &[94]),
    (Tz::Asia__Yangon, &[95]),
    (Tz::Asia__Tehran, &[98]),
    (Tz::Asia__Dili, &[670]),
    (Tz::Pacific__Norfolk, &[672]),
    (Tz::Asia__Brunei, &[673]),
    (Tz::Pacific__Nauru, &[674]),
    (Tz::Pacific__Port_Moresby, &[675]),
    (Tz::Pacific__Tongatapu, &[676]),
    (Tz::Pacific__Guadalcanal, &[677]),
    (Tz::Pacific__Efate, &[678]),
    (Tz::Pacific__Fiji, &[679]),
    (Tz::Pacific__Palau, &[680]),
    (Tz::Pacific__Wallis, &[681]),
    (Tz::Pacific__Rarotonga, &[682]),
    (Tz::Pacific__Niue, &[683]),
    (Tz::Pacific__Apia, &[685]),
    (Tz::Pacific__Tarawa, &[686]),
    (Tz::Pacific__Noumea, &[687]),
    (Tz::Pacific__Funafuti, &[688]),
    (Tz::Pacific__Tahiti, &[689]),
    (Tz::Pacific__Fakaofo, &[690]),
    (Tz::Pacific__Majuro, &[692]),
    (Tz::Asia__Pyongyang, &[850]),
    (Tz::Asia__Hong_Kong, &[852]),
    (Tz::Asia__Macau, &[853]),
    (Tz::Asia__Phnom_Penh, &[855]),
    (Tz::Asia__Vientiane, &[856]),
    (Tz::Asia__Dhaka, &[880]),
    (Tz::Asia__Taipei, &[886]),
    (Tz::Indian__Maldives, &[960]),
    (Tz::Asia__Beirut, &[961]),
    (Tz::Asia__Amman, &[962]),
    (Tz::Asia__Damascus, &[963]),
    (Tz::Asia__Baghdad, &[964]),
    (Tz::Asia__Kuwait, &[965]),
    (Tz::Asia__Riyadh, &[966]),
    (Tz::Asia__Aden, &[967]),
    (Tz::Asia__Muscat, &[968]),
    (Tz::Asia__Hebron, &[970]),
    (Tz::Asia__Dubai, &[971]),
    (Tz::Asia__Jerusalem, &[972]),
    (Tz::Asia__Bahrain, &[973]),
    (Tz::Asia__Qatar, &[974]),
    (Tz::Asia__Thimphu, &[975]),
    (Tz::Asia__Ulaanbaatar, &[976]),
    (Tz::Asia__Kathmandu, &[977]),
    (Tz::Asia__Dushanbe, &[992]),
    (Tz::Asia__Ashgabat, &[993]),
    (Tz::Asia__Baku, &[994]),
    (Tz::Asia__Tbilisi, &[995]),
    (Tz::Asia__Bishkek, &[996]),
    (Tz::Asia__Tashkent, &[998]),
];

#[cfg(test)]
mod tests {
    use super::*;
    use phonenumber::Type;
    use phonenumber::metadata::DATABASE;

    /// A valid number, as the rest of the system would hold it.
    fn phone(e164: &str) -> PhoneE164 {
        PhoneE164::from_e164(e164).unwrap()
    }

    /// Only the digits matter to `zone_for`: numbers of countries whose exact formats these
    /// tests do not care about.
    fn digits(e164: &str) -> PhoneE164 {
        PhoneE164::from_e164_unchecked(e164.to_owned())
    }

    fn utc(rfc3339: &str) -> DateTime<Utc> {
        rfc3339.parse().unwrap()
    }

    fn hm(hh_mm: &str) -> NaiveTime {
        NaiveTime::parse_from_str(hh_mm, "%H:%M").unwrap()
    }

    fn hours(opens: &str, closes: &str) -> QuietHours {
        QuietHours::new(hm(opens), hm(closes)).unwrap()
    }

    const LONDON: Tz = Tz::Europe__London;

    #[test]
    fn us_and_canadian_numbers_get_their_area_codes_zone() {
        for (number, zone) in [
            ("+12125551234", Tz::America__New_York),
            ("+14155552671", Tz::America__Los_Angeles),
            ("+13125551234", Tz::America__Chicago),
            ("+13035551234", Tz::America__Denver),
            ("+16025551234", Tz::America__Phoenix),
            ("+18085551234", Tz::Pacific__Honolulu),
            ("+19075551234", Tz::America__Anchorage),
            ("+14165551234", Tz::America__Toronto),
            ("+16045551234", Tz::America__Vancouver),
            ("+13065551234", Tz::America__Regina),
            ("+17875551234", Tz::America__Puerto_Rico),
            ("+18765551234", Tz::America__Jamaica),
        ] {
            assert_eq!(zone_for(&phone(number), LONDON), zone, "{number}");
        }
    }

    #[test]
    fn non_geographic_nanp_numbers_get_a_north_american_tenants_zone_else_new_york() {
        let toll_free = phone("+18005551234");
        for tenant in [
            Tz::America__Chicago,
            Tz::America__Vancouver,
            Tz::US__Eastern,
        ] {
            assert_eq!(zone_for(&toll_free, tenant), tenant, "{tenant}");
        }
        assert_eq!(zone_for(&toll_free, LONDON), Tz::America__New_York);
        assert_eq!(
            zone_for(&phone("+18885551234"), Tz::Australia__Sydney),
            Tz::America__New_York
        );
    }

    #[test]
    fn other_countries_get_their_zone() {
        for (number, zone) in [
            ("+442079460958", Tz::Europe__London),
            ("+4930123456", Tz::Europe__Berlin),
            ("+33142685300", Tz::Europe__Paris),
            ("+14165551234", Tz::America__Toronto),
            ("+353123456789", Tz::Europe__Dublin),
            ("+6491234567", Tz::Pacific__Auckland),
            ("+919876543210", Tz::Asia__Kolkata),
            ("+81312345678", Tz::Asia__Tokyo),
            ("+8613812345678", Tz::Asia__Shanghai),
            ("+27211234567", Tz::Africa__Johannesburg),
            ("+6561234567", Tz::Asia__Singapore),
            ("+85221234567", Tz::Asia__Hong_Kong),
            ("+971501234567", Tz::Asia__Dubai),
            ("+972501234567", Tz::Asia__Jerusalem),
            ("+380441234567", Tz::Europe__Kyiv),
        ] {
            assert_eq!(zone_for(&digits(number), Tz::UTC), zone, "{number}");
        }
    }

    #[test]
    fn australian_numbers_get_their_states_zone_and_mobiles_the_tenants_if_australian() {
        for (number, zone) in [
            ("+61293744000", Tz::Australia__Sydney),
            ("+61396541234", Tz::Australia__Melbourne),
            ("+61731234567", Tz::Australia__Brisbane),
            ("+61892221234", Tz::Australia__Perth),
            ("+61861881234", Tz::Australia__Perth),
            ("+61882071234", Tz::Australia__Adelaide),
            ("+61889811234", Tz::Australia__Darwin),
            ("+61412345678", Tz::Australia__Sydney),
        ] {
            assert_eq!(zone_for(&phone(number), LONDON), zone, "{number}");
        }
        let mobile = phone("+61412345678");
        assert_eq!(
            zone_for(&mobile, Tz::Australia__Perth),
            Tz::Australia__Perth
        );
    }

    #[test]
    fn countries_spanning_zones_read_the_area_code() {
        for (number, fallback, zone) in [
            ("+79161234567", LONDON, Tz::Europe__Moscow),
            (
                "+79161234567",
                Tz::Asia__Yekaterinburg,
                Tz::Asia__Yekaterinburg,
            ),
            ("+73832123456", LONDON, Tz::Asia__Novosibirsk),
            ("+74232123456", LONDON, Tz::Asia__Vladivostok),
            ("+74952123456", LONDON, Tz::Europe__Moscow),
            ("+77272123456", LONDON, Tz::Asia__Almaty),
            ("+525512345678", LONDON, Tz::America__Mexico_City),
            ("+526641234567", LONDON, Tz::America__Tijuana),
            ("+5216641234567", LONDON, Tz::America__Tijuana),
            ("+529981234567", LONDON, Tz::America__Cancun),
            ("+5511912345678", LONDON, Tz::America__Sao_Paulo),
            ("+5592912345678", LONDON, Tz::America__Manaus),
            ("+5568912345678", LONDON, Tz::America__Rio_Branco),
            ("+622112345678", LONDON, Tz::Asia__Jakarta),
            ("+62361123456", LONDON, Tz::Asia__Makassar),
            ("+62967123456", LONDON, Tz::Asia__Jayapura),
            ("+628121234567", Tz::Asia__Makassar, Tz::Asia__Makassar),
            ("+628121234567", LONDON, Tz::Asia__Jakarta),
            ("+34911234567", LONDON, Tz::Europe__Madrid),
            ("+34928123456", LONDON, Tz::Atlantic__Canary),
            ("+351211234567", LONDON, Tz::Europe__Lisbon),
            ("+351296123456", LONDON, Tz::Atlantic__Azores),
            ("+262262123456", LONDON, Tz::Indian__Reunion),
            ("+262639123456", LONDON, Tz::Indian__Mayotte),
        ] {
            assert_eq!(zone_for(&digits(number), fallback), zone, "{number}");
        }
    }

    #[test]
    fn numbers_of_no_known_country_get_the_fallback() {
        let tenant = Tz::America__Chicago;
        for number in ["+9991234567", "+80012345678", "+243812345678", "+", "+1"] {
            assert_eq!(zone_for(&digits(number), tenant), tenant, "{number}");
        }
    }

    /// The region of a geographic number with this area code, if `phonenumber` knows one. A
    /// few exchanges find most; small countries and new overlays open only some exchanges, so
    /// a listed code is also tried with every exchange.
    fn nanp_region(npa: usize, listed: bool) -> Option<String> {
        let few = ["234", "555", "987", "456"].map(String::from);
        let every = || (200..1000).map(|exchange| exchange.to_string());
        geographic_region(npa, few.into_iter())
            .or_else(|| listed.then(|| geographic_region(npa, every())).flatten())
    }

    fn geographic_region(npa: usize, exchanges: impl Iterator<Item = String>) -> Option<String> {
        exchanges
            .filter_map(|exchange| phonenumber::parse(None, format!("+1{npa}{exchange}1234")).ok())
            .filter(phonenumber::is_valid)
            .filter(|n| {
                matches!(
                    n.number_type(&DATABASE),
                    Type::FixedLine | Type::Mobile | Type::FixedLineOrMobile
                )
            })
            .find_map(|n| n.country().id())
            .map(|id| id.as_ref().to_owned())
    }

    /// The area code table against `phonenumber`'s metadata: every geographic area code has a
    /// zone, in the right country, and every listed code is a geographic one. A metadata update
    /// that adds area codes fails here until the table has them.
    #[test]
    fn nanp_table_agrees_with_the_phonenumber_metadata() {
        let country_of = |npa: u16| {
            let listed = |groups: Groups| groups.iter().any(|(_, codes)| codes.contains(&npa));
            if listed(NANP_US) {
                "US"
            } else if listed(NANP_CANADA) {
                "CA"
            } else {
                "other"
            }
        };
        let mut wrong = Vec::new();
        for (npa, zone) in NANP.iter().enumerate().skip(200) {
            let listed = zone.is_some();
            let region = nanp_region(npa, listed);
            let expected = country_of(npa as u16);
            match region.as_deref() {
                None if listed => wrong.push(format!("{npa}: listed, not geographic")),
                Some(r) if !listed => wrong.push(format!("{npa}: missing ({r})")),
                Some(r) if expected != "other" && r != expected => {
                    wrong.push(format!("{npa}: listed in {expected}, is {r}"))
                }
                Some("US" | "CA") if expected == "other" => {
                    wrong.push(format!("{npa}: listed as another member, is US/CA"))
                }
                _ => {}
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn calling_codes_are_real_and_prefix_free() {
        let codes: Vec<u16> = COUNTRIES
            .iter()
            .flat_map(|(_, codes)| codes.iter().copied())
            .collect();
        for &code in &codes {
            assert!(
                DATABASE.region(&code).is_some(),
                "{code} is no calling code"
            );
            for special in [1, 7, 34, 52, 55, 61, 62, 262, 351] {
                assert_ne!(code, special, "{code} is handled before the table");
            }
            for &other in &codes {
                let (a, b) = (code.to_string(), other.to_string());
                assert!(a == b || !b.starts_with(&a), "{a} is a prefix of {b}");
            }
        }
    }

    #[test]
    fn a_recipient_in_another_zone_than_the_tenant_waits_for_their_own_morning() {
        let new_york = Tz::America__New_York;
        let recipient = phone("+14155552671");
        let zone = zone_for(&recipient, new_york);
        assert_eq!(zone, Tz::America__Los_Angeles);
        // 10:00 in New York is 07:00 in Los Angeles (both on daylight time in June).
        let now = utc("2026-06-15T14:00:00Z");
        assert_eq!(
            window(now, zone, QuietHours::default()),
            Window::Closed {
                opens_at: utc("2026-06-15T15:00:00Z"),
                send_before: utc("2026-06-16T04:00:00Z"),
            }
        );
        assert_eq!(
            window(now, new_york, QuietHours::default()),
            Window::Open {
                send_before: utc("2026-06-16T01:00:00Z")
            }
        );
    }

    #[test]
    fn inside_the_window_sends_now_until_todays_close() {
        let la = Tz::America__Los_Angeles;
        let today_close = Window::Open {
            send_before: utc("2026-06-16T04:00:00Z"),
        };
        // 08:00 (opening, inclusive), 12:00 and 20:59 local.
        for now in [
            "2026-06-15T15:00:00Z",
            "2026-06-15T19:00:00Z",
            "2026-06-16T03:59:59Z",
        ] {
            assert_eq!(
                window(utc(now), la, QuietHours::default()),
                today_close,
                "{now}"
            );
        }
    }

    #[test]
    fn after_the_close_waits_for_the_next_days_opening() {
        let la = Tz::America__Los_Angeles;
        let tomorrow = Window::Closed {
            opens_at: utc("2026-06-16T15:00:00Z"),
            send_before: utc("2026-06-17T04:00:00Z"),
        };
        // 21:00 (closing, exclusive) and 23:30 local.
        for now in ["2026-06-16T04:00:00Z", "2026-06-16T06:30:00Z"] {
            assert_eq!(
                window(utc(now), la, QuietHours::default()),
                tomorrow,
                "{now}"
            );
        }
        // 01:00 local: the same day's window, not tomorrow's.
        assert_eq!(
            window(utc("2026-06-16T08:00:00Z"), la, QuietHours::default()),
            tomorrow
        );
    }

    #[test]
    fn the_window_keeps_its_local_times_across_new_yorks_dst_changes() {
        let ny = Tz::America__New_York;
        let default = QuietHours::default();
        // 22:00 EST (UTC-5) on Saturday; Sunday 2026-03-08 opens at 08:00 EDT (UTC-4).
        assert_eq!(
            window(utc("2026-03-08T03:00:00Z"), ny, default),
            Window::Closed {
                opens_at: utc("2026-03-08T12:00:00Z"),
                send_before: utc("2026-03-09T01:00:00Z"),
            }
        );
        // The day before opened at 08:00 EST.
        assert_eq!(
            window(utc("2026-03-07T12:59:00Z"), ny, default),
            Window::Closed {
                opens_at: utc("2026-03-07T13:00:00Z"),
                send_before: utc("2026-03-08T02:00:00Z"),
            }
        );
        // 22:00 EDT on Saturday; Sunday 2026-11-01 opens at 08:00 EST.
        assert_eq!(
            window(utc("2026-11-01T02:00:00Z"), ny, default),
            Window::Closed {
                opens_at: utc("2026-11-01T13:00:00Z"),
                send_before: utc("2026-11-02T02:00:00Z"),
            }
        );
    }

    #[test]
    fn a_window_opening_or_closing_in_the_spring_forward_gap_moves_to_the_gaps_end() {
        let ny = Tz::America__New_York;
        // 01:30-02:30 on 2026-03-08: 01:30 EST, then 02:30 does not exist and 03:00 EDT
        // (07:00Z) comes instead: a 30-minute window.
        let night = hours("01:30", "02:30");
        assert_eq!(
            window(utc("2026-03-08T05:00:00Z"), ny, night),
            Window::Closed {
                opens_at: utc("2026-03-08T06:30:00Z"),
                send_before: utc("2026-03-08T07:00:00Z"),
            }
        );
        assert_eq!(
            window(utc("2026-03-08T06:45:00Z"), ny, night),
            Window::Open {
                send_before: utc("2026-03-08T07:00:00Z")
            }
        );
        // 02:30-03:30 opens at 03:00 EDT.
        assert_eq!(
            window(utc("2026-03-08T05:00:00Z"), ny, hours("02:30", "03:30")),
            Window::Closed {
                opens_at: utc("2026-03-08T07:00:00Z"),
                send_before: utc("2026-03-08T07:30:00Z"),
            }
        );
        // 02:10-02:50 is swallowed whole: the next window is Monday's (EDT).
        assert_eq!(
            window(utc("2026-03-08T05:00:00Z"), ny, hours("02:10", "02:50")),
            Window::Closed {
                opens_at: utc("2026-03-09T06:10:00Z"),
                send_before: utc("2026-03-09T06:50:00Z"),
            }
        );
    }

    #[test]
    fn a_window_in_the_repeated_fall_back_hour_starts_at_its_first_pass() {
        let ny = Tz::America__New_York;
        // On 2026-11-01, 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST); 02:30 is EST.
        let night = hours("01:30", "02:30");
        assert_eq!(
            window(utc("2026-11-01T04:00:00Z"), ny, night),
            Window::Closed {
                opens_at: utc("2026-11-01T05:30:00Z"),
                send_before: utc("2026-11-01T07:30:00Z"),
            }
        );
        // 01:45 EST, the second pass, is inside.
        assert_eq!(
            window(utc("2026-11-01T06:45:00Z"), ny, night),
            Window::Open {
                send_before: utc("2026-11-01T07:30:00Z")
            }
        );
    }

    #[test]
    fn london_opens_at_eight_bst_on_the_day_clocks_go_forward() {
        // 22:00 GMT on Saturday; Sunday 2026-03-29 opens at 08:00 BST (07:00Z).
        assert_eq!(
            window(utc("2026-03-28T22:00:00Z"), LONDON, QuietHours::default()),
            Window::Closed {
                opens_at: utc("2026-03-29T07:00:00Z"),
                send_before: utc("2026-03-29T20:00:00Z"),
            }
        );
    }

    #[test]
    fn hand_built_hours_that_never_open_fall_back_to_the_default() {
        let never = QuietHours {
            opens: hm("21:00"),
            closes: hm("08:00"),
        };
        assert_eq!(
            window(utc("2026-06-15T14:00:00Z"), LONDON, never),
            window(utc("2026-06-15T14:00:00Z"), LONDON, QuietHours::default())
        );
    }

    #[test]
    fn quiet_hours_open_before_they_close_on_whole_minutes() {
        assert_eq!(
            QuietHours::default(),
            QuietHours {
                opens: hm("08:00"),
                closes: hm("21:00")
            }
        );
        assert_eq!(hours("09:30", "17:45").closes, hm("17:45"));
        for (opens, closes) in [
            (hm("21:00"), hm("08:00")),
            (hm("08:00"), hm("08:00")),
            (NaiveTime::from_hms_opt(8, 0, 30).unwrap(), hm("21:00")),
        ] {
            let err = QuietHours::new(opens, closes).unwrap_err();
            assert_eq!(err.field, "quiet_hours");
        }
    }

    #[test]
    fn quiet_hours_are_stored_as_hh_mm_and_validated_when_read() {
        let json = serde_json::to_string(&QuietHours::default()).unwrap();
        assert_eq!(json, r#"{"opens":"08:00","closes":"21:00"}"#);
        assert_eq!(
            serde_json::from_str::<QuietHours>(&json).unwrap(),
            QuietHours::default()
        );
        for bad in [
            r#"{"opens":"21:00","closes":"08:00"}"#,
            r#"{"opens":"8am","closes":"21:00"}"#,
            r#"{"opens":"08:00","closes":"24:00"}"#,
            r#"{"opens":"08:00"}"#,
        ] {
            assert!(serde_json::from_str::<QuietHours>(bad).is_err(), "{bad}");
        }
    }
}
