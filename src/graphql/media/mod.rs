//! GraphQL face of media: uploading photos (multipart or to a one-time address), listing a
//! shop's photos for its managers, and the `Image` every photo is shown as.

mod inputs;
mod mutation;
mod query;
mod types;

pub use inputs::*;
pub use mutation::*;
pub use query::*;
pub use types::*;
