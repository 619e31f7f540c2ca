//! How photos are shown: `Image` for any photo on a page, `Photo` for an upload as its shop
//! manages it.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use crate::{
    entities::images::{self, ImageStatus},
    media::{self, process::Encoding},
    state::AppState,
};

/// What a photo is for: it decides where it may be attached.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::entities::images::Purpose")]
pub enum ImagePurpose {
    /// A product photo.
    Product,
    /// A shop's logo.
    ShopLogo,
    /// A shop's banner.
    ShopBanner,
    /// A maker's portrait.
    MakerPortrait,
    /// A buyer's photo for a review of the shop's product (buyers with a delivered order from
    /// the shop).
    Review,
}

/// Whether an upload has been processed.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::entities::images::ImageStatus")]
pub enum PhotoStatus {
    /// Announced for a direct upload; its bytes have not been processed yet.
    Pending,
    /// Processed: its renditions can be shown and it can be attached.
    Ready,
}

/// The encodings renditions are made in.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum ImageEncoding {
    /// WebP: smaller, understood by every current browser and phone.
    #[default]
    Webp,
    /// JPEG: for the oldest clients and for email.
    Jpeg,
}

impl From<ImageEncoding> for Encoding {
    fn from(e: ImageEncoding) -> Self {
        match e {
            ImageEncoding::Webp => Encoding::WebP,
            ImageEncoding::Jpeg => Encoding::Jpeg,
        }
    }
}

/// Where an `Image`'s pixels come from.
#[derive(Clone)]
pub enum ImageSource {
    /// An uploaded photo with renditions.
    Uploaded(images::Model),
    /// A photo elsewhere on the web, given by its address.
    External(String),
}

/// A photo as shown on a page.
#[derive(Clone)]
pub struct Image {
    pub id: uuid::Uuid,
    pub source: ImageSource,
    pub alt: Option<String>,
    pub position: i32,
}

/// A photo as shown on a page: the rendition that fits the width a client draws it at, a
/// `srcset` for browsers, and a placeholder and colour to show while it loads.
#[Object]
impl Image {
    /// Stable identifier of the photo in its place (a product photo's own id; the uploaded
    /// photo's id for logos, banners and portraits).
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }
    /// The uploaded photo shown, to attach it elsewhere; null for photos given by address.
    async fn photo_id(&self) -> Option<ID> {
        match &self.source {
            ImageSource::Uploaded(image) => Some(ID(image.id.to_string())),
            ImageSource::External(_) => None,
        }
    }
    /// Address of the smallest rendition at least `width` pixels wide (the largest when none
    /// is), or of the original photo when it was given by address.
    async fn url(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The width the client draws the photo at, in device pixels.")]
        width: Option<i32>,
        #[graphql(desc = "The encoding wanted.", default)] format: ImageEncoding,
    ) -> Result<String> {
        Ok(match &self.source {
            ImageSource::External(url) => url.clone(),
            ImageSource::Uploaded(image) => {
                let widths = media::widths(image);
                let wanted = width.map(|w| w.clamp(1, 10_000) as u32);
                let chosen = media::pick_width(&widths, wanted).unwrap_or(image.width as u32);
                urls(ctx)?.rendition(image.id, chosen, format.into())
            }
        })
    }
    /// Every rendition as `url 480w, …`, for an `<img srcset>`; null for photos given by
    /// address.
    async fn srcset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The encoding wanted.", default)] format: ImageEncoding,
    ) -> Result<Option<String>> {
        Ok(match &self.source {
            ImageSource::External(_) => None,
            ImageSource::Uploaded(image) => Some(urls(ctx)?.srcset(image, format.into())),
        })
    }
    /// A ThumbHash (base64) that decodes into a blurred preview of a few dozen pixels, shown
    /// while the photo loads.
    async fn placeholder(&self) -> Option<&str> {
        match &self.source {
            ImageSource::Uploaded(image) => image.placeholder.as_deref(),
            ImageSource::External(_) => None,
        }
    }
    /// The photo's main colour as `#rrggbb`, to fill its place in lists.
    async fn dominant_color(&self) -> Option<&str> {
        match &self.source {
            ImageSource::Uploaded(image) => image.dominant_color.as_deref(),
            ImageSource::External(_) => None,
        }
    }
    /// Width of the photo upright, in pixels; null for photos given by address.
    async fn width(&self) -> Option<i32> {
        match &self.source {
            ImageSource::Uploaded(image) => Some(image.width),
            ImageSource::External(_) => None,
        }
    }
    /// Height of the photo upright, in pixels; null for photos given by address.
    async fn height(&self) -> Option<i32> {
        match &self.source {
            ImageSource::Uploaded(image) => Some(image.height),
            ImageSource::External(_) => None,
        }
    }
    /// Description of the photo for screen readers, in the reader's language.
    async fn alt(&self) -> Option<&str> {
        self.alt.as_deref()
    }
    /// Display order among a product's photos, from 0 (0 for single photos).
    async fn position(&self) -> i32 {
        self.position
    }
}

fn urls(ctx: &Context<'_>) -> Result<media::Urls> {
    let state = ctx.data::<AppState>()?;
    Ok(media::Urls::new(
        &state.settings.media,
        &state.settings.public,
    ))
}

/// An uploaded photo as its shop manages it.
pub struct Photo(pub images::Model);

/// An uploaded photo of a shop: what it is for, whether it is processed, and how it looks.
#[Object]
impl Photo {
    /// Stable identifier, given to `photoId` fields to attach the photo.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What the photo is for.
    async fn purpose(&self) -> ImagePurpose {
        self.0.purpose.into()
    }
    /// Whether it has been processed.
    async fn status(&self) -> PhotoStatus {
        self.0.status.into()
    }
    /// Bytes its renditions take from the shop's storage quota.
    async fn stored_bytes(&self) -> i64 {
        self.0.stored_bytes
    }
    /// The format it was uploaded in (JPEG, PNG or WEBP); null until processed.
    async fn source_format(&self) -> Option<&str> {
        self.0.source_format.as_deref()
    }
    /// When it was uploaded or announced.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The photo to show; null until processed.
    async fn image(&self) -> Option<Image> {
        (self.0.status == ImageStatus::Ready).then(|| Image {
            id: self.0.id,
            source: ImageSource::Uploaded(self.0.clone()),
            alt: None,
            position: 0,
        })
    }
}

/// A header an upload request must carry.
#[derive(SimpleObject)]
pub struct HttpHeader {
    /// Header name.
    pub name: String,
    /// Header value.
    pub value: String,
}

/// The answer to `uploadImage`.
#[derive(SimpleObject)]
pub struct UploadImagePayload {
    /// The processed photo.
    pub photo: Photo,
}

/// The answer to `createImageUpload`: where to send the file, then call
/// `completeImageUpload`.
#[derive(SimpleObject)]
pub struct CreateImageUploadPayload {
    /// The pending photo.
    pub photo: Photo,
    /// Where to send the file's bytes, once, as the body of a request with `uploadMethod`.
    pub upload_url: String,
    /// The HTTP method of the upload (PUT).
    pub upload_method: String,
    /// Headers the upload request must carry.
    pub upload_headers: Vec<HttpHeader>,
    /// Until when the address accepts the file.
    pub expires_at: DateTime<Utc>,
}

/// The answer to `completeImageUpload`.
#[derive(SimpleObject)]
pub struct CompleteImageUploadPayload {
    /// The processed photo.
    pub photo: Photo,
}
