//! Whether what a single-byte code page of another script than Latin's reads is words of that
//! script, or an East Asian code page's characters read a byte at a time: a Chinese list in GBK
//! (`伟,王`) is Windows-1251's `О°,Нх`, which the detector may prefer for a list of short names.
//! Such readings break the rules every word of the script keeps: symbols inside words (`О°`,
//! `Кз·Т`), a capital after a lower-case letter (`єО`, `РгУў`), letters of languages that
//! never meet in one word (Macedonian `ѕ` with a soft sign, `ЅЬ`), no vowel (`Лп`).

/// Whether most words of `text` (its runs of characters beyond ASCII) are spelled as a
/// script's words are ([`spelled`]): three in four or more, abbreviations aside.
pub(crate) fn mostly_words(text: &str) -> bool {
    let words = text
        .split(|c: char| c.is_ascii() || c == '\u{A0}')
        .filter(|word| !word.is_empty() && !abbreviation(word));
    let (all, misspelled) = words.fold((0usize, 0usize), |(all, misspelled), word| {
        (all + 1, misspelled + usize::from(!spelled(word)))
    });
    misspelled * 4 < all.max(1)
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

/// Whether `word` is spelled as a word: its letters of one script, quoted (`«Ромашка»`) or
/// followed by an ellipsis, but no other sign among them (`№` ends a word: `№5`), no capital
/// after a lower-case letter, and in Cyrillic as one language's letters are.
fn spelled(word: &str) -> bool {
    let chars: Vec<char> = word.chars().collect();
    let mut scripts = chars.iter().filter_map(|&c| script(c));
    let Some(first) = scripts.next() else {
        return chars.iter().all(|&c| punctuation(c));
    };
    if !scripts.all(|s| s == first) {
        return false;
    }
    let last = chars.len().saturating_sub(1);
    for (at, &c) in chars.iter().enumerate() {
        let fits = match c {
            _ if script(c).is_some() => true,
            '«' | '„' | '“' | '‘' => at == 0,
            '»' | '”' | '’' | '…' | '№' => at == last,
            _ => punctuation(c),
        };
        if !fits {
            return false;
        }
    }
    let capital_after_lower = chars
        .windows(2)
        .any(|pair| pair[0].is_lowercase() && pair[1].is_uppercase());
    !capital_after_lower && (first != Script::Cyrillic || cyrillic(&chars))
}

/// Signs that stand between words, or apart from them.
fn punctuation(c: char) -> bool {
    matches!(
        c,
        '–' | '—' | '«' | '»' | '„' | '“' | '”' | '‘' | '’' | '…' | '№'
    )
}

/// Whether Cyrillic letters are one language's: Serbian and Macedonian `ђ ј љ њ ћ џ ѕ ѓ ќ`
/// have no `ь ъ ы э ю я ё й щ`, nor Ukrainian and Belarusian `є і ї ґ`; Russian `ы э ъ ё` are
/// not Ukrainian; Belarusian `ў` has no `и щ ъ`. A word of two letters or more has a vowel
/// (abbreviations aside: [`abbreviation`]), and none starts with `ь ъ ы`.
fn cyrillic(chars: &[char]) -> bool {
    let lower: String = chars.iter().flat_map(|c| c.to_lowercase()).collect();
    let has = |letters: &str| lower.chars().any(|c| letters.contains(c));
    let south_slavic = has("ђјљњћџѕѓќ");
    let ukrainian = has("єїґ");
    // Belarusian writes `і` with `ы`, Ukrainian with `и`; none all three.
    let mixed = (south_slavic && (has("ьъыэюяёйщ") || ukrainian || has("і")))
        || (ukrainian && has("ыэъё"))
        || (has("і") && has("ы") && has("и"))
        || (has("ў") && has("ищъ"));
    let letters = || chars.iter().filter(|c| c.is_alphabetic());
    let no_vowel = letters().count() > 1 && !has("аеёиоуыэюяіїє");
    let sign_first = lower.starts_with(['ь', 'ъ', 'ы']);
    !mixed && !no_vowel && !sign_first
}

#[cfg(test)]
mod tests {
    use super::{mostly_words, spelled};

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
            "Ўладзімір",
            "Дзмітрый",
            "Παπαδόπουλος",
            "דוד",
            "محمد",
            "–",
        ];
        for word in words {
            assert!(spelled(word), "{word}");
        }
        // GBK's `伟`, `淑芬`, `何`, `郭`, `刘`, `杰`, `黄`, `海燕`, read in Windows-1251.
        let read_so = ["О°", "Кз·Т", "єО", "№щ", "Лп", "ЅЬ", "»Ж", "єЈСа"];
        for word in read_so {
            assert!(!spelled(word), "{word}");
        }
        assert!(mostly_words("Иван,Петров,+7 916\nОльга,Смирнова"));
        assert!(mostly_words("Иван,Петров,ТЦ Мега"));
        assert!(!mostly_words("О°,ВЮ,1000\nЅЬ,Вн,1001\nКз·Т,єО,1002"));
    }
}
