//! Catalogue mutations: thin translations from inputs to service calls.

use async_graphql::{Context, MaybeUndefined, Object, Result, SimpleObject};

use super::{
    View,
    inputs::{
        CategoryInput, CreateCollectionInput, CreateMakerInput, CreateProductInput,
        CreateShopInput, ImageInput, ProductIdInput, ProductMakerInput, ProductTranslationInput,
        SetExchangeRateInput, SetShopSuspendedInput, UpdateCollectionInput, UpdateMakerInput,
        UpdateProductInput, UpdateShopInput, VariantInput, pairs,
    },
    loaders, maybe,
    types::{Category, Collection, ExchangeRate, Maker, Product, Shop},
    uuid,
};
use crate::{
    auth::CallerExt,
    catalog::{
        products::{self as product_service, OptionValue, ProductInput},
        rates,
        shops::{self as shop_service, MakerInput, ShopInput},
        taxonomy::{self, CollectionInput},
    },
    entities::{makers, products::ProductStatus},
    error::AppResult,
    state::AppState,
};

/// Result of a shop mutation.
#[derive(SimpleObject)]
pub struct ShopPayload {
    /// The shop after the change.
    pub shop: Shop,
}

/// Result of a maker mutation.
#[derive(SimpleObject)]
pub struct MakerPayload {
    /// The maker after the change.
    pub maker: Maker,
}

/// Result of a product mutation.
#[derive(SimpleObject)]
pub struct ProductPayload {
    /// The product after the change.
    pub product: Product,
}

/// Result of a category mutation.
#[derive(SimpleObject)]
pub struct CategoryPayload {
    /// The category after the change.
    pub category: Category,
}

/// Result of a collection mutation.
#[derive(SimpleObject)]
pub struct CollectionPayload {
    /// The collection after the change.
    pub collection: Collection,
}

/// Result of `setExchangeRate`.
#[derive(SimpleObject)]
pub struct ExchangeRatePayload {
    /// The rate as stored.
    pub exchange_rate: ExchangeRate,
}

fn translations(list: Vec<ProductTranslationInput>) -> Vec<product_service::TranslationInput> {
    list.into_iter()
        .map(|t| product_service::TranslationInput {
            language: t.language,
            title: t.title,
            description: t.description,
        })
        .collect()
}

fn variants(list: Vec<VariantInput>) -> Vec<product_service::VariantInput> {
    list.into_iter()
        .map(|v| product_service::VariantInput {
            sku: v.sku,
            options: v
                .options
                .into_iter()
                .map(|o| OptionValue {
                    name: o.name,
                    value: o.value,
                })
                .collect(),
            price: v.price,
            stock: v.stock,
        })
        .collect()
}

fn images(list: Vec<ImageInput>) -> AppResult<Vec<product_service::ImageInput>> {
    list.into_iter()
        .map(|i| {
            Ok(product_service::ImageInput {
                url: i.url,
                image_id: i.photo_id.map(|id| uuid("images", &id)).transpose()?,
                alt: pairs(i.alt),
            })
        })
        .collect()
}

/// A photo reference that may be set, cleared (null) or left as it is (absent).
fn photo_change(
    field: &'static str,
    value: MaybeUndefined<async_graphql::ID>,
) -> AppResult<Option<Option<uuid::Uuid>>> {
    maybe(&value, |id| uuid(field, id))
}

fn makers(list: Vec<ProductMakerInput>) -> AppResult<Vec<product_service::MakerRoleInput>> {
    list.into_iter()
        .map(|m| {
            Ok(product_service::MakerRoleInput {
                maker_id: uuid("makers", &m.maker_id)?,
                role: m.role,
            })
        })
        .collect()
}

/// A maker's texts fall back to their shop's language.
async fn maker_payload(ctx: &Context<'_>, maker: makers::Model) -> Result<MakerPayload> {
    let language = crate::kit::loaders::one(&loaders(ctx)?.shops, maker.shop_id)
        .await?
        .map_or_else(|| "en".to_owned(), |shop| shop.default_language);
    Ok(MakerPayload {
        maker: Maker(maker, language, view(ctx)?),
    })
}

async fn set_status(
    ctx: &Context<'_>,
    input: ProductIdInput,
    to: ProductStatus,
) -> Result<ProductPayload> {
    let state = ctx.data::<AppState>()?;
    let id = uuid("productId", &input.product_id)?;
    let product = product_service::set_status(state, ctx.current_user()?, id, to).await?;
    Ok(ProductPayload {
        product: Product(product, view(ctx)?),
    })
}

fn view(ctx: &Context<'_>) -> AppResult<View> {
    View::new(ctx, None, None)
}

#[derive(Default)]
pub struct CatalogMutation;

#[Object]
impl CatalogMutation {
    /// Opens the signed-in artisan's shop (one per artisan).
    async fn create_shop(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new shop.")] input: CreateShopInput,
    ) -> Result<ShopPayload> {
        let state = ctx.data::<AppState>()?;
        let shop = shop_service::create_shop(
            state,
            ctx.current_user()?,
            ShopInput {
                slug: Some(input.slug),
                name: Some(input.name),
                country: Some(input.country),
                region: Some(input.region),
                settlement_currency: Some(input.settlement_currency),
                default_language: Some(input.default_language),
                story: Some(pairs(input.story)),
                logo: None,
                banner: None,
            },
        )
        .await?;
        Ok(ShopPayload {
            shop: Shop(shop, view(ctx)?),
        })
    }

    /// Changes a shop (its owner or an admin).
    async fn update_shop(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateShopInput,
    ) -> Result<ShopPayload> {
        let state = ctx.data::<AppState>()?;
        let shop = shop_service::update_shop(
            state,
            ctx.current_user()?,
            uuid("shopId", &input.shop_id)?,
            ShopInput {
                slug: input.slug,
                name: input.name,
                country: input.country,
                region: input.region,
                settlement_currency: None,
                default_language: input.default_language,
                story: input.story.map(pairs),
                logo: photo_change("logoPhotoId", input.logo_photo_id)?,
                banner: photo_change("bannerPhotoId", input.banner_photo_id)?,
            },
        )
        .await?;
        Ok(ShopPayload {
            shop: Shop(shop, view(ctx)?),
        })
    }

    /// Suspends or reinstates a shop (admins).
    async fn set_shop_suspended(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shop and its new state.")] input: SetShopSuspendedInput,
    ) -> Result<ShopPayload> {
        let state = ctx.data::<AppState>()?;
        let shop = shop_service::set_shop_suspended(
            state,
            ctx.current_user()?,
            uuid("shopId", &input.shop_id)?,
            input.suspended,
        )
        .await?;
        Ok(ShopPayload {
            shop: Shop(shop, view(ctx)?),
        })
    }

    /// Adds a maker to a shop.
    async fn create_maker(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new maker.")] input: CreateMakerInput,
    ) -> Result<MakerPayload> {
        let state = ctx.data::<AppState>()?;
        let shop_id = uuid("shopId", &input.shop_id)?;
        let maker = shop_service::create_maker(
            state,
            ctx.current_user()?,
            shop_id,
            MakerInput {
                name: Some(input.name),
                region: Some(input.region),
                craft: Some(input.craft),
                years_practising: input.years_practising,
                biography: Some(pairs(input.biography)),
                portrait: input
                    .portrait_photo_id
                    .map(|id| uuid("portraitPhotoId", &id).map(Some))
                    .transpose()?,
                statistics: input.statistics.map(|s| Some(s.into())),
            },
        )
        .await?;
        maker_payload(ctx, maker).await
    }

    /// Changes a maker.
    async fn update_maker(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateMakerInput,
    ) -> Result<MakerPayload> {
        let state = ctx.data::<AppState>()?;
        let maker = shop_service::update_maker(
            state,
            ctx.current_user()?,
            uuid("makerId", &input.maker_id)?,
            MakerInput {
                name: input.name,
                region: input.region,
                craft: input.craft,
                years_practising: input.years_practising,
                biography: input.biography.map(pairs),
                portrait: photo_change("portraitPhotoId", input.portrait_photo_id)?,
                statistics: maybe(&input.statistics, |s| Ok((*s).into()))?,
            },
        )
        .await?;
        maker_payload(ctx, maker).await
    }

    /// Lists a new product as a draft.
    async fn create_product(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new product.")] input: CreateProductInput,
    ) -> Result<ProductPayload> {
        let state = ctx.data::<AppState>()?;
        let shop_id = uuid("shopId", &input.shop_id)?;
        let category = input
            .category_id
            .as_ref()
            .map(|c| uuid("categoryId", c))
            .transpose()?;
        let product = product_service::create_product(
            state,
            ctx.current_user()?,
            shop_id,
            ProductInput {
                slug: Some(input.slug),
                translations: Some(translations(input.translations)),
                category_id: Some(category),
                price: Some(input.price),
                handmade: input.handmade,
                made_to_order: input.made_to_order,
                processing_days: input.processing_days,
                materials: Some(input.materials),
                techniques: Some(input.techniques),
                origin_region: Some(input.origin_region),
                hs_code: Some(input.hs_code),
                weight_grams: Some(input.weight_grams),
                variants: Some(variants(input.variants)),
                images: Some(images(input.images)?),
                makers: Some(makers(input.makers)?),
                shipping_profile_id: Some(
                    input
                        .shipping_profile_id
                        .as_ref()
                        .map(|p| uuid("shippingProfileId", p))
                        .transpose()?,
                ),
            },
        )
        .await?;
        Ok(ProductPayload {
            product: Product(product, view(ctx)?),
        })
    }

    /// Changes a product.
    async fn update_product(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateProductInput,
    ) -> Result<ProductPayload> {
        let state = ctx.data::<AppState>()?;
        let category = maybe(&input.category_id, |id| uuid("categoryId", id))?;
        let product = product_service::update_product(
            state,
            ctx.current_user()?,
            uuid("productId", &input.product_id)?,
            ProductInput {
                slug: input.slug,
                translations: input.translations.map(translations),
                category_id: category,
                price: input.price,
                handmade: input.handmade,
                made_to_order: input.made_to_order,
                processing_days: input.processing_days,
                materials: input.materials,
                techniques: input.techniques,
                origin_region: maybe(&input.origin_region, |r| Ok(r.clone()))?,
                hs_code: maybe(&input.hs_code, |r| Ok(r.clone()))?,
                weight_grams: maybe(&input.weight_grams, |w| Ok(*w))?,
                variants: input.variants.map(variants),
                images: input.images.map(images).transpose()?,
                makers: input.makers.map(makers).transpose()?,
                shipping_profile_id: maybe(&input.shipping_profile_id, |p| {
                    uuid("shippingProfileId", p)
                })?,
            },
        )
        .await?;
        Ok(ProductPayload {
            product: Product(product, view(ctx)?),
        })
    }

    /// Publishes a product: it needs a title in the shop's language, a price and a variant.
    async fn publish_product(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product.")] input: ProductIdInput,
    ) -> Result<ProductPayload> {
        set_status(ctx, input, ProductStatus::Active).await
    }

    /// Withdraws a product from sale.
    async fn archive_product(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product.")] input: ProductIdInput,
    ) -> Result<ProductPayload> {
        set_status(ctx, input, ProductStatus::Archived).await
    }

    /// Creates or changes a category (admins).
    async fn save_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The category.")] input: CategoryInput,
    ) -> Result<CategoryPayload> {
        let state = ctx.data::<AppState>()?;
        let id = input
            .category_id
            .as_ref()
            .map(|c| uuid("categoryId", c))
            .transpose()?;
        let parent = maybe(&input.parent_id, |p| uuid("parentId", p))?;
        let category = taxonomy::save_category(
            state,
            ctx.current_user()?,
            id,
            taxonomy::CategoryInput {
                slug: input.slug,
                parent_id: parent,
                names: input.names.map(pairs),
                position: input.position,
            },
        )
        .await?;
        Ok(CategoryPayload {
            category: Category(category, view(ctx)?),
        })
    }

    /// Creates a collection: a platform one (admins) or a shop's (its owner).
    async fn create_collection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new collection.")] input: CreateCollectionInput,
    ) -> Result<CollectionPayload> {
        let state = ctx.data::<AppState>()?;
        let shop = input
            .shop_id
            .as_ref()
            .map(|s| uuid("shopId", s))
            .transpose()?;
        let collection = taxonomy::create_collection(
            state,
            ctx.current_user()?,
            shop,
            CollectionInput {
                slug: Some(input.slug),
                names: Some(pairs(input.names)),
                descriptions: Some(pairs(input.descriptions)),
                featured: input.featured,
            },
        )
        .await?;
        Ok(CollectionPayload {
            collection: Collection(collection, view(ctx)?),
        })
    }

    /// Changes a collection's texts, featured flag and products.
    async fn update_collection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateCollectionInput,
    ) -> Result<CollectionPayload> {
        let state = ctx.data::<AppState>()?;
        let user = ctx.current_user()?;
        let id = uuid("collectionId", &input.collection_id)?;
        let add = crate::kit::uuids("addProductIds", &input.add_product_ids)?;
        let remove = crate::kit::uuids("removeProductIds", &input.remove_product_ids)?;
        let fields = CollectionInput {
            slug: input.slug,
            names: input.names.map(pairs),
            descriptions: input.descriptions.map(pairs),
            featured: input.featured,
        };
        let collection = taxonomy::update_collection(state, user, id, fields, add, remove).await?;
        Ok(CollectionPayload {
            collection: Collection(collection, view(ctx)?),
        })
    }

    /// Sets an exchange rate (admins).
    async fn set_exchange_rate(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rate.")] input: SetExchangeRateInput,
    ) -> Result<ExchangeRatePayload> {
        let state = ctx.data::<AppState>()?;
        let rate = rates::set_rate(
            state,
            ctx.current_user()?,
            &input.base,
            &input.quote,
            &input.rate,
        )
        .await?;
        Ok(ExchangeRatePayload {
            exchange_rate: rate.into(),
        })
    }
}
