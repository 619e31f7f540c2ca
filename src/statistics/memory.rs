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
    collections::{BTreeMap, BTreeSet},
    hash::Hash,
    sync::{RwLock, RwLockReadGuard},
};

// A fast hash: the keys are the copy's own small numbers, not anything a caller chooses.
use foldhash::HashMap;

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use uuid::Uuid;

use super::{
    facts::{MEASURE_COLUMNS, Measures},
    query::{Cell, Dimension, Filter, Month},
};
use crate::error::{AppError, AppResult};

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
                month: Month::parse("month", &month)?.index(),
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

/// What a question needs to know of the shops, crafts and makers, as they are now.
#[derive(Debug, Default)]
pub struct Attributes {
    /// Slug and parent's slug.
    pub categories: HashMap<Uuid, (String, Option<String>)>,
    /// Region, country and size band.
    pub shops: HashMap<Uuid, [String; 3]>,
    pub makers: HashMap<Uuid, Maker>,
}

/// A maker's characteristics as researchers may use them: empty without consent.
#[derive(Debug, Clone, Default)]
pub struct Maker {
    pub consented: bool,
    pub gender: Option<String>,
    pub birth_year: Option<i32>,
    pub cooperative_member: Option<bool>,
    pub region: String,
    pub years_practising: Option<i32>,
}

impl Attributes {
    /// Reads what `dims` and `filter` need (and the makers when `makers`).
    pub async fn read(
        db: &impl ConnectionTrait,
        dims: &[Dimension],
        filter: &Filter,
        makers: bool,
    ) -> AppResult<Self> {
        let backend = db.get_database_backend();
        let all =
            |sql: &'static str| db.query_all_raw(Statement::from_string(backend, sql.to_owned()));
        let mut out = Self::default();
        let needs = |d: Dimension| dims.contains(&d);
        if needs(Dimension::Craft) || needs(Dimension::CraftGroup) || filter.craft.is_some() {
            let rows = all("SELECT id, slug, parent_id FROM categories").await?;
            let mut slugs: HashMap<Uuid, String> = HashMap::default();
            let mut parents: Vec<(Uuid, Option<Uuid>)> = Vec::new();
            for row in rows {
                let id: Uuid = row.try_get_by_index(0)?;
                slugs.insert(id, row.try_get_by_index(1)?);
                parents.push((id, row.try_get_by_index(2)?));
            }
            for (id, parent) in parents {
                let parent = parent.and_then(|p| slugs.get(&p).cloned());
                if let Some(slug) = slugs.get(&id) {
                    out.categories.insert(id, (slug.clone(), parent));
                }
            }
        }
        let of_shop = [
            Dimension::Region,
            Dimension::ArtisanCountry,
            Dimension::ShopSize,
        ];
        if of_shop.iter().any(|d| needs(*d))
            || filter.region.is_some()
            || filter.artisan_country.is_some()
            || filter.shop_size.is_some()
        {
            let mut sizes: HashMap<Uuid, i64> = HashMap::default();
            for row in all("SELECT shop_id, COUNT(*) FROM makers GROUP BY shop_id").await? {
                sizes.insert(row.try_get_by_index(0)?, row.try_get_by_index(1)?);
            }
            for row in all("SELECT id, region, country FROM shops").await? {
                let id: Uuid = row.try_get_by_index(0)?;
                let size = match sizes.get(&id).copied().unwrap_or(0) {
                    ..=1 => "SOLO",
                    2..=5 => "WORKSHOP",
                    _ => "ENTERPRISE",
                };
                out.shops.insert(
                    id,
                    [
                        row.try_get_by_index(1)?,
                        row.try_get_by_index(2)?,
                        size.to_owned(),
                    ],
                );
            }
        }
        if makers {
            for row in all(
                "SELECT id, statistics_consent_at, gender, birth_year, cooperative_member, \
                 region, years_practising FROM makers",
            )
            .await?
            {
                let consent: Option<chrono::DateTime<chrono::Utc>> = row.try_get_by_index(1)?;
                out.makers.insert(
                    row.try_get_by_index(0)?,
                    Maker {
                        consented: consent.is_some(),
                        gender: row.try_get_by_index(2)?,
                        birth_year: row.try_get_by_index(3)?,
                        cooperative_member: row.try_get_by_index(4)?,
                        region: row.try_get_by_index(5)?,
                        years_practising: row.try_get_by_index(6)?,
                    },
                );
            }
        }
        Ok(out)
    }
}

/// The copy, lent for one question.
pub struct View<'a>(RwLockReadGuard<'a, Cubes>);

/// What to sum.
#[derive(Debug, Clone, Copy)]
pub struct Wanted {
    /// Break down by makers' characteristics: values from the makers' cube.
    pub by_makers: bool,
    /// List the makers of each cell.
    pub makers: bool,
    /// Histograms of days to ship and deliver.
    pub days: bool,
}

/// Labels of the dimensions that are not numbers of months: the code indexes `labels`.
struct Axis {
    dim: Dimension,
    /// Per interned id of the source the dimension reads (category, shop, maker): its code,
    /// `None` to leave the row out.
    codes: Vec<Option<u32>>,
    labels: Vec<String>,
}

/// Age bands, as [`Dimension::MakerAgeBand`] labels them.
const AGE_BANDS: [&str; 7] = [
    "UNDECLARED",
    "<25",
    "25-34",
    "35-44",
    "45-54",
    "55-64",
    "65+",
];

fn age_band(birth_year: Option<i32>, year: i32) -> u32 {
    match birth_year.map(|b| year - b) {
        None => 0,
        Some(..25) => 1,
        Some(25..35) => 2,
        Some(35..45) => 3,
        Some(45..55) => 4,
        Some(55..65) => 5,
        Some(_) => 6,
    }
}

/// One group while summing.
#[derive(Default)]
struct Sum {
    measures: Measures,
    shops: Ids,
    makers: Ids,
    days: std::collections::HashMap<(char, i32), i64>,
}

/// The groups of an answer by number, their sums apart (a sum is large, and the index grows
/// while it is built), in the order they were found.
#[derive(Default)]
struct Groups {
    index: HashMap<[u32; 4], usize>,
    keys: Vec<[u32; 4]>,
    sums: Vec<Sum>,
}

impl Groups {
    fn sum(&mut self, group: [u32; 4]) -> &mut Sum {
        let i = *self.index.entry(group).or_insert_with(|| {
            self.keys.push(group);
            self.sums.push(Sum::default());
            self.sums.len() - 1
        });
        &mut self.sums[i]
    }

    /// A group found before, not made anew.
    fn found(&mut self, group: [u32; 4]) -> Option<&mut Sum> {
        let i = *self.index.get(&group)?;
        self.sums.get_mut(i)
    }
}

/// Small numbers, deduplicated now and then while they are added.
#[derive(Default)]
struct Ids {
    list: Vec<u32>,
    unique: usize,
}

impl Ids {
    fn add(&mut self, id: u32) {
        if self.list.last() == Some(&id) {
            return;
        }
        self.list.push(id);
        if self.list.len() > 2 * self.unique + 64 {
            self.settle();
        }
    }

    fn settle(&mut self) {
        self.list.sort_unstable();
        self.list.dedup();
        self.unique = self.list.len();
    }

    fn into_set(mut self) -> BTreeSet<Uuid> {
        self.settle();
        self.list
            .into_iter()
            .map(|id| Uuid::from_u128(u128::from(id) + 1))
            .collect()
    }
}

impl View<'_> {
    /// The cells of `dims` within `from..=to` and `filter`, each with its shops (and makers
    /// and days as wanted), under the cubes' rules for live rows: a shop cell counts when it
    /// has orders or units, a maker's part when it has value. Shops and makers are given as
    /// numbers that stand for one each within this answer.
    pub fn cells(
        &self,
        dims: &[Dimension],
        from: Month,
        to: Month,
        filter: &Filter,
        attributes: &Attributes,
        wanted: Wanted,
    ) -> BTreeMap<Vec<String>, Cell> {
        let c = &*self.0;
        let Some(pass) = Pass::new(c, dims, from, to, filter, attributes) else {
            return BTreeMap::new();
        };
        let mut groups = Groups::default();
        let blocks = c.blocks.iter().filter(|(k, _)| pass.wants(k));
        if wanted.by_makers {
            for (bk, block) in blocks {
                for (place, maker, p) in &block.parts {
                    if p[0] == 0 && p[1] == 0 && p[2] == 0 {
                        continue;
                    }
                    let Some(group) = pass.group(&Key::join(*bk, *place), Some(*maker)) else {
                        continue;
                    };
                    let sum = groups.sum(group);
                    let m = &mut sum.measures;
                    m.gross_mnt += p[0];
                    m.gross_usd += p[1];
                    m.share_mnt += p[2];
                    m.share_usd += p[3];
                    sum.shops.add(bk.shop);
                    if pass.named(*maker) {
                        sum.makers.add(*maker);
                    }
                }
            }
        } else {
            let blocks: Vec<(&BlockKey, &Block)> = blocks.collect();
            for (bk, block) in &blocks {
                for (place, m) in &block.cells {
                    if m.orders == 0 && m.units == 0 {
                        continue;
                    }
                    if let Some(group) = pass.group(&Key::join(**bk, *place), None) {
                        let sum = groups.sum(group);
                        sum.measures += *m;
                        sum.shops.add(bk.shop);
                    }
                }
            }
            let found = |bk: &BlockKey, place: &Place| pass.group(&Key::join(*bk, *place), None);
            if wanted.makers {
                for (bk, block) in &blocks {
                    for (place, maker, p) in &block.parts {
                        if (p[0] == 0 && p[1] == 0 && p[2] == 0) || !pass.named(*maker) {
                            continue;
                        }
                        if let Some(sum) = found(bk, place).and_then(|g| groups.found(g)) {
                            sum.makers.add(*maker);
                        }
                    }
                }
            }
            if wanted.days {
                for (bk, block) in &blocks {
                    for (place, kind, d, n) in &block.days {
                        if let Some(sum) = found(bk, place).and_then(|g| groups.found(g)) {
                            let kind = if *kind == 1 { 'D' } else { 'S' };
                            *sum.days.entry((kind, *d)).or_default() += n;
                        }
                    }
                }
            }
        }
        groups
            .keys
            .into_iter()
            .zip(groups.sums)
            .map(|(group, sum)| {
                (
                    pass.labels(&group),
                    Cell {
                        measures: sum.measures,
                        shops: sum.shops.into_set(),
                        makers: sum.makers.into_set(),
                        days: sum.days,
                    },
                )
            })
            .collect()
    }

    /// The quarters with sales, newest first.
    pub fn quarters(&self) -> Vec<String> {
        let quarters: BTreeSet<u32> = self
            .0
            .blocks
            .iter()
            .filter(|(_, b)| b.cells.iter().any(|(_, m)| m.orders != 0 || m.units != 0))
            .map(|(k, _)| k.month / 3)
            .collect();
        quarters
            .into_iter()
            .rev()
            .map(|q| Month::from_index(q * 3).quarter_text())
            .collect()
    }

    /// Per craft (slug) and shop: orders, units and gross USD of the shops' sales abroad
    /// (outside the shop's own country), within `from..=to`, for the crafts `shop` sold.
    pub fn exports_by_craft(
        &self,
        shop: Uuid,
        from: Month,
        to: Month,
        attributes: &Attributes,
    ) -> BTreeMap<String, BTreeMap<Uuid, [i64; 3]>> {
        let c = &*self.0;
        let (from, to) = (from.index(), to.index());
        let Some(own) = c.shops.find(&shop) else {
            return BTreeMap::new();
        };
        let in_range = |k: &&BlockKey| (from..=to).contains(&k.month);
        let sold: BTreeSet<u32> = c
            .blocks
            .keys()
            .filter(in_range)
            .filter(|k| k.shop == own)
            .map(|k| k.category)
            .collect();
        let mut out: BTreeMap<String, BTreeMap<Uuid, [i64; 3]>> = BTreeMap::new();
        for (k, block) in &c.blocks {
            if !in_range(&k) || !sold.contains(&k.category) {
                continue;
            }
            let id = c.shops.values[k.shop as usize];
            let Some([_, country, _]) = attributes.shops.get(&id) else {
                continue;
            };
            let craft = attributes
                .categories
                .get(&c.categories.values[k.category as usize])
                .map_or("uncategorised", |(slug, _)| slug.as_str());
            for (place, m) in &block.cells {
                if c.countries.values[place.country as usize] == *country {
                    continue;
                }
                let sums = out
                    .entry(craft.to_owned())
                    .or_default()
                    .entry(id)
                    .or_default();
                sums[0] += m.orders;
                sums[1] += m.units;
                sums[2] += m.gross_usd;
            }
        }
        out
    }
}

/// One question's way through the copy: which rows it keeps and how it groups them.
struct Pass<'a> {
    cubes: &'a Cubes,
    dims: Vec<Dimension>,
    axes: Vec<Option<Axis>>,
    from: u32,
    to: u32,
    country: Option<u32>,
    method: Option<u32>,
    categories: Option<Vec<bool>>,
    shops: Option<Vec<bool>>,
    /// Per maker: its declared characteristics, when the question reads them.
    makers: Vec<Option<&'a Maker>>,
    nil_maker: Option<u32>,
}

impl<'a> Pass<'a> {
    /// `None` when the filter matches nothing the copy holds.
    fn new(
        c: &'a Cubes,
        dims: &[Dimension],
        from: Month,
        to: Month,
        f: &Filter,
        at: &'a Attributes,
    ) -> Option<Self> {
        let upper = |v: &Option<String>| v.as_ref().map(|v| v.trim().to_ascii_uppercase());
        let country = match upper(&f.destination) {
            Some(code) => Some(c.countries.find(&code)?),
            None => None,
        };
        let method = match upper(&f.payment_method) {
            Some(code) => Some(c.methods.find(&code)?),
            None => None,
        };
        let categories = f.craft.as_ref().map(|craft| {
            let craft = craft.trim();
            c.categories
                .values
                .iter()
                .map(|id| {
                    at.categories.get(id).is_some_and(|(slug, parent)| {
                        slug == craft || parent.as_deref() == Some(craft)
                    })
                })
                .collect()
        });
        let region = f.region.as_ref().map(|r| r.trim().to_owned());
        let (artisan_country, size) = (upper(&f.artisan_country), upper(&f.shop_size));
        let shops = (region.is_some() || artisan_country.is_some() || size.is_some()).then(|| {
            c.shops
                .values
                .iter()
                .map(|id| {
                    at.shops.get(id).is_some_and(|[r, country, s]| {
                        region.as_ref().is_none_or(|v| v == r)
                            && artisan_country.as_ref().is_none_or(|v| v == country)
                            && size.as_ref().is_none_or(|v| v == s)
                    })
                })
                .collect()
        });
        let makers = c.makers.values.iter().map(|id| at.makers.get(id)).collect();
        let axes = dims.iter().map(|d| Self::axis(c, *d, at)).collect();
        Some(Self {
            cubes: c,
            dims: dims.to_vec(),
            axes,
            from: from.index(),
            to: to.index(),
            country,
            method,
            categories,
            shops,
            makers,
            nil_maker: c.makers.find(&Uuid::nil()),
        })
    }

    /// How a dimension that reads a category, shop or maker labels each of them.
    fn axis(c: &Cubes, dim: Dimension, at: &Attributes) -> Option<Axis> {
        let mut labels: Names<String> = Names::default();
        let codes: Vec<Option<u32>> = match dim {
            Dimension::Craft | Dimension::CraftGroup => c
                .categories
                .values
                .iter()
                .map(|id| {
                    let label = match (at.categories.get(id), dim) {
                        (None, _) => "uncategorised",
                        (Some((_, Some(parent))), Dimension::CraftGroup) => parent.as_str(),
                        (Some((slug, _)), _) => slug.as_str(),
                    };
                    Some(labels.id(label.to_owned()))
                })
                .collect(),
            Dimension::Region | Dimension::ArtisanCountry | Dimension::ShopSize => {
                let i = match dim {
                    Dimension::Region => 0,
                    Dimension::ArtisanCountry => 1,
                    _ => 2,
                };
                c.shops
                    .values
                    .iter()
                    .map(|id| at.shops.get(id).map(|a| labels.id(a[i].clone())))
                    .collect()
            }
            Dimension::MakerGender
            | Dimension::MakerCooperative
            | Dimension::MakerRegion
            | Dimension::MakerExperience => c
                .makers
                .values
                .iter()
                .map(|id| Some(labels.id(maker_label(dim, at.makers.get(id)))))
                .collect(),
            _ => return None,
        };
        Some(Axis {
            dim,
            codes,
            labels: labels.values,
        })
    }

    /// Whether a block's month, shop and craft are in the question at all.
    fn wants(&self, k: &BlockKey) -> bool {
        k.month >= self.from
            && k.month <= self.to
            && self
                .categories
                .as_ref()
                .is_none_or(|ok| ok[k.category as usize])
            && self.shops.as_ref().is_none_or(|ok| ok[k.shop as usize])
    }

    /// Whether a maker is a named one (not the nil id of lines without makers).
    fn named(&self, maker: u32) -> bool {
        self.nil_maker != Some(maker)
    }

    /// The group a row belongs to, or `None` when the question leaves it out.
    fn group(&self, k: &Key, maker: Option<u32>) -> Option<[u32; 4]> {
        if k.month < self.from
            || k.month > self.to
            || self.country.is_some_and(|c| c != k.country)
            || self.method.is_some_and(|m| m != k.method)
            || self
                .categories
                .as_ref()
                .is_some_and(|ok| !ok[k.category as usize])
            || self.shops.as_ref().is_some_and(|ok| !ok[k.shop as usize])
        {
            return None;
        }
        let mut group = [0u32; 4];
        for (i, dim) in self.dims.iter().enumerate() {
            group[i] = match (dim, &self.axes[i]) {
                (Dimension::Month, _) => k.month,
                (Dimension::Quarter, _) => k.month / 3,
                (Dimension::Year, _) => k.month / 12,
                (Dimension::Destination, _) => k.country,
                (Dimension::PaymentMethod, _) => k.method,
                (Dimension::MakerAgeBand, _) => {
                    let birth = maker
                        .and_then(|m| self.makers[m as usize])
                        .and_then(|m| m.birth_year);
                    age_band(birth, (k.month / 12) as i32)
                }
                (_, Some(axis)) => {
                    let source = match axis.dim {
                        Dimension::Craft | Dimension::CraftGroup => k.category,
                        Dimension::Region | Dimension::ArtisanCountry | Dimension::ShopSize => {
                            k.shop
                        }
                        _ => maker?,
                    };
                    axis.codes[source as usize]?
                }
                (_, None) => return None,
            };
        }
        Some(group)
    }

    fn labels(&self, group: &[u32; 4]) -> Vec<String> {
        self.dims
            .iter()
            .zip(group)
            .enumerate()
            .map(|(i, (dim, code))| match (dim, &self.axes[i]) {
                (Dimension::Month, _) => Month::from_index(*code).text(),
                (Dimension::Quarter, _) => Month::from_index(code * 3).quarter_text(),
                (Dimension::Year, _) => (code / 12).to_string(),
                (Dimension::Destination, _) => self.cubes.countries.values[*code as usize].clone(),
                (Dimension::PaymentMethod, _) => self.cubes.methods.values[*code as usize].clone(),
                (Dimension::MakerAgeBand, _) => AGE_BANDS[*code as usize].to_owned(),
                (_, Some(axis)) => axis.labels[*code as usize].clone(),
                (_, None) => String::new(),
            })
            .collect()
    }
}

/// A maker's label along a characteristic: what they declared with consent, else
/// `UNDECLARED` (also for lines with no maker).
fn maker_label(dim: Dimension, maker: Option<&Maker>) -> String {
    let undeclared = || "UNDECLARED".to_owned();
    let Some(m) = maker else {
        return undeclared();
    };
    match dim {
        Dimension::MakerGender => m.gender.clone().unwrap_or_else(undeclared),
        Dimension::MakerCooperative => match m.cooperative_member {
            None => undeclared(),
            Some(true) => "MEMBER".into(),
            Some(false) => "NOT_MEMBER".into(),
        },
        Dimension::MakerRegion if m.consented => m.region.clone(),
        Dimension::MakerExperience if m.consented => match m.years_practising {
            None => undeclared(),
            Some(..5) => "0-4".into(),
            Some(5..10) => "5-9".into(),
            Some(10..20) => "10-19".into(),
            Some(_) => "20+".into(),
        },
        _ => undeclared(),
    }
}

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

    #[test]
    fn makers_are_labelled_only_by_what_they_consented_to() {
        let declared = Maker {
            consented: true,
            gender: Some("FEMALE".into()),
            birth_year: Some(1990),
            cooperative_member: Some(false),
            region: "Khentii".into(),
            years_practising: Some(12),
        };
        let silent = Maker {
            region: "Khentii".into(),
            years_practising: Some(12),
            ..Maker::default()
        };
        let label = |d, m| maker_label(d, m);
        assert_eq!(label(Dimension::MakerGender, Some(&declared)), "FEMALE");
        assert_eq!(
            label(Dimension::MakerCooperative, Some(&declared)),
            "NOT_MEMBER"
        );
        assert_eq!(label(Dimension::MakerRegion, Some(&declared)), "Khentii");
        assert_eq!(label(Dimension::MakerExperience, Some(&declared)), "10-19");
        for d in [
            Dimension::MakerGender,
            Dimension::MakerCooperative,
            Dimension::MakerRegion,
            Dimension::MakerExperience,
        ] {
            assert_eq!(label(d, Some(&silent)), "UNDECLARED");
            assert_eq!(label(d, None), "UNDECLARED");
        }
        assert_eq!(AGE_BANDS[age_band(Some(1990), 2026) as usize], "35-44");
        assert_eq!(AGE_BANDS[age_band(Some(2002), 2026) as usize], "<25");
        assert_eq!(AGE_BANDS[age_band(Some(1961), 2026) as usize], "65+");
        assert_eq!(AGE_BANDS[age_band(None, 2026) as usize], "UNDECLARED");
    }
}
