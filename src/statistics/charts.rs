//! The `/statistics` page: the open figures drawn as SVG by the server, in Mongolian and
//! English, readable on a phone, with no script and nothing fetched from elsewhere. Every
//! number on it is a public figure (the open grid's published cells), so the page can show
//! nothing the open data does not.

use std::{collections::BTreeMap, fmt::Write as _, sync::LazyLock};

use chrono::{Datelike, Utc};
use minijinja::{Environment, context};

use super::query::{self, Dimension, Filter, Measure, Month, Request, Table};
use crate::{
    error::{AppError, AppResult},
    state::AppState,
};

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // The template is part of the binary; a broken one fails the page's test.
    if let Err(e) = env.add_template("statistics.html", include_str!("templates/statistics.html")) {
        tracing::error!(error = %e, "the statistics template does not parse");
    }
    env
});

/// The page's words in each language it is offered in.
fn words(language: &str) -> BTreeMap<&'static str, &'static str> {
    let mn = language == "mn";
    let pick = |en: &'static str, mn_text: &'static str| if mn { mn_text } else { en };
    BTreeMap::from([
        (
            "title",
            pick(
                "Mongolian crafts in the world: market statistics",
                "Монгол гар урлал дэлхийд: зах зээлийн статистик",
            ),
        ),
        (
            "intro",
            pick(
                "Sales of handmade and cultural products through the Darkhan marketplace, from paid orders net of refunds, at the exchange rates locked on each order. Figures of fewer than three shops are withheld.",
                "Дархан зах зээлээр борлогдсон гар урлал, соёлын бүтээгдэхүүний борлуулалт: төлөгдсөн захиалга, буцаалтыг хассан, захиалга бүрт түгжсэн ханшаар. Гурваас цөөн дэлгүүрийн тоо баримтыг нууцална.",
            ),
        ),
        (
            "destinations",
            pick(
                "Exports by destination, last four quarters (USD)",
                "Экспорт, хүлээн авагч улсаар, сүүлийн дөрвөн улирал (ам.доллар)",
            ),
        ),
        (
            "crafts",
            pick(
                "Value by craft over time (USD)",
                "Гар урлалын төрлөөр, хугацааны явцад (ам.доллар)",
            ),
        ),
        (
            "share",
            pick("How much reached the artisans", "Урлагчдад хүрсэн хэсэг"),
        ),
        (
            "share_note",
            pick(
                "Artisans' share of the value, after the platform's commission",
                "Платформын шимтгэлийг хассаны дараа урлагчдад очсон хувь",
            ),
        ),
        (
            "seasons",
            pick(
                "Seasonality: average value by quarter of the year (USD)",
                "Улирлын хэлбэлзэл: жилийн улирал бүрийн дундаж (ам.доллар)",
            ),
        ),
        (
            "empty",
            pick("No published figures yet.", "Нийтлэгдсэн тоо баримт алга."),
        ),
        (
            "open_data",
            pick(
                "Download the open data (CSV, JSON)",
                "Нээлттэй өгөгдөл татах (CSV, JSON)",
            ),
        ),
        ("rule", pick("Privacy rule", "Нууцлалын дүрэм")),
        (
            "rule_local",
            pick(
                "",
                "Гурваас цөөн дэлгүүрийн борлуулалттай нүдийг нууцална. Нийтийн бүх тоо нь улирал × улс × гар урлалын нийтлэгдсэн нүднүүдийн нийлбэр тул нууцалсан нүдийг хасах, нэмэх аргаар олох боломжгүй.",
            ),
        ),
        ("other_language", pick("Монгол хэлээр", "In English")),
        ("other_code", pick("mn", "en")),
        ("generated", pick("Generated", "Үүсгэсэн")),
    ])
}

const COLOURS: [&str; 6] = [
    "#8a3b12", "#2f6f8f", "#b8860b", "#5b7f3a", "#7a4f9a", "#a33a5a",
];

fn number(v: &Option<String>) -> f64 {
    v.as_deref().and_then(|s| s.parse().ok()).unwrap_or(0.0)
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn short(v: f64) -> String {
    if v >= 1_000_000.0 {
        format!("{:.1}M", v / 1_000_000.0)
    } else if v >= 10_000.0 {
        format!("{:.0}k", v / 1_000.0)
    } else {
        format!("{v:.0}")
    }
}

/// Horizontal bars, one per label, scaled to the largest.
pub fn bars(items: &[(String, f64)], title: &str) -> String {
    let row = 34.0;
    let height = row * items.len() as f64 + 10.0;
    let max = items.iter().map(|i| i.1).fold(0.0_f64, f64::max).max(1.0);
    let mut svg = format!(
        "<svg viewBox=\"0 0 600 {height}\" width=\"100%\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        esc(title)
    );
    for (i, (label, v)) in items.iter().enumerate() {
        let y = i as f64 * row + 5.0;
        let w = (v / max * 400.0).max(1.0);
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{:.0}\" font-size=\"20\">{}</text><rect x=\"110\" y=\"{y:.0}\" width=\"{w:.0}\" height=\"24\" fill=\"{}\"><title>{} {v:.2}</title></rect><text x=\"{:.0}\" y=\"{:.0}\" font-size=\"18\">{}</text>",
            y + 19.0,
            esc(label),
            COLOURS[0],
            esc(label),
            116.0 + w,
            y + 19.0,
            short(*v)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Lines over time, one per series, with a legend; `labels` are the x positions.
pub fn lines(labels: &[String], series: &[(String, Vec<f64>)], title: &str) -> String {
    let (w, h, left, bottom) = (600.0, 260.0, 50.0, 30.0);
    let max = series
        .iter()
        .flat_map(|s| s.1.iter().copied())
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let step = if labels.len() > 1 {
        (w - left - 10.0) / (labels.len() - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| left + step * i as f64;
    let y = |v: f64| 10.0 + (h - bottom - 10.0) * (1.0 - v / max);
    let legend = 28.0 * series.len() as f64;
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {}\" width=\"100%\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        h + legend,
        esc(title)
    );
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/><text x=\"0\" y=\"18\" font-size=\"16\">{}</text>",
        h - bottom,
        w - 10.0,
        h - bottom,
        short(max)
    );
    for (i, label) in labels.iter().enumerate() {
        let _ = write!(
            svg,
            "<text x=\"{:.0}\" y=\"{}\" font-size=\"15\" text-anchor=\"middle\">{}</text>",
            x(i),
            h - 10.0,
            esc(label)
        );
    }
    for (n, (name, values)) in series.iter().enumerate() {
        let colour = COLOURS[n % COLOURS.len()];
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"3\" points=\"{}\"><title>{}</title></polyline><rect x=\"{left}\" y=\"{:.0}\" width=\"18\" height=\"18\" fill=\"{colour}\"/><text x=\"{:.0}\" y=\"{:.0}\" font-size=\"20\">{}</text>",
            points.join(" "),
            esc(name),
            h + 28.0 * n as f64,
            left + 24.0,
            h + 28.0 * n as f64 + 13.0,
            esc(name)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A bar filled to `percent`, with the figure written on it.
pub fn gauge(percent: f64, title: &str) -> String {
    let filled = (percent.clamp(0.0, 100.0) * 5.8).round();
    format!(
        "<svg viewBox=\"0 0 600 60\" width=\"100%\" role=\"img\" aria-label=\"{} {percent:.1}%\" xmlns=\"http://www.w3.org/2000/svg\"><rect x=\"10\" y=\"10\" width=\"580\" height=\"36\" fill=\"#eee\"/><rect x=\"10\" y=\"10\" width=\"{filled}\" height=\"36\" fill=\"{}\"/><text x=\"300\" y=\"35\" font-size=\"20\" text-anchor=\"middle\" fill=\"#fff\" stroke=\"#000\" stroke-width=\".4\">{percent:.1}%</text></svg>",
        esc(title),
        COLOURS[3]
    )
}

async fn open(
    state: &AppState,
    dims: Vec<Dimension>,
    measures: Vec<Measure>,
    from: Month,
    to: Month,
) -> AppResult<Table> {
    let req = Request {
        dimensions: dims,
        measures,
        from,
        to,
        filter: Filter::default(),
    };
    query::public(
        &state.db,
        &state.read_models.get::<super::memory::Memory>(),
        req,
        state.settings.statistics.min_shops,
    )
    .await
}

fn published(t: &Table) -> impl Iterator<Item = &query::Row> {
    t.rows.iter().filter(|r| !r.suppressed)
}

/// The page in `language` (`mn` or `en`).
pub async fn page(state: &AppState, language: &str) -> AppResult<String> {
    let language = if language == "mn" { "mn" } else { "en" };
    let w = words(language);
    let now = Utc::now().date_naive();
    let month = |months_back: i32| {
        let total = now.year() * 12 + now.month0() as i32 - months_back;
        Month::parse(
            "month",
            &format!(
                "{:04}-{:02}",
                total.div_euclid(12),
                total.rem_euclid(12) + 1
            ),
        )
    };
    let (this, year_ago, two_years_ago) = (month(0)?, month(11)?, month(23)?);

    let by_country = open(
        state,
        vec![Dimension::Destination],
        vec![Measure::GrossUsd],
        year_ago,
        this,
    )
    .await?;
    let mut countries: Vec<(String, f64)> = published(&by_country)
        .map(|r| {
            (
                r.values[0].clone().unwrap_or_default(),
                number(&r.values[1]),
            )
        })
        .collect();
    countries.sort_by(|a, b| b.1.total_cmp(&a.1));
    countries.truncate(12);

    let by_craft = open(
        state,
        vec![Dimension::Quarter, Dimension::CraftGroup],
        vec![Measure::GrossUsd],
        two_years_ago,
        this,
    )
    .await?;
    let mut quarters: Vec<String> = by_craft
        .rows
        .iter()
        .filter_map(|r| r.values[0].clone())
        .collect();
    quarters.sort();
    quarters.dedup();
    let mut crafts: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in published(&by_craft) {
        let (Some(q), Some(craft)) = (&r.values[0], &r.values[1]) else {
            continue;
        };
        let i = quarters.iter().position(|x| x == q).unwrap_or(0);
        crafts
            .entry(craft.clone())
            .or_insert_with(|| vec![0.0; quarters.len()])[i] += number(&r.values[2]);
    }
    let mut crafts: Vec<(String, Vec<f64>)> = crafts.into_iter().collect();
    crafts.sort_by(|a, b| b.1.iter().sum::<f64>().total_cmp(&a.1.iter().sum::<f64>()));
    crafts.truncate(5);

    let share = open(
        state,
        vec![],
        vec![Measure::ArtisansSharePercent, Measure::GrossUsd],
        year_ago,
        this,
    )
    .await?;
    let share_percent = share.total.values.first().map(number);

    let seasons_table = open(
        state,
        vec![Dimension::Quarter],
        vec![Measure::GrossUsd],
        two_years_ago,
        this,
    )
    .await?;
    let mut seasons = [(0.0, 0u32); 4];
    for r in published(&seasons_table) {
        let quarter = r.values[0]
            .as_deref()
            .and_then(|q| q.rsplit('Q').next())
            .and_then(|n| n.parse::<usize>().ok());
        if let Some(slot) = quarter.and_then(|q| seasons.get_mut(q.saturating_sub(1))) {
            slot.0 += number(&r.values[1]);
            slot.1 += 1;
        }
    }
    let seasons: Vec<(String, f64)> = seasons
        .iter()
        .enumerate()
        .map(|(i, (sum, n))| {
            (
                format!("Q{}", i + 1),
                if *n == 0 { 0.0 } else { sum / f64::from(*n) },
            )
        })
        .collect();

    let charts = context! {
        destinations => (!countries.is_empty()).then(|| bars(&countries, w["destinations"])),
        crafts => (!crafts.is_empty()).then(|| lines(&quarters, &crafts, w["crafts"])),
        share => share_percent.filter(|p| *p > 0.0).map(|p| gauge(p, w["share"])),
        seasons => seasons.iter().any(|s| s.1 > 0.0).then(|| bars(&seasons, w["seasons"])),
    };
    let template = ENV
        .get_template("statistics.html")
        .map_err(|e| AppError::Internal(anyhow::anyhow!("statistics template: {e}")))?;
    template
        .render(context! {
            language,
            words => w,
            charts,
            rule => query::rule(state.settings.statistics.min_shops),
            generated => Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        })
        .map_err(|e| AppError::Internal(anyhow::anyhow!("statistics page: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_their_labels_escaped() {
        let svg = bars(&[("DE".into(), 120.0), ("<JP>".into(), 60.0)], "Exports");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("&lt;JP&gt;") && !svg.contains("<JP>"));
        let svg = lines(
            &["2026-Q1".into(), "2026-Q2".into()],
            &[("felt".into(), vec![1.0, 2.0])],
            "Crafts",
        );
        assert!(svg.contains("<polyline") && svg.contains("2026-Q2"));
        assert!(gauge(90.0, "Share").contains("90.0%"));
    }
}
