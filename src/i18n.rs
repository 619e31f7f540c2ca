//! Country codes (ISO 3166-1 alpha-2) and language tags (BCP 47), parsed at the edge.

use std::fmt;

/// Every officially assigned ISO 3166-1 alpha-2 code.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ \
BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ \
DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT \
GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY \
KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX \
MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS \
RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN \
TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// An ISO 3166-1 alpha-2 country code, upper-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryCode(String);

impl CountryCode {
    /// Parses a client's value for `field`; the one place its error is worded.
    pub fn parse_field(field: &'static str, input: &str) -> crate::error::AppResult<Self> {
        Self::parse(input).ok_or_else(|| {
            crate::error::AppError::invalid(field, "country must be an ISO 3166-1 alpha-2 code")
        })
    }

    /// Accepts any case; rejects codes that ISO 3166-1 does not assign.
    pub fn parse(input: &str) -> Option<Self> {
        let code = input.trim().to_ascii_uppercase();
        (code.len() == 2 && COUNTRIES.split_ascii_whitespace().any(|c| c == code))
            .then_some(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A well-formed BCP 47 language tag in canonical case (`mn`, `en-GB`, `mn-Cyrl-MN`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageTag(String);

impl LanguageTag {
    /// Parses a client's value for `field`; the one place its error is worded.
    pub fn parse_field(field: &'static str, input: &str) -> crate::error::AppResult<Self> {
        Self::parse(input).ok_or_else(|| {
            crate::error::AppError::invalid(field, "language must be a BCP 47 tag such as mn or en")
        })
    }

    /// Checks the shape `language[-script][-region][-variant...]`; private-use and
    /// grandfathered tags are refused because no client needs them here.
    pub fn parse(input: &str) -> Option<Self> {
        let input = input.trim();
        if input.is_empty() || input.len() > 35 {
            return None;
        }
        let mut parts = input.split(['-', '_']);
        let language = parts.next()?;
        if !(2..=3).contains(&language.len()) || !language.chars().all(|c| c.is_ascii_alphabetic())
        {
            return None;
        }
        let mut out = language.to_ascii_lowercase();
        for part in parts {
            let ok = match part.len() {
                4 if part.chars().all(|c| c.is_ascii_alphabetic()) => {
                    let mut chars = part.chars();
                    let first = chars.next()?.to_ascii_uppercase();
                    out.push('-');
                    out.push(first);
                    out.push_str(&chars.as_str().to_ascii_lowercase());
                    continue;
                }
                2 if part.chars().all(|c| c.is_ascii_alphabetic()) => true,
                3 if part.chars().all(|c| c.is_ascii_digit()) => true,
                5..=8 if part.chars().all(|c| c.is_ascii_alphanumeric()) => true,
                _ => false,
            };
            if !ok {
                return None;
            }
            out.push('-');
            if part.len() == 2 {
                out.push_str(&part.to_ascii_uppercase());
            } else {
                out.push_str(&part.to_ascii_lowercase());
            }
        }
        Some(Self(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Language tags from an `Accept-Language` header, best first; `*` and q=0 are dropped.
pub fn parse_accept_language(header: &str) -> Vec<String> {
    let mut tags: Vec<(f32, usize, String)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, item)| {
            let mut parts = item.split(';');
            let tag = LanguageTag::parse(parts.next()?)?;
            let q = parts
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            (q > 0.0).then_some((q, i, tag.0))
        })
        .collect();
    tags.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    tags.into_iter().map(|(_, _, tag)| tag).collect()
}

/// Chooses which of the `available` languages to show: the first requested one that is
/// available (exactly, or by primary language: `en-GB` takes `en`), else the shop's default,
/// else English, else whatever there is.
pub fn pick_language<'a>(
    available: &[&'a str],
    requested: &[String],
    shop_default: &str,
) -> Option<&'a str> {
    let primary = |tag: &str| tag.split('-').next().unwrap_or(tag).to_owned();
    for want in requested {
        if let Some(hit) = available.iter().find(|a| a.eq_ignore_ascii_case(want)) {
            return Some(hit);
        }
        if let Some(hit) = available.iter().find(|a| primary(a) == primary(want)) {
            return Some(hit);
        }
    }
    for fallback in [shop_default, "en"] {
        if let Some(hit) = available.iter().find(|a| primary(a) == primary(fallback)) {
            return Some(hit);
        }
    }
    available.first().copied()
}

/// Mongolian Cyrillic written in Latin letters the way buyers type it: `дээл` -> `deel`,
/// `гэр` -> `ger`, `хөөмий` -> `khoomii`. Other characters pass through unchanged.
#[rustfmt::skip]
pub fn transliterate(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let lower = c.to_lowercase().next().unwrap_or(c);
        let latin = match lower {
            'а' => "a", 'б' => "b", 'в' => "v", 'г' => "g", 'д' => "d", 'е' => "ye",
            'ё' => "yo", 'ж' => "j", 'з' => "z", 'и' => "i", 'й' => "i", 'к' => "k",
            'л' => "l", 'м' => "m", 'н' => "n", 'о' => "o", 'ө' => "o", 'п' => "p",
            'р' => "r", 'с' => "s", 'т' => "t", 'у' => "u", 'ү' => "u", 'ф' => "f",
            'х' => "kh", 'ц' => "ts", 'ч' => "ch", 'ш' => "sh", 'щ' => "sh", 'ъ' => "",
            'ы' => "y", 'ь' => "i", 'э' => "e", 'ю' => "yu", 'я' => "ya",
            _ => {
                out.push(lower);
                continue;
            }
        };
        out.push_str(latin);
    }
    out
}

/// Whether the text has any Cyrillic letter.
pub fn has_cyrillic(text: &str) -> bool {
    text.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_orders_by_quality() {
        assert_eq!(
            parse_accept_language("de-DE,de;q=0.9,en;q=0.8"),
            ["de-DE", "de", "en"]
        );
        assert_eq!(parse_accept_language("en;q=0.5, mn"), ["mn", "en"]);
        assert_eq!(parse_accept_language("*, fr;q=0"), Vec::<String>::new());
    }

    #[test]
    fn picks_requested_then_shop_default_then_english() {
        let available = ["mn", "en"];
        assert_eq!(
            pick_language(&available, &["en-GB".into()], "mn"),
            Some("en")
        );
        assert_eq!(pick_language(&available, &["de".into()], "mn"), Some("mn"));
        assert_eq!(
            pick_language(&["en", "ja"], &["de".into()], "mn"),
            Some("en")
        );
        assert_eq!(pick_language(&["ja"], &[], "mn"), Some("ja"));
        assert_eq!(pick_language(&[], &[], "mn"), None);
    }

    #[test]
    fn transliterates_mongolian_cyrillic() {
        assert_eq!(transliterate("Дээл"), "deel");
        assert_eq!(transliterate("гэр"), "ger");
        assert_eq!(transliterate("Морин хуур"), "morin khuur");
        assert_eq!(transliterate("Өлгий"), "olgii");
        assert!(has_cyrillic("эсгий felt"));
        assert!(!has_cyrillic("felt"));
    }

    #[test]
    fn countries() {
        assert_eq!(CountryCode::parse("mn").map(|c| c.0), Some("MN".into()));
        assert_eq!(CountryCode::parse(" DE ").map(|c| c.0), Some("DE".into()));
        assert!(CountryCode::parse("XX").is_none());
        assert!(CountryCode::parse("MNG").is_none());
        assert!(CountryCode::parse("").is_none());
    }

    #[test]
    fn language_tags() {
        let tag = |s: &str| LanguageTag::parse(s).map(|t| t.0);
        assert_eq!(tag("mn"), Some("mn".into()));
        assert_eq!(tag("EN-gb"), Some("en-GB".into()));
        assert_eq!(tag("mn-cyrl-MN"), Some("mn-Cyrl-MN".into()));
        assert_eq!(tag("zh_Hant_TW"), Some("zh-Hant-TW".into()));
        assert_eq!(tag("es-419"), Some("es-419".into()));
        assert!(tag("e").is_none());
        assert!(tag("english").is_none());
        assert!(tag("en-").is_none());
        assert!(tag("en--GB").is_none());
    }
}
