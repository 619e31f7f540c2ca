//! GraphQL face of the catalogue: object types, queries and mutations over the services.

mod inputs;
mod mutation;
mod query;
mod sales;
mod types;

pub use mutation::CatalogMutation;
pub use query::CatalogQuery;
pub use sales::{Sale, SaleMutation, SaleQuery};
pub use types::{Category, Collection, Product, ProductConnection, Shop};

use async_graphql::Context;

use crate::catalog::loaders::Loaders;
use crate::error::AppResult;
pub use crate::kit::{AcceptLanguage, Money, View, display, maybe, uuid, wants_total};

pub fn loaders<'a>(ctx: &Context<'a>) -> AppResult<&'a Loaders> {
    crate::kit::data::<Loaders>(ctx)
}
