//! Two grids summed from the cubes without the shop in their key, each cell listing its shops,
//! makers and days, so a question reads a few thousand rows instead of the shop-level cube:
//! the open grid ([`Grid::Open`], per quarter, craft and destination; every public figure is
//! a sum of its published cells) and the market grid ([`Grid::Market`], per month, craft,
//! destination and payment method, for researchers' questions that do not need the shop).
//! [`refresh`] recomputes cells from the cubes: the drain those its orders touched, a rebuild
//! all of them, with one rule for both. [`read_open`] gives the open grid to
//! [`super::query`]; the market grid is read there like a cube.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sea_orm::{ConnectionTrait, Statement, Value};
use uuid::Uuid;

use super::{
    facts::{CellKey, MEASURE_COLUMNS, Measures},
    query::{Cell, Dimension, Month, Request, id_list, ids, uuid_at},
};
use crate::error::{AppError, AppResult};

/// A grid kept beside the cubes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grid {
    Open,
    Market,
}

impl Grid {
    pub fn table(self) -> &'static str {
        match self {
            Self::Open => "statistics_open",
            Self::Market => "statistics_market",
        }
    }

    /// The name of the period column.
    fn period_column(self) -> &'static str {
        match self {
            Self::Open => "quarter",
            Self::Market => "month",
        }
    }

    /// The cell's period over the cube (`c`).
    fn period(self) -> &'static str {
        match self {
            Self::Open => Dimension::Quarter.sql(),
            Self::Market => "c.month",
        }
    }

    /// The payment method over the cube, or nothing for the open grid.
    fn method(self) -> &'static str {
        match self {
            Self::Open => "''",
            Self::Market => "c.method",
        }
    }

    /// The months a period covers.
    fn months(self, period: &str) -> Option<(String, String)> {
        match self {
            Self::Open => Month::quarter(period).map(|(a, b)| (a.text(), b.text())),
            Self::Market => Month::parse("month", period)
                .ok()
                .map(|m| (m.text(), m.text())),
        }
    }
}

/// Grid cells to recompute: by grid and period, the crafts, destinations and methods.
pub type Touched = BTreeMap<(Grid, String), BTreeSet<(Uuid, String, String)>>;

/// The grid cells that cube cells with these keys belong to.
pub fn touched<'a>(keys: impl IntoIterator<Item = &'a CellKey>) -> Touched {
    let mut out = Touched::new();
    for k in keys {
        if let Ok(month) = Month::parse("month", &k.month) {
            out.entry((Grid::Open, month.quarter_text()))
                .or_default()
                .insert((k.category_id, k.country.clone(), String::new()));
            out.entry((Grid::Market, k.month.clone()))
                .or_default()
                .insert((k.category_id, k.country.clone(), k.method.clone()));
        }
    }
    out
}

/// Keys per statement: both databases limit the parameters of one.
const KEYS: usize = 200;

/// One grid cell as computed from the cubes.
#[derive(Default)]
struct Computed {
    shops: String,
    makers: BTreeSet<String>,
    days: BTreeMap<(String, i32), i64>,
    measures: Measures,
}

/// Period, craft, destination, method.
type Key = (String, Uuid, String, String);

/// An arbitrary, fixed key for the advisory lock refreshes take turns on.
const REFRESH_LOCK: i64 = 0x0053_5441_5447_5244;

/// Recomputes the grid cells of `touched`, or every one with `None`, from the cubes, in the
/// caller's transaction. Refreshes take turns (two drains on PostgreSQL would otherwise each
/// recompute a cell without the other's uncommitted changes to the cube, and the last to
/// commit would win), so call it after the transaction's own changes to the cubes, whose row
/// locks are then never waited for while holding the turn.
pub async fn refresh(db: &impl ConnectionTrait, touched: Option<&Touched>) -> AppResult<()> {
    let backend = db.get_database_backend();
    crate::db::lock_until_commit(db, REFRESH_LOCK).await?;
    number_shops(db).await?;
    let Some(touched) = touched else {
        for grid in [Grid::Open, Grid::Market] {
            db.execute_raw(Statement::from_string(
                backend,
                format!("DELETE FROM {}", grid.table()),
            ))
            .await?;
            let computed = compute(db, grid, None).await?;
            store(db, grid, computed).await?;
        }
        return Ok(());
    };
    for ((grid, period), keys) in touched {
        let grid = *grid;
        let Some((from, to)) = grid.months(period) else {
            continue;
        };
        let keys: Vec<&(Uuid, String, String)> = keys.iter().collect();
        for chunk in keys.chunks(KEYS) {
            let (tuples, values) = key_list(chunk);
            let mut delete_values: Vec<Value> = vec![period.clone().into()];
            delete_values.extend(values.iter().cloned());
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                crate::db::placeholders(
                    backend,
                    &format!(
                        "DELETE FROM {} WHERE {} = ? \
                         AND (category_id, country, method) IN (VALUES {tuples})",
                        grid.table(),
                        grid.period_column()
                    ),
                ),
                delete_values,
            ))
            .await?;
            let mut scoped: Vec<Value> = vec![from.clone().into(), to.clone().into()];
            scoped.extend(values);
            let scope = Scope {
                condition: format!(
                    "c.month >= ? AND c.month <= ? AND (c.category_id, c.country, {}) \
                     IN (VALUES {tuples})",
                    grid.method()
                ),
                values: scoped,
            };
            let computed = compute(db, grid, Some(&scope)).await?;
            store(db, grid, computed).await?;
        }
    }
    Ok(())
}

/// Gives every shop without one the next number (refreshes take turns, so two never pick the
/// same).
async fn number_shops(db: &impl ConnectionTrait) -> AppResult<()> {
    db.execute_unprepared(
        "INSERT INTO statistics_shop_numbers (shop_id, number) \
         SELECT s.id, (SELECT COALESCE(MAX(number), 0) FROM statistics_shop_numbers) \
         + ROW_NUMBER() OVER (ORDER BY s.id) FROM shops s \
         WHERE NOT EXISTS (SELECT 1 FROM statistics_shop_numbers n WHERE n.shop_id = s.id)",
    )
    .await?;
    Ok(())
}

/// The distinct numbers of a group's shops, comma-separated.
fn number_list(backend: sea_orm::DbBackend) -> &'static str {
    match backend {
        sea_orm::DbBackend::Postgres => "string_agg(DISTINCT CAST(n.number AS TEXT), ',')",
        _ => "GROUP_CONCAT(DISTINCT n.number)",
    }
}

/// Shops as a grid lists them: each number stands for one shop (the same within any answer).
pub(super) fn numbered(list: &str) -> AppResult<BTreeSet<Uuid>> {
    list.split(',')
        .filter(|n| !n.trim().is_empty())
        .map(|n| {
            n.trim()
                .parse::<u128>()
                .map(Uuid::from_u128)
                .map_err(|e| AppError::Internal(e.into()))
        })
        .collect()
}

fn key_list(keys: &[&(Uuid, String, String)]) -> (String, Vec<Value>) {
    let tuples = vec!["(?, ?, ?)"; keys.len()].join(", ");
    let values = keys
        .iter()
        .flat_map(|(c, country, method)| {
            [
                Value::from(*c),
                Value::from(country.clone()),
                Value::from(method.clone()),
            ]
        })
        .collect();
    (tuples, values)
}

/// Which cube rows a refresh reads.
struct Scope {
    condition: String,
    values: Vec<Value>,
}

/// The grid's cells in scope (every one without a scope), summed from the cubes with the same
/// rule for live rows as the questions that read the cubes.
async fn compute(
    db: &impl ConnectionTrait,
    grid: Grid,
    scope: Option<&Scope>,
) -> AppResult<BTreeMap<Key, Computed>> {
    let backend = db.get_database_backend();
    let (condition, values) = scope.map_or_else(
        || ("1 = 1".to_owned(), Vec::new()),
        |s| (s.condition.clone(), s.values.clone()),
    );
    let run = |sql: String| {
        let values = values.clone();
        async move {
            db.query_all_raw(Statement::from_sql_and_values(
                backend,
                crate::db::placeholders(backend, &sql),
                values,
            ))
            .await
        }
    };
    let key = |row: &sea_orm::QueryResult| -> AppResult<Key> {
        Ok((
            row.try_get("", "period")?,
            uuid_at(backend, row, "category_id")?,
            row.try_get("", "country")?,
            row.try_get("", "method")?,
        ))
    };
    let head = format!(
        "SELECT {} AS period, c.category_id AS category_id, c.country AS country, \
         {} AS method",
        grid.period(),
        grid.method()
    );
    let group = match grid {
        Grid::Open => "GROUP BY 1, 2, 3",
        Grid::Market => "GROUP BY 1, 2, 3, 4",
    };
    let sums = MEASURE_COLUMNS
        .iter()
        .map(|c| format!("CAST(SUM(c.{c}) AS BIGINT) AS {c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut out: BTreeMap<Key, Computed> = BTreeMap::new();
    for row in run(format!(
        "{head}, {} AS shops, {sums} FROM statistics_cells c \
         JOIN statistics_shop_numbers n ON n.shop_id = c.shop_id \
         WHERE {condition} AND (c.orders <> 0 OR c.units <> 0) {group}",
        number_list(backend)
    ))
    .await?
    {
        let mut measures = Measures::default();
        for (name, field) in MEASURE_COLUMNS.iter().zip(measures.fields()) {
            *field = row.try_get("", name)?;
        }
        out.insert(
            key(&row)?,
            Computed {
                shops: row
                    .try_get::<Option<String>>("", "shops")?
                    .unwrap_or_default(),
                measures,
                ..Computed::default()
            },
        );
    }
    for row in run(format!(
        "{head}, {} AS makers FROM statistics_maker_cells c \
         WHERE {condition} AND (c.gross_mnt <> 0 OR c.gross_usd <> 0 OR c.share_mnt <> 0) \
         {group}",
        id_list(backend, "maker_id")
    ))
    .await?
    {
        if let Some(cell) = out.get_mut(&key(&row)?) {
            let named = ids(&row
                .try_get::<Option<String>>("", "makers")?
                .unwrap_or_default())?;
            cell.makers = named
                .into_iter()
                .filter(|id| !id.is_nil())
                .map(|id| id.simple().to_string())
                .collect();
        }
    }
    for row in run(format!(
        "{head}, c.kind AS kind, c.days AS days, CAST(SUM(c.orders) AS BIGINT) AS n \
         FROM statistics_days c WHERE {condition} {group}, c.kind, c.days"
    ))
    .await?
    {
        let n: i64 = row.try_get("", "n")?;
        if n == 0 {
            continue;
        }
        if let Some(cell) = out.get_mut(&key(&row)?) {
            cell.days
                .insert((row.try_get("", "kind")?, row.try_get("", "days")?), n);
        }
    }
    Ok(out)
}

const COLUMNS: usize = 8 + MEASURE_COLUMNS.len();

async fn store(
    db: &impl ConnectionTrait,
    grid: Grid,
    computed: BTreeMap<Key, Computed>,
) -> AppResult<()> {
    let backend = db.get_database_backend();
    let rows: Vec<Vec<Value>> = computed
        .into_iter()
        .filter(|(_, c)| !c.shops.is_empty())
        .map(|((period, category_id, country, method), mut c)| {
            let days: Vec<(&str, i32, i64)> = c
                .days
                .iter()
                .map(|((kind, d), n)| (kind.as_str(), *d, *n))
                .collect();
            let mut row: Vec<Value> = vec![
                Uuid::now_v7().into(),
                period.into(),
                category_id.into(),
                country.into(),
                method.into(),
                c.shops.into(),
                c.makers.into_iter().collect::<Vec<_>>().join(",").into(),
                serde_json::to_string(&days)
                    .unwrap_or_else(|_| "[]".into())
                    .into(),
            ];
            row.extend(c.measures.fields().map(|v| Value::from(*v)));
            row
        })
        .collect();
    let columns = format!(
        "id, {}, category_id, country, method, shops, makers, days, {}",
        grid.period_column(),
        MEASURE_COLUMNS.join(", ")
    );
    let one = format!("({})", vec!["?"; COLUMNS].join(", "));
    for chunk in rows.chunks(500) {
        let sql = format!(
            "INSERT INTO {} ({columns}) VALUES {}",
            grid.table(),
            vec![one.as_str(); chunk.len()].join(", ")
        );
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            crate::db::placeholders(backend, &sql),
            chunk.iter().flatten().cloned().collect::<Vec<_>>(),
        ))
        .await?;
    }
    Ok(())
}

/// Days as a grid cell lists them.
pub(super) fn parse_days(json: &str) -> AppResult<HashMap<(char, i32), i64>> {
    let list: Vec<(String, i32, i64)> =
        serde_json::from_str(json).map_err(|e| AppError::Internal(e.into()))?;
    Ok(list
        .into_iter()
        .map(|(kind, d, n)| ((kind.chars().next().unwrap_or('S'), d), n))
        .collect())
}

/// The open cells of a settled public request's quarters, keyed (quarter, destination,
/// craft, craft group); makers and days parsed only when asked for.
pub async fn read_open(
    db: &impl ConnectionTrait,
    req: &Request,
    makers: bool,
    days: bool,
) -> AppResult<BTreeMap<Vec<String>, Cell>> {
    let backend = db.get_database_backend();
    let sums = MEASURE_COLUMNS
        .iter()
        .map(|c| format!("c.{c} AS {c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let extra = match (makers, days) {
        (true, true) => "c.makers AS makers, c.days AS days, ",
        (true, false) => "c.makers AS makers, ",
        (false, true) => "c.days AS days, ",
        (false, false) => "",
    };
    let sql = format!(
        "SELECT c.quarter AS quarter, c.country AS country, {} AS craft, {} AS craft_group, \
         c.shops AS shops, {extra}{sums} \
         FROM statistics_open c \
         LEFT JOIN categories k ON k.id = c.category_id \
         LEFT JOIN categories kp ON kp.id = k.parent_id \
         WHERE c.quarter >= ? AND c.quarter <= ?",
        Dimension::Craft.sql(),
        Dimension::CraftGroup.sql()
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            crate::db::placeholders(backend, &sql),
            [req.from.quarter_text().into(), req.to.quarter_text().into()],
        ))
        .await?;
    let mut cells = BTreeMap::new();
    for row in rows {
        let mut measures = Measures::default();
        for (name, field) in MEASURE_COLUMNS.iter().zip(measures.fields()) {
            *field = row.try_get("", name)?;
        }
        let mut cell = Cell {
            measures,
            shops: numbered(&row.try_get::<String>("", "shops")?)?,
            ..Cell::default()
        };
        if makers {
            cell.makers = ids(&row.try_get::<String>("", "makers")?)?;
        }
        if days {
            cell.days = parse_days(&row.try_get::<String>("", "days")?)?;
        }
        let key = ["quarter", "country", "craft", "craft_group"]
            .iter()
            .map(|c| row.try_get::<String>("", c))
            .collect::<Result<Vec<_>, _>>()?;
        cells.insert(key, cell);
    }
    Ok(cells)
}
