//! Input objects of catalogue mutations and filters.

use async_graphql::{Enum, ID, InputObject, MaybeUndefined};

/// A text in one language.
#[derive(InputObject, Clone)]
pub struct LocalizedTextInput {
    /// BCP 47 language tag, e.g. `mn` or `en`.
    pub language: String,
    /// The text in that language; empty removes it.
    pub text: String,
}

pub fn pairs(list: Vec<LocalizedTextInput>) -> Vec<(String, String)> {
    list.into_iter().map(|t| (t.language, t.text)).collect()
}

/// A new shop.
#[derive(InputObject)]
pub struct CreateShopInput {
    /// Address, unique: 2–64 lower-case letters, digits and hyphens.
    pub slug: String,
    /// Shop name.
    pub name: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// Region (aimag) of the workshop.
    pub region: String,
    /// ISO 4217 currency to price in and be paid in; fixed once the shop opens.
    pub settlement_currency: String,
    /// BCP 47 tag of the shop's first language, e.g. `mn`.
    pub default_language: String,
    /// The shop's story in one or more languages.
    #[graphql(default)]
    pub story: Vec<LocalizedTextInput>,
}

/// Changes to a shop; omitted fields stay.
#[derive(InputObject)]
pub struct UpdateShopInput {
    /// The shop to change.
    pub shop_id: ID,
    /// New address.
    pub slug: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New country code.
    pub country: Option<String>,
    /// New region.
    pub region: Option<String>,
    /// New default language.
    pub default_language: Option<String>,
    /// Replaces the stories in every language.
    pub story: Option<Vec<LocalizedTextInput>>,
    /// An uploaded photo (purpose SHOP_LOGO) as the logo; null removes the logo.
    pub logo_photo_id: MaybeUndefined<ID>,
    /// An uploaded photo (purpose SHOP_BANNER) as the banner; null removes the banner.
    pub banner_photo_id: MaybeUndefined<ID>,
}

/// Suspending or reinstating a shop.
#[derive(InputObject)]
pub struct SetShopSuspendedInput {
    /// The shop.
    pub shop_id: ID,
    /// True to suspend, false to reinstate.
    pub suspended: bool,
}

/// A new maker of a shop.
#[derive(InputObject)]
pub struct CreateMakerInput {
    /// The shop the maker works for.
    pub shop_id: ID,
    /// Name.
    pub name: String,
    /// Where they live and work.
    pub region: String,
    /// Their craft, e.g. felt-making.
    pub craft: String,
    /// Years practising.
    pub years_practising: Option<i32>,
    /// Short biography per language.
    #[graphql(default)]
    pub biography: Vec<LocalizedTextInput>,
    /// An uploaded photo of the shop (purpose MAKER_PORTRAIT) as the maker's portrait.
    pub portrait_photo_id: Option<ID>,
    /// Characteristics the maker consents to be counted by in the market statistics; giving
    /// it records their consent.
    pub statistics: Option<MakerStatisticsInput>,
}

/// A maker's self-declared gender.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::catalog::shops::Gender")]
pub enum MakerGender {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Another gender.
    Other,
}

/// What a maker declares, with their consent, to be counted by in the market statistics
/// (only ever in aggregates of at least the minimum number of shops). Every field optional.
#[derive(InputObject, Clone, Copy)]
pub struct MakerStatisticsInput {
    /// Self-declared gender.
    pub gender: Option<MakerGender>,
    /// Year of birth (counted as an age band).
    pub birth_year: Option<i32>,
    /// Whether the maker belongs to a cooperative.
    pub cooperative_member: Option<bool>,
}

impl From<MakerStatisticsInput> for crate::catalog::shops::MakerStatistics {
    fn from(i: MakerStatisticsInput) -> Self {
        Self {
            gender: i.gender.map(Into::into),
            birth_year: i.birth_year,
            cooperative_member: i.cooperative_member,
        }
    }
}

/// Changes to a maker; omitted fields stay.
#[derive(InputObject)]
pub struct UpdateMakerInput {
    /// The maker to change.
    pub maker_id: ID,
    /// New name.
    pub name: Option<String>,
    /// New region.
    pub region: Option<String>,
    /// New craft.
    pub craft: Option<String>,
    /// New years practising.
    pub years_practising: Option<i32>,
    /// Replaces the biographies in every language.
    pub biography: Option<Vec<LocalizedTextInput>>,
    /// An uploaded photo (purpose MAKER_PORTRAIT) as the portrait; null removes it.
    pub portrait_photo_id: MaybeUndefined<ID>,
    /// Replaces the characteristics the maker consents to be counted by (and records the
    /// consent); null withdraws the consent and erases them.
    pub statistics: MaybeUndefined<MakerStatisticsInput>,
}

/// A title and description in one language.
#[derive(InputObject)]
pub struct ProductTranslationInput {
    /// BCP 47 language tag.
    pub language: String,
    /// Title, 1–200 characters.
    pub title: String,
    /// Description, up to 10,000 characters.
    #[graphql(default)]
    pub description: String,
}

/// One option of a variant.
#[derive(InputObject)]
pub struct VariantOptionInput {
    /// Option name, e.g. size.
    pub name: String,
    /// Option value, e.g. L.
    pub value: String,
}

/// A variant. On update, variants are matched by SKU: kept SKUs keep their id.
#[derive(InputObject)]
pub struct VariantInput {
    /// Stock-keeping unit, unique within the shop.
    pub sku: String,
    /// Option values such as size and colour.
    #[graphql(default)]
    pub options: Vec<VariantOptionInput>,
    /// A price in the shop's currency replacing the product's base price (decimal string).
    pub price: Option<String>,
    /// Units available.
    pub stock: i32,
}

/// A product photo: an uploaded photo of the shop, or one elsewhere on the web.
#[derive(InputObject)]
pub struct ImageInput {
    /// An uploaded photo (purpose PRODUCT) of the product's shop; give this or `url`.
    pub photo_id: Option<ID>,
    /// http(s) address of a photo elsewhere; give this or `photoId`.
    pub url: Option<String>,
    /// Alt text per language.
    #[graphql(default)]
    pub alt: Vec<LocalizedTextInput>,
}

/// A maker's part in a product.
#[derive(InputObject)]
pub struct ProductMakerInput {
    /// A maker of the same shop.
    pub maker_id: ID,
    /// Their role, e.g. carver.
    pub role: String,
}

/// A new product; it starts as a draft.
#[derive(InputObject)]
pub struct CreateProductInput {
    /// The shop listing it.
    pub shop_id: ID,
    /// Address within the shop.
    pub slug: String,
    /// Title and description per language; the shop's language is needed to publish.
    #[graphql(default)]
    pub translations: Vec<ProductTranslationInput>,
    /// Category.
    pub category_id: Option<ID>,
    /// Base price in the shop's currency, as a decimal string such as `"125000"`.
    pub price: String,
    /// Made by hand (default true).
    pub handmade: Option<bool>,
    /// Made after ordering (default false).
    pub made_to_order: Option<bool>,
    /// Days to prepare before shipping (default 3).
    pub processing_days: Option<i32>,
    /// Materials.
    #[graphql(default)]
    pub materials: Vec<String>,
    /// Techniques.
    #[graphql(default)]
    pub techniques: Vec<String>,
    /// Region the craft comes from.
    pub origin_region: Option<String>,
    /// Harmonized System code for customs, 6 to 10 digits.
    pub hs_code: Option<String>,
    /// Shipping weight in grams.
    pub weight_grams: Option<i32>,
    /// At least one variant.
    pub variants: Vec<VariantInput>,
    /// Photos in display order.
    #[graphql(default)]
    pub images: Vec<ImageInput>,
    /// Who made it.
    #[graphql(default)]
    pub makers: Vec<ProductMakerInput>,
    /// How it ships; omit for the shop's default shipping profile.
    pub shipping_profile_id: Option<ID>,
}

/// Changes to a product; omitted fields stay, given lists replace, `null` clears.
#[derive(InputObject)]
pub struct UpdateProductInput {
    /// The product to change.
    pub product_id: ID,
    /// New address.
    pub slug: Option<String>,
    /// Replaces every translation.
    pub translations: Option<Vec<ProductTranslationInput>>,
    /// New category, or null for none.
    pub category_id: MaybeUndefined<ID>,
    /// New base price.
    pub price: Option<String>,
    /// Made by hand.
    pub handmade: Option<bool>,
    /// Made after ordering.
    pub made_to_order: Option<bool>,
    /// Days to prepare.
    pub processing_days: Option<i32>,
    /// Replaces the materials.
    pub materials: Option<Vec<String>>,
    /// Replaces the techniques.
    pub techniques: Option<Vec<String>>,
    /// New region of origin, or null.
    pub origin_region: MaybeUndefined<String>,
    /// New HS code, or null.
    pub hs_code: MaybeUndefined<String>,
    /// New weight, or null.
    pub weight_grams: MaybeUndefined<i32>,
    /// Replaces the variants (matched by SKU).
    pub variants: Option<Vec<VariantInput>>,
    /// Replaces the photos.
    pub images: Option<Vec<ImageInput>>,
    /// Replaces the makers.
    pub makers: Option<Vec<ProductMakerInput>>,
    /// Another shipping profile, or null for the shop's default.
    pub shipping_profile_id: MaybeUndefined<ID>,
}

/// A product to publish or archive.
#[derive(InputObject)]
pub struct ProductIdInput {
    /// The product.
    pub product_id: ID,
}

/// What to narrow `products` to.
#[derive(InputObject, Default)]
pub struct ProductFilterInput {
    /// Words to find in titles, descriptions, materials and makers, in any language;
    /// Cyrillic and Latin spellings match each other.
    pub search: Option<String>,
    /// Only this category and those below it.
    pub category_id: Option<ID>,
    /// Only this shop.
    pub shop_slug: Option<String>,
    /// Only products this maker worked on.
    pub maker_id: Option<ID>,
    /// Only shops in this country (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Any of these materials.
    #[graphql(default)]
    pub materials: Vec<String>,
    /// Lowest price, in the query's currency (or MNT).
    pub min_price: Option<String>,
    /// Highest price, in the query's currency (or MNT).
    pub max_price: Option<String>,
    /// Only products with (true) or without (false) stock.
    pub in_stock: Option<bool>,
    /// Only made-to-order (true) or ready-made (false) products.
    pub made_to_order: Option<bool>,
    /// Only products whose visible reviews average at least this (1 to 5).
    pub min_rating: Option<f64>,
    /// Drafts and archived products too (with `shopSlug`; the shop's owner and admins only).
    #[graphql(default)]
    pub include_unpublished: bool,
}

/// A new or changed category.
#[derive(InputObject)]
pub struct CategoryInput {
    /// The category to change; omit to create one.
    pub category_id: Option<ID>,
    /// Address, unique.
    pub slug: Option<String>,
    /// The category above; null for a top-level one.
    pub parent_id: MaybeUndefined<ID>,
    /// Names per language (mn and en required).
    pub names: Option<Vec<LocalizedTextInput>>,
    /// Display order among siblings.
    pub position: Option<i32>,
}

/// A new collection.
#[derive(InputObject)]
pub struct CreateCollectionInput {
    /// The shop curating it; omit for a platform collection (admins).
    pub shop_id: Option<ID>,
    /// Address, unique.
    pub slug: String,
    /// Names per language.
    pub names: Vec<LocalizedTextInput>,
    /// Descriptions per language.
    #[graphql(default)]
    pub descriptions: Vec<LocalizedTextInput>,
    /// Show on the home page (admins only).
    pub featured: Option<bool>,
}

/// Changes to a collection.
#[derive(InputObject)]
pub struct UpdateCollectionInput {
    /// The collection.
    pub collection_id: ID,
    /// New address.
    pub slug: Option<String>,
    /// Replaces the names.
    pub names: Option<Vec<LocalizedTextInput>>,
    /// Replaces the descriptions.
    pub descriptions: Option<Vec<LocalizedTextInput>>,
    /// Show on the home page (admins only).
    pub featured: Option<bool>,
    /// Products to add at the end.
    #[graphql(default)]
    pub add_product_ids: Vec<ID>,
    /// Products to take out.
    #[graphql(default)]
    pub remove_product_ids: Vec<ID>,
}

/// An exchange rate.
#[derive(InputObject)]
pub struct SetExchangeRateInput {
    /// ISO 4217 code of the currency priced.
    pub base: String,
    /// ISO 4217 code of the currency the rate is in.
    pub quote: String,
    /// How many `quote` one `base` buys, as a decimal string, e.g. `"3450.25"`.
    pub rate: String,
}
