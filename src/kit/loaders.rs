//! Per-request batching shared by every domain's loaders: rows grouped by a column, loaded
//! in one query per batch and remembered for the rest of the request; and the exchange rates,
//! shared by the requests of a server until the catalogue changes.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    money::Rates,
};

/// Rows of `E` grouped by a foreign-key column, ordered by `order`.
pub struct ByColumn<E: EntityTrait> {
    db: DatabaseConnection,
    column: E::Column,
    order: E::Column,
    key: fn(&E::Model) -> Uuid,
}

impl<E> Loader<Uuid> for ByColumn<E>
where
    E: EntityTrait,
    E::Model: Send + Sync + Clone,
    E::Column: Send + Sync,
{
    type Value = Vec<E::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = E::find()
            .filter(self.column.is_in(keys.to_vec()))
            .order_by_asc(self.order)
            .all(&self.db)
            .await?;
        let mut grouped: HashMap<Uuid, Vec<E::Model>> = HashMap::new();
        for row in rows {
            grouped.entry((self.key)(&row)).or_default().push(row);
        }
        Ok(grouped)
    }
}

/// A batching loader that also remembers, for the rest of the request, what it loaded.
pub type Batch<E> = DataLoader<ByColumn<E>, HashMapCache>;

pub fn by_column<E: EntityTrait>(
    db: &DatabaseConnection,
    column: E::Column,
    order: E::Column,
    key: fn(&E::Model) -> Uuid,
) -> Batch<E>
where
    E::Model: Send + Sync + Clone,
    E::Column: Send + Sync,
{
    DataLoader::with_cache(
        ByColumn {
            db: db.clone(),
            column,
            order,
            key,
        },
        tokio::spawn,
        HashMapCache::default(),
    )
}

/// The rows for `key` (empty when there are none).
pub async fn many<E>(loader: &Batch<E>, key: Uuid) -> AppResult<Vec<E::Model>>
where
    E: EntityTrait,
    E::Model: Send + Sync + Clone,
    E::Column: Send + Sync,
{
    Ok(loader
        .load_one(key)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("loading: {e}")))?
        .unwrap_or_default())
}

/// The row with primary key `key`.
pub async fn one<E>(loader: &Batch<E>, key: Uuid) -> AppResult<Option<E::Model>>
where
    E: EntityTrait,
    E::Model: Send + Sync + Clone,
    E::Column: Send + Sync,
{
    Ok(many(loader, key).await?.into_iter().next())
}

/// The rows with primary keys `keys`, in one batch, in the order of `keys` (missing ones
/// left out).
pub async fn several<E>(loader: &Batch<E>, keys: &[Uuid]) -> AppResult<Vec<E::Model>>
where
    E: EntityTrait,
    E::Model: Send + Sync + Clone,
    E::Column: Send + Sync,
{
    let mut found = loader
        .load_many(keys.iter().copied())
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("loading: {e}")))?;
    Ok(keys
        .iter()
        .filter_map(|k| found.remove(k).and_then(|rows| rows.into_iter().next()))
        .collect())
}

/// Every exchange rate, read once per request when first needed.
pub struct RequestRates {
    state: crate::state::AppState,
    rates: OnceCell<Arc<Rates>>,
}

impl RequestRates {
    pub fn new(state: &crate::state::AppState) -> Self {
        Self {
            state: state.clone(),
            rates: OnceCell::new(),
        }
    }

    pub async fn get(&self) -> AppResult<&Rates> {
        let rates = self
            .rates
            .get_or_try_init(|| self.state.exchange_rates())
            .await?;
        Ok(rates.as_ref())
    }
}
