//! Full-text search over products: SQLite FTS5 or PostgreSQL `tsvector` with a GIN index.
//! Each product has one document holding every language's title and description, its
//! materials, techniques, region and makers, plus a Latin transliteration of any Cyrillic, so
//! `deel` finds `дээл` and `гэр` finds `ger`.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::{
    error::AppResult,
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
    let id = product_id.to_string();
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        param_sql(backend, "DELETE FROM product_search WHERE product_id = ?"),
        [id.clone().into()],
    ))
    .await?;
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        param_sql(
            backend,
            "INSERT INTO product_search (product_id, body) VALUES (?, ?)",
        ),
        [id.into(), body.to_owned().into()],
    ))
    .await?;
    Ok(())
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

/// Product ids matching every word of `query` (as a prefix, in any script), best first, with
/// a score where higher is better.
pub async fn find(db: &impl ConnectionTrait, query: &str) -> AppResult<Vec<(Uuid, f64)>> {
    let terms = terms(query);
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let alternatives = |term: &String| {
        let latin = transliterate(term);
        if latin != *term {
            vec![term.clone(), latin]
        } else {
            vec![term.clone()]
        }
    };
    let (sql, expr) = match backend {
        DbBackend::Sqlite => {
            let expr = terms
                .iter()
                .map(|t| {
                    let any: Vec<String> = alternatives(t)
                        .iter()
                        .map(|a| format!("\"{a}\"*"))
                        .collect();
                    format!("({})", any.join(" OR "))
                })
                .collect::<Vec<_>>()
                .join(" AND ");
            (
                // bm25 is lower for better matches.
                format!(
                    "SELECT product_id, -bm25(product_search) AS score FROM product_search \
                     WHERE product_search MATCH ? ORDER BY bm25(product_search) LIMIT {MAX_MATCHES}"
                ),
                expr,
            )
        }
        _ => {
            let expr = terms
                .iter()
                .map(|t| {
                    let any: Vec<String> =
                        alternatives(t).iter().map(|a| format!("{a}:*")).collect();
                    format!("({})", any.join(" | "))
                })
                .collect::<Vec<_>>()
                .join(" & ");
            (
                format!(
                    "SELECT product_id, ts_rank(document, q)::float8 AS score \
                     FROM product_search, to_tsquery('simple', $1) q \
                     WHERE document @@ q ORDER BY score DESC LIMIT {MAX_MATCHES}"
                ),
                expr,
            )
        }
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, [expr.into()]))
        .await?;
    let mut hits = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get("", "product_id")?;
        let score: f64 = row.try_get("", "score")?;
        if let Ok(id) = Uuid::parse_str(&id) {
            hits.push((id, score));
        }
    }
    Ok(hits)
}

/// `?` placeholders as the backend wants them.
fn param_sql(backend: DbBackend, sql: &str) -> String {
    if backend != DbBackend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
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
    fn postgres_placeholders_are_numbered() {
        assert_eq!(
            param_sql(DbBackend::Postgres, "a = ? AND b = ?"),
            "a = $1 AND b = $2"
        );
        assert_eq!(param_sql(DbBackend::Sqlite, "a = ?"), "a = ?");
    }
}
