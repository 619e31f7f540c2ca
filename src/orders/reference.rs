//! Bank-transfer payment references such as `DK-7F3K9Q`: short enough to type into a banking
//! app, with no look-alike characters (no 0/O, 1/I) and a check character, so a mistyped
//! reference is caught instead of matching another buyer's order.

use rand::Rng;

/// 32 symbols: digits 2–9 and the letters without I and O.
const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
const PREFIX: &str = "DK-";
const BODY: usize = 5;

fn value(c: u8) -> Option<usize> {
    ALPHABET.iter().position(|&a| a == c)
}

/// The Luhn mod N check character of `body`: it catches every single wrong character and
/// every swap of two neighbours but `2`↔`Z` (the algorithm's one blind pair).
fn check_char(body: &[u8]) -> Option<u8> {
    let n = ALPHABET.len();
    let mut sum = 0;
    for (i, &c) in body.iter().rev().enumerate() {
        let mut v = value(c)?;
        if i % 2 == 0 {
            v *= 2;
            v = v / n + v % n;
        }
        sum += v;
    }
    Some(ALPHABET[(n - sum % n) % n])
}

/// A new random reference.
pub fn generate() -> String {
    let mut rng = rand::rng();
    let body: Vec<u8> = (0..BODY)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())])
        .collect();
    let check = check_char(&body).unwrap_or(ALPHABET[0]);
    let mut out = String::with_capacity(PREFIX.len() + BODY + 1);
    out.push_str(PREFIX);
    out.extend(body.iter().map(|&b| b as char));
    out.push(check as char);
    out
}

/// The canonical form of what a person typed (any case, spaces, dashes, the prefix or not),
/// or `None` when it cannot be a reference or its check character is wrong.
pub fn parse(input: &str) -> Option<String> {
    let cleaned: Vec<u8> = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect::<String>()
        .into_bytes();
    // "DK" is a prefix only when the rest is a whole reference: a body may begin with DK.
    let rest = match cleaned.strip_prefix(b"DK") {
        Some(rest) if rest.len() == BODY + 1 => rest,
        _ => &cleaned[..],
    };
    if rest.len() != BODY + 1 {
        return None;
    }
    let (body, check) = rest.split_at(BODY);
    (check_char(body)? == check[0]).then(|| {
        let mut out = String::from(PREFIX);
        out.extend(rest.iter().map(|&b| b as char));
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_references_parse_back_in_any_spelling() {
        for _ in 0..200 {
            let r = generate();
            assert_eq!(r.len(), 9);
            assert_eq!(parse(&r).as_deref(), Some(r.as_str()));
            assert_eq!(parse(&r.to_lowercase()).as_deref(), Some(r.as_str()));
            assert_eq!(parse(&r[3..]).as_deref(), Some(r.as_str()));
            assert_eq!(
                parse(&format!(" dk {} ", &r[3..])).as_deref(),
                Some(r.as_str())
            );
        }
    }

    #[test]
    fn one_wrong_character_or_a_swap_is_caught() {
        let r = generate();
        let body: Vec<u8> = r[3..].bytes().collect();
        for i in 0..body.len() {
            for &c in ALPHABET {
                if c != body[i] {
                    let mut typo = body.clone();
                    typo[i] = c;
                    assert!(parse(std::str::from_utf8(&typo).unwrap_or("")).is_none());
                }
            }
        }
        for i in 0..body.len() - 1 {
            let blind = [body[i], body[i + 1]] == *b"2Z" || [body[i], body[i + 1]] == *b"Z2";
            if body[i] != body[i + 1] && !blind {
                let mut swapped = body.clone();
                swapped.swap(i, i + 1);
                assert!(parse(std::str::from_utf8(&swapped).unwrap_or("")).is_none());
            }
        }
    }

    #[test]
    fn look_alikes_and_wrong_lengths_are_refused() {
        assert!(parse("DK-0O1I2Q").is_none());
        assert!(parse("DK-ABC").is_none());
        assert!(parse("").is_none());
    }
}
