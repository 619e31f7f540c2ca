//! Market statistics of the creative economy: which crafts sell, to which countries, from
//! which regions, at what prices, and how much of the money reaches the artisans, for
//! researchers and policy makers (at full resolution), for everyone (an open-data subset)
//! and for each shop beside its market. Every published figure is k-protected
//! ([`query::protect`]); no output names a shop or a person.
//!
//! Builds on orders and catalog: [`facts`] turns paid orders into facts from what `sources`
//! reads, [`cube`] sums them
//! into monthly cubes (per shop and per maker), kept current from the queue the orders domain
//! fills, [`memory`] keeps a copy of the cubes in each server and sums questions from it,
//! [`query`] protects and lays out the answers, [`open_data`] writes the public files.

pub mod charts;
pub mod cube;
pub mod dictionary;
pub mod facts;
pub mod memory;
pub mod open_data;
pub mod query;
mod sources;

use std::collections::BTreeMap;

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use crate::{
    auth::{Caller, CurrentUser, managed_shop},
    entities::users::{self, Role},
    error::{AppError, AppResult},
    money::{Currency, Money},
    state::AppState,
};
use query::{Access, Dimension, Filter, Month, Request, Table};

/// Loads this server's copy of the cubes ([`memory`]), so the first question after a start
/// does not wait for it.
pub async fn warm(state: &AppState) -> AppResult<()> {
    let memory = state.read_models.get::<memory::Memory>();
    memory.current(&state.db).await.map(drop)
}

/// How much the caller may see: researchers and admins everything (by the role stored now,
/// so a grant or a withdrawal takes effect at once), everyone else the open subset.
pub async fn access_of(db: &impl ConnectionTrait, caller: Caller) -> AppResult<Access> {
    let Caller::User(user) = caller else {
        return Ok(Access::Open);
    };
    // The token may predate a grant or a withdrawal.
    let role = users::Entity::find_by_id(user.id)
        .one(db)
        .await?
        .map(|u| u.role);
    Ok(match role {
        Some(Role::Researcher | Role::Admin) => Access::Full,
        _ => Access::Open,
    })
}

/// `marketStatistics`: a k-protected table for whoever asks, at the resolution they may see.
pub async fn market_statistics(state: &AppState, caller: Caller, req: Request) -> AppResult<Table> {
    let access = access_of(&state.db, caller).await?;
    let req = query::settle(req, access)?;
    query::answer(
        &state.db,
        &state.read_models.get::<memory::Memory>(),
        &req,
        access,
        state.settings.statistics.min_shops,
    )
    .await
}

/// Grants or withdraws the researcher role; admins only, and only on buyer or researcher
/// accounts (an artisan or admin keeps their own role).
pub async fn set_researcher(
    state: &AppState,
    caller: CurrentUser,
    user_id: Uuid,
    granted: bool,
) -> AppResult<users::Model> {
    caller.require_role(&[Role::Admin])?;
    let user = users::Entity::find_by_id(user_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such user".into()))?;
    if !matches!(user.role, Role::Buyer | Role::Researcher) {
        return Err(AppError::Conflict(format!(
            "a {} account cannot be made a researcher; researchers use their own account",
            user.role.as_str()
        )));
    }
    let mut active: users::ActiveModel = user.into();
    active.role = Set(if granted {
        Role::Researcher
    } else {
        Role::Buyer
    });
    Ok(active.update(&state.db).await?)
}

/// One craft of a shop beside its market.
#[derive(Debug, Clone)]
pub struct CraftPosition {
    pub craft: String,
    pub orders: i64,
    pub units: i64,
    pub exports_usd: Money,
    /// Every shop's exports of the craft; `None` when fewer than k shops export it.
    pub market_exports_usd: Option<Money>,
    /// The shop's share of them, in percent.
    pub share_percent: Option<f64>,
    pub average_price_usd: Option<Money>,
    pub market_average_price_usd: Option<Money>,
    pub market_shops: Option<i64>,
}

/// A shop's own exports by craft beside its craft's market: what it sold abroad (outside
/// its own country), its share of every shop's exports of that craft, and average prices.
/// Market figures are withheld when fewer than k shops export the craft.
pub async fn shop_position(
    state: &AppState,
    caller: CurrentUser,
    shop_id: Uuid,
    from: Month,
    to: Month,
) -> AppResult<Vec<CraftPosition>> {
    managed_shop(&state.db, caller, shop_id).await?;
    let k = state.settings.statistics.min_shops;
    let attributes = memory::Attributes::read(
        &state.db,
        &[Dimension::Craft, Dimension::Region],
        &Filter::default(),
        false,
    )
    .await?;
    let exports = state
        .read_models
        .get::<memory::Memory>()
        .current(&state.db)
        .await?
        .exports_by_craft(shop_id, from, to, &attributes);
    #[derive(Default)]
    struct Sums {
        own: (i64, i64, i64),
        market: (i64, i64),
        shops: usize,
    }
    let mut crafts: BTreeMap<String, Sums> = BTreeMap::new();
    for (craft, shops) in exports {
        let sums = crafts.entry(craft).or_default();
        for (shop, [orders, units, gross]) in shops {
            if shop == shop_id {
                sums.own = (orders, units, gross);
            }
            sums.market.0 += units;
            sums.market.1 += gross;
            if units > 0 {
                sums.shops += 1;
            }
        }
    }
    let usd = Currency::parse("USD")
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("USD is not a known currency")))?;
    let per_unit = |gross: i64, units: i64| (units > 0).then(|| Money::new(gross / units, usd));
    Ok(crafts
        .into_iter()
        .filter(|(_, s)| s.own.1 > 0)
        .map(|(craft, s)| {
            let open = s.shops >= k;
            CraftPosition {
                craft,
                orders: s.own.0,
                units: s.own.1,
                exports_usd: Money::new(s.own.2, usd),
                market_exports_usd: open.then(|| Money::new(s.market.1, usd)),
                share_percent: (open && s.market.1 > 0)
                    .then(|| (s.own.2 as f64 * 1000.0 / s.market.1 as f64).round() / 10.0),
                average_price_usd: per_unit(s.own.2, s.own.1),
                market_average_price_usd: open.then(|| per_unit(s.market.1, s.market.0)).flatten(),
                market_shops: open.then_some(s.shops as i64),
            }
        })
        .collect())
}

/// Recomputes the statistics from the orders (after a data repair, or to check them).
/// Admins; `darkhan rebuild-statistics` does the same from the command line.
pub async fn rebuild(state: &AppState, caller: CurrentUser) -> AppResult<cube::Rebuilt> {
    caller.require_role(&[Role::Admin])?;
    cube::rebuild(state).await
}
