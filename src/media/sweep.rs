//! Removing what nothing needs: uploads never completed, and processed photos that nothing
//! refers to (never attached, or replaced) once their grace period is over.

use chrono::{Duration, Utc};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, Query},
};

use super::{upload_key, uploads::remove_renditions, widths};
use crate::{
    entities::{
        images::{self, ImageStatus},
        makers, product_images, shops,
    },
    error::AppResult,
    state::AppState,
};

/// What one sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub pending: usize,
    pub unattached: usize,
}

/// At most this many photos are looked at per kind and sweep.
const BATCH: u64 = 200;

/// One sweep; safe on several servers at once (each row is deleted by whoever gets it).
pub async fn sweep(state: &AppState) -> AppResult<Swept> {
    let settings = &state.settings.media;
    let now = Utc::now();
    let mut swept = Swept::default();

    let expired = images::Entity::find()
        .filter(images::Column::Status.eq(ImageStatus::Pending))
        .filter(images::Column::ExpiresAt.lt(now))
        .limit(BATCH)
        .all(&state.db)
        .await?;
    for image in expired {
        let gone = images::Entity::delete_many()
            .filter(images::Column::Id.eq(image.id))
            .filter(images::Column::Status.eq(ImageStatus::Pending))
            .exec(&state.db)
            .await?;
        if gone.rows_affected == 1 {
            state.storage.delete(&upload_key(image.id)).await?;
            swept.pending += 1;
        }
    }

    let old = now - Duration::hours(settings.unattached_grace_hours);
    let unused = images::Entity::find()
        .filter(images::Column::Status.eq(ImageStatus::Ready))
        .filter(images::Column::CreatedAt.lt(old))
        .filter(unreferenced())
        .limit(BATCH)
        .all(&state.db)
        .await?;
    for image in unused {
        // Checked again as the row goes: a photo attached since the read above stays. On
        // PostgreSQL a concurrent attach holds its reference's foreign-key lock, so this
        // delete waits, then fails on the new reference: skipped, not an error.
        let gone = images::Entity::delete_many()
            .filter(images::Column::Id.eq(image.id))
            .filter(unreferenced())
            .exec(&state.db)
            .await;
        match gone {
            Ok(done) if done.rows_affected == 1 => {
                remove_renditions(state, image.id, &widths(&image)).await;
                swept.unattached += 1;
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, image = %image.id, "photo in use; kept"),
        }
    }
    Ok(swept)
}

/// No product photo, shop logo or banner, or maker portrait names the photo.
fn unreferenced() -> Condition {
    let id = (images::Entity, images::Column::Id);
    let named_by = |table: sea_orm::sea_query::SelectStatement| Expr::exists(table).not();
    Condition::all()
        .add(named_by(
            Query::select()
                .expr(Expr::val(1))
                .from(product_images::Entity)
                .and_where(
                    Expr::col((product_images::Entity, product_images::Column::ImageId)).equals(id),
                )
                .to_owned(),
        ))
        .add(named_by(
            Query::select()
                .expr(Expr::val(1))
                .from(shops::Entity)
                .cond_where(
                    Condition::any()
                        .add(Expr::col((shops::Entity, shops::Column::LogoImageId)).equals(id))
                        .add(Expr::col((shops::Entity, shops::Column::BannerImageId)).equals(id)),
                )
                .to_owned(),
        ))
        .add(named_by(
            Query::select()
                .expr(Expr::val(1))
                .from(makers::Entity)
                .and_where(Expr::col((makers::Entity, makers::Column::PortraitImageId)).equals(id))
                .to_owned(),
        ))
}
