//! Seasonal campaigns in the GraphQL: the public sees the live ones, admins curate them.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::inputs::{CreateCampaignInput, UpdateCampaignInput};
use crate::{
    auth::CallerExt,
    entities::{campaigns, promotion_codes},
    error::AppError,
    graphql::{catalog::Collection, orders::money},
    kit::{Money, View, maybe, pagination, uuid},
    marketing::{
        MarketingLoaders,
        campaigns::{self as service, CampaignInput},
    },
    state::AppState,
};

/// A campaign's banner picture.
#[derive(SimpleObject)]
pub struct CampaignBanner {
    /// Its https address.
    pub url: String,
    /// Alternative text.
    pub alt: Option<String>,
}

/// The promotion code a campaign advertises, while buyers can use it.
#[derive(SimpleObject)]
pub struct AdvertisedCode {
    /// What to type at checkout.
    pub code: String,
    /// What it offers.
    pub description: Option<String>,
    /// Its percentage, for a percentage code.
    pub percent_off: Option<i32>,
    /// Its amount, for a fixed-amount code.
    pub amount: Option<Money>,
    /// When it stops being usable (UTC).
    pub ends_at: Option<DateTime<Utc>>,
}

impl From<promotion_codes::Model> for AdvertisedCode {
    fn from(c: promotion_codes::Model) -> Self {
        Self {
            amount: c
                .amount_minor
                .zip(c.currency.as_deref())
                .map(|(a, cur)| money(a, cur)),
            code: c.code,
            description: c.description,
            percent_off: c.percent_off,
            ends_at: c.ends_at,
        }
    }
}

/// A seasonal campaign.
pub struct Campaign(pub campaigns::Model, pub View);

/// A seasonal campaign (Naadam, Tsagaan Sar, Christmas abroad…): a collection shown for a
/// period with a banner, in a featured order, perhaps with a promotion code.
#[Object]
impl Campaign {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The collection it shows: slug, name, description and products, in the reader's language.
    async fn collection(&self, ctx: &Context<'_>) -> Result<Collection> {
        let loaders = crate::kit::data::<MarketingLoaders>(ctx)?;
        let row = crate::kit::loaders::one(&loaders.collections, self.0.collection_id)
            .await?
            .ok_or_else(|| AppError::NotFound("collection missing".into()))?;
        Ok(Collection(row, self.1.clone()))
    }
    /// When it goes live (UTC).
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    /// When it ends by itself (UTC).
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    /// Whether the public sees it now.
    async fn live(&self) -> bool {
        service::is_live(&self.0, Utc::now())
    }
    /// Featured order: lower first.
    async fn position(&self) -> i32 {
        self.0.position
    }
    /// The banner picture, if any.
    async fn banner(&self) -> Option<CampaignBanner> {
        self.0.banner_url.as_ref().map(|url| CampaignBanner {
            url: url.clone(),
            alt: self.0.banner_alt.clone(),
        })
    }
    /// The promotion code it advertises, while buyers can use it.
    async fn promotion(&self, ctx: &Context<'_>) -> Result<Option<AdvertisedCode>> {
        let Some(id) = self.0.promotion_id else {
            return Ok(None);
        };
        let loaders = crate::kit::data::<crate::promotions::loaders::PromotionLoaders>(ctx)?;
        let code = crate::kit::loaders::one(&loaders.codes, id).await?;
        Ok(code
            .filter(|c| service::advertises(c, Utc::now()))
            .map(Into::into))
    }
}

/// Result of a campaign mutation.
#[derive(SimpleObject)]
pub struct CampaignPayload {
    /// The campaign after the change.
    pub campaign: Campaign,
}

#[derive(Default)]
pub struct CampaignQuery;

#[Object]
impl CampaignQuery {
    /// The live campaigns, in featured order (at most 50).
    async fn campaigns(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "BCP 47 language of names and products.")] language: Option<String>,
        #[graphql(desc = "ISO 4217 currency of prices.")] currency: Option<String>,
    ) -> Result<Vec<Campaign>> {
        let state = ctx.data::<AppState>()?;
        let view = View::priced(ctx, language, currency).await?;
        let rows = service::live(&state.db, Utc::now()).await?;
        Ok(rows
            .into_iter()
            .map(|c| Campaign(c, view.clone()))
            .collect())
    }

    /// A campaign by its collection's slug: while it is live, or any time for admins.
    async fn campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The collection's slug.")] slug: String,
        #[graphql(desc = "BCP 47 language of names and products.")] language: Option<String>,
        #[graphql(desc = "ISO 4217 currency of prices.")] currency: Option<String>,
    ) -> Result<Campaign> {
        let state = ctx.data::<AppState>()?;
        let view = View::priced(ctx, language, currency).await?;
        let caller = crate::kit::data::<crate::auth::Caller>(ctx)?;
        if let Some(read) = ctx.data_opt::<crate::cache::ReadSet>()
            && caller.user().is_ok()
        {
            read.private();
        }
        Ok(Campaign(
            service::by_slug(&state.db, *caller, &slug).await?,
            view,
        ))
    }

    /// Every campaign, past, live and coming, newest first. Admins only.
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    async fn all_campaigns(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n after `after` (at most 100).")] first: Option<i64>,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n before `before` (at most 100).")] last: Option<i64>,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<pagination::IdConnection<Campaign>> {
        let state = ctx.data::<AppState>()?;
        let select = service::all(ctx.current_user()?)?;
        let view = View::new(ctx, None, None)?;
        let page = pagination::PageArgs::new(first, after, last, before)?.newest_first();
        let page = pagination::by_id(&state.db, select, campaigns::Column::Id, page).await?;
        Ok(page.into_connection(|c| c.id, |c| Campaign(c, view.clone())))
    }
}

#[derive(Default)]
pub struct CampaignMutation;

#[Object]
impl CampaignMutation {
    /// Starts a campaign on a collection (admins). It shows while live, by itself.
    async fn create_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign.")] input: CreateCampaignInput,
    ) -> Result<CampaignPayload> {
        let state = ctx.data::<AppState>()?;
        let campaign = service::create(
            state,
            ctx.current_user()?,
            CampaignInput {
                collection_id: Some(uuid("collectionId", &input.collection_id)?),
                starts_at: Some(input.starts_at),
                ends_at: Some(input.ends_at),
                banner_url: Some(input.banner_url),
                banner_alt: Some(input.banner_alt),
                position: input.position,
                promotion_code: Some(input.promotion_code),
            },
        )
        .await?;
        Ok(CampaignPayload {
            campaign: Campaign(campaign, View::new(ctx, None, None)?),
        })
    }

    /// Changes a campaign (admins).
    async fn update_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateCampaignInput,
    ) -> Result<CampaignPayload> {
        let state = ctx.data::<AppState>()?;
        let id = uuid("campaignId", &input.campaign_id)?;
        let campaign = service::update(
            state,
            ctx.current_user()?,
            id,
            CampaignInput {
                collection_id: None,
                starts_at: input.starts_at,
                ends_at: input.ends_at,
                banner_url: maybe(&input.banner_url, |v| Ok(v.clone()))?,
                banner_alt: maybe(&input.banner_alt, |v| Ok(v.clone()))?,
                position: input.position,
                promotion_code: maybe(&input.promotion_code, |v| Ok(v.clone()))?,
            },
        )
        .await?;
        Ok(CampaignPayload {
            campaign: Campaign(campaign, View::new(ctx, None, None)?),
        })
    }
}
