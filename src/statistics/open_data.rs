//! The open data: for each quarter, sales by destination country and craft, k-protected like
//! every answer, as CSV (UTF-8, a byte-order mark on request for spreadsheet software) and
//! JSON. Each JSON file carries its data dictionary (every column in Mongolian and English),
//! the suppression rule, the licence and when it was generated; CSV readers find the same in
//! `dictionary.csv` and the index.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::json;

use super::{
    memory::Memory,
    query::{self, Dimension, Filter, Measure, Month, Request, Table},
};
use crate::{
    error::{AppError, AppResult},
    state::AppState,
};

/// The open table's columns: dimensions, then measures.
pub const DIMENSIONS: [Dimension; 3] =
    [Dimension::Quarter, Dimension::Destination, Dimension::Craft];
pub const MEASURES: [Measure; 7] = [
    Measure::Orders,
    Measure::Units,
    Measure::GrossMnt,
    Measure::GrossUsd,
    Measure::ArtisansShareMnt,
    Measure::ArtisansShareUsd,
    Measure::ActiveShops,
];

/// One quarter's open table.
pub async fn quarter(state: &AppState, quarter: &str) -> AppResult<Table> {
    let (from, to) = Month::quarter(quarter)
        .ok_or_else(|| AppError::NotFound(format!("no quarter {quarter}; write it 2026-Q3")))?;
    query::public(
        &state.db,
        &state.read_models.get::<Memory>(),
        Request {
            dimensions: DIMENSIONS.to_vec(),
            measures: MEASURES.to_vec(),
            from,
            to,
            filter: Filter::default(),
        },
        state.settings.statistics.min_shops,
    )
    .await
}

/// The quarters with paid orders, newest first.
pub async fn quarters(state: &AppState) -> AppResult<Vec<String>> {
    let memory = state.read_models.get::<Memory>();
    Ok(memory.current(&state.db).await?.quarters())
}

/// The data dictionary as CSV: column, kind, English and Mongolian descriptions.
pub fn dictionary_csv() -> AppResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| AppError::Internal(e.into());
    w.write_record(["column", "kind", "description_en", "description_mn"])
        .map_err(err)?;
    for d in DIMENSIONS {
        let (en, mn) = d.describe();
        w.write_record([d.key(), "dimension", en, mn])
            .map_err(err)?;
    }
    for m in MEASURES {
        let (en, mn) = m.describe();
        w.write_record([m.key(), "measure", en, mn]).map_err(err)?;
    }
    w.write_record([
        "suppressed",
        "flag",
        "true where the measures are withheld by the suppression rule",
        "нууцлалын дүрмээр тоон утгыг нуусан мөрөнд true",
    ])
    .map_err(err)?;
    w.into_inner()
        .map_err(|e| AppError::Internal(e.into_error().into()))
}

/// What every file says about itself.
pub struct About<'a> {
    pub quarter: &'a str,
    pub licence: &'a str,
    pub generated_at: DateTime<Utc>,
}

/// The CSV of a table, in chunks of rows so a large file streams: the header first, each
/// suppressed measure empty and flagged in the last column.
pub fn csv_chunks(table: &Table, bom: bool) -> AppResult<Vec<Bytes>> {
    let err = |e: csv::Error| AppError::Internal(e.into());
    let mut chunks = Vec::new();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = table.columns.iter().map(|c| c.key).collect();
    header.push("suppressed");
    w.write_record(&header).map_err(err)?;
    let mut flush = |w: csv::Writer<Vec<u8>>, first: bool| -> AppResult<()> {
        let mut bytes = if first && bom {
            vec![0xEF, 0xBB, 0xBF]
        } else {
            Vec::new()
        };
        bytes.extend(
            w.into_inner()
                .map_err(|e| AppError::Internal(e.into_error().into()))?,
        );
        chunks.push(Bytes::from(bytes));
        Ok(())
    };
    let mut first = true;
    for rows in table.rows.chunks(500) {
        for row in rows {
            let mut record: Vec<&str> = row
                .values
                .iter()
                .map(|v| v.as_deref().unwrap_or(""))
                .collect();
            record.push(if row.suppressed { "true" } else { "false" });
            w.write_record(&record).map_err(err)?;
        }
        flush(w, first)?;
        first = false;
        w = csv::Writer::from_writer(Vec::new());
    }
    if first {
        flush(w, true)?;
    }
    Ok(chunks)
}

/// The JSON file of a table: about, dictionary, rule, rows and the coarsened total.
pub fn json(table: &Table, about: &About<'_>) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = table
        .rows
        .iter()
        .map(|r| {
            let mut o = serde_json::Map::new();
            for (c, v) in table.columns.iter().zip(&r.values) {
                o.insert(c.key.to_owned(), json!(v));
            }
            o.insert("suppressed".into(), json!(r.suppressed));
            serde_json::Value::Object(o)
        })
        .collect();
    let total: serde_json::Map<String, serde_json::Value> = table
        .columns
        .iter()
        .zip(&table.total.values)
        .filter(|(c, _)| !c.is_dimension)
        .map(|(c, v)| (c.key.to_owned(), json!(v)))
        .collect();
    json!({
        "title": format!("Darkhan marketplace sales by destination and craft, {}", about.quarter),
        "title_mn": format!("Дархан зах зээлийн борлуулалт, улс ба гар урлалаар, {}", about.quarter),
        "quarter": about.quarter,
        "generated_at": about.generated_at.to_rfc3339(),
        "licence": about.licence,
        "min_shops": table.min_shops,
        "suppression_rule": query::rule(table.min_shops),
        "dictionary": table.columns.iter().map(|c| json!({
            "column": c.key,
            "kind": if c.is_dimension { "dimension" } else { "measure" },
            "description_en": c.description_en,
            "description_mn": c.description_mn,
        })).collect::<Vec<_>>(),
        "rows": rows,
        "total_of_published_rows": total,
    })
}
