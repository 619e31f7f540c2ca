//! Full-text search over products: SQLite FTS5 or PostgreSQL `tsvector` with a GIN index.
//! Each product has one document holding every language's title and description, its
//! materials, techniques, region and makers, plus a Latin transliteration of any Cyrillic, so
//! `deel` finds `дээл` and `гэр` finds `ger`.

use sea_orm::{
    ConnectionTrait, DbBackend, Statement, Value,
    sea_query::{Expr, SimpleExpr},
};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    i18n::{has_cyrillic, transliterate},
};

/// Most matches a search considers; ranking and paging happen within these.
pub const MAX_MATCHES: usize = 1000;

/// Builds the searchable document from a product's texts.
pub fn document<'a>(texts: impl IntoIterator<Item = &'a str>) -> String {
    let mut body = String::new();
    for text in texts {
        body.push_str(text);
        body.push('\n');
    }
    if has_cyrillic(&body) {
        let latin = transliterate(&body);
        body.push_str(&latin);
    }
    body
}

/// Replaces the product's document.
pub async fn write(db: &impl ConnectionTrait, product_id: Uuid, body: &str) -> AppResult<()> {
    let backend = db.get_database_backend();
    let id = id_value(backend, product_id);
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        crate::db::placeholders(backend, "DELETE FROM product_search WHERE product_id = ?"),
        [id.clone()],
    ))
    .await?;
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        crate::db::placeholders(
            backend,
            "INSERT INTO product_search (product_id, body) VALUES (?, ?)",
        ),
        [id, body.to_owned().into()],
    ))
    .await?;
    Ok(())
}

/// A product id as `products.id` stores it: 16 bytes on SQLite (raw statements would bind a
/// UUID there as text), a native `uuid` on PostgreSQL.
fn id_value(backend: DbBackend, id: Uuid) -> Value {
    match backend {
        DbBackend::Sqlite => id.as_bytes().to_vec().into(),
        _ => id.into(),
    }
}

/// The words of a query, lower-cased, letters and digits only (so nothing reaches the
/// engine's query syntax), at most eight.
fn terms(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(str::to_lowercase)
        .collect()
}

/// The engine's query for `query`: every word as a prefix, in its own script or transliterated.
/// `None` when the query has no words.
fn engine_query(backend: DbBackend, query: &str) -> Option<String> {
    let terms = terms(query);
    if terms.is_empty() {
        return None;
    }
    let alternatives = |term: &String| {
        let latin = transliterate(term);
        if latin != *term {
            vec![term.clone(), latin]
        } else {
            vec![term.clone()]
        }
    };
    let (prefix, or, and) = match backend {
        DbBackend::Sqlite => (("\"", "\"*"), " OR ", " AND "),
        _ => (("", ":*"), " | ", " & "),
    };
    Some(
        terms
            .iter()
            .map(|t| {
                let any: Vec<String> = alternatives(t)
                    .iter()
                    .map(|a| format!("{}{a}{}", prefix.0, prefix.1))
                    .collect();
                format!("({})", any.join(or))
            })
            .collect::<Vec<_>>()
            .join(and),
    )
}

/// A condition on `products.id` keeping the products that match `query`, evaluated inside the
/// listing's own SQL. `None` when the query has no words.
pub fn condition(backend: DbBackend, query: &str) -> Option<SimpleExpr> {
    let expr = engine_query(backend, query)?;
    let sql = match backend {
        DbBackend::Sqlite => {
            "\"products\".\"id\" IN (SELECT product_id FROM product_search WHERE product_search MATCH ?)"
        }
        _ => {
            "\"products\".\"id\" IN (SELECT product_id FROM product_search \
             WHERE document @@ to_tsquery('simple', $1))"
        }
    };
    Some(Expr::cust_with_values(sql, [expr]))
}

/// Product ids matching every word of `query`, best first, with a score where higher is
/// better. Ranking costs a score per match, so listings only ask for it under RELEVANCE.
pub async fn ranked(db: &impl ConnectionTrait, query: &str) -> AppResult<Vec<(Uuid, f64)>> {
    let backend = db.get_database_backend();
    let Some(expr) = engine_query(backend, query) else {
        return Ok(Vec::new());
    };
    let sql = match backend {
        // bm25 is lower for better matches.
        DbBackend::Sqlite => format!(
            "SELECT product_id, -bm25(product_search) AS score FROM product_search \
             WHERE product_search MATCH ? ORDER BY bm25(product_search) LIMIT {MAX_MATCHES}"
        ),
        _ => format!(
            "SELECT product_id, ts_rank(document, q)::float8 AS score \
             FROM product_search, to_tsquery('simple', $1) q \
             WHERE document @@ q ORDER BY score DESC LIMIT {MAX_MATCHES}"
        ),
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, [expr.into()]))
        .await?;
    let mut hits = Vec::with_capacity(rows.len());
    for row in rows {
        let id = match backend {
            DbBackend::Sqlite => {
                let bytes: Vec<u8> = row.try_get("", "product_id")?;
                Uuid::from_slice(&bytes).map_err(|e| AppError::Internal(e.into()))?
            }
            _ => row.try_get::<Uuid>("", "product_id")?,
        };
        let score: f64 = row.try_get("", "score")?;
        hits.push((id, score));
    }
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_carry_a_latin_reading_of_cyrillic() {
        let doc = document(["Хонины ноосон дээл", "Felt slippers"]);
        assert!(doc.contains("дээл") && doc.contains("deel") && doc.contains("Felt"));
        assert_eq!(document(["felt"]), "felt\n");
    }

    #[test]
    fn query_terms_are_plain_words() {
        assert_eq!(terms("Дээл, \"felt\"* OR x:*"), ["дээл", "felt", "or", "x"]);
        assert!(terms("  -- ").is_empty());
    }

    #[test]
    fn engine_queries_offer_both_scripts() {
        assert_eq!(
            engine_query(DbBackend::Sqlite, "Дээл felt").as_deref(),
            Some("(\"дээл\"* OR \"deel\"*) AND (\"felt\"*)")
        );
        assert_eq!(
            engine_query(DbBackend::Postgres, "гэр").as_deref(),
            Some("(гэр:* | ger:*)")
        );
        assert!(engine_query(DbBackend::Sqlite, "!!").is_none());
    }

    #[test]
    fn postgres_placeholders_are_numbered() {
        assert_eq!(
            crate::db::placeholders(DbBackend::Postgres, "a = ? AND b = ?"),
            "a = $1 AND b = $2"
        );
        assert_eq!(crate::db::placeholders(DbBackend::Sqlite, "a = ?"), "a = ?");
    }
}
