//! Per-request batching of the catalogue's rows: every to-one and to-many lookup goes through
//! these, so a page costs a fixed handful of queries whatever its size.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::{
    cards::{self, Card},
    sales, taxonomy,
};
use crate::{
    entities::{categories, makers, sale_items, shops},
    error::{AppError, AppResult},
    kit::loaders::{Batch, by_column},
    state::AppState,
};

/// The catalogue's loaders of one request.
pub struct Loaders {
    state: AppState,
    /// The moment the request's prices are for.
    now: chrono::DateTime<chrono::Utc>,
    pub shops: Batch<shops::Entity>,
    pub shop_makers: Batch<makers::Entity>,
    /// Products as browsing shows them, from this server's cards (`cards`).
    cards: DataLoader<CardLoader, HashMapCache>,
    /// Each sale's items, for the shop managing it.
    pub sale_items: Batch<sale_items::Entity>,
    categories: OnceCell<Arc<Vec<categories::Model>>>,
}

/// Product cards, batched.
pub struct CardLoader(AppState);

impl Loader<Uuid> for CardLoader {
    type Value = Arc<Card>;
    type Error = Arc<crate::error::AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        cards::cards(&self.0, keys).await.map_err(Arc::new)
    }
}

impl Loaders {
    pub fn new(state: &AppState) -> Self {
        let db = &state.db;
        Self {
            state: state.clone(),
            now: chrono::Utc::now(),
            shops: by_column(
                db,
                shops::Column::Id,
                shops::Column::Id,
                |s: &shops::Model| s.id,
            ),
            shop_makers: by_column(
                db,
                makers::Column::ShopId,
                makers::Column::Id,
                |m: &makers::Model| m.shop_id,
            ),
            sale_items: by_column(
                db,
                sale_items::Column::SaleId,
                sale_items::Column::Id,
                |i: &sale_items::Model| i.sale_id,
            ),
            cards: DataLoader::with_cache(
                CardLoader(state.clone()),
                tokio::spawn,
                HashMapCache::default(),
            ),
            categories: OnceCell::new(),
        }
    }

    /// A product's card.
    pub async fn card(&self, product: Uuid) -> AppResult<Arc<Card>> {
        self.cards
            .load_one(product)
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("loading a card: {e:?}")))?
            .ok_or_else(|| AppError::NotFound("product missing".into()))
    }

    /// Cards already read (a page's, read at once), so fields find them without a batch.
    pub async fn know(&self, cards: impl IntoIterator<Item = Arc<Card>>) {
        self.cards
            .feed_many(cards.into_iter().map(|c| (c.product.id, c)))
            .await;
    }

    /// A product's sale offers live at the moment of the request (empty when none).
    pub async fn offers(&self, product: Uuid) -> AppResult<Vec<sales::Offer>> {
        Ok(self.card(product).await?.offers_at(self.now))
    }

    /// Every category, the same throughout the request.
    pub async fn categories(&self) -> AppResult<&[categories::Model]> {
        self.categories
            .get_or_try_init(|| taxonomy::categories(&self.state))
            .await
            .map(|all| all.as_slice())
    }
}
