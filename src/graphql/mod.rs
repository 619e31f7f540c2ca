//! The GraphQL layer: each domain's types, inputs and root fields in a folder of its own, over
//! the domain services, and the schema that merges them with its limits and error codes.

pub mod accounts;
pub mod catalog;
pub mod distribution;
pub mod marketing;
pub mod media;
pub mod notifications;
pub mod orders;
pub mod payments;
pub mod promotions;
pub mod statistics;

use async_graphql::{MergedObject, MergedSubscription, Schema};

use self::{
    accounts::{AccountMutation, AccountQuery, AccountSubscription, User},
    catalog::{
        CatalogMutation, CatalogQuery, Collection, ProductConnection, Sale, SaleMutation,
        SaleQuery, Shop,
    },
    distribution::{AnalyticsMutation, AnalyticsQuery, DistributionQuery},
    marketing::{
        Campaign, CampaignMutation, CampaignQuery, Favourite, MarketingMutation, MarketingQuery,
        Review,
    },
    media::{MediaMutation, MediaQuery, Photo},
    notifications::{
        EmailDelivery, Notification, NotificationMutation, NotificationQuery,
        NotificationSubscription,
    },
    orders::{Order, OrderMutation, OrderQuery, OrderSubscription},
    payments::{BankTransfer, PaymentMutation, PaymentQuery},
    promotions::{PromotionCode, PromotionMutation, PromotionQuery},
};
use crate::{
    auth::Caller,
    catalog::loaders::Loaders,
    config::GraphqlSettings,
    kit::{AcceptLanguage, pagination},
    state::AppState,
};

/// Every query of the API.
#[derive(MergedObject, Default)]
pub struct Query(
    AccountQuery,
    CatalogQuery,
    SaleQuery,
    MediaQuery,
    MarketingQuery,
    CampaignQuery,
    OrderQuery,
    PaymentQuery,
    PromotionQuery,
    DistributionQuery,
    AnalyticsQuery,
    statistics::StatisticsQuery,
    NotificationQuery,
);

/// Every mutation of the API.
#[derive(MergedObject, Default)]
pub struct Mutation(
    AccountMutation,
    CatalogMutation,
    SaleMutation,
    MediaMutation,
    MarketingMutation,
    CampaignMutation,
    OrderMutation,
    PaymentMutation,
    PromotionMutation,
    AnalyticsMutation,
    statistics::StatisticsMutation,
    NotificationMutation,
);

/// Every subscription of the API.
#[derive(MergedSubscription, Default)]
pub struct Subscription(
    AccountSubscription,
    OrderSubscription,
    NotificationSubscription,
);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// Adds what every request needs: the caller, fresh DataLoaders and the languages to read
/// in. Languages come from `Accept-Language`; without one, a signed-in caller's preferred
/// language (one indexed read, only then). Fields with a `language` argument put it first,
/// and texts fall back to the shop's default language.
pub async fn per_request(
    request: async_graphql::Request,
    state: &AppState,
    accept_language: Option<&str>,
    caller: Caller,
) -> async_graphql::Request {
    let mut languages = accept_language
        .map(crate::i18n::parse_accept_language)
        .unwrap_or_default();
    if languages.is_empty()
        && let Caller::User(user) = caller
    {
        match crate::accounts::service::preferred_language(&state.db, user).await {
            Ok(Some(language)) => languages.push(language),
            Ok(None) => {}
            Err(err) => tracing::warn!(error = ?err, "preferred language unreadable"),
        }
    }
    request
        .data(Loaders::new(state))
        .data(crate::media::loaders::MediaLoaders::new(&state.db))
        .data(crate::marketing::MarketingLoaders::new(&state.db))
        .data(crate::orders::loaders::OrderLoaders::new(&state.db))
        .data(crate::payments::loaders::PaymentLoaders::new(&state.db))
        .data(crate::promotions::loaders::PromotionLoaders::new(&state.db))
        .data(crate::kit::loaders::RequestRates::new(state))
        .data(AcceptLanguage(languages))
        .data(caller)
}

/// Depth allowed to documents that ask only about the schema: graphql-js's
/// `getIntrospectionQuery()` (GraphiQL, codegen, Postman) needs about 15.
pub const INTROSPECTION_MAX_DEPTH: usize = 24;

/// The schema for data and its twin for introspection-only documents, which differ only
/// in the depth they allow.
#[derive(Clone)]
pub struct Schemas {
    pub data: AppSchema,
    pub introspection: AppSchema,
}

impl Schemas {
    pub fn build(settings: &GraphqlSettings, state: AppState) -> Self {
        let deep = GraphqlSettings {
            max_depth: settings.max_depth.max(INTROSPECTION_MAX_DEPTH),
            ..settings.clone()
        };
        Self {
            data: build_schema(settings, Some(state.clone())),
            introspection: build_schema(&deep, Some(state)),
        }
    }
}

/// Builds the schema with its limits. `state` is `None` only for exporting the SDL.
pub fn build_schema(settings: &GraphqlSettings, state: Option<AppState>) -> AppSchema {
    let mut builder = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_depth(settings.max_depth)
    .limit_complexity(settings.max_complexity)
    .override_output_type_description::<async_graphql::ID>(
        "An opaque, stable identifier. Clients must not parse it.",
    )
    .override_output_type_description::<pagination::IdConnection<User>>(
        "A page of users with cursors, page info and the total count.",
    )
    .override_output_type_description::<pagination::IdConnection<Shop>>(
        "A page of shops with cursors, page info and the total count.",
    )
    .override_output_type_description::<pagination::IdConnection<Collection>>(
        "A page of collections with cursors, page info and the total count.",
    )
    .override_output_type_description::<pagination::IdConnection<Order>>(
        "A page of orders with cursors, page info and the total count.",
    )
    .override_output_type_description::<ProductConnection>(
        "A page of products with cursors, page info and the total count.",
    )
    .override_output_type_description::<pagination::IdConnection<Notification>>(
        "A page of inbox notifications with cursors, page info and the total count.",
    )
    .override_output_type_description::<pagination::IdConnection<EmailDelivery>>(
        "A page of the email delivery log with cursors, page info and the total count.",
    )
    .override_output_type_description::<pagination::IdConnection<Photo>>(
        "A page of a shop's uploaded photos with cursors, page info and the total count.",
    )
    .override_output_type_description::<pagination::IdConnection<Campaign>>(
        "A page of campaigns with cursors, page info and the total count.",
    )
    .override_output_type_description::<pagination::IdConnection<Sale>>(
        "A page of a shop's sales with cursors, page info and the total count.",
    )
    .override_output_type_description::<pagination::IdConnection<PromotionCode>>(
        "A page of promotion codes with cursors, page info and the total count.",
    )
    .override_output_type_description::<pagination::IdConnection<Favourite>>(
        "A page of saved products and shops with cursors, page info and the total count.",
    )
    .override_output_type_description::<pagination::IdConnection<Review>>(
        "A page of reviews with cursors, page info and the total count.",
    )
    .override_output_type_description::<pagination::IdConnection<BankTransfer>>(
        "A page of bank-transfer checkouts with cursors, page info and the total count.",
    );
    if let Some(state) = state {
        builder = builder.data(state);
    }
    builder.finish()
}

/// The SDL clients generate code from, as committed in `schema.graphql`.
pub fn sdl(schema: &AppSchema) -> String {
    schema.sdl()
}
