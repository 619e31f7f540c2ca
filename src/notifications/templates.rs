//! The message templates (minijinja), compiled into the binary: the words per language in
//! `templates/{lang}.j2`, the structure in `layout.txt` and `layout.html` (HTML-escaped).

use std::sync::LazyLock;

use minijinja::{Environment, Value, value::Serde};
use serde_json::json;

use crate::outbox::Kind;

/// Languages messages are written in; any other reads English.
pub const LANGUAGES: [&str; 2] = ["en", "mn"];

const LABELS: [&str; 19] = [
    "greeting",
    "order",
    "quantity",
    "subtotal",
    "shipping",
    "total",
    "ship_to",
    "shop",
    "bank",
    "bank_name",
    "holder",
    "account",
    "reference",
    "amount",
    "pay_by",
    "tracking",
    "footer",
    "unsubscribe",
    "action",
];

const SOURCES: [(&str, &str); 4] = [
    ("en.j2", include_str!("templates/en.j2")),
    ("mn.j2", include_str!("templates/mn.j2")),
    ("layout.txt", include_str!("templates/layout.txt")),
    ("layout.html", include_str!("templates/layout.html")),
];

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| environment(SOURCES));

fn environment(sources: [(&'static str, &'static str); 4]) -> Environment<'static> {
    let mut env = Environment::new();
    env.add_filter("url", url_filter);
    for (name, source) in sources {
        // The sources are compiled in and checked by the unit tests below.
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "a message template does not parse");
        }
    }
    env
}

/// A URL for an HTML attribute: escaped for HTML (quotes, `<`, `&`), but with its slashes
/// left alone, which minijinja's general escaping would turn into entities.
fn url_filter(value: String) -> Value {
    let escaped = value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    Value::from_safe_string(escaped)
}

/// A message ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The language it was written in (English when the recipient's failed).
    pub language: &'static str,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The language messages to a reader of `tag` are written in.
pub fn language_for(tag: &str) -> &'static str {
    let primary = tag
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    LANGUAGES
        .into_iter()
        .find(|l| *l == primary)
        .unwrap_or("en")
}

/// Renders `kind` in `language`; a template error there is logged and the English message
/// goes instead, so a broken translation never loses a message.
pub fn render(
    kind: Kind,
    language: &'static str,
    context: &serde_json::Value,
) -> Result<Rendered, String> {
    render_with(&ENV, kind, language, context)
}

fn render_with(
    env: &Environment<'static>,
    kind: Kind,
    language: &'static str,
    context: &serde_json::Value,
) -> Result<Rendered, String> {
    match render_in(env, kind, language, context) {
        Ok(r) => Ok(r),
        Err(e) if language != "en" => {
            tracing::error!(kind = kind.as_str(), language, error = %e, "template failed; sending English");
            render_in(env, kind, "en", context).map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    }
}

fn render_in(
    env: &Environment<'static>,
    kind: Kind,
    language: &'static str,
    context: &serde_json::Value,
) -> Result<Rendered, minijinja::Error> {
    let words = env.get_template(&format!("{language}.j2"))?;
    let mut captured = words.render_captured(Value::from(Serde(context)))?;
    let k = kind.as_str();
    let (subject, body, labels) = captured.with_state_mut(|state| {
        let subject = one_line(&state.render_block(&format!("{k}_subject"))?);
        let body = state.render_block(&format!("{k}_body"))?.trim().to_owned();
        let mut labels = serde_json::Map::new();
        for label in LABELS {
            let block = if label == "action" {
                format!("{k}_action")
            } else {
                format!("label_{label}")
            };
            labels.insert(label.into(), state.render_block(&block)?.trim().into());
        }
        Ok::<_, minijinja::Error>((subject, body, labels))
    })?;
    let paragraphs: Vec<String> = body
        .split("\n\n")
        .map(|p| p.trim().replace('\n', " "))
        .filter(|p| !p.is_empty())
        .collect();
    let mut outer = context.clone();
    if let Some(map) = outer.as_object_mut() {
        map.insert("labels".into(), labels.into());
        map.insert("body".into(), body.clone().into());
        map.insert("paragraphs".into(), json!(paragraphs));
        map.insert("subject".into(), subject.clone().into());
        map.insert("lang".into(), language.into());
        map.insert("kind".into(), k.into());
    }
    let outer = Value::from(Serde(&outer));
    let text = env.get_template("layout.txt")?.render(&outer)?;
    let html = env.get_template("layout.html")?.render(&outer)?;
    Ok(Rendered {
        language,
        subject,
        text: tidy(&text),
        html,
    })
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most one blank line in a row: the text layout's conditionals leave gaps.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
            out.push('\n');
        } else {
            blank = 0;
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out.trim().to_owned() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> serde_json::Value {
        json!({
            "number": "DK-2026-000007", "shop": "Khentii <Felt>", "total": "12,500.00 MNT",
            "subtotal": "10,000.00 MNT", "shipping": "2,500.00 MNT", "carrier": "DHL Express",
            "tracking_number": "JD0001", "tracking_url": "https://example.com/t?x=1&y=2",
            "lines": [{ "title": "Felt rug", "quantity": 2, "total": "10,000.00 MNT" }]
        })
    }

    fn context() -> serde_json::Value {
        json!({
            "name": "Saraa", "audience": "buyer", "order": order(), "orders": [order()],
            "checkout": {
                "orders": [order()], "total": "12,500.00 MNT", "reference": "DK-7F3K9Q",
                "pay_by": "2026-12-07 10:00 UTC",
                "bank": { "bank": "Khan Bank", "account_holder": "Darkhan LLC",
                          "account_number": "5000", "iban": "MN12", "swift": "AGMOMNUB" }
            },
            "address": { "name": "Saraa", "line1": "Peace Ave 1", "city": "Ulaanbaatar", "country": "MN" },
            "amount": "5.00 USD", "reason": "late", "shop_name": "Felt", "valid_hours": 1,
            "link": "https://shop.example/orders/1", "unsubscribe": null
        })
    }

    #[test]
    fn every_kind_renders_in_every_language() {
        for kind in Kind::ALL {
            for language in LANGUAGES {
                let r = render_in(&ENV, kind, language, &context())
                    .unwrap_or_else(|e| panic!("{} {language}: {e:#}", kind.as_str()));
                assert!(!r.subject.is_empty(), "{} {language}", kind.as_str());
                assert!(r.text.contains("Saraa"), "{}", r.text);
                assert!(r.html.contains("https://shop.example/orders/1"));
            }
        }
    }

    #[test]
    fn kinds_about_no_order_need_no_order_facts() {
        let bare = json!({ "name": "Saraa", "audience": "buyer", "orders": [],
            "link": "https://shop.example/x", "valid_hours": 1, "amount": "1.00 USD",
            "reason": "late", "shop_name": "Felt" });
        for kind in [
            Kind::Welcome,
            Kind::VerifyEmail,
            Kind::PasswordReset,
            Kind::PayoutSent,
            Kind::PaymentHeld,
            Kind::ShopSuspended,
        ] {
            for language in LANGUAGES {
                render_in(&ENV, kind, language, &bare)
                    .unwrap_or_else(|e| panic!("{} {language}: {e:#}", kind.as_str()));
            }
        }
    }

    #[test]
    fn html_escapes_what_people_typed_and_text_does_not() {
        let r = render_in(&ENV, Kind::NewOrder, "en", &context()).expect("render");
        assert!(r.text.contains("Khentii <Felt>"));
        assert!(r.html.contains("Khentii &lt;Felt&gt;"));
        assert!(!r.html.contains("<Felt>"));
        let shipped = render_in(&ENV, Kind::OrderShipped, "en", &context()).expect("render");
        assert!(
            shipped
                .html
                .contains(r#"href="https://example.com/t?x=1&amp;y=2""#),
            "{}",
            shipped.html
        );
    }

    #[test]
    fn bank_details_come_with_the_receipt_of_a_transfer() {
        let r = render_in(&ENV, Kind::OrderPlaced, "mn", &context()).expect("render");
        assert!(r.text.contains("DK-7F3K9Q"));
        assert!(r.text.contains("AGMOMNUB"));
        assert!(r.subject.starts_with("Таны"));
    }

    #[test]
    fn a_broken_translation_sends_the_english_message() {
        let broken = "{% if false %}{% block WELCOME_subject %}{{ no_such_function() }}{% endblock %}{% endif %}";
        let mut sources = SOURCES;
        sources[1] = ("mn.j2", broken);
        let env = environment(sources);
        let r = render_with(&env, Kind::Welcome, "mn", &context()).expect("English instead");
        assert_eq!(r.language, "en");
        assert_eq!(r.subject, "Welcome to Darkhan");
    }

    #[test]
    fn languages_fall_back_to_english() {
        assert_eq!(language_for("mn-MN"), "mn");
        assert_eq!(language_for("de"), "en");
        assert_eq!(language_for(""), "en");
    }
}
