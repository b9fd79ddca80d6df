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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lower_case_words_joined_by_dashes() {
        assert_eq!(slugify("The Dark Knight"), "the-dark-knight");
        assert_eq!(slugify("  K.G.F: Chapter 2!! "), "k-g-f-chapter-2");
        assert_eq!(slugify("Don't Look Up"), "dont-look-up");
        assert_eq!(slugify("Amélie"), "amelie");
        assert_eq!(slugify("बाहुबली"), "");
    }
}
