//! URL slugs made from titles and names. The transliteration of accented Latin letters comes
//! from `deunicode`; what this module decides is the shape of a slug and which characters
//! may contribute to one.

/// The longest slug we make (no link needs more, and titles can be long).
const MAX_SLUG_LEN: usize = 80;

/// A URL slug from a title: lower-case ASCII letters and digits separated by single dashes.
/// Latin letters lose their accents (`Amélie` -> `amelie`); apostrophes vanish
/// (`Don't` -> `dont`); anything else is a separator. Other scripts are left out rather
/// than romanised: a transliteration guesses at a spelling (बाहुबली would become
/// `baahubalii`, not the film's own `baahubali`), and a wrong slug is worse than none.
pub fn slugify(title: &str) -> String {
    let mut slug = String::with_capacity(title.len());
    let mut dash = false;
    let mut buf = [0; 4];
    for c in title.chars() {
        if c == '\'' || c == '’' {
            continue;
        }
        let ascii = if c.is_ascii() {
            &*c.encode_utf8(&mut buf)
        } else {
            latin_ascii(c)
        };
        for c in ascii.chars().map(|c| c.to_ascii_lowercase()) {
            if c.is_ascii_alphanumeric() {
                if dash && !slug.is_empty() {
                    slug.push('-');
                }
                dash = false;
                slug.push(c);
            } else {
                dash = true;
            }
        }
        if slug.len() >= MAX_SLUG_LEN {
            break;
        }
    }
    slug
}

/// The ASCII spelling of a non-ASCII Latin letter (`é` -> `e`, `ß` -> `ss`); any other
/// character becomes a separator.
fn latin_ascii(c: char) -> &'static str {
    // Latin-1 Supplement through Latin Extended-B, and Latin Extended Additional.
    let latin = matches!(c, '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}');
    match deunicode::deunicode_char(c) {
        Some(ascii) if latin && c.is_alphabetic() => ascii,
        _ => " ",
    }
}

/// A slug as it arrives in a URL or a form, checked once at the edge: lower-case ASCII
/// letters and digits in dash-separated runs, as `slugify` makes them (plus the `-2`
/// suffixes that keep slugs unique). Anything else cannot name a movie or a city, so the
/// lookups that take a `Slug` never see it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

/// Longest accepted: `MAX_SLUG_LEN` plus room for a uniqueness suffix.
const MAX_PARSED_SLUG_LEN: usize = MAX_SLUG_LEN + 20;

impl Slug {
    /// The slug if `text` is shaped like one, else `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let shaped = !text.is_empty()
            && text.len() <= MAX_PARSED_SLUG_LEN
            && text.split('-').all(|run| {
                !run.is_empty()
                    && run
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        shaped.then(|| Slug(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Slug {
    type Err = crate::domain::ids::NotAnId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Slug::parse(text).ok_or(crate::domain::ids::NotAnId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_slug_shaped_text_parses_as_a_slug() {
        for good in ["mumbai", "the-matrix-2", "1917"] {
            assert_eq!(Slug::parse(good).map(|s| s.0), Some(good.to_owned()));
        }
        for bad in ["", "-a", "a-", "a--b", "Mumbai", "a b", "a\0", "x%00", "é"] {
            assert_eq!(Slug::parse(bad), None, "{bad:?}");
        }
        assert_eq!(Slug::parse(&"a".repeat(101)), None);
    }

    #[test]
    fn slugs_are_lower_case_words_joined_by_dashes() {
        assert_eq!(slugify("The Dark Knight"), "the-dark-knight");
        assert_eq!(slugify("  K.G.F: Chapter 2!! "), "k-g-f-chapter-2");
        assert_eq!(slugify("Don't Look Up"), "dont-look-up");
        assert_eq!(slugify("Amélie"), "amelie");
        assert_eq!(slugify("बाहुबली"), "");
    }
}
