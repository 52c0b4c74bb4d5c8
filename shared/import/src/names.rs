//! Splitting a full-name column into first and last names, for greetings ("Hi {{first_name}}")
//! and sorting by last name. Exports write names as "First Last", "First Middle Last",
//! "Last, First" or with a family-name particle ("Ludwig van Beethoven").

/// Words that start a family name when they follow the given names.
const PARTICLES: [&str; 20] = [
    "van", "von", "de", "der", "den", "del", "della", "di", "da", "du", "la", "le", "dos", "das",
    "do", "ten", "ter", "bin", "ibn", "al",
];
/// Words that end a family name rather than being one.
const SUFFIXES: [&str; 9] = ["jr", "sr", "ii", "iii", "iv", "v", "phd", "md", "esq"];

/// The first and last names in `full` (trimmed, not empty). One word is a first name. "Last,
/// First" is read as such unless what follows the comma is a suffix ("Smith, Jr.").
pub(crate) fn split_full_name(full: &str) -> (String, Option<String>) {
    if let Some((before, after)) = full.split_once(',') {
        let (before, after) = (before.trim(), after.trim());
        if !before.is_empty() && !after.is_empty() && !is_suffix_list(after) {
            return (
                join(after.split_whitespace()),
                Some(join(before.split_whitespace())),
            );
        }
    }
    let words: Vec<&str> = full
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    // The family name's first word: the first particle after the given names, else the last
    // word that is not a suffix.
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
    use super::split_full_name;

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
            ("Van Morrison", ("Van", Some("Morrison"))),
        ];
        for (full, (first, last)) in cases {
            let (f, l) = split_full_name(full);
            assert_eq!((f.as_str(), l.as_deref()), (first, last), "{full}");
        }
    }
}
