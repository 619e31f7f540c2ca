//! Connecting to SQLite or PostgreSQL, applying migrations, and writing rows in bulk.

use std::{path::Path, time::Duration};

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
    sqlx::sqlite::SqliteJournalMode,
};

use crate::config::DatabaseSettings;

/// Opens the pool named by the settings. For SQLite the file's folder is created, and WAL,
/// synchronous NORMAL and a busy timeout are set on every connection.
pub async fn connect(settings: &DatabaseSettings) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = sqlite_path(&settings.url)
        && let Some(dir) = Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut options = ConnectOptions::new(settings.url.clone());
    // sea-orm gives SQLite a pool of one connection unless told otherwise.
    options
        .max_connections(settings.max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .create_if_missing(true)
        });
    // Servers opening one new SQLite file together race to switch it to WAL, which needs an
    // exclusive lock that SQLite may refuse at once ("database is locked") instead of waiting
    // out the busy timeout. The loser tries again shortly; anything else fails at once.
    let mut attempt = 0;
    loop {
        match Database::connect(options.clone()).await {
            Err(e) if attempt < 10 && e.to_string().contains("database is locked") => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
            }
            result => return result,
        }
    }
}

/// Begins a transaction that may write. On SQLite it takes the write lock at `BEGIN`
/// (IMMEDIATE): a deferred transaction that reads first cannot upgrade its lock while another
/// writer holds it and fails with "database is locked" whatever the busy timeout, so every
/// writing use case starts here, never with a bare `begin()`. PostgreSQL ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// An arbitrary, fixed key for PostgreSQL's advisory lock around migrations.
const MIGRATION_LOCK: i64 = 0x0044_4152_4b48_414e;

/// Applies every pending migration, once, however many servers start together: the whole run
/// is one transaction that first takes the write lock (SQLite: `BEGIN IMMEDIATE`; PostgreSQL:
/// an advisory lock held until commit), so the others wait, then find nothing left to do.
/// A failing migration rolls back the whole run. A database that has migrations this build
/// does not know is refused, so an older server never runs against a newer schema.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    let txn = begin_write(db).await?;
    lock_until_commit(&txn, MIGRATION_LOCK).await?;
    Migrator::up(&txn, None).await.map_err(|err| match err {
        DbErr::Custom(why) if why.contains("missing") => DbErr::Custom(format!(
            "the database is ahead of this build ({why}); run the newer build or restore the database"
        )),
        other => other,
    })?;
    txn.commit().await
}

/// Takes PostgreSQL's advisory lock `key` until the transaction ends, so transactions doing
/// the same work take turns, each seeing what the one before committed. SQLite's one writer
/// takes turns already.
pub async fn lock_until_commit(txn: &impl ConnectionTrait, key: i64) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({key})"))
            .await?;
    }
    Ok(())
}

/// The file path of a `sqlite:` URL, or `None` for other databases and in-memory SQLite.
fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// `?` placeholders as the backend wants them.
pub fn placeholders(backend: DbBackend, sql: &str) -> String {
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

/// How [`insert_rows`] reads a column from a row's JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A uuid, as its hyphenated text.
    Uuid,
    Text,
    /// A whole number, or null.
    Int,
}

/// What [`insert_rows`] does with a row whose `key` is taken already: adds its `add` columns
/// to the stored ones and overwrites its `set` columns.
#[derive(Debug, Clone, Copy)]
pub struct Merge<'a> {
    pub key: &'a [&'a str],
    pub add: &'a [&'a str],
    pub set: &'a [&'a str],
}

/// The rows [`insert_rows`] writes, made as it goes: a rebuild writes a million. Boxed so the
/// futures awaiting it stay `Send` whatever closures made the rows.
pub type Rows<'a> = Box<dyn Iterator<Item = serde_json::Value> + Send + 'a>;

/// Rows per statement of [`insert_rows`] on PostgreSQL.
const ROWS_PER_STATEMENT: usize = 4000;

/// Bound values per statement of [`insert_rows`] on SQLite, well under its limit.
const SQLITE_VALUES_PER_STATEMENT: usize = 20_000;

/// Inserts `rows`, each a JSON array of its values in the order of `columns`, into `table`,
/// thousands per statement. On PostgreSQL a statement's rows are bound as one JSON text that
/// the database unpacks itself: a parameter per value made it parse, plan and check nineteen
/// thousand of them per thousand facts, and the statistics rebuild wrote facts at half the
/// speed. SQLite binds in process, where a parameter per value is the cheaper way (its JSON
/// functions took half as long again), so there the rows are bound value by value.
pub async fn insert_rows(
    db: &impl ConnectionTrait,
    table: &str,
    columns: &[(&str, Kind)],
    rows: Rows<'_>,
    merge: Option<Merge<'_>>,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let names = names.join(", ");
    let conflict = merge.map_or_else(String::new, |m| on_conflict(table, m));
    let mut rows = rows.peekable();
    if backend == DbBackend::Postgres {
        let values: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, (_, kind))| match kind {
                Kind::Uuid => format!("CAST(value->>{i} AS uuid)"),
                Kind::Int => format!("CAST(value->>{i} AS bigint)"),
                Kind::Text => format!("value->>{i}"),
            })
            .collect();
        let sql = format!(
            "INSERT INTO {table} ({names}) SELECT {} \
             FROM jsonb_array_elements(CAST($1 AS jsonb)) AS r(value){conflict}",
            values.join(", ")
        );
        while rows.peek().is_some() {
            let chunk: Vec<serde_json::Value> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
            let json = serde_json::Value::Array(chunk).to_string();
            db.execute_raw(Statement::from_sql_and_values(backend, &sql, [json.into()]))
                .await?;
        }
        return Ok(());
    }
    let per_statement = (SQLITE_VALUES_PER_STATEMENT / columns.len().max(1)).max(1);
    let one = format!("({})", vec!["?"; columns.len()].join(", "));
    while rows.peek().is_some() {
        let chunk: Vec<serde_json::Value> = rows.by_ref().take(per_statement).collect();
        let mut values = Vec::with_capacity(chunk.len() * columns.len());
        for row in &chunk {
            let row = row.as_array().map(Vec::as_slice).unwrap_or_default();
            if row.len() != columns.len() {
                return Err(DbErr::Custom(format!(
                    "a row for {table} has {} values",
                    row.len()
                )));
            }
            for ((_, kind), value) in columns.iter().zip(row) {
                values.push(bound(*kind, value)?);
            }
        }
        let sql = format!(
            "INSERT INTO {table} ({names}) VALUES {}{conflict}",
            vec![one.as_str(); chunk.len()].join(", ")
        );
        db.execute_raw(Statement::from_sql_and_values(backend, &sql, values))
            .await?;
    }
    Ok(())
}

/// A row's JSON value as the parameter SQLite stores for a column of that kind.
fn bound(kind: Kind, value: &serde_json::Value) -> Result<sea_orm::Value, DbErr> {
    Ok(match kind {
        Kind::Uuid => uuid::Uuid::parse_str(value.as_str().unwrap_or_default())
            .map_err(|e| DbErr::Custom(format!("not a uuid: {e}")))?
            .into(),
        Kind::Text => value.as_str().map(str::to_owned).into(),
        Kind::Int => value.as_i64().into(),
    })
}

/// ` ON CONFLICT (key) DO UPDATE SET ...` for [`Merge`].
fn on_conflict(table: &str, merge: Merge<'_>) -> String {
    let updates: Vec<String> = merge
        .add
        .iter()
        .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
        .chain(merge.set.iter().map(|c| format!("{c} = excluded.{c}")))
        .collect();
    format!(
        " ON CONFLICT ({}) DO UPDATE SET {}",
        merge.key.join(", "),
        updates.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;

    #[test]
    fn finds_sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite://data/darkhan.db?mode=rwc"),
            Some("data/darkhan.db")
        );
        assert_eq!(sqlite_path("sqlite:/tmp/x.db"), Some("/tmp/x.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://postgres@localhost/test"), None);
    }
}
