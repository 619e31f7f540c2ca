//! Root mutation fields of the promotions GraphQL.

use async_graphql::{Context, Object, Result};

use super::{inputs::*, types::*};
use crate::{
    auth::CallerExt,
    kit::uuid,
    promotions::codes::{self, CodeInput},
    state::AppState,
};

#[derive(Default)]
pub struct PromotionMutation;

#[Object]
impl PromotionMutation {
    /// Creates a promotion code: platform-funded when an admin creates it, shop-funded when
    /// a shop creates it for its own products.
    async fn create_promotion_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The code, its discount and its limits.")] input: CreatePromotionCodeInput,
    ) -> Result<PromotionCodePayload> {
        let state = ctx.data::<AppState>()?;
        let ids =
            |field, v: &Option<async_graphql::ID>| v.as_ref().map(|id| uuid(field, id)).transpose();
        let product_ids = crate::kit::uuids("productIds", &input.product_ids)?;
        let created = codes::create(
            state,
            ctx.current_user()?,
            CodeInput {
                code: input.code,
                description: input.description,
                shop_id: ids("shopId", &input.shop_id)?,
                percent_off: input.percent_off,
                amount: input.amount,
                currency: input.currency,
                min_subtotal: input.min_subtotal,
                starts_at: input.starts_at,
                ends_at: input.ends_at,
                max_uses: input.max_uses,
                max_uses_per_buyer: input.max_uses_per_buyer,
                first_order_only: input.first_order_only,
                category_id: ids("categoryId", &input.category_id)?,
                collection_id: ids("collectionId", &input.collection_id)?,
                product_ids,
            },
        )
        .await?;
        Ok(PromotionCodePayload {
            promotion: PromotionCode(created),
        })
    }

    /// Switches a code on or off (its creator's shop, or admins).
    async fn set_promotion_code_active(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The code and whether it is usable.")] input: SetPromotionCodeActiveInput,
    ) -> Result<PromotionCodePayload> {
        let state = ctx.data::<AppState>()?;
        let id = uuid("promotionId", &input.promotion_id)?;
        let code = codes::set_active(state, ctx.current_user()?, id, input.active).await?;
        Ok(PromotionCodePayload {
            promotion: PromotionCode(code),
        })
    }
}
