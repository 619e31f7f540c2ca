//! Inputs of the media mutations.

use async_graphql::{ID, InputObject, Upload};

use super::ImagePurpose;

/// A photo sent in a GraphQL multipart request.
#[derive(InputObject)]
pub struct UploadImageInput {
    /// The shop the photo is for.
    pub shop_id: ID,
    /// What the photo is for.
    pub purpose: ImagePurpose,
    /// The file: a part of the multipart request (JPEG, PNG or WebP, judged by its content).
    pub file: Upload,
}

/// A photo to be sent to a one-time address.
#[derive(InputObject)]
pub struct CreateImageUploadInput {
    /// The shop the photo is for.
    pub shop_id: ID,
    /// What the photo is for.
    pub purpose: ImagePurpose,
}

/// A direct upload whose bytes have been sent.
#[derive(InputObject)]
pub struct CompleteImageUploadInput {
    /// The pending photo from `createImageUpload`.
    pub photo_id: ID,
}
