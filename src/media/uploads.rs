//! The two ways a photo arrives, and what both share: whose shop it is for, its checks, its
//! processing on the work pool, its renditions in storage and its row, within the quota.

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use futures_util::{Stream, StreamExt};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Select, Set,
};
use uuid::Uuid;

use super::{
    Purpose, inspect, process,
    process::{Encoding, Processed},
    rendition_key, upload_key,
};
use crate::{
    auth::{CurrentUser, managed_shop},
    entities::{
        images::{self, ImageStatus},
        orders::{self, OrderStatus},
        shops,
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// Pending direct uploads one shop may have open at once.
const MAX_PENDING: u64 = 50;
/// Review photos one buyer may upload in a day; they do not count against the shop's quota.
pub const MAX_REVIEW_PHOTOS_PER_DAY: u64 = 20;

/// The shop a photo is uploaded for, if the caller may: its owner (or an admin) for the
/// shop's own photos; for a review photo, a buyer who received an order from it, within
/// the daily allowance.
async fn uploader_shop(
    db: &impl ConnectionTrait,
    caller: CurrentUser,
    shop_id: Uuid,
    purpose: Purpose,
) -> AppResult<shops::Model> {
    if purpose != Purpose::Review {
        return managed_shop(db, caller, shop_id).await;
    }
    let not_found = || AppError::NotFound("no such shop".into());
    // Orders are read through the entities (core): media builds on no other domain.
    let received = orders::Entity::find()
        .filter(orders::Column::BuyerId.eq(caller.id))
        .filter(orders::Column::ShopId.eq(shop_id))
        .filter(orders::Column::Status.eq(OrderStatus::Delivered))
        .count(db)
        .await?;
    if received == 0 {
        return Err(AppError::refused(
            "NOT_DELIVERED",
            "review photos are for buyers who received an order from this shop",
        ));
    }
    let today = images::Entity::find()
        .filter(images::Column::UploadedBy.eq(caller.id))
        .filter(images::Column::Purpose.eq(Purpose::Review))
        .filter(images::Column::CreatedAt.gt(Utc::now() - Duration::days(1)))
        .count(db)
        .await?;
    if today >= MAX_REVIEW_PHOTOS_PER_DAY {
        return Err(AppError::refused(
            "TOO_MANY_UPLOADS",
            format!("at most {MAX_REVIEW_PHOTOS_PER_DAY} review photos a day"),
        ));
    }
    shops::Entity::find_by_id(shop_id)
        .one(db)
        .await?
        .ok_or_else(not_found)
}

/// A one-time upload address.
#[derive(Debug)]
pub struct DirectUpload {
    pub image: images::Model,
    /// Where to `PUT` the file's bytes.
    pub url: String,
    /// Headers the `PUT` must carry.
    pub headers: Vec<(String, String)>,
    pub expires_at: DateTime<Utc>,
}

fn limits(state: &AppState) -> inspect::Limits {
    inspect::Limits {
        max_bytes: state.settings.media.max_upload_bytes,
        max_pixels: state.settings.media.max_pixels,
    }
}

fn quota_exceeded(quota: i64) -> AppError {
    AppError::refused(
        "QUOTA_EXCEEDED",
        format!(
            "the shop's photos would take more than its {} MB; remove photos it no longer uses",
            quota / (1024 * 1024)
        ),
    )
}

/// Bytes the shop's ready photos take.
async fn used_bytes(db: &impl ConnectionTrait, shop: Uuid) -> AppResult<i64> {
    let used: Option<Option<i64>> = images::Entity::find()
        .select_only()
        // PostgreSQL sums a bigint column into a numeric: back to bigint for the decoder.
        .column_as(
            sea_orm::sea_query::Expr::from(sea_orm::sea_query::Func::cast_as(
                sea_orm::sea_query::Func::sum(sea_orm::sea_query::Expr::col(
                    images::Column::StoredBytes,
                )),
                "bigint",
            )),
            "used",
        )
        .filter(images::Column::ShopId.eq(shop))
        .filter(images::Column::Status.eq(ImageStatus::Ready))
        .filter(images::Column::Purpose.ne(Purpose::Review))
        .into_tuple()
        .one(db)
        .await?;
    Ok(used.flatten().unwrap_or(0))
}

/// A photo sent in a GraphQL multipart request, already read (within the size limit) by the
/// HTTP layer.
#[tracing::instrument(skip_all, fields(user = %caller.id, shop = %shop_id))]
pub async fn upload(
    state: &AppState,
    caller: CurrentUser,
    shop_id: Uuid,
    purpose: Purpose,
    bytes: Bytes,
) -> AppResult<images::Model> {
    let shop = uploader_shop(&state.db, caller, shop_id, purpose).await?;
    let header = inspect::inspect(&bytes, &limits(state))?;
    let quota = state.settings.media.shop_quota_bytes;
    if purpose != Purpose::Review && used_bytes(&state.db, shop.id).await? >= quota {
        return Err(quota_exceeded(quota));
    }
    let id = Uuid::now_v7();
    let processed = process_and_store(state, id, bytes, header).await?;
    let image = images::Model {
        id,
        shop_id: shop.id,
        uploaded_by: caller.id,
        purpose,
        status: ImageStatus::Ready,
        upload_token_hash: None,
        source_format: Some(header.format.as_str().into()),
        width: 0,
        height: 0,
        stored_bytes: 0,
        widths: "[]".into(),
        placeholder: None,
        dominant_color: None,
        created_at: Utc::now(),
        expires_at: None,
    };
    save_ready(state, image, &processed, true).await
}

/// Announces a direct upload: a pending photo and the one-time address its bytes go to (this
/// server with local storage, a presigned bucket address with S3).
#[tracing::instrument(skip_all, fields(user = %caller.id, shop = %shop_id))]
pub async fn create_upload(
    state: &AppState,
    caller: CurrentUser,
    shop_id: Uuid,
    purpose: Purpose,
) -> AppResult<DirectUpload> {
    let shop = uploader_shop(&state.db, caller, shop_id, purpose).await?;
    let pending = images::Entity::find()
        .filter(images::Column::ShopId.eq(shop.id))
        .filter(images::Column::Status.eq(ImageStatus::Pending))
        .count(&state.db)
        .await?;
    if pending >= MAX_PENDING {
        return Err(AppError::refused(
            "TOO_MANY_UPLOADS",
            format!(
                "the shop has {pending} unfinished uploads; complete them or wait for them to \
                 expire"
            ),
        ));
    }
    let settings = &state.settings.media;
    let now = Utc::now();
    let id = Uuid::now_v7();
    let token = crate::tokens::generate();
    let ttl = std::time::Duration::from_secs(settings.upload_url_ttl_secs);
    let expires_at = now + Duration::hours(settings.pending_upload_hours);
    let image = images::ActiveModel {
        id: Set(id),
        shop_id: Set(shop.id),
        uploaded_by: Set(caller.id),
        purpose: Set(purpose),
        status: Set(ImageStatus::Pending),
        upload_token_hash: Set(Some(crate::tokens::hash(&token))),
        source_format: Set(None),
        width: Set(0),
        height: Set(0),
        stored_bytes: Set(0),
        widths: Set("[]".into()),
        placeholder: Set(None),
        dominant_color: Set(None),
        created_at: Set(now),
        expires_at: Set(Some(expires_at)),
    }
    .insert(&state.db)
    .await?;
    let url = match state.storage.presigned_put(&upload_key(id), ttl).await? {
        Some(url) => url,
        None => format!(
            "{}/media/uploads/{token}",
            state.settings.public.api_base_url.trim_end_matches('/')
        ),
    };
    Ok(DirectUpload {
        image,
        url,
        headers: Vec::new(),
        expires_at: now + Duration::seconds(ttl.as_secs() as i64),
    })
}

/// The bytes of a direct upload to this server (local storage): read as they stream in and
/// refused as soon as they pass the size limit. The address stays usable until the bytes
/// have arrived whole, so a phone that lost its connection sends them again.
pub async fn receive_upload<S, E>(state: &AppState, token: &str, mut body: S) -> AppResult<()>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let image = images::Entity::find()
        .filter(images::Column::UploadTokenHash.eq(crate::tokens::hash(token)))
        .filter(images::Column::Status.eq(ImageStatus::Pending))
        .one(&state.db)
        .await?
        .filter(|i| i.expires_at.is_some_and(|at| at > Utc::now()))
        .ok_or_else(|| AppError::NotFound("this upload address is unknown or used".into()))?;
    let limit = state.settings.media.max_upload_bytes;
    let mut received = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            AppError::invalid(
                "file",
                format!("the upload was interrupted ({e}); send it again"),
            )
        })?;
        if (received.len() + chunk.len()) as u64 > limit {
            return Err(inspect::too_big(limit));
        }
        received.extend_from_slice(&chunk);
    }
    // Refuse what is not a photo now, while the uploader is still listening.
    inspect::sniff(&received)?;
    state
        .storage
        .put(
            &upload_key(image.id),
            received.into(),
            "application/octet-stream",
            "private",
        )
        .await?;
    let mut active: images::ActiveModel = image.into();
    active.upload_token_hash = Set(None);
    active.update(&state.db).await?;
    Ok(())
}

/// Processes a direct upload whose bytes have arrived. A file that fails its checks is
/// removed with its pending photo: nothing of it is kept.
#[tracing::instrument(skip_all, fields(user = %caller.id, image = %image_id))]
pub async fn complete_upload(
    state: &AppState,
    caller: CurrentUser,
    image_id: Uuid,
) -> AppResult<images::Model> {
    let image = images::Entity::find_by_id(image_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such upload".into()))?;
    // Another shop's upload is as unknown as one that never existed; a review photo is its
    // buyer's alone.
    let allowed = if image.purpose == Purpose::Review {
        image.uploaded_by == caller.id
    } else {
        managed_shop(&state.db, caller, image.shop_id).await.is_ok()
    };
    if !allowed {
        return Err(AppError::NotFound("no such upload".into()));
    }
    if image.status == ImageStatus::Ready {
        return Ok(image);
    }
    let key = upload_key(image.id);
    let limit = state.settings.media.max_upload_bytes;
    match state.storage.size(&key).await? {
        None => {
            return Err(AppError::refused(
                "UPLOAD_INCOMPLETE",
                "nothing has arrived at the upload address yet; PUT the file there first",
            ));
        }
        Some(size) if size > limit => {
            discard(state, &image).await?;
            return Err(inspect::too_big(limit));
        }
        Some(_) => {}
    }
    let bytes = match state.storage.get(&key).await? {
        Some(object) => object.bytes,
        None => {
            return Err(AppError::refused(
                "UPLOAD_INCOMPLETE",
                "the upload has vanished",
            ));
        }
    };
    let header = match inspect::inspect(&bytes, &limits(state)) {
        Ok(header) => header,
        Err(refused) => {
            discard(state, &image).await?;
            return Err(refused);
        }
    };
    let quota = state.settings.media.shop_quota_bytes;
    if image.purpose != Purpose::Review && used_bytes(&state.db, image.shop_id).await? >= quota {
        discard(state, &image).await?;
        return Err(quota_exceeded(quota));
    }
    let processed = match process_and_store(state, image.id, bytes, header).await {
        Err(e @ AppError::Refused { .. }) => {
            discard(state, &image).await?;
            return Err(e);
        }
        other => other?,
    };
    let mut image = image;
    image.source_format = Some(header.format.as_str().into());
    let ready = save_ready(state, image, &processed, false).await?;
    if let Err(e) = state.storage.delete(&key).await {
        tracing::warn!(error = %e, "the raw upload stays until the sweep");
    }
    Ok(ready)
}

/// Removes a pending upload and its raw bytes.
async fn discard(state: &AppState, image: &images::Model) -> AppResult<()> {
    images::Entity::delete_by_id(image.id)
        .exec(&state.db)
        .await?;
    state.storage.delete(&upload_key(image.id)).await?;
    Ok(())
}

/// Processes on the work pool and stores every rendition.
async fn process_and_store(
    state: &AppState,
    id: Uuid,
    bytes: Bytes,
    header: inspect::Header,
) -> AppResult<Processed> {
    let settings = &state.settings.media;
    let plan = process::Plan {
        widths: settings.rendition_widths.clone(),
        jpeg_quality: settings.jpeg_quality,
        webp_quality: settings.webp_quality,
    };
    let processed = state
        .cpu
        .run(move || process::process(&bytes, header, &plan))
        .await??;
    let puts = processed.renditions.iter().map(|r| async move {
        state
            .storage
            .put(
                &rendition_key(id, r.width, r.encoding),
                Bytes::from(r.bytes.clone()),
                r.encoding.content_type(),
                super::IMMUTABLE,
            )
            .await
    });
    futures_util::future::try_join_all(puts).await?;
    Ok(processed)
}

/// Writes the ready photo's row, within the shop's quota (counted with the shop's row
/// locked on PostgreSQL, so two uploads at once cannot both squeeze in). Over the quota,
/// the renditions just stored are removed again.
async fn save_ready(
    state: &AppState,
    mut image: images::Model,
    processed: &Processed,
    insert: bool,
) -> AppResult<images::Model> {
    let stored: i64 = processed
        .renditions
        .iter()
        .map(|r| r.bytes.len() as i64)
        .sum();
    let mut widths: Vec<u32> = processed.renditions.iter().map(|r| r.width).collect();
    widths.dedup();
    let [r, g, b] = processed.dominant_color;
    image.status = ImageStatus::Ready;
    image.upload_token_hash = None;
    image.width = processed.width as i32;
    image.height = processed.height as i32;
    image.stored_bytes = stored;
    image.widths = serde_json::to_string(&widths).unwrap_or_else(|_| "[]".into());
    image.placeholder = Some(base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        &processed.placeholder,
    ));
    image.dominant_color = Some(format!("#{r:02x}{g:02x}{b:02x}"));
    image.expires_at = None;
    let txn = crate::db::begin_write(&state.db).await?;
    shops::Entity::find_by_id(image.shop_id)
        .lock_exclusive()
        .one(&txn)
        .await?;
    let quota = state.settings.media.shop_quota_bytes;
    if image.purpose != Purpose::Review && used_bytes(&txn, image.shop_id).await? + stored > quota {
        drop(txn);
        remove_renditions(state, image.id, &widths).await;
        if !insert {
            images::Entity::delete_by_id(image.id)
                .exec(&state.db)
                .await?;
        }
        return Err(quota_exceeded(quota));
    }
    let active = images::ActiveModel::from(image.clone()).reset_all();
    let saved = if insert {
        active.insert(&txn).await?
    } else {
        // Only a pending row becomes ready: two completions at once store the same
        // renditions under the same keys, and the second finds the row done.
        let done = images::Entity::update_many()
            .set(active)
            .filter(images::Column::Id.eq(image.id))
            .filter(images::Column::Status.eq(ImageStatus::Pending))
            .exec(&txn)
            .await?;
        if done.rows_affected == 0 {
            txn.commit().await?;
            return images::Entity::find_by_id(image.id)
                .one(&state.db)
                .await?
                .ok_or_else(|| AppError::NotFound("no such upload".into()));
        }
        image
    };
    txn.commit().await?;
    Ok(saved)
}

/// Deletes a photo's renditions; failures are logged, as leftovers only take space.
pub(super) async fn remove_renditions(state: &AppState, id: Uuid, widths: &[u32]) {
    for width in widths {
        for encoding in Encoding::ALL {
            if let Err(e) = state
                .storage
                .delete(&rendition_key(id, *width, encoding))
                .await
            {
                tracing::warn!(error = %e, "a rendition could not be deleted");
            }
        }
    }
}

/// The photos of a shop, for the people who manage it: others cannot list them.
pub async fn shop_images(
    state: &AppState,
    caller: CurrentUser,
    shop_id: Uuid,
    status: Option<ImageStatus>,
) -> AppResult<Select<images::Entity>> {
    managed_shop(&state.db, caller, shop_id).await?;
    // Buyers' review photos are theirs, shown with their reviews, not the shop's to manage.
    let mut select = images::Entity::find()
        .filter(images::Column::ShopId.eq(shop_id))
        .filter(images::Column::Purpose.ne(Purpose::Review));
    if let Some(status) = status {
        select = select.filter(images::Column::Status.eq(status));
    }
    Ok(select)
}
