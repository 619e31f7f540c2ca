//! Photos: uploaded through GraphQL or to a one-time address, checked by their content,
//! processed off the async runtime into renditions with every bit of metadata left behind,
//! kept in object storage, attached to products, shops and makers, and swept away once
//! nothing refers to them.
//!
//! Depends on no other domain: the catalogue asks [`attachable`] before it refers to a photo.

pub mod inspect;
pub mod loaders;
pub mod process;
mod sweep;
mod uploads;

pub use sweep::{Swept, sweep};
pub use uploads::{
    DirectUpload, complete_upload, create_upload, receive_upload, shop_images, upload,
};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

pub use crate::entities::images::Purpose;
use crate::{
    config::{MediaSettings, PublicSettings},
    entities::images::{self, ImageStatus},
    error::{AppError, AppResult},
};
use process::Encoding;

/// Served with every rendition: a key never changes its bytes (a new photo is a new key).
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Where a rendition is kept, relative to the store's root.
pub fn rendition_key(image: Uuid, width: u32, encoding: Encoding) -> String {
    format!("i/{image}/{width}.{}", encoding.extension())
}

/// Where a direct upload's raw bytes wait for processing (never served).
fn upload_key(image: Uuid) -> String {
    format!("uploads/{image}")
}

/// The widths a ready photo has, ascending.
pub fn widths(image: &images::Model) -> Vec<u32> {
    serde_json::from_str(&image.widths).unwrap_or_default()
}

/// The smallest rendition at least `wanted` pixels wide, or the largest there is.
pub fn pick_width(widths: &[u32], wanted: Option<u32>) -> Option<u32> {
    match wanted {
        None => widths.last().copied(),
        Some(w) => widths
            .iter()
            .copied()
            .find(|x| *x >= w)
            .or_else(|| widths.last().copied()),
    }
}

/// Builds public addresses of renditions.
#[derive(Debug, Clone)]
pub struct Urls {
    base: String,
}

impl Urls {
    pub fn new(media: &MediaSettings, public: &PublicSettings) -> Self {
        Self {
            base: media.base_url(public),
        }
    }

    pub fn rendition(&self, image: Uuid, width: u32, encoding: Encoding) -> String {
        format!("{}/{}", self.base, rendition_key(image, width, encoding))
    }

    /// `url 160w, url 480w, …` for an `<img srcset>`.
    pub fn srcset(&self, image: &images::Model, encoding: Encoding) -> String {
        widths(image)
            .into_iter()
            .map(|w| format!("{} {w}w", self.rendition(image.id, w, encoding)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The address of a product photo small enough for an email (JPEG: not every mail client
/// shows WebP); an external photo's own address.
pub async fn email_thumbnail(
    state: &crate::state::AppState,
    photo: crate::entities::product_images::Model,
) -> AppResult<Option<String>> {
    let Some(id) = photo.image_id else {
        return Ok(Some(photo.url));
    };
    let Some(image) = images::Entity::find_by_id(id).one(&state.db).await? else {
        return Ok(None);
    };
    let urls = Urls::new(&state.settings.media, &state.settings.public);
    Ok(pick_width(&widths(&image), Some(160)).map(|w| urls.rendition(id, w, Encoding::Jpeg)))
}

/// Public addresses of product photos at about `width` pixels, in their order, as JPEG (what
/// every shopping channel and link preview reads); an external photo's own address. Photos
/// no longer ready are left out. One query for any number of photos.
pub async fn photo_addresses(
    db: &impl ConnectionTrait,
    urls: &Urls,
    photos: &[crate::entities::product_images::Model],
    width: u32,
) -> AppResult<std::collections::HashMap<Uuid, String>> {
    let ids: Vec<Uuid> = photos.iter().filter_map(|p| p.image_id).collect();
    let ready: std::collections::HashMap<Uuid, images::Model> = if ids.is_empty() {
        Default::default()
    } else {
        images::Entity::find()
            .filter(images::Column::Id.is_in(ids))
            .filter(images::Column::Status.eq(ImageStatus::Ready))
            .all(db)
            .await?
            .into_iter()
            .map(|i| (i.id, i))
            .collect()
    };
    Ok(photos
        .iter()
        .filter_map(|p| {
            let url = match p.image_id {
                None => p.url.clone(),
                Some(id) => {
                    let image = ready.get(&id)?;
                    let w = pick_width(&widths(image), Some(width))?;
                    urls.rendition(id, w, Encoding::Jpeg)
                }
            };
            Some((p.id, url))
        })
        .collect())
}

/// Checks that every id names a ready photo of `shop` uploaded for `purpose`: what the
/// catalogue asks before it attaches one. Another shop's photo is reported as unknown, so
/// ids cannot be probed. Review photos must also be the reviewer's own (`attachable_by`).
pub async fn attachable(
    db: &impl ConnectionTrait,
    shop: Uuid,
    purpose: Purpose,
    ids: &[Uuid],
    field: &'static str,
) -> AppResult<()> {
    attachable_by(db, shop, purpose, None, ids, field).await
}

/// `attachable`, and (given an uploader) uploaded by them: someone else's photo is reported
/// as unknown too.
pub async fn attachable_by(
    db: &impl ConnectionTrait,
    shop: Uuid,
    purpose: Purpose,
    uploader: Option<Uuid>,
    ids: &[Uuid],
    field: &'static str,
) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut query = images::Entity::find()
        .filter(images::Column::Id.is_in(ids.iter().copied()))
        .filter(images::Column::ShopId.eq(shop));
    if let Some(uploader) = uploader {
        query = query.filter(images::Column::UploadedBy.eq(uploader));
    }
    let found = query.all(db).await?;
    for id in ids {
        match found.iter().find(|i| i.id == *id) {
            None => {
                return Err(AppError::invalid(field, format!("no uploaded photo {id}")));
            }
            Some(image) if image.status != ImageStatus::Ready => {
                return Err(AppError::invalid(
                    field,
                    format!("photo {id} has not been processed yet: complete its upload first"),
                ));
            }
            Some(image) if image.purpose != purpose => {
                return Err(AppError::invalid(
                    field,
                    format!(
                        "photo {id} was uploaded as {}, not {}",
                        image.purpose.to_value(),
                        purpose.to_value()
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

use sea_orm::ActiveEnum as _;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_smallest_rendition_that_fills_the_width() {
        let widths = [160, 480, 960, 1600];
        assert_eq!(pick_width(&widths, Some(100)), Some(160));
        assert_eq!(pick_width(&widths, Some(480)), Some(480));
        assert_eq!(pick_width(&widths, Some(481)), Some(960));
        assert_eq!(pick_width(&widths, Some(5000)), Some(1600));
        assert_eq!(pick_width(&widths, None), Some(1600));
        assert_eq!(pick_width(&[], Some(10)), None);
    }
}
