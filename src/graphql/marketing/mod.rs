//! GraphQL face of marketing: reviews and ratings, favourites, seasonal campaigns.

mod campaigns;
mod inputs;
mod mutation;
mod query;
mod types;

pub use campaigns::{Campaign, CampaignMutation, CampaignQuery};
pub use inputs::*;
pub use mutation::*;
pub use query::*;
pub use types::*;
