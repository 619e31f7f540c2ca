//! The cubes kept current from the facts. A change to an order queues it
//! (`rollups::statistics_due`, in the changing transaction); [`drain`] recomputes the queued
//! orders' facts ([`super::facts`]), takes their old facts out of the cube, the day histograms
//! and the makers' cube and puts the new ones in, in one transaction, marking the rows it
//! wrote with its change number so every server's copy ([`super::memory`]) reads just those.
//! [`rebuild`] recomputes everything from the orders, with the same
//! [`contribution`](super::facts::contribution), so the two always agree.

use std::collections::{BTreeMap, HashMap};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
    sea_query::{Expr, LockBehavior, LockType, OnConflict},
};
use uuid::Uuid;

use super::facts::{
    CellKey, Fact, MEASURE_COLUMNS, MakerShare, Measures, PaidOrder, facts_of, first_paid,
    shares_json, stored,
};
use crate::{
    entities::{
        orders, statistics_cells, statistics_days, statistics_facts, statistics_maker_cells,
        statistics_queue,
    },
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
/// by the database in two statements: a rebuild moves no cube row through the server.
/// Returns the number of cells.
async fn cube_from_facts(db: &impl ConnectionTrait) -> AppResult<u64> {
    let backend = db.get_database_backend();
    let id = match backend {
        sea_orm::DbBackend::Postgres => "gen_random_uuid()",
        _ => "randomblob(16)",
    };
    const KEY: &str = "month, shop_id, category_id, country, method";
    let sums: Vec<String> = MEASURE_COLUMNS
        .iter()
        .map(|m| format!("SUM({m})"))
        .collect();
    let cells = db
        .execute_unprepared(&format!(
            "INSERT INTO statistics_cells (id, {KEY}, {}) \
             SELECT {id}, {KEY}, {} FROM statistics_facts GROUP BY {KEY} HAVING {}",
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
            "SELECT {id}, {KEY}, '{kind}', {col}, COUNT(*) FROM statistics_facts \
             WHERE {col} IS NOT NULL GROUP BY {KEY}, {col}"
        )
    };
    db.execute_unprepared(&format!(
        "INSERT INTO statistics_days (id, {KEY}, kind, days, orders) {} UNION ALL {}",
        days("S", "ship_days"),
        days("D", "deliver_days")
    ))
    .await?;
    Ok(cells)
}

async fn insert_facts(db: &impl ConnectionTrait, facts: &[(Uuid, Vec<Fact>)]) -> AppResult<()> {
    let rows: Vec<statistics_facts::ActiveModel> = facts
        .iter()
        .flat_map(|(order_id, fs)| {
            fs.iter().map(move |f| statistics_facts::ActiveModel {
                id: Set(Uuid::now_v7()),
                order_id: Set(*order_id),
                month: Set(f.key.month.clone()),
                shop_id: Set(f.key.shop_id),
                category_id: Set(f.key.category_id),
                country: Set(f.key.country.clone()),
                method: Set(f.key.method.clone()),
                orders: Set(f.measures.orders),
                units: Set(f.measures.units),
                gross_mnt: Set(f.measures.gross_mnt),
                gross_usd: Set(f.measures.gross_usd),
                share_mnt: Set(f.measures.share_mnt),
                share_usd: Set(f.measures.share_usd),
                refunded_orders: Set(f.measures.refunded_orders),
                new_buyers: Set(f.measures.new_buyers),
                repeat_orders: Set(f.measures.repeat_orders),
                ship_days: Set(f.ship_days),
                deliver_days: Set(f.deliver_days),
                maker_shares: Set(Some(shares_json(&f.makers))),
            })
        })
        .collect();
    // Bounded statements: both databases limit the parameters of one.
    for chunk in rows.chunks(1000) {
        statistics_facts::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Adds the deltas to the cube and the histograms, creating rows as needed, in key order,
/// and marks the rows with the change number `seq`.
async fn apply(db: &impl ConnectionTrait, deltas: Deltas, seq: i64) -> AppResult<()> {
    let Deltas {
        cells,
        days,
        makers,
    } = deltas;
    use statistics_cells::Column as C;
    let cells: BTreeMap<CellKey, Measures> =
        cells.into_iter().filter(|(_, m)| !m.is_zero()).collect();
    let key_cols = [C::Month, C::ShopId, C::CategoryId, C::Country, C::Method];
    let mut on_conflict = OnConflict::columns(key_cols);
    for col in [
        C::Orders,
        C::Units,
        C::GrossMnt,
        C::GrossUsd,
        C::ShareMnt,
        C::ShareUsd,
        C::RefundedOrders,
        C::NewBuyers,
        C::RepeatOrders,
    ] {
        on_conflict.value(col, added(statistics_cells::Entity, col));
    }
    on_conflict.update_column(C::Seq);
    let rows: Vec<statistics_cells::ActiveModel> = cells
        .into_iter()
        .map(|(k, m)| statistics_cells::ActiveModel {
            id: Set(Uuid::now_v7()),
            month: Set(k.month),
            shop_id: Set(k.shop_id),
            category_id: Set(k.category_id),
            country: Set(k.country),
            method: Set(k.method),
            orders: Set(m.orders),
            units: Set(m.units),
            gross_mnt: Set(m.gross_mnt),
            gross_usd: Set(m.gross_usd),
            share_mnt: Set(m.share_mnt),
            share_usd: Set(m.share_usd),
            refunded_orders: Set(m.refunded_orders),
            new_buyers: Set(m.new_buyers),
            repeat_orders: Set(m.repeat_orders),
            seq: Set(seq),
        })
        .collect();
    for chunk in rows.chunks(1000) {
        statistics_cells::Entity::insert_many(chunk.to_vec())
            .on_conflict(on_conflict.clone())
            .exec_without_returning(db)
            .await?;
    }
    use statistics_days::Column as D;
    let days: BTreeMap<DayKey, i64> = days.into_iter().filter(|(_, n)| *n != 0).collect();
    let mut on_conflict = OnConflict::columns([
        D::Month,
        D::ShopId,
        D::CategoryId,
        D::Country,
        D::Method,
        D::Kind,
        D::Days,
    ]);
    on_conflict.value(D::Orders, added(statistics_days::Entity, D::Orders));
    on_conflict.update_column(D::Seq);
    let rows: Vec<statistics_days::ActiveModel> = days
        .into_iter()
        .map(|((k, kind, d), n)| statistics_days::ActiveModel {
            id: Set(Uuid::now_v7()),
            month: Set(k.month),
            shop_id: Set(k.shop_id),
            category_id: Set(k.category_id),
            country: Set(k.country),
            method: Set(k.method),
            kind: Set(kind.to_owned()),
            days: Set(d),
            orders: Set(n),
            seq: Set(seq),
        })
        .collect();
    for chunk in rows.chunks(1000) {
        statistics_days::Entity::insert_many(chunk.to_vec())
            .on_conflict(on_conflict.clone())
            .exec_without_returning(db)
            .await?;
    }
    use statistics_maker_cells::Column as M;
    let makers: BTreeMap<(CellKey, Uuid), MakerShare> =
        makers.into_iter().filter(|(_, s)| !s.is_zero()).collect();
    let mut on_conflict = OnConflict::columns([
        M::Month,
        M::ShopId,
        M::CategoryId,
        M::Country,
        M::Method,
        M::MakerId,
    ]);
    for col in [M::GrossMnt, M::GrossUsd, M::ShareMnt, M::ShareUsd] {
        on_conflict.value(col, added(statistics_maker_cells::Entity, col));
    }
    on_conflict.update_column(M::Seq);
    let rows: Vec<statistics_maker_cells::ActiveModel> = makers
        .into_iter()
        .map(|((k, maker_id), s)| statistics_maker_cells::ActiveModel {
            id: Set(Uuid::now_v7()),
            month: Set(k.month),
            shop_id: Set(k.shop_id),
            category_id: Set(k.category_id),
            country: Set(k.country),
            method: Set(k.method),
            maker_id: Set(maker_id),
            gross_mnt: Set(s.gross_mnt),
            gross_usd: Set(s.gross_usd),
            share_mnt: Set(s.share_mnt),
            share_usd: Set(s.share_usd),
            seq: Set(seq),
        })
        .collect();
    for chunk in rows.chunks(1000) {
        statistics_maker_cells::Entity::insert_many(chunk.to_vec())
            .on_conflict(on_conflict.clone())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// `table.col + excluded.col`: an upsert that adds.
fn added<E: sea_orm::EntityTrait, C: sea_orm::sea_query::IntoIden + Copy + 'static>(
    entity: E,
    col: C,
) -> sea_orm::sea_query::SimpleExpr {
    sea_orm::sea_query::ExprTrait::add(
        Expr::col((entity, col)),
        Expr::col((sea_orm::sea_query::Alias::new("excluded"), col)),
    )
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
    let new = facts_of(txn, &batch, &rates, &firsts).await?;
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
    apply(txn, deltas, seq).await
}

/// What a rebuild did.
#[derive(Debug, Clone, Default)]
pub struct Rebuilt {
    pub orders: u64,
    pub facts: u64,
    pub cells: u64,
    /// Seconds since the start at the end of each phase, for whoever times it.
    pub phases: Vec<(&'static str, f64)>,
}

/// Orders read per batch by [`rebuild`].
const REBUILD_BATCH: u64 = 2000;

/// Recomputes every fact, cell and histogram from the orders, in one transaction: readers see
/// the old figures until it commits.
pub async fn rebuild(state: &AppState) -> AppResult<Rebuilt> {
    let started = std::time::Instant::now();
    let mut phases = Vec::new();
    let mut phase = |name: &'static str| phases.push((name, started.elapsed().as_secs_f64()));
    let txn = crate::db::begin_write(&state.db).await?;
    // Drains wait for the rebuild from here (see [`drain`]); every server reloads after it.
    let seq = super::memory::next_seq(&txn).await?;
    super::memory::new_epoch(&txn).await?;
    statistics_queue::Entity::delete_many().exec(&txn).await?;
    statistics_facts::Entity::delete_many().exec(&txn).await?;
    statistics_cells::Entity::delete_many().exec(&txn).await?;
    statistics_days::Entity::delete_many().exec(&txn).await?;
    statistics_maker_cells::Entity::delete_many()
        .exec(&txn)
        .await?;
    phase("cleared");
    let rates = Rates::load(&txn).await?;
    let firsts = first_paid(&txn, None).await?;
    let mut deltas = Deltas::default();
    let mut report = Rebuilt::default();
    let mut after: Option<Uuid> = None;
    loop {
        let mut page = orders::Entity::find()
            .filter(orders::Column::PaidAt.is_not_null())
            .order_by_asc(orders::Column::Id)
            .limit(REBUILD_BATCH);
        if let Some(last) = after {
            page = page.filter(orders::Column::Id.gt(last));
        }
        let batch: Vec<PaidOrder> = page.into_partial_model().all(&txn).await?;
        let Some(last) = batch.last() else { break };
        after = Some(last.id);
        report.orders += batch.len() as u64;
        let facts = facts_of(&txn, &batch, &rates, &firsts).await?;
        for (_, fs) in &facts {
            report.facts += fs.len() as u64;
            tally_makers(fs, 1, &mut deltas);
        }
        insert_facts(&txn, &facts).await?;
    }
    phase("facts written");
    report.cells = cube_from_facts(&txn).await?;
    phase("cube summed");
    apply(&txn, deltas, seq).await?;
    phase("makers' cube written");
    txn.commit().await?;
    phase("committed");
    report.phases = phases;
    Ok(report)
}
