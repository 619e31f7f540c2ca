//! Root mutation fields of the media GraphQL.

use async_graphql::{Context, Object, Result};

use super::{inputs::*, types::*};
use crate::{auth::CallerExt, error::AppError, kit::uuid, media, state::AppState};

#[derive(Default)]
pub struct MediaMutation;

#[Object]
impl MediaMutation {
    /// Uploads a photo in a GraphQL multipart request (the request must carry an
    /// `Apollo-Require-Preflight` or `GraphQL-Preflight` header) and processes it: renditions
    /// in WebP and JPEG, a placeholder, the dominant colour, every bit of metadata removed.
    /// The shop's owner or an admin only.
    async fn upload_image(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The photo.")] input: UploadImageInput,
    ) -> Result<UploadImagePayload> {
        let state = ctx.data::<AppState>()?;
        let caller = ctx.current_user()?;
        let shop = uuid("shopId", &input.shop_id)?;
        let file = input
            .file
            .value(ctx)
            .map_err(|_| AppError::invalid("file", "the file part is missing"))?;
        let image = media::upload(state, caller, shop, input.purpose.into(), file.content).await?;
        Ok(UploadImagePayload {
            photo: Photo(image),
        })
    }

    /// Announces a photo to be sent to a one-time address: this server's with local storage,
    /// the bucket's (presigned) with S3. Send the bytes there, then call
    /// `completeImageUpload`. Unfinished uploads are removed after a day.
    async fn create_image_upload(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shop and purpose.")] input: CreateImageUploadInput,
    ) -> Result<CreateImageUploadPayload> {
        let state = ctx.data::<AppState>()?;
        let shop = uuid("shopId", &input.shop_id)?;
        let upload =
            media::create_upload(state, ctx.current_user()?, shop, input.purpose.into()).await?;
        Ok(CreateImageUploadPayload {
            photo: Photo(upload.image),
            upload_url: upload.url,
            upload_method: "PUT".into(),
            upload_headers: upload
                .headers
                .into_iter()
                .map(|(name, value)| HttpHeader { name, value })
                .collect(),
            expires_at: upload.expires_at,
        })
    }

    /// Checks and processes a photo sent to its one-time address. A file that is not an
    /// acceptable photo is removed with its pending upload.
    async fn complete_image_upload(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The pending photo.")] input: CompleteImageUploadInput,
    ) -> Result<CompleteImageUploadPayload> {
        let state = ctx.data::<AppState>()?;
        let id = uuid("photoId", &input.photo_id)?;
        let image = media::complete_upload(state, ctx.current_user()?, id).await?;
        Ok(CompleteImageUploadPayload {
            photo: Photo(image),
        })
    }
}
