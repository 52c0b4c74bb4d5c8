//! Whether text is spelled as Thai is: Thai writes its vowels and tone marks around the
//! consonant they belong to, in an order its input methods enforce, which another code page's
//! bytes read in Windows-874 seldom keep (a Chinese `王伟` in GBK is `อ๕ฮฐ`, a Russian `Иван`
//! in Windows-1251 `ศโเํ`).

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Consonant,
    /// `เ แ โ ใ ไ`: written before the consonant they follow in speech.
    LeadingVowel,
    /// Above and below the consonant (`ั ิ ี ึ ื ุ ู ฺ ็`).
    MarkVowel,
    /// Tone marks and other signs above the consonant or its vowel (`่ ้ ๊ ๋ ์ ํ ๎`).
    Tone,
    /// After the consonant (`ะ า ำ ๅ`).
    FollowingVowel,
    /// `ฯ ๆ ฿`: abbreviation, repetition, currency.
    Sign,
    Digit,
}

/// Thai's characters but the obsolete and Pali ones (`ฃ ฅ ฺ ํ ๎ ๏ ๚ ๛`), which a list of names
/// does not hold and other code pages' bytes read as.
fn class(c: char) -> Option<Class> {
    Some(match u32::from(c) {
        0xE03 | 0xE05 => return None,
        0xE01..=0xE2E => Class::Consonant,
        0xE40..=0xE44 => Class::LeadingVowel,
        0xE31 | 0xE34..=0xE39 | 0xE47 => Class::MarkVowel,
        0xE48..=0xE4C => Class::Tone,
        0xE30 | 0xE32 | 0xE33 | 0xE45 => Class::FollowingVowel,
        0xE2F | 0xE3F | 0xE46 => Class::Sign,
        0xE50..=0xE59 => Class::Digit,
        _ => return None,
    })
}

/// Whether `c` is one of Thai's vowels.
pub(crate) fn vowel(c: char) -> bool {
    matches!(
        class(c),
        Some(Class::LeadingVowel | Class::MarkVowel | Class::FollowingVowel)
    )
}

/// Whether `run`, characters between ASCII ones, is Thai spelled as Thai is: each vowel or
/// mark after what it may follow, a leading vowel before a consonant, digits apart from
/// letters; `ฯ` (an abbreviation's mark) ends a word, but in `ฯลฯ`; `฿` stands before a
/// number; `ๅ` lengthens only `ฤ` and `ฦ`.
pub(crate) fn spelled(run: &str) -> bool {
    use Class::*;
    let mut before: Option<Class> = None;
    let mut previous = None::<char>;
    // `ั` and `ึ` stand before a final consonant, a tone mark aside.
    let mut final_to_come = false;
    let mut vowel_due = false;
    for c in run.chars() {
        let misplaced = match previous {
            Some('ฯ') => c != 'ล',
            Some('฿') => !matches!(class(c), Some(Digit)),
            _ => c == 'ๅ' && !matches!(previous, Some('ฤ' | 'ฦ')),
        };
        // `ฮ` starts a syllable: its vowel stands before it or follows (`อ ว ย` stand for
        // vowels: `ฮอนด้า`, `ฮวง`).
        let vowel_missing = vowel_due
            && !matches!(class(c), Some(MarkVowel | Tone | FollowingVowel))
            && !"อวย".contains(c);
        if misplaced
            || vowel_missing
            || (final_to_come && !matches!(class(c), Some(Consonant | Tone)))
        {
            return false;
        }
        vowel_due = c == 'ฮ' && before != Some(LeadingVowel);
        final_to_come = matches!(c, 'ั' | 'ึ') || (final_to_come && class(c) == Some(Tone));
        previous = Some(c);
        let Some(this) = class(c) else {
            return false;
        };
        let fits = match this {
            Consonant => !matches!(before, Some(Digit)),
            LeadingVowel => !matches!(before, Some(LeadingVowel | Digit)),
            MarkVowel => before == Some(Consonant),
            Tone => matches!(before, Some(Consonant | MarkVowel)),
            FollowingVowel => matches!(before, Some(Consonant | MarkVowel | Tone)),
            Sign => before != Some(LeadingVowel),
            Digit => matches!(before, None | Some(Digit | Sign)),
        };
        if !fits {
            return false;
        }
        before = Some(this);
    }
    // Thai ends no syllable with `ฉ ฌ ผ ฝ ห ฮ` (EUC-KR's `할인` reads `วาภฮ`).
    before != Some(LeadingVowel)
        && !final_to_come
        && !previous.is_some_and(|c| "ฉฌผฝหฮ".contains(c))
}

#[cfg(test)]
mod tests {
    use super::spelled;

    #[test]
    fn thai_words_are_spelled_so_and_other_bytes_are_not() {
        let words = [
            "รถ",
            "รุ่นใหม่",
            "สาขา",
            "ไปๆ",
            "น้ำ",
            "กำลัง",
            "เพจ",
            "ศิริพร",
            "๒๕๖๗",
            "กรุงเทพฯ",
            "ฯลฯ",
            "฿๑๐๐",
            "ฤๅษี",
            "ฮอนด้า",
            "ฮวง",
            "ฮ่องกง",
            "ตัว",
            "ซึ่ง",
            "กั้น",
            "ผม",
            "ฉลาด",
            "เฮง",
            "โฮม",
        ];
        for word in words {
            assert!(spelled(word), "{word}");
        }
        // GBK `王伟`, Windows-1251 `Иван`, EUC-KR `하은` and `고객`, a vowel first, a leading
        // vowel last, a digit after a letter, Pali marks, `ๅ` after another consonant.
        let bytes = [
            "อ๕ฮฐ",
            "ศโเํ",
            "วฯภบ",
            "ฐํฐด",
            "ิก",
            "กเ",
            "ก๕",
            "นฺ",
            "กๅ",
            "฿ก",
            // EUC-KR `할인`, `민준` and `한`, GBK `林`: no syllable ends with `ฮ`, which a
            // vowel follows, nor with `ั` or `ึ`.
            "วาภฮ",
            "นฮมุ",
            "วั",
            "มึ",
        ];
        for bytes in bytes {
            assert!(!spelled(bytes), "{bytes}");
        }
    }
}
