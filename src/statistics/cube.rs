//! The cubes kept current from the facts. A change to an order queues it
//! (`rollups::statistics_due`, in the changing transaction); [`drain`] recomputes the queued
//! orders' facts ([`super::facts`]), takes their old facts out of the cube, the day histograms
//! and the makers' cube and puts the new ones in, in one transaction, marking the rows it
//! wrote with its change number so every server's copy ([`super::memory`]) reads just those.
//! [`rebuild`] recomputes everything from the orders, with the same
//! [`contribution`](super::facts::contribution), so the two always agree.

use std::collections::{BTreeMap, HashMap};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Value,
    sea_query::{LockBehavior, LockType},
};
use uuid::Uuid;

use super::{
    facts::{CellKey, Fact, MEASURE_COLUMNS, MakerShare, Measures, PaidOrder, shares_json, stored},
    sources::{BatchFacts, Products, facts_of, first_paid},
};
use crate::{
    db::{Kind, Merge, SetAside, insert_rows, set_indexes_aside},
    entities::{orders, statistics_facts, statistics_queue},
    error::AppResult,
    money::Rates,
    state::AppState,
};

type DayKey = (CellKey, &'static str, i32);

/// What a batch of facts moves: the cube, the day histograms and the makers' cube.
#[derive(Debug, Default)]
struct Deltas {
    cells: HashMap<CellKey, Measures>,
    days: HashMap<DayKey, i64>,
    makers: HashMap<(CellKey, Uuid), MakerShare>,
}

/// What facts add to the cubes and the day histograms, `sign` −1 to take them out.
fn tally(facts: &[Fact], sign: i64, deltas: &mut Deltas) {
    tally_makers(facts, sign, deltas);
    let Deltas { cells, days, .. } = deltas;
    for f in facts {
        cells
            .entry(f.key.clone())
            .or_default()
            .add(f.measures, sign);
        for (kind, d) in [("S", f.ship_days), ("D", f.deliver_days)] {
            if let Some(d) = d {
                *days.entry((f.key.clone(), kind, d)).or_default() += sign;
            }
        }
    }
}

/// What facts add to the makers' cube only.
fn tally_makers(facts: &[Fact], sign: i64, deltas: &mut Deltas) {
    for f in facts {
        for share in &f.makers {
            deltas
                .makers
                .entry((f.key.clone(), share.maker_id))
                .or_default()
                .add(*share, sign);
        }
    }
}

/// The cube and the day histograms summed from the stored facts, as [`tally`] sums them,
/// by the database in two statements: a rebuild moves no cube row through the server. In no
/// particular order: the rebuild makes the indexes afterwards, and sorting the day rows for
/// them cost PostgreSQL as long again as writing them (5.6 s against 2.4 s).
/// Returns the number of cells.
async fn cube_from_facts(db: &impl ConnectionTrait) -> AppResult<u64> {
    let backend = db.get_database_backend();
    let id = match backend {
        sea_orm::DbBackend::Postgres => "gen_random_uuid()",
        _ => "randomblob(16)",
    };
    let key = key_and(&[]).join(", ");
    let sums: Vec<String> = MEASURE_COLUMNS
        .iter()
        .map(|m| format!("SUM({m})"))
        .collect();
    let cells = db
        .execute_unprepared(&format!(
            "INSERT INTO statistics_cells (id, {key}, {}) \
             SELECT {id}, {key}, {} FROM statistics_facts GROUP BY {key} HAVING {}",
            MEASURE_COLUMNS.join(", "),
            sums.join(", "),
            sums.iter()
                .map(|s| format!("{s} <> 0"))
                .collect::<Vec<_>>()
                .join(" OR ")
        ))
        .await?
        .rows_affected();
    let days = |kind: &str, col: &str| {
        format!(
            "SELECT {id}, {key}, '{kind}', {col}, COUNT(*) FROM statistics_facts \
             WHERE {col} IS NOT NULL GROUP BY {key}, {col}"
        )
    };
    db.execute_unprepared(&format!(
        "INSERT INTO statistics_days (id, {key}, kind, days, orders) {} UNION ALL {}",
        days("S", "ship_days"),
        days("D", "deliver_days")
    ))
    .await?;
    Ok(cells)
}

async fn insert_facts(db: &impl ConnectionTrait, facts: &[(Uuid, Vec<Fact>)]) -> AppResult<()> {
    let columns = columns(
        &[("id", Kind::Uuid), ("order_id", Kind::Uuid)],
        &MEASURE_COLUMNS,
        &[
            ("ship_days", Kind::OptionalInt),
            ("deliver_days", Kind::OptionalInt),
            ("maker_shares", Kind::Text),
        ],
    );
    let rows = facts.iter().flat_map(|(order_id, fs)| {
        fs.iter().map(move |f| {
            let mut row = vec![Uuid::now_v7().into(), (*order_id).into()];
            row.extend(key_values(&f.key));
            row.extend(measure_values(f.measures));
            row.extend([
                f.ship_days.into(),
                f.deliver_days.into(),
                shares_json(&f.makers).into(),
            ]);
            row
        })
    });
    insert_rows(db, "statistics_facts", &columns, Box::new(rows), None).await?;
    Ok(())
}

/// The cell key's columns, as every cube and the facts name them.
const KEY_COLUMNS: [(&str, Kind); 5] = [
    ("month", Kind::Text),
    ("shop_id", Kind::Uuid),
    ("category_id", Kind::Uuid),
    ("country", Kind::Text),
    ("method", Kind::Text),
];

/// A table's columns: `head`, the cell key, the whole numbers `numbers`, then `tail`.
fn columns<'a>(
    head: &[(&'a str, Kind)],
    numbers: &[&'a str],
    tail: &[(&'a str, Kind)],
) -> Vec<(&'a str, Kind)> {
    let mut out = head.to_vec();
    out.extend(KEY_COLUMNS);
    out.extend(numbers.iter().map(|n| (*n, Kind::Int)));
    out.extend_from_slice(tail);
    out
}

fn key_values(k: &CellKey) -> [Value; 5] {
    [
        k.month.as_str().into(),
        k.shop_id.into(),
        k.category_id.into(),
        k.country.as_str().into(),
        k.method.as_str().into(),
    ]
}

fn measure_values(mut m: Measures) -> impl Iterator<Item = Value> {
    m.fields().map(|v| Value::from(*v)).into_iter()
}

/// The names of the cell key's columns followed by `more`.
fn key_and<'a>(more: &[&'a str]) -> Vec<&'a str> {
    KEY_COLUMNS
        .iter()
        .map(|(name, _)| *name)
        .chain(more.iter().copied())
        .collect()
}

/// Adds the deltas to the cube and the histograms, creating rows as needed, in key order,
/// and marks the rows with the change number `seq`. `into_empty` when the tables were just
/// emptied (a rebuild): the rows are only inserted, which needs no key index.
async fn apply(
    db: &impl ConnectionTrait,
    deltas: Deltas,
    seq: i64,
    into_empty: bool,
) -> AppResult<()> {
    let Deltas {
        cells,
        days,
        makers,
    } = deltas;
    let seq_column = [("seq", Kind::Int)];
    let cells: BTreeMap<CellKey, Measures> =
        cells.into_iter().filter(|(_, m)| !m.is_zero()).collect();
    let rows = cells.iter().map(|(k, m)| {
        let mut row = vec![Uuid::now_v7().into()];
        row.extend(key_values(k));
        row.extend(measure_values(*m));
        row.push(seq.into());
        row
    });
    let merge = Merge {
        key: &key_and(&[]),
        add: &MEASURE_COLUMNS,
        set: &["seq"],
    };
    let id = [("id", Kind::Uuid)];
    let table = columns(&id, &MEASURE_COLUMNS, &seq_column);
    let merge = (!into_empty).then_some(merge);
    insert_rows(db, "statistics_cells", &table, Box::new(rows), merge).await?;

    let days: BTreeMap<DayKey, i64> = days.into_iter().filter(|(_, n)| *n != 0).collect();
    let rows = days.iter().map(|((k, kind, d), n)| {
        let mut row = vec![Uuid::now_v7().into()];
        row.extend(key_values(k));
        row.extend([(*kind).into(), (*d).into(), (*n).into(), seq.into()]);
        row
    });
    let merge = Merge {
        key: &key_and(&["kind", "days"]),
        add: &["orders"],
        set: &["seq"],
    };
    let table = columns(
        &id,
        &[],
        &[
            ("kind", Kind::Text),
            ("days", Kind::Int),
            ("orders", Kind::Int),
            ("seq", Kind::Int),
        ],
    );
    let merge = (!into_empty).then_some(merge);
    insert_rows(db, "statistics_days", &table, Box::new(rows), merge).await?;

    let makers: BTreeMap<(CellKey, Uuid), MakerShare> =
        makers.into_iter().filter(|(_, s)| !s.is_zero()).collect();
    let parts = ["gross_mnt", "gross_usd", "share_mnt", "share_usd"];
    let rows = makers.iter().map(|((k, maker_id), s)| {
        let mut row = vec![Uuid::now_v7().into()];
        row.extend(key_values(k));
        row.extend([
            (*maker_id).into(),
            s.gross_mnt.into(),
            s.gross_usd.into(),
            s.share_mnt.into(),
            s.share_usd.into(),
            seq.into(),
        ]);
        row
    });
    let merge = Merge {
        key: &key_and(&["maker_id"]),
        add: &parts,
        set: &["seq"],
    };
    let mut table = columns(&id, &[], &[("maker_id", Kind::Uuid)]);
    table.extend(parts.iter().map(|p| (*p, Kind::Int)));
    table.extend(seq_column);
    let merge = (!into_empty).then_some(merge);
    insert_rows(db, "statistics_maker_cells", &table, Box::new(rows), merge).await?;
    Ok(())
}

/// Orders recomputed per transaction by [`drain`].
const DRAIN_BATCH: u64 = 200;

/// Recomputes the facts of every queued order and moves the cube by the difference. Returns
/// how many orders it recomputed. Safe on several servers: each batch first takes the next
/// change number, under the state row's lock, so drains and rebuilds take turns whole (a
/// drain never reads facts a rebuild is replacing, and never holds what a rebuild waits for
/// while it waits itself).
pub async fn drain(state: &AppState) -> AppResult<usize> {
    let mut done = 0;
    loop {
        // Looked at without a transaction: an idle tick takes no lock and no number.
        let queued = statistics_queue::Entity::find()
            .select_only()
            .column(statistics_queue::Column::OrderId)
            .into_tuple::<Uuid>()
            .one(&state.db)
            .await?;
        if queued.is_none() {
            return Ok(done);
        }
        let txn = crate::db::begin_write(&state.db).await?;
        let seq = super::memory::next_seq(&txn).await?;
        let mut due = statistics_queue::Entity::find()
            .select_only()
            .column(statistics_queue::Column::OrderId)
            .order_by_asc(statistics_queue::Column::QueuedAt)
            .limit(DRAIN_BATCH);
        if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
            due = due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let ids: Vec<Uuid> = due.into_tuple::<Uuid>().all(&txn).await?;
        if ids.is_empty() {
            txn.commit().await?;
            return Ok(done);
        }
        recompute(&txn, &ids, seq).await?;
        statistics_queue::Entity::delete_many()
            .filter(statistics_queue::Column::OrderId.is_in(ids.clone()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        done += ids.len();
    }
}

async fn recompute(txn: &DatabaseTransaction, ids: &[Uuid], seq: i64) -> AppResult<()> {
    let batch: Vec<PaidOrder> = orders::Entity::find()
        .filter(orders::Column::Id.is_in(ids.to_vec()))
        .into_partial_model()
        .all(txn)
        .await?;
    let rates = Rates::load(txn).await?;
    let firsts = first_paid(txn, Some(batch.iter().map(|o| o.buyer_id).collect())).await?;
    let BatchFacts {
        facts: new,
        to_lock,
    } = facts_of(txn, &batch, &rates, &firsts, &mut Products::default()).await?;
    to_lock.lock(txn).await?;
    let old: Vec<Fact> = statistics_facts::Entity::find()
        .filter(statistics_facts::Column::OrderId.is_in(ids.to_vec()))
        .all(txn)
        .await?
        .into_iter()
        .map(stored)
        .collect();
    let mut deltas = Deltas::default();
    tally(&old, -1, &mut deltas);
    for (_, facts) in &new {
        tally(facts, 1, &mut deltas);
    }
    statistics_facts::Entity::delete_many()
        .filter(statistics_facts::Column::OrderId.is_in(ids.to_vec()))
        .exec(txn)
        .await?;
    insert_facts(txn, &new).await?;
    apply(txn, deltas, seq, false).await
}

/// Empties the facts and the cubes for a rebuild and sets their indexes aside until it has
/// filled them ([`set_indexes_aside`]). PostgreSQL truncates: a `DELETE` would leave a
/// million dead rows in the tables and their indexes for the rebuild to write around (its
/// summing took three times as long). Truncating locks the tables until the rebuild commits,
/// which nothing waits on for long: drains wait for the rebuild anyway, and a server only
/// reads the cubes when the state row says they changed. SQLite empties a table in one step
/// already. PostgreSQL also gets the memory to group a year's facts and to sort them into
/// indexes without spilling to disk (78 MB for the histograms at a million lines).
async fn start_afresh(txn: &DatabaseTransaction) -> AppResult<SetAside> {
    const TABLES: [&str; 4] = [
        "statistics_facts",
        "statistics_cells",
        "statistics_days",
        "statistics_maker_cells",
    ];
    let indexes = set_indexes_aside(txn, &TABLES).await?;
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_unprepared(&format!("TRUNCATE {}", TABLES.join(", ")))
            .await?;
        txn.execute_unprepared("SET LOCAL work_mem = '256MB'")
            .await?;
        txn.execute_unprepared("SET LOCAL maintenance_work_mem = '256MB'")
            .await?;
    } else {
        for table in TABLES {
            txn.execute_unprepared(&format!("DELETE FROM {table}"))
                .await?;
        }
    }
    Ok(indexes)
}

/// What a rebuild did.
#[derive(Debug, Clone, Default)]
pub struct Rebuilt {
    pub orders: u64,
    pub facts: u64,
    pub cells: u64,
    /// Seconds spent in each phase, for whoever times it, each summed over every batch: first
    /// the reading connection's (named "(reading)"), then the writing transaction's, which
    /// run at the same time.
    pub phases: Vec<(&'static str, f64)>,
}

/// Orders read per batch by [`rebuild`].
const REBUILD_BATCH: u64 = 2000;

/// Recomputes every fact, cell and histogram from the orders, in one transaction: readers see
/// the old figures until it commits. The orders are read and their facts computed by a task
/// of their own on a connection of their own, a batch or two ahead of the transaction writing
/// them, so reading and writing overlap: each took a quarter of a rebuild on its own.
pub async fn rebuild(state: &AppState) -> AppResult<Rebuilt> {
    let (started, start) = tokio::sync::oneshot::channel();
    let (sender, batches) = tokio::sync::mpsc::channel(2);
    let reader = tokio::spawn(read_facts(state.db.clone(), start, sender));
    write_facts(state, started, batches, reader).await
}

/// Once the writer has emptied the queue (`start`), reads the paid orders in batches and sends
/// each batch's facts to `out` until there are no more or the writer has stopped (its error is
/// the rebuild's). Not before: an order changed after the reader had read it and queued
/// before the queue was emptied would keep the facts the rebuild computed from its old state.
/// From then on every change is queued for the drain after the rebuild.
async fn read_facts(
    db: DatabaseConnection,
    start: tokio::sync::oneshot::Receiver<()>,
    out: tokio::sync::mpsc::Sender<BatchFacts>,
) -> AppResult<Phases> {
    let db = &db;
    let mut clock = Phases::default();
    if start.await.is_err() {
        return Ok(clock);
    }
    clock.lap("waiting for the writer to start (reading)");
    let rates = Rates::load(db).await?;
    let firsts = first_paid(db, None).await?;
    clock.lap("first orders found (reading)");
    let mut products = Products::default();
    let mut after: Option<Uuid> = None;
    loop {
        let mut page = orders::Entity::find()
            .filter(orders::Column::PaidAt.is_not_null())
            .order_by_asc(orders::Column::Id)
            .limit(REBUILD_BATCH);
        if let Some(last) = after {
            page = page.filter(orders::Column::Id.gt(last));
        }
        let batch: Vec<PaidOrder> = page.into_partial_model().all(db).await?;
        clock.lap("orders read (reading)");
        let Some(last) = batch.last() else { break };
        after = Some(last.id);
        let facts = facts_of(db, &batch, &rates, &firsts, &mut products).await?;
        clock.lap("facts computed (reading)");
        if out.send(facts).await.is_err() {
            break;
        }
        clock.lap("waiting for the writer (reading)");
    }
    Ok(clock)
}

/// The rebuild's transaction: empties the queue and tells the reader to start (`started`),
/// empties the tables, writes the facts `batches` brings, and once the `reader` has ended well
/// (a reader that failed also ends the batches), sums the cubes from them and commits.
async fn write_facts(
    state: &AppState,
    started: tokio::sync::oneshot::Sender<()>,
    mut batches: tokio::sync::mpsc::Receiver<BatchFacts>,
    reader: tokio::task::JoinHandle<AppResult<Phases>>,
) -> AppResult<Rebuilt> {
    let mut clock = Phases::default();
    let txn = crate::db::begin_write(&state.db).await?;
    // Drains wait for the rebuild from here (see [`drain`]); every server reloads after it.
    let seq = super::memory::next_seq(&txn).await?;
    super::memory::new_epoch(&txn).await?;
    statistics_queue::Entity::delete_many().exec(&txn).await?;
    // A reader that is gone has failed; awaiting it below reports why.
    let _ = started.send(());
    let indexes = start_afresh(&txn).await?;
    clock.lap("emptied");
    let mut deltas = Deltas::default();
    let mut report = Rebuilt::default();
    while let Some(BatchFacts { facts, to_lock }) = batches.recv().await {
        clock.lap("waiting for facts");
        to_lock.lock(&txn).await?;
        report.orders += facts.len() as u64;
        for (_, fs) in &facts {
            report.facts += fs.len() as u64;
            tally_makers(fs, 1, &mut deltas);
        }
        insert_facts(&txn, &facts).await?;
        clock.lap("facts written");
    }
    let mut reading = reader
        .await
        .map_err(|e| anyhow::anyhow!("the rebuild's reader stopped: {e}"))??;
    clock.lap("waiting for facts");
    report.cells = cube_from_facts(&txn).await?;
    clock.lap("cube summed");
    apply(&txn, deltas, seq, true).await?;
    clock.lap("makers' cube written");
    indexes.restore(&txn).await?;
    clock.lap("indexes made");
    txn.commit().await?;
    clock.lap("committed");
    reading.spent.extend(clock.spent);
    report.phases = reading.spent;
    Ok(report)
}

/// Time spent per named phase, a phase met again adding to its total.
#[derive(Debug)]
struct Phases {
    since: std::time::Instant,
    spent: Vec<(&'static str, f64)>,
}

impl Default for Phases {
    fn default() -> Self {
        Self {
            since: std::time::Instant::now(),
            spent: Vec::new(),
        }
    }
}

impl Phases {
    /// Ends the current phase as `name`.
    fn lap(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        let secs = (now - self.since).as_secs_f64();
        self.since = now;
        match self.spent.iter_mut().find(|(n, _)| *n == name) {
            Some((_, total)) => *total += secs,
            None => self.spent.push((name, secs)),
        }
    }
}
