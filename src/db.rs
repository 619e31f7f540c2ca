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

/// A column's type for [`insert_rows`]; PostgreSQL receives each column as an array of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Uuid,
    Text,
    /// A whole number.
    Int,
    /// A whole number or null.
    OptionalInt,
}

/// What [`insert_rows`] does with a row whose `key` is taken already: adds its `add` columns
/// to the stored ones and overwrites its `set` columns.
#[derive(Debug, Clone, Copy)]
pub struct Merge<'a> {
    pub key: &'a [&'a str],
    pub add: &'a [&'a str],
    pub set: &'a [&'a str],
}

/// The rows [`insert_rows`] writes, each its values in the order of the columns, made as it
/// goes: a rebuild writes a million. Boxed so the futures awaiting it stay `Send` whatever
/// closures made the rows.
pub type Rows<'a> = Box<dyn Iterator<Item = Vec<sea_orm::Value>> + Send + 'a>;

/// Rows per statement of [`insert_rows`] on PostgreSQL.
const ROWS_PER_STATEMENT: usize = 10_000;

/// Bound values per statement of [`insert_rows`] on SQLite, well under its limit.
const SQLITE_VALUES_PER_STATEMENT: usize = 20_000;

/// Inserts `rows` into `table`'s `columns`, thousands per statement. PostgreSQL receives a
/// statement's rows as one array per column, unpacked by `unnest`: a parameter per value made
/// it parse, plan and check nineteen thousand of them per thousand facts, and rows sent as
/// JSON text cost serialising and parsing 300 MB for a rebuild's facts. SQLite binds in
/// process, where a parameter per value is the cheaper way (its JSON functions took half as
/// long again). A value of another kind than its column's is refused.
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
    let per_statement = if backend == DbBackend::Postgres {
        ROWS_PER_STATEMENT
    } else {
        (SQLITE_VALUES_PER_STATEMENT / columns.len().max(1)).max(1)
    };
    while rows.peek().is_some() {
        let chunk = rows
            .by_ref()
            .take(per_statement)
            .map(|row| checked(table, columns, row))
            .collect::<Result<Vec<_>, _>>()?;
        let (sql, values) = if backend == DbBackend::Postgres {
            unnested(table, &names, columns, chunk)
        } else {
            let one = format!("({})", vec!["?"; columns.len()].join(", "));
            let sql = format!(
                "INSERT INTO {table} ({names}) VALUES {}",
                vec![one.as_str(); chunk.len()].join(", ")
            );
            (sql, chunk.into_iter().flatten().collect())
        };
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            format!("{sql}{conflict}"),
            values,
        ))
        .await?;
    }
    Ok(())
}

/// The row, if it has a value of its column's kind for each column: whole numbers of any
/// width become 64-bit ones.
fn checked(
    table: &str,
    columns: &[(&str, Kind)],
    row: Vec<sea_orm::Value>,
) -> Result<Vec<sea_orm::Value>, DbErr> {
    use sea_orm::Value;
    if row.len() != columns.len() {
        return Err(DbErr::Custom(format!(
            "a row for {table} has {} values",
            row.len()
        )));
    }
    columns
        .iter()
        .zip(row)
        .map(|((column, kind), value)| match (kind, value) {
            (Kind::Uuid, v @ Value::Uuid(Some(_)))
            | (Kind::Text, v @ Value::String(Some(_)))
            | (Kind::Int, v @ Value::BigInt(Some(_)))
            | (Kind::OptionalInt, v @ Value::BigInt(_)) => Ok(v),
            (Kind::Int, Value::Int(Some(n))) => Ok(Value::BigInt(Some(n.into()))),
            (Kind::OptionalInt, Value::Int(n)) => Ok(Value::BigInt(n.map(i64::from))),
            (_, v) => Err(DbErr::Custom(format!(
                "{table}.{column} ({kind:?}) cannot take {v:?}"
            ))),
        })
        .collect()
}

/// PostgreSQL's `INSERT … SELECT … FROM unnest(…)` for `rows` (each [`checked`]), and its
/// arrays: one per column and, for an [`Kind::OptionalInt`] column, one more saying which of
/// its values are null, as the arrays bound cannot hold nulls.
fn unnested(
    table: &str,
    names: &str,
    columns: &[(&str, Kind)],
    rows: Vec<Vec<sea_orm::Value>>,
) -> (String, Vec<sea_orm::Value>) {
    use sea_orm::{Value, sea_query::ArrayType};
    let mut arrays: Vec<Vec<Value>> = vec![Vec::with_capacity(rows.len()); columns.len()];
    let mut nulls: Vec<Vec<Value>> = vec![Vec::new(); columns.len()];
    for row in rows {
        for (i, value) in row.into_iter().enumerate() {
            let value = match value {
                Value::BigInt(n) if columns[i].1 == Kind::OptionalInt => {
                    nulls[i].push(Value::Bool(Some(n.is_none())));
                    Value::BigInt(Some(n.unwrap_or_default()))
                }
                v => v,
            };
            arrays[i].push(value);
        }
    }
    let mut params = Vec::new();
    let mut aliases = Vec::new();
    let mut selected = Vec::new();
    let mut values = Vec::new();
    for (i, ((_, kind), (array, null))) in columns
        .iter()
        .zip(arrays.into_iter().zip(nulls))
        .enumerate()
    {
        let (ty, cast) = match kind {
            Kind::Uuid => (ArrayType::Uuid, "uuid[]"),
            Kind::Text => (ArrayType::String, "text[]"),
            Kind::Int | Kind::OptionalInt => (ArrayType::BigInt, "bigint[]"),
        };
        values.push(Value::Array(ty, Some(Box::new(array))));
        params.push(format!("CAST(${} AS {cast})", values.len()));
        aliases.push(format!("c{i}"));
        if *kind == Kind::OptionalInt {
            values.push(Value::Array(ArrayType::Bool, Some(Box::new(null))));
            params.push(format!("CAST(${} AS boolean[])", values.len()));
            aliases.push(format!("n{i}"));
            selected.push(format!("CASE WHEN n{i} THEN NULL ELSE c{i} END"));
        } else {
            selected.push(format!("c{i}"));
        }
    }
    let sql = format!(
        "INSERT INTO {table} ({names}) SELECT {} FROM unnest({}) AS r({})",
        selected.join(", "),
        params.join(", "),
        aliases.join(", ")
    );
    (sql, values)
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

/// Indexes set aside for a bulk load, made again by [`SetAside::restore`].
#[derive(Debug)]
#[must_use = "the indexes are gone until restored"]
pub struct SetAside(Vec<String>);

/// Drops the indexes of `tables` inside the caller's transaction, returning what makes them
/// again: every index on PostgreSQL, primary keys included; on SQLite all but the primary
/// keys, which it cannot drop. For a rebuild that empties tables and fills them with a million
/// rows: building an index once from all of them sorts them, where keeping it current inserts
/// them one by one. The definitions come from the database's own catalogue, so the migrations
/// stay the one place that names them; a transaction that fails puts them back with
/// everything else.
pub async fn set_indexes_aside(
    db: &impl ConnectionTrait,
    tables: &[&str],
) -> Result<SetAside, DbErr> {
    let backend = db.get_database_backend();
    let list = tables
        .iter()
        .map(|t| format!("'{}'", t.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = if backend == DbBackend::Postgres {
        format!(
            "SELECT format('DROP INDEX %I.%I', i.schemaname, i.indexname) AS drop_it, \
             i.indexdef AS make_it FROM pg_indexes i \
             WHERE i.schemaname = current_schema() AND i.tablename IN ({list}) \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
             WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass) \
             UNION ALL \
             SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname), \
             format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, \
             pg_get_constraintdef(c.oid)) FROM pg_constraint c \
             WHERE c.contype = 'p' AND c.conrelid::regclass::text IN ({list})"
        )
    } else {
        format!(
            "SELECT 'DROP INDEX \"' || replace(name, '\"', '\"\"') || '\"' AS drop_it, \
             sql AS make_it FROM sqlite_master WHERE type = 'index' \
             AND tbl_name IN ({list}) AND sql IS NOT NULL"
        )
    };
    let mut made = Vec::new();
    for row in db
        .query_all_raw(Statement::from_string(backend, sql))
        .await?
    {
        let drop_it: String = row.try_get("", "drop_it")?;
        made.push(row.try_get("", "make_it")?);
        db.execute_unprepared(&drop_it).await?;
    }
    Ok(SetAside(made))
}

impl SetAside {
    /// Makes the indexes again, from the rows now in their tables.
    pub async fn restore(self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
        for sql in self.0 {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{Value, sea_query::ArrayType};
    use uuid::Uuid;

    use super::{Kind, checked, sqlite_path, unnested};

    const COLUMNS: [(&str, Kind); 4] = [
        ("id", Kind::Uuid),
        ("name", Kind::Text),
        ("n", Kind::Int),
        ("days", Kind::OptionalInt),
    ];

    #[test]
    fn rows_take_only_their_columns_kinds_and_whole_numbers_widen() {
        let id = Uuid::now_v7();
        let row = checked(
            "t",
            &COLUMNS,
            vec![
                id.into(),
                "felt".into(),
                3i32.into(),
                Option::<i32>::None.into(),
            ],
        );
        assert_eq!(
            row.ok(),
            Some(vec![
                id.into(),
                "felt".into(),
                3i64.into(),
                Option::<i64>::None.into()
            ])
        );
        for wrong in [
            vec![id.into(), "felt".into(), 3i64.into()],
            vec!["felt".into(), "felt".into(), 3i64.into(), 1i64.into()],
            vec![
                id.into(),
                "felt".into(),
                Option::<i64>::None.into(),
                1i64.into(),
            ],
            vec![
                id.into(),
                Option::<String>::None.into(),
                3i64.into(),
                1i64.into(),
            ],
        ] {
            assert!(checked("t", &COLUMNS, wrong).is_err());
        }
    }

    #[test]
    fn postgres_gets_an_array_per_column_and_where_nulls_are() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let rows = vec![
            vec![a.into(), "felt".into(), 3i64.into(), 12i64.into()],
            vec![
                b.into(),
                "silver".into(),
                4i64.into(),
                Option::<i64>::None.into(),
            ],
        ];
        let (sql, values) = unnested("t", "id, name, n, days", &COLUMNS, rows);
        assert_eq!(
            sql,
            "INSERT INTO t (id, name, n, days) SELECT c0, c1, c2, \
             CASE WHEN n3 THEN NULL ELSE c3 END FROM unnest(CAST($1 AS uuid[]), \
             CAST($2 AS text[]), CAST($3 AS bigint[]), CAST($4 AS bigint[]), \
             CAST($5 AS boolean[])) AS r(c0, c1, c2, c3, n3)"
        );
        let array = |ty, items: Vec<Value>| Value::Array(ty, Some(Box::new(items)));
        assert_eq!(
            values,
            vec![
                array(ArrayType::Uuid, vec![a.into(), b.into()]),
                array(ArrayType::String, vec!["felt".into(), "silver".into()]),
                array(ArrayType::BigInt, vec![3i64.into(), 4i64.into()]),
                array(ArrayType::BigInt, vec![12i64.into(), 0i64.into()]),
                array(ArrayType::Bool, vec![false.into(), true.into()]),
            ]
        );
    }

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
