//! The cubes in this server's memory: every statistics question is summed here from the
//! shop-level cells, so any combination of dimensions and filters over a year costs a scan of
//! a few hundred thousand small rows in Rust, not a database query grouping them.
//!
//! The database stays the truth. Every cube row carries the number (`seq`) of the drain that
//! last wrote it, and `statistics_state` holds the last number given and an `epoch` that a
//! rebuild changes. Before answering, a server reads that state (one row): a new epoch
//! reloads the copy whole; a higher number reads only the rows written since. Drains take
//! their number under the state row's lock, so numbers commit in order and a copy that saw
//! number N has every row up to it; rows hold absolute values, so reading one twice is
//! harmless. Any number of servers keep their own copies of one database this way.
//!
//! Drains and rebuilds take their number first thing, so they also take turns whole.
//!
//! The shops', crafts' and makers' current attributes (region, size, slug, consented
//! characteristics) are read with each question, so a change to them, or a withdrawn
//! consent, counts at once.

use std::{
    hash::Hash,
    sync::{RwLock, RwLockReadGuard},
};

// A fast hash: the keys are the copy's own small numbers, not anything a caller chooses.
use foldhash::HashMap;

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use uuid::Uuid;

use super::{
    facts::{MEASURE_COLUMNS, Measures},
    query::Month,
};
use crate::error::{AppError, AppResult};

mod sums;

pub use sums::{Attributes, Maker, Wanted};

/// Interned values: each distinct value gets the next small number.
#[derive(Debug)]
struct Names<T> {
    index: HashMap<T, u32>,
    values: Vec<T>,
}

impl<T> Default for Names<T> {
    fn default() -> Self {
        Self {
            index: HashMap::default(),
            values: Vec::new(),
        }
    }
}

impl<T: Hash + Eq + Clone> Names<T> {
    fn id(&mut self, value: T) -> u32 {
        if let Some(id) = self.index.get(&value) {
            return *id;
        }
        let id = self.values.len() as u32;
        self.values.push(value.clone());
        self.index.insert(value, id);
        id
    }

    fn find(&self, value: &T) -> Option<u32> {
        self.index.get(value).copied()
    }

    /// This table's numbers for another table's values, in that table's order.
    fn ids_of(&mut self, other: &Self) -> Vec<u32> {
        other.values.iter().map(|v| self.id(v.clone())).collect()
    }
}

/// A cube row's key, interned: month as `year * 12 + month0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    month: u32,
    shop: u32,
    category: u32,
    country: u32,
    method: u32,
}

/// The rows of one month, shop and craft are kept together: a question skips whole blocks
/// it does not ask about, and the copy holds no key or hash slot per row (a third of the
/// memory a map per cube took).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct BlockKey {
    month: u32,
    shop: u32,
    category: u32,
}

/// Where a row sits in its block: destination and method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place {
    country: u32,
    method: u32,
}

impl Key {
    fn join(block: BlockKey, place: Place) -> Self {
        Self {
            month: block.month,
            shop: block.shop,
            category: block.category,
            country: place.country,
            method: place.method,
        }
    }
}

/// A maker's part of a cell: gross MNT, gross USD, share MNT, share USD.
type Parts = [i64; 4];

/// One month, shop and craft's rows of the three cubes.
#[derive(Debug, Default)]
struct Block {
    cells: Vec<(Place, Measures)>,
    /// Kind (0 to ship, 1 to deliver), whole days, orders.
    days: Vec<(Place, u8, i32, i64)>,
    parts: Vec<(Place, u32, Parts)>,
}

impl Block {
    fn is_empty(&self) -> bool {
        self.cells.is_empty() && self.days.is_empty() && self.parts.is_empty()
    }

    fn shrink(&mut self) {
        self.cells.shrink_to_fit();
        self.days.shrink_to_fit();
        self.parts.shrink_to_fit();
    }
}

/// Replaces the row `same` finds with `row`, adds it, or removes it when `gone`.
fn put<T>(rows: &mut Vec<T>, row: T, same: impl Fn(&T) -> bool, gone: bool) {
    match rows.iter().position(same) {
        Some(i) if gone => {
            rows.swap_remove(i);
        }
        Some(i) => rows[i] = row,
        None if !gone => rows.push(row),
        None => {}
    }
}

/// The three cubes, interned.
#[derive(Debug, Default)]
struct Cubes {
    /// `None` until first loaded.
    epoch: Option<String>,
    seq: i64,
    shops: Names<Uuid>,
    categories: Names<Uuid>,
    makers: Names<Uuid>,
    countries: Names<String>,
    methods: Names<String>,
    blocks: HashMap<BlockKey, Block>,
}

/// The copy a server keeps; one per server (`AppState::read_models`).
#[derive(Default)]
pub struct Memory {
    cubes: RwLock<Cubes>,
    /// One reader of the database at a time brings the copy up to date.
    turn: tokio::sync::Mutex<()>,
}

impl Memory {
    /// Brings the copy up to date with the database and lends it.
    pub async fn current(&self, db: &impl ConnectionTrait) -> AppResult<View<'_>> {
        {
            let _turn = self.turn.lock().await;
            let (epoch, seq) = state(db).await?;
            let (mine, since) = {
                let c = self.read();
                (c.epoch.clone(), c.seq)
            };
            if mine.as_deref() != Some(epoch.as_str()) {
                // Later questions wait for the turn, so the old copy can go before the new one
                // loads (a question still summing from it holds its read until it is done).
                *self.write() = Cubes::default();
                let mut fresh = Cubes::default();
                fresh.load(db, None).await?;
                fresh.epoch = Some(epoch);
                fresh.seq = seq;
                *self.write() = fresh;
            } else if seq > since {
                let mut changed = Cubes::default();
                changed.load(db, Some(since)).await?;
                let mut c = self.write();
                c.absorb(changed);
                c.seq = seq;
            }
        }
        Ok(View(self.read()))
    }

    fn read(&self) -> RwLockReadGuard<'_, Cubes> {
        self.cubes.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Cubes> {
        self.cubes.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// The epoch and the last change number.
async fn state(db: &impl ConnectionTrait) -> AppResult<(String, i64)> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT epoch, seq FROM statistics_state WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("statistics_state has no row")))?;
    Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?))
}

/// Gives the next change number, under the state row's lock until the transaction ends:
/// writers of the cubes take it first and so take turns whole; their numbers commit in order.
pub async fn next_seq(txn: &impl ConnectionTrait) -> AppResult<i64> {
    txn.execute_unprepared("UPDATE statistics_state SET seq = seq + 1 WHERE id = 1")
        .await?;
    Ok(state(txn).await?.1)
}

/// Starts a new epoch (after a rebuild replaced every row): every server reloads.
pub async fn new_epoch(txn: &impl ConnectionTrait) -> AppResult<()> {
    let backend = txn.get_database_backend();
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        crate::db::placeholders(
            backend,
            "UPDATE statistics_state SET epoch = ? WHERE id = 1",
        ),
        [Value::from(Uuid::now_v7().to_string())],
    ))
    .await?;
    Ok(())
}

impl Cubes {
    /// Reads every live row, a month at a time, or with `since` every row changed after that
    /// number.
    async fn load(&mut self, db: &impl ConnectionTrait, since: Option<i64>) -> AppResult<()> {
        let backend = db.get_database_backend();
        let scopes: Vec<(&str, Value)> = match since {
            Some(n) => vec![("seq > ?", n.into())],
            None => months(db)
                .await?
                .into_iter()
                .map(|m| ("month = ?", m.into()))
                .collect(),
        };
        let keep_zero = since.is_some();
        let maker = uuid_text(backend, "maker_id");
        let parts_columns = [
            maker.as_str(),
            "gross_mnt",
            "gross_usd",
            "share_mnt",
            "share_usd",
        ];
        for (scope, value) in scopes {
            for group in packed(db, "statistics_cells", &MEASURE_COLUMNS, scope, &value).await? {
                let block = self.block_of(&group);
                for item in group.items() {
                    let (place, mut rest) = self.place(item)?;
                    let mut m = Measures::default();
                    for field in m.fields() {
                        *field = number(rest.next())?;
                    }
                    if keep_zero || !m.is_zero() {
                        self.block(block).cells.push((place, m));
                    }
                }
            }
            let days = ["kind", "days", "orders"];
            for group in packed(db, "statistics_days", &days, scope, &value).await? {
                let block = self.block_of(&group);
                for item in group.items() {
                    let (place, mut rest) = self.place(item)?;
                    let kind = u8::from(rest.next() == Some("D"));
                    let d = number(rest.next())? as i32;
                    let n = number(rest.next())?;
                    if keep_zero || n != 0 {
                        self.block(block).days.push((place, kind, d, n));
                    }
                }
            }
            for group in packed(db, "statistics_maker_cells", &parts_columns, scope, &value).await?
            {
                let block = self.block_of(&group);
                for item in group.items() {
                    let (place, mut rest) = self.place(item)?;
                    let maker = self.makers.id(uuid(rest.next())?);
                    let mut parts = Parts::default();
                    for part in &mut parts {
                        *part = number(rest.next())?;
                    }
                    if keep_zero || parts.iter().any(|v| *v != 0) {
                        self.block(block).parts.push((place, maker, parts));
                    }
                }
            }
        }
        for block in self.blocks.values_mut() {
            block.shrink();
        }
        Ok(())
    }

    fn block_of(&mut self, group: &Group) -> BlockKey {
        BlockKey {
            month: group.month,
            shop: self.shops.id(group.shop),
            category: self.categories.id(group.category),
        }
    }

    fn block(&mut self, key: BlockKey) -> &mut Block {
        self.blocks.entry(key).or_default()
    }

    /// A packed row's destination and method; the rest of its fields follow.
    fn place<'t>(&mut self, item: &'t str) -> AppResult<(Place, std::str::Split<'t, char>)> {
        let mut fields = item.split(',');
        let place = Place {
            country: self.countries.id(text(fields.next())?.to_owned()),
            method: self.methods.id(text(fields.next())?.to_owned()),
        };
        Ok((place, fields))
    }

    /// Takes in the rows changed since this copy's number, read into `changed` (interned
    /// there): each replaces what this copy held for its key, and a row back to nothing goes.
    fn absorb(&mut self, changed: Self) {
        let shops = self.shops.ids_of(&changed.shops);
        let categories = self.categories.ids_of(&changed.categories);
        let makers = self.makers.ids_of(&changed.makers);
        let countries = self.countries.ids_of(&changed.countries);
        let methods = self.methods.ids_of(&changed.methods);
        let block_of = |k: BlockKey| BlockKey {
            month: k.month,
            shop: shops[k.shop as usize],
            category: categories[k.category as usize],
        };
        let place_of = |p: Place| Place {
            country: countries[p.country as usize],
            method: methods[p.method as usize],
        };
        for (key, changed) in changed.blocks {
            let key = block_of(key);
            let block = self.blocks.entry(key).or_default();
            for (place, m) in changed.cells {
                let place = place_of(place);
                put(&mut block.cells, (place, m), |r| r.0 == place, m.is_zero());
            }
            for (place, kind, d, n) in changed.days {
                let place = place_of(place);
                let row = (place, kind, d, n);
                put(
                    &mut block.days,
                    row,
                    |r| (r.0, r.1, r.2) == (place, kind, d),
                    n == 0,
                );
            }
            for (place, maker, p) in changed.parts {
                let (place, maker) = (place_of(place), makers[maker as usize]);
                let gone = p.iter().all(|v| *v == 0);
                put(
                    &mut block.parts,
                    (place, maker, p),
                    |r| (r.0, r.1) == (place, maker),
                    gone,
                );
            }
            if block.is_empty() {
                self.blocks.remove(&key);
            }
        }
    }
}

/// The months the cubes hold.
async fn months(db: &impl ConnectionTrait) -> AppResult<Vec<String>> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT DISTINCT month FROM statistics_cells",
        ))
        .await?;
    rows.iter().map(|r| Ok(r.try_get_by_index(0)?)).collect()
}

/// A uuid column as text both databases print and [`Uuid::parse_str`] reads.
fn uuid_text(backend: DbBackend, col: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("CAST({col} AS TEXT)"),
        _ => format!("hex({col})"),
    }
}

/// One month, shop and craft's rows of a cube, packed by the database into one text: rows
/// by `;`, fields by `,`, each the destination and method, then the table's columns.
struct Group {
    month: u32,
    shop: Uuid,
    category: Uuid,
    text: String,
}

impl Group {
    fn items(&self) -> impl Iterator<Item = &str> {
        self.text.split(';').filter(|i| !i.is_empty())
    }
}

/// A cube's rows in `scope` (a condition with one value), a group per month, shop and craft.
/// Handing a row over from the database costs far more than reading it (SQLite passes rows
/// between threads one at a time), so the database packs each group's rows into one text:
/// a year's cubes arrive in a few thousand rows instead of a million and a half.
async fn packed(
    db: &impl ConnectionTrait,
    table: &str,
    columns: &[&str],
    scope: &str,
    value: &Value,
) -> AppResult<Vec<Group>> {
    let backend = db.get_database_backend();
    let sql = format!(
        "SELECT month, shop_id, category_id, \
         string_agg(concat_ws(',', country, method, {}), ';') FROM {table} \
         WHERE {scope} GROUP BY month, shop_id, category_id",
        columns.join(", ")
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            crate::db::placeholders(backend, &sql),
            [value.clone()],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            let month: String = row.try_get_by_index(0)?;
            Ok(Group {
                // A stored month is ours: a bad one is a fault here, not the asker's input.
                month: Month::parse("month", &month)
                    .map_err(|_| {
                        AppError::Internal(anyhow::anyhow!("the cube holds a month {month:?}"))
                    })?
                    .index(),
                shop: row.try_get_by_index(1)?,
                category: row.try_get_by_index(2)?,
                text: row
                    .try_get_by_index::<Option<String>>(3)?
                    .unwrap_or_default(),
            })
        })
        .collect()
}

fn text(field: Option<&str>) -> AppResult<&str> {
    field.ok_or_else(|| AppError::Internal(anyhow::anyhow!("a packed cube row is short")))
}

fn number(field: Option<&str>) -> AppResult<i64> {
    text(field)?
        .parse()
        .map_err(|e: std::num::ParseIntError| AppError::Internal(e.into()))
}

fn uuid(field: Option<&str>) -> AppResult<Uuid> {
    Uuid::parse_str(text(field)?).map_err(|e| AppError::Internal(e.into()))
}

/// The copy, lent for one question (its answers are summed in `sums`).
pub struct View<'a>(RwLockReadGuard<'a, Cubes>);

#[cfg(test)]
mod tests {
    use super::*;

    fn block(shop: u32) -> BlockKey {
        BlockKey {
            month: 100,
            shop,
            category: 0,
        }
    }

    const HERE: Place = Place {
        country: 0,
        method: 0,
    };

    fn orders(n: i64) -> Measures {
        Measures {
            orders: n,
            units: n,
            ..Measures::default()
        }
    }

    /// Cubes with these shops (in this order), one craft, destination and method.
    fn cubes(shops: &[Uuid]) -> Cubes {
        let mut c = Cubes::default();
        for id in shops {
            c.shops.id(*id);
        }
        c.categories.id(Uuid::nil());
        c.countries.id("DE".into());
        c.methods.id("CARD".into());
        c
    }

    #[test]
    fn changed_rows_replace_what_a_copy_held_and_rows_back_to_nothing_go() {
        let (a, b, c) = (
            Uuid::from_u128(10),
            Uuid::from_u128(20),
            Uuid::from_u128(30),
        );
        let mut copy = cubes(&[a, b]);
        copy.block(block(0)).cells.push((HERE, orders(5)));
        copy.block(block(0)).days.push((HERE, 0, 3, 4));
        copy.block(block(1)).cells.push((HERE, orders(7)));
        copy.block(block(1)).parts.push((HERE, 0, [1, 2, 3, 4]));
        // The changed rows arrive interned in their own order: b, then a new shop c, then a.
        let mut changed = cubes(&[b, c, a]);
        changed.makers.id(Uuid::nil());
        changed
            .block(block(0))
            .cells
            .push((HERE, Measures::default()));
        changed.block(block(0)).parts.push((HERE, 0, [0; 4]));
        changed.block(block(1)).cells.push((HERE, orders(2)));
        changed.block(block(2)).days.push((HERE, 0, 3, 6));
        changed.block(block(2)).days.push((HERE, 1, 9, 1));
        copy.makers.id(Uuid::nil());
        copy.absorb(changed);
        let a_rows = &copy.blocks[&block(0)];
        assert_eq!(
            a_rows.cells,
            vec![(HERE, orders(5))],
            "a's cell is untouched"
        );
        assert_eq!(
            a_rows.days,
            vec![(HERE, 0, 3, 6), (HERE, 1, 9, 1)],
            "a's day replaced, another added"
        );
        assert!(
            !copy.blocks.contains_key(&block(1)),
            "b went back to nothing, and its block with it"
        );
        assert_eq!(copy.shops.find(&c), Some(2));
        assert_eq!(
            copy.blocks[&block(2)].cells,
            vec![(HERE, orders(2))],
            "c added"
        );
    }
}
