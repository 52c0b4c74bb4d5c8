//! Whether what a single-byte code page of another script than Latin's reads is words of that
//! script, or an East Asian code page's characters read a byte at a time: a Chinese list in GBK
//! (`伟,王`) is Windows-1251's `О°,Нх`, which the detector may prefer for a list of short names.
//! Such readings break rules every word of the script keeps: no sign inside a word (`О°`,
//! `Кз·Т`), no letters of languages that never meet (Macedonian `ѕ` with a soft sign, `ЅЬ`);
//! and rules most words keep: no capital after a lower-case letter (`єО`, though `СберБанк`
//! and a caps-lock `иВАН` break it too), a vowel (`Лп`, though `кв.` is an abbreviation).

/// How a word keeps the script's rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Spelling {
    Word,
    /// Breaks a rule most words keep.
    Doubtful,
    /// Breaks a rule every word keeps.
    Misspelled,
}

/// Whether `text` (read in a code page of another script than Latin's) is no words: a
/// quarter of its words or more break the script's rules, abbreviations aside, and unless
/// `doubt_enough` (a code page Excel does not save in, which a list is seldom in), one of
/// them a rule every word keeps.
pub(crate) fn no_words(text: &str, doubt_enough: bool) -> bool {
    let words = text
        .split(|c: char| c.is_ascii() || c == '\u{A0}')
        .filter(|word| !word.is_empty() && !abbreviation(word));
    let (mut all, mut doubtful, mut misspelled) = (0usize, 0usize, 0usize);
    for word in words {
        all += 1;
        match spelling(word) {
            Spelling::Word => {}
            Spelling::Doubtful => doubtful += 1,
            Spelling::Misspelled => misspelled += 1,
        }
    }
    all > 0 && (misspelled + doubtful) * 4 >= all && (doubt_enough || misspelled > 0)
}

/// Two or three capitals without a vowel, as Cyrillic abbreviations are (`ТЦ`, `СПб` aside),
/// and as a double-byte character's bytes read too often to tell either way.
fn abbreviation(word: &str) -> bool {
    let letters = word.chars().count();
    (2..=3).contains(&letters)
        && word
            .chars()
            .all(|c| c.is_uppercase() && script(c) == Some(Script::Cyrillic))
        && !word.chars().any(|c| "АЕЁИОУЫЭЮЯІЇЄ".contains(c))
}

/// The scripts single-byte code pages write besides Latin, by their Unicode blocks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Greek,
    Cyrillic,
    Hebrew,
    Arabic,
}

fn script(c: char) -> Option<Script> {
    Some(match u32::from(c) {
        0xC0..=0x24F => Script::Latin,
        0x370..=0x3FF => Script::Greek,
        0x400..=0x4FF => Script::Cyrillic,
        0x590..=0x5FF => Script::Hebrew,
        0x600..=0x6FF => Script::Arabic,
        _ => return None,
    })
}

/// How `word` keeps the rules: its letters of one script, quoted (`«Ромашка»`), with an
/// apostrophe (`Мар’яна`) or followed by an ellipsis, but no other sign among them (`№` ends
/// a word: `№5`), and in Cyrillic as one language's letters are; doubtful with a capital
/// after a lower-case letter.
fn spelling(word: &str) -> Spelling {
    let chars: Vec<char> = word.chars().collect();
    let mut scripts = chars.iter().filter_map(|&c| script(c));
    let Some(first) = scripts.next() else {
        return match chars.iter().all(|&c| punctuation(c)) {
            true => Spelling::Word,
            false => Spelling::Misspelled,
        };
    };
    let last = chars.len().saturating_sub(1);
    let signs_fit = chars.iter().enumerate().all(|(at, &c)| match c {
        _ if script(c).is_some() => true,
        '«' | '„' | '“' | '‘' => at == 0,
        '»' | '”' | '…' | '№' => at == last,
        _ => punctuation(c),
    });
    if !scripts.all(|s| s == first) || !signs_fit {
        return Spelling::Misspelled;
    }
    let cyrillic = match first {
        Script::Cyrillic => cyrillic(&chars),
        _ => Spelling::Word,
    };
    let capital_after_lower = chars
        .windows(2)
        .any(|pair| pair[0].is_lowercase() && pair[1].is_uppercase());
    match cyrillic {
        Spelling::Word if capital_after_lower => Spelling::Doubtful,
        spelling => spelling,
    }
}

/// Signs that stand between words, or apart from them.
fn punctuation(c: char) -> bool {
    matches!(
        c,
        '–' | '—' | '«' | '»' | '„' | '“' | '”' | '‘' | '’' | '…' | '№'
    )
}

/// How Cyrillic letters keep one language's rules: Serbian and Macedonian `ђ ј љ њ ћ џ ѕ ѓ ќ`
/// have no `ь ъ ы э ю я ё й щ`, nor Ukrainian and Belarusian `є і ї ґ`; Russian `ы э ъ ё` are
/// not Ukrainian; Belarusian `ў` has no `и щ ъ`; no word starts with `ь ъ ы`. Doubtful: a
/// word of two letters or more without a vowel (`кв.`, `шт.`; [`abbreviation`]s aside).
fn cyrillic(chars: &[char]) -> Spelling {
    let lower: String = chars.iter().flat_map(|c| c.to_lowercase()).collect();
    let has = |letters: &str| lower.chars().any(|c| letters.contains(c));
    let south_slavic = has("ђјљњћџѕѓќ");
    let ukrainian = has("єїґ");
    // Belarusian writes `і` with `ы`, Ukrainian with `и`; none all three.
    let mixed = (south_slavic && (has("ьъыэюяёйщ") || ukrainian || has("і")))
        || (ukrainian && has("ыэъё"))
        || (has("і") && has("ы") && has("и"))
        || (has("ў") && has("ищъ"));
    let letters = chars.iter().filter(|c| c.is_alphabetic()).count();
    if mixed || lower.starts_with(['ь', 'ъ', 'ы']) {
        Spelling::Misspelled
    } else if letters > 1 && !has("аеёиоуыэюяіїє") {
        Spelling::Doubtful
    } else {
        Spelling::Word
    }
}

#[cfg(test)]
mod tests {
    use super::{Spelling, no_words, spelling};

    #[test]
    fn words_of_a_script_are_spelled_so_and_double_byte_text_is_not() {
        let words = [
            "Иван",
            "ПЕТРОВ",
            "Петербург",
            "«Ромашка»",
            "№",
            "Јовановић",
            "Київ",
            "Мар’яна",
            "Ўладзімір",
            "Дзмітрый",
            "Παπαδόπουλος",
            "דוד",
            "محمد",
            "–",
        ];
        for word in words {
            assert!(spelling(word) == Spelling::Word, "{word}");
        }
        let doubtful = ["СберБанк", "иВАН", "кв", "ГБДД"];
        for word in doubtful {
            assert!(spelling(word) == Spelling::Doubtful, "{word}");
        }
        // GBK's `伟`, `淑芬`, `郭`, `杰`, `黄`, `海燕`, read in Windows-1251.
        let misspelled = ["О°", "Кз·Т", "№щ", "ЅЬ", "»Ж", "єЈСа"];
        for word in misspelled {
            assert!(spelling(word) == Spelling::Misspelled, "{word}");
        }
        assert!(!no_words("Иван,Петров,+7 916\nОльга,Смирнова", false));
        assert!(!no_words("Иван,Петров,ТЦ Мега", false));
        assert!(!no_words("Иван,Власов,СберБанк,кв. 12", false));
        assert!(no_words("Иван,Власов,СберБанк,кв. 12", true));
        assert!(no_words("О°,ВЮ,1000\nЅЬ,Вн,1001\nКз·Т,єО,1002", false));
    }
}
