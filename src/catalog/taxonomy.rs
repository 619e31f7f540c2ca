//! Categories (the curated craft tree) and collections (curated product lists).

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::{
    shops::editable_shop,
    texts::{Texts, slug},
};
use crate::{
    auth::CurrentUser,
    entities::{categories, collection_products, collections, products, users::Role},
    error::{AppError, AppResult, OnConflict},
    state::AppState,
};

/// Every category in display order; the tree is small and curated.
pub async fn all_categories(db: &impl ConnectionTrait) -> AppResult<Vec<categories::Model>> {
    Ok(categories::Entity::find()
        .order_by_asc(categories::Column::Position)
        .order_by_asc(categories::Column::Id)
        .all(db)
        .await?)
}

/// The category tree as this server last read it: categories change only with the catalogue.
#[derive(Default)]
pub struct CategoryTree(crate::cache::Snapshot<Vec<categories::Model>>);

/// Every category, from this server's copy while it is current.
pub async fn categories(state: &AppState) -> AppResult<std::sync::Arc<Vec<categories::Model>>> {
    state
        .read_models
        .get::<CategoryTree>()
        .0
        .get_or_read(&state.changes, || all_categories(&state.db))
        .await
}

/// The category and everything below it.
pub fn subtree(all: &[categories::Model], root: Uuid) -> Vec<Uuid> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        out.extend(
            all.iter()
                .filter(|c| c.parent_id == Some(parent))
                .map(|c| c.id),
        );
        i += 1;
    }
    out
}

/// Fields of a category; on update `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct CategoryInput {
    pub slug: Option<String>,
    pub parent_id: Option<Option<Uuid>>,
    pub names: Option<Vec<(String, String)>>,
    pub position: Option<i32>,
}

/// Adds or changes a category. Admins only; a category cannot sit below itself.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn save_category(
    state: &AppState,
    caller: CurrentUser,
    id: Option<Uuid>,
    input: CategoryInput,
) -> AppResult<categories::Model> {
    caller.require_role(&[Role::Admin])?;
    let txn = crate::db::begin_write(&state.db).await?;
    let all = all_categories(&txn).await?;
    let mut active = match id {
        Some(id) => all
            .iter()
            .find(|c| c.id == id)
            .cloned()
            .ok_or_else(|| AppError::NotFound("no such category".into()))?
            .into(),
        None => {
            if input.slug.is_none() || input.names.is_none() {
                return Err(AppError::invalid("slug", "slug and names are required"));
            }
            categories::ActiveModel {
                id: Set(Uuid::now_v7()),
                parent_id: Set(None),
                position: Set(all.len() as i32),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
        }
    };
    if let Some(s) = input.slug {
        active.slug = Set(slug("slug", &s, 64)?);
    }
    if let Some(names) = input.names {
        let names = Texts::from_input("names", names, 100)?;
        if !names.0.contains_key("en") || !names.0.contains_key("mn") {
            return Err(AppError::invalid(
                "names",
                "names in mn and en are required",
            ));
        }
        active.names = Set(names.to_json());
    }
    if let Some(position) = input.position {
        active.position = Set(position);
    }
    if let Some(parent) = input.parent_id {
        if let Some(parent) = parent {
            if !all.iter().any(|c| c.id == parent) {
                return Err(AppError::invalid("parentId", "no such category"));
            }
            if let Some(id) = id
                && subtree(&all, id).contains(&parent)
            {
                return Err(AppError::invalid(
                    "parentId",
                    "a category cannot sit below itself",
                ));
            }
        }
        active.parent_id = Set(parent);
    }
    let saved = if id.is_some() {
        active.update(&txn).await
    } else {
        active.insert(&txn).await
    }
    .on_conflict("a category with this slug exists")?;
    txn.commit().await?;
    Ok(saved)
}

/// Fields of a collection; on update `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct CollectionInput {
    pub slug: Option<String>,
    pub names: Option<Vec<(String, String)>>,
    pub descriptions: Option<Vec<(String, String)>>,
    pub featured: Option<bool>,
}

/// Creates a platform collection (admins; `shop_id` None) or a shop's own (its owner).
/// Only admins feature collections on the home page.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn create_collection(
    state: &AppState,
    caller: CurrentUser,
    shop_id: Option<Uuid>,
    input: CollectionInput,
) -> AppResult<collections::Model> {
    match shop_id {
        Some(shop) => {
            editable_shop(&state.db, caller, shop).await?;
        }
        None => caller.require_role(&[Role::Admin])?,
    }
    let Some(s) = input.slug.as_deref() else {
        return Err(AppError::invalid("slug", "is required"));
    };
    let active = collections::ActiveModel {
        id: Set(Uuid::now_v7()),
        shop_id: Set(shop_id),
        slug: Set(slug("slug", s, 80)?),
        names: Set("{}".into()),
        descriptions: Set("{}".into()),
        featured: Set(false),
        created_at: Set(Utc::now()),
    };
    let active = apply_collection(caller, active, input)?;
    active
        .insert(&state.db)
        .await
        .on_conflict("a collection with this slug exists")
}

fn apply_collection(
    caller: CurrentUser,
    mut active: collections::ActiveModel,
    input: CollectionInput,
) -> AppResult<collections::ActiveModel> {
    if let Some(names) = input.names {
        let names = Texts::from_input("names", names, 120)?;
        if names.0.is_empty() {
            return Err(AppError::invalid("names", "a collection needs a name"));
        }
        active.names = Set(names.to_json());
    }
    if let Some(d) = input.descriptions {
        active.descriptions = Set(Texts::from_input("descriptions", d, 2000)?.to_json());
    }
    if let Some(featured) = input.featured {
        if caller.role != Role::Admin {
            return Err(AppError::Forbidden(
                "only admins feature collections".into(),
            ));
        }
        active.featured = Set(featured);
    }
    Ok(active)
}

/// The collection, if the caller may change it.
async fn editable_collection(
    db: &impl ConnectionTrait,
    caller: CurrentUser,
    id: Uuid,
) -> AppResult<collections::Model> {
    let collection = collections::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such collection".into()))?;
    match collection.shop_id {
        Some(shop) => {
            editable_shop(db, caller, shop).await?;
        }
        None => caller.require_role(&[Role::Admin])?,
    }
    Ok(collection)
}

/// Changes a collection's fields and puts products into it (after those already there) or
/// takes them out, all in one transaction: a refused product leaves the names and slug as
/// they were. A shop's collection holds only that shop's products.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn update_collection(
    state: &AppState,
    caller: CurrentUser,
    id: Uuid,
    input: CollectionInput,
    add: Vec<Uuid>,
    remove: Vec<Uuid>,
) -> AppResult<collections::Model> {
    let txn = crate::db::begin_write(&state.db).await?;
    let collection = editable_collection(&txn, caller, id).await?;
    let mut active: collections::ActiveModel = collection.into();
    if let Some(s) = input.slug.as_deref() {
        active.slug = Set(slug("slug", s, 80)?);
    }
    let active = apply_collection(caller, active, input)?;
    let collection = active
        .update(&txn)
        .await
        .on_conflict("a collection with this slug exists")?;
    if !remove.is_empty() {
        collection_products::Entity::delete_many()
            .filter(collection_products::Column::CollectionId.eq(id))
            .filter(collection_products::Column::ProductId.is_in(remove))
            .exec(&txn)
            .await?;
    }
    if !add.is_empty() {
        let found = products::Entity::find()
            .filter(products::Column::Id.is_in(add.clone()))
            .all(&txn)
            .await?;
        for wanted in &add {
            let Some(product) = found.iter().find(|p| p.id == *wanted) else {
                return Err(AppError::invalid("addProductIds", "no such product"));
            };
            if collection
                .shop_id
                .is_some_and(|shop| shop != product.shop_id)
            {
                return Err(AppError::invalid(
                    "addProductIds",
                    "a shop's collection holds only its own products",
                ));
            }
        }
        let present: Vec<collection_products::Model> = collection_products::Entity::find()
            .filter(collection_products::Column::CollectionId.eq(id))
            .all(&txn)
            .await?;
        let mut next = present.iter().map(|p| p.position + 1).max().unwrap_or(0);
        for product in add {
            if present.iter().any(|p| p.product_id == product) {
                continue;
            }
            collection_products::ActiveModel {
                collection_id: Set(id),
                product_id: Set(product),
                position: Set(next),
            }
            .insert(&txn)
            .await
            .on_conflict("the product is already in the collection")?;
            next += 1;
        }
    }
    txn.commit().await?;
    Ok(collection)
}

/// Collections, optionally only featured (or not) ones and one shop's.
pub async fn collections(
    db: &impl ConnectionTrait,
    caller: crate::auth::Caller,
    featured: Option<bool>,
    shop_slug: Option<&str>,
) -> AppResult<sea_orm::Select<collections::Entity>> {
    let mut select = collections::Entity::find();
    if let Some(featured) = featured {
        select = select.filter(collections::Column::Featured.eq(featured));
    }
    if let Some(slug) = shop_slug {
        let shop = super::shops::shop_by_slug(db, caller, slug).await?;
        select = select.filter(collections::Column::ShopId.eq(shop.id));
    }
    Ok(select)
}

/// One collection by slug.
pub async fn collection_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> AppResult<collections::Model> {
    collections::Entity::find()
        .filter(collections::Column::Slug.eq(super::texts::slug_key(slug)))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such collection".into()))
}
