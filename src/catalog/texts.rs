//! Short texts kept per language in one JSON column (`{"mn": "...", "en": "..."}`), and the
//! checks every translated input goes through.

use std::collections::BTreeMap;

use crate::{
    error::{AppError, AppResult},
    i18n::{LanguageTag, pick_language},
};

/// Text per BCP 47 language tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Texts(pub BTreeMap<String, String>);

impl Texts {
    /// Reads a stored column; unreadable content counts as empty rather than failing a page.
    pub fn from_json(json: &str) -> Self {
        Self(serde_json::from_str(json).unwrap_or_default())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".into())
    }

    /// Validated texts from `(language, text)` pairs: tags must parse, appear once, and each
    /// text must be within `max` characters (empty texts are dropped).
    pub fn from_input(
        field: &'static str,
        pairs: impl IntoIterator<Item = (String, String)>,
        max: usize,
    ) -> AppResult<Self> {
        let mut map = BTreeMap::new();
        for (language, text) in pairs {
            let tag = LanguageTag::parse(&language).ok_or_else(|| {
                AppError::invalid(field, format!("{language:?} is not a BCP 47 language tag"))
            })?;
            let text = text.trim().to_owned();
            if text.chars().count() > max {
                return Err(AppError::invalid(
                    field,
                    format!("texts must be at most {max} characters"),
                ));
            }
            if text.is_empty() {
                continue;
            }
            if map.insert(tag.as_str().to_owned(), text).is_some() {
                return Err(AppError::invalid(
                    field,
                    format!("{language} is given twice"),
                ));
            }
        }
        Ok(Self(map))
    }

    /// The text in the best language for the reader, with that language.
    pub fn pick(&self, requested: &[String], default_language: &str) -> Option<(&str, &str)> {
        let available: Vec<&str> = self.0.keys().map(String::as_str).collect();
        let language = pick_language(&available, requested, default_language)?;
        self.0.get(language).map(|text| (language, text.as_str()))
    }

    /// Every text, for the search index.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        self.0.values().map(String::as_str)
    }
}

/// The form slugs are stored and looked up in.
pub fn slug_key(input: &str) -> String {
    input.trim().to_ascii_lowercase()
}

/// A URL-safe identifier: 2 to `max` lower-case letters, digits and single hyphens.
pub fn slug(field: &'static str, input: &str, max: usize) -> AppResult<String> {
    let slug = slug_key(input);
    let ok = (2..=max).contains(&slug.len())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--");
    if ok {
        Ok(slug)
    } else {
        Err(AppError::invalid(
            field,
            format!("use 2 to {max} lower-case letters, digits and hyphens"),
        ))
    }
}

/// A required single-line text of 1 to `max` characters.
pub fn required(field: &'static str, input: &str, max: usize) -> AppResult<String> {
    let text = input.trim();
    if text.is_empty() || text.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_validate_and_pick() {
        let texts = Texts::from_input(
            "story",
            [
                ("MN".to_string(), "Эсгий".to_string()),
                ("en".into(), "Felt".into()),
            ],
            100,
        )
        .expect("valid");
        assert_eq!(texts.pick(&["en-US".into()], "mn"), Some(("en", "Felt")));
        assert_eq!(texts.pick(&[], "mn"), Some(("mn", "Эсгий")));
        assert_eq!(Texts::from_json(&texts.to_json()), texts);
        assert!(Texts::from_input("story", [("xx-".to_string(), "a".to_string())], 10).is_err());
        assert!(
            Texts::from_input("story", [("en".to_string(), "toolong".to_string())], 3).is_err()
        );
    }

    #[test]
    fn slugs() {
        assert_eq!(
            slug("slug", "Altai-Felt", 64).ok(),
            Some("altai-felt".into())
        );
        for bad in ["a", "-x", "x-", "a--b", "сайн", "a b"] {
            assert!(slug("slug", bad, 64).is_err(), "{bad}");
        }
    }
}
