//! Splitting a full-name column into first and last names, for greetings ("Hi {{first_name}}")
//! and sorting by last name. Exports write names as "First Last", "First Middle Last",
//! "Last, First" or with a family-name particle ("Ludwig van Beethoven").

/// Words that start a family name when they follow the given names.
const PARTICLES: [&str; 20] = [
    "van", "von", "de", "der", "den", "del", "della", "di", "da", "du", "la", "le", "dos", "das",
    "do", "ten", "ter", "bin", "ibn", "al",
];
/// Words that end a name rather than being part of it: generational suffixes, credentials
/// ("Jane Doe, RN") and company forms ("Acme, Inc.").
const SUFFIXES: [&str; 19] = [
    "jr", "sr", "ii", "iii", "iv", "v", "phd", "md", "esq", "rn", "dds", "cpa", "mba", "inc",
    "llc", "ltd", "corp", "co", "gmbh",
];

/// Titles written before a name (`Mr John Smith`, `Dr. Jane Doe`, `Frau Anna Schmidt`,
/// `Sra. María López`, `Smt. Priya Sharma`): not part of the given name a greeting uses.
const TITLES: [&str; 30] = [
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "rev", "herr", "frau", "mme",
    "mlle", "sr", "sra", "srta", "dott", "dottssa", "sig", "sigra", "smt", "shri", "sri", "dhr",
    "mevr", "pan", "pani", "mw", "hr",
];

/// The title `full` starts with (`Mr & Mrs` too) and the name after it; `None` without one,
/// or with nothing after it.
pub(crate) fn title(full: &str) -> Option<(&str, &str)> {
    let full = full.trim();
    let mut end = 0;
    let mut rest = full;
    while let Some((word, after)) = rest.split_once(char::is_whitespace) {
        let joined = matches!(word, "&" | "+" | "and" | "und" | "et" | "y") && end > 0;
        if !joined && !TITLES.contains(&bare(word).replace('.', "").as_str()) {
            break;
        }
        if !joined {
            end = full.len() - after.len();
        }
        rest = after.trim_start();
    }
    (end > 0).then(|| (full[..end].trim_end(), full[end..].trim_start()))
}

/// The first and last names in `full` (trimmed, not empty). One word is a first name. "Last,
/// First" is read as such; what follows a last comma and is only suffixes ("Smith, Jr.",
/// "Jane Doe, RN") stays at the end of the last name.
pub(crate) fn split_full_name(full: &str) -> (String, Option<String>) {
    let mut parts: Vec<&str> = full
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let mut suffixes = Vec::new();
    while parts.len() > 1 && parts.last().is_some_and(|p| is_suffix_list(p)) {
        suffixes.extend(parts.pop());
    }
    suffixes.reverse();
    let (first, last) = match parts.as_slice() {
        [family, given] => (
            join(given.split_whitespace()),
            Some(join(family.split_whitespace())),
        ),
        _ => by_words(&parts.join(" ")),
    };
    if suffixes.is_empty() {
        return (first, last);
    }
    let suffix = join(suffixes.iter().flat_map(|s| s.split_whitespace()));
    match last {
        Some(last) => (first, Some(format!("{last} {suffix}"))),
        None => (first, Some(suffix)),
    }
}

/// Romanised family names of China, Hong Kong, Taiwan, Singapore, Malaysia, Korea and Japan,
/// the commonest: a name in Latin letters starting with one (`Tan Wei Ming`, `Kim Min-jun`,
/// `Yamada Taro`) is written family name first, as its language writes it.
const EAST_ASIAN_FAMILY_NAMES: &[&str] = &[
    // Mainland pinyin.
    "wang",
    "li",
    "zhang",
    "liu",
    "chen",
    "yang",
    "huang",
    "zhao",
    "wu",
    "zhou",
    "xu",
    "sun",
    "ma",
    "zhu",
    "hu",
    "guo",
    "he",
    "gao",
    "lin",
    "luo",
    "zheng",
    "liang",
    "xie",
    "song",
    "tang",
    "han",
    "feng",
    "deng",
    "cao",
    "peng",
    "zeng",
    "xiao",
    "tian",
    "dong",
    "pan",
    "yuan",
    "cai",
    "jiang",
    "yu",
    "du",
    "ye",
    "cheng",
    "wei",
    "su",
    "lu",
    "ding",
    "ren",
    "shen",
    "yao",
    "cui",
    "zhong",
    "fan",
    "fang",
    "shi",
    "jin",
    "qian",
    "qin",
    "gu",
    "meng",
    "xiong",
    "bai",
    // Cantonese, Hokkien, Teochew and Hakka spellings (Hong Kong, Singapore, Malaysia).
    "chan",
    "wong",
    "lee",
    "cheung",
    "lau",
    "ng",
    "leung",
    "lam",
    "ho",
    "tse",
    "yip",
    "chow",
    "kwok",
    "lo",
    "lai",
    "mak",
    "chu",
    "fung",
    "yeung",
    "siu",
    "tsang",
    "tam",
    "tan",
    "lim",
    "teo",
    "goh",
    "ong",
    "koh",
    "chua",
    "low",
    "chong",
    "yeo",
    "seah",
    "toh",
    "quek",
    "tay",
    "foo",
    "heng",
    "khoo",
    "loh",
    "neo",
    "phua",
    "wee",
    // Taiwan (Wade-Giles).
    "chang",
    "tsai",
    "hsu",
    "hsieh",
    "kuo",
    "hung",
    "tseng",
    "chiu",
    "liao",
    "chien",
    // Korea.
    "kim",
    "park",
    "choi",
    "jung",
    "jeong",
    "kang",
    "cho",
    "yoon",
    "jang",
    "oh",
    "seo",
    "shin",
    "kwon",
    "hwang",
    "ahn",
    "yoo",
    "hong",
    "jeon",
    "ko",
    "moon",
    "son",
    "bae",
    "baek",
    "heo",
    "nam",
    // Japan.
    "sato",
    "suzuki",
    "takahashi",
    "tanaka",
    "watanabe",
    "ito",
    "yamamoto",
    "nakamura",
    "kobayashi",
    "kato",
    "yoshida",
    "yamada",
    "sasaki",
    "yamaguchi",
    "matsumoto",
    "inoue",
    "kimura",
    "hayashi",
    "shimizu",
    "saito",
];

/// Whether a full name under a header whose language writes the family name first (`姓名`,
/// `ФИО`) is rather an English name, given name first (`John Smith`, `Peter Chan`): written in
/// Latin letters, and not starting with a romanised East Asian family name (`Tan Wei Ming`)
/// or a Russian or Ukrainian one (`Ivanov Ivan`, `Shevchenko Olena`, a patronymic last).
pub(crate) fn written_given_name_first(full: &str) -> bool {
    let mut letters = full.chars().filter(|c| c.is_alphabetic()).peekable();
    let latin = letters.peek().is_some()
        && letters.all(|c| c.is_ascii() || matches!(u32::from(c), 0xC0..=0x24F | 0x1E00..=0x1EFF));
    let words: Vec<String> = (full.split_whitespace())
        .map(|w| crate::latin::folded(w.trim_matches(|c: char| !c.is_alphabetic())))
        .collect();
    let Some(first) = words.first() else {
        return false;
    };
    let slavic_family_name = first.chars().count() > 4
        && [
            "ov", "ova", "ev", "eva", "sky", "skiy", "skii", "skaya", "enko",
        ]
        .iter()
        .any(|end| first.ends_with(end));
    // `Belaya Karina Ivanovna`, where `Karina Ivanovna Belaya` is given name first.
    let patronymic_last = words.len() > 2
        && words.last().is_some_and(|w| {
            ["ovich", "evich", "ovna", "evna", "ivna", "ichna"]
                .iter()
                .any(|end| w.ends_with(end))
        });
    let family = first.split('-').next().unwrap_or(first);
    latin && !slavic_family_name && !patronymic_last && !EAST_ASIAN_FAMILY_NAMES.contains(&family)
}

/// A Spanish full name under a header saying it holds two surnames ("Nombre y apellidos"):
/// `María José García Pérez` as `García Pérez, María José`, for [`split_full_name`]. `None`
/// where a comma, a particle (`de la Cruz`: [`by_words`] splits there) or fewer than three
/// words leave nothing to reorder.
pub(crate) fn with_two_surnames_first(full: &str) -> Option<String> {
    let words: Vec<&str> = full.split_whitespace().collect();
    if full.contains(',') || words.len() < 3 || words.iter().any(|w| is_particle(w)) {
        return None;
    }
    let (given, surnames) = words.split_at(words.len() - 2);
    Some(format!("{}, {}", surnames.join(" "), given.join(" ")))
}

/// "Given Names Family Name" split at the family name's first word: the first particle after
/// the given names, else the last word that is not a suffix.
fn by_words(full: &str) -> (String, Option<String>) {
    let words: Vec<&str> = full.split_whitespace().collect();
    let mut last_start = words.len().saturating_sub(1);
    while last_start > 1 && is_suffix(words[last_start]) {
        last_start -= 1;
    }
    if let Some(particle) = (1..last_start).find(|&i| is_particle(words[i])) {
        last_start = particle;
    }
    match last_start {
        0 => (join(words), None),
        at => (
            join(words[..at].iter().copied()),
            Some(join(words[at..].iter().copied())),
        ),
    }
}

fn join<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    words.into_iter().collect::<Vec<_>>().join(" ")
}

fn bare(word: &str) -> String {
    word.trim_matches('.').to_lowercase()
}

fn is_particle(word: &str) -> bool {
    PARTICLES.contains(&bare(word).as_str())
}

fn is_suffix(word: &str) -> bool {
    SUFFIXES.contains(&bare(word).as_str())
}

fn is_suffix_list(text: &str) -> bool {
    text.split([',', ' '])
        .filter(|w| !w.is_empty())
        .all(is_suffix)
}

#[cfg(test)]
mod tests {
    use super::{split_full_name, title};

    #[test]
    fn titles_before_names_are_told_apart() {
        let cases = [
            ("Mr John Smith", Some(("Mr", "John Smith"))),
            ("Dr. Jane Doe", Some(("Dr.", "Jane Doe"))),
            ("Mr & Mrs John Smith", Some(("Mr & Mrs", "John Smith"))),
            ("Mr. and Mrs. Smith", Some(("Mr. and Mrs.", "Smith"))),
            ("Dott.ssa Anna Rossi", Some(("Dott.ssa", "Anna Rossi"))),
            ("Frau Schmidt", Some(("Frau", "Schmidt"))),
            ("Dr.", None),
            ("Mr", None),
            ("Drew Smith", None),
            ("Misty Day", None),
            ("Ada Lovelace", None),
        ];
        for (full, want) in cases {
            assert_eq!(title(full), want, "{full}");
        }
    }

    #[test]
    fn full_names_split_as_people_write_them() {
        let cases = [
            ("Ada", ("Ada", None)),
            ("Ada Lovelace", ("Ada", Some("Lovelace"))),
            ("Mary  Ann Smith", ("Mary Ann", Some("Smith"))),
            ("Smith, John", ("John", Some("Smith"))),
            ("Smith,John A.", ("John A.", Some("Smith"))),
            ("Bob van der Berg", ("Bob", Some("van der Berg"))),
            ("Ludwig van Beethoven", ("Ludwig", Some("van Beethoven"))),
            ("Da Silva", ("Da", Some("Silva"))),
            (
                "Martin Luther King Jr.",
                ("Martin Luther", Some("King Jr.")),
            ),
            ("John Smith, Jr.", ("John", Some("Smith Jr."))),
            ("Smith, John, Jr.", ("John", Some("Smith Jr."))),
            ("Jane Doe, RN", ("Jane", Some("Doe RN"))),
            ("Acme, Inc.", ("Acme", Some("Inc."))),
            ("Van Morrison", ("Van", Some("Morrison"))),
        ];
        for (full, (first, last)) in cases {
            let (f, l) = split_full_name(full);
            assert_eq!((f.as_str(), l.as_deref()), (first, last), "{full}");
        }
    }
}
