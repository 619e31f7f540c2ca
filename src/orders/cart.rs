//! The buyer's cart, and pricing it: the one place that turns catalogue prices, shipping
//! zones and exchange rates into what the buyer pays. Checkout prices with the same code.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::shipping::{self, Quote};
use crate::{
    entities::{
        cart_items, cart_promotions, guest_carts, product_translations, product_variants,
        products::{self, ProductStatus},
        promotion_codes,
        shops::{self, ShopStatus},
    },
    error::{AppError, AppResult},
    i18n::pick_language,
    money::{Currency, Money, Rate, Rates},
    promotions::{self, Refusal},
    state::AppState,
};

/// Most units of one variant in a cart.
pub const MAX_QUANTITY: i32 = 100;

/// Why a line cannot be bought as it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineProblem {
    /// The product was withdrawn or its shop suspended.
    Unavailable,
    /// Fewer units are in stock than asked for.
    InsufficientStock,
}

/// A cart line with prices.
#[derive(Debug, Clone)]
pub struct PricedLine {
    pub variant: product_variants::Model,
    pub product: products::Model,
    pub title: String,
    pub title_en: String,
    pub quantity: i32,
    /// Unit price in the shop's currency and in the buyer's: the sale price during a sale.
    pub shop_unit: i64,
    pub unit: i64,
    /// The unit price before the sale, in the buyer's currency (`unit` when none).
    pub list_unit: i64,
    /// The promotion's discount on the whole line, in the buyer's and the shop's currency.
    pub discount: i64,
    pub shop_discount: i64,
    pub problem: Option<LineProblem>,
}

impl PricedLine {
    /// What the line costs before any promotion, in the buyer's currency.
    pub fn amount(&self) -> i64 {
        self.unit * i64::from(self.quantity)
    }

    /// The same in the shop's currency.
    pub fn shop_amount(&self) -> i64 {
        self.shop_unit * i64::from(self.quantity)
    }
}

/// The promotion code on a cart, and why it gives nothing if it does not apply.
#[derive(Debug, Clone)]
pub struct AppliedCode {
    pub code: promotion_codes::Model,
    pub refusal: Option<Refusal>,
}

/// One shop's part of a cart.
#[derive(Debug, Clone)]
pub struct ShopPart {
    pub shop: shops::Model,
    pub lines: Vec<PricedLine>,
    /// Shop currency to buyer currency, locked into the order at checkout.
    pub rate: Rate,
    /// Shop currency to MNT and to USD, locked into the order for market statistics.
    pub to_mnt: Option<Rate>,
    pub to_usd: Option<Rate>,
    pub shop_subtotal: i64,
    pub subtotal: i64,
    /// The promotion's discount on this shop's lines, in the buyer's and the shop's currency.
    pub discount: i64,
    pub shop_discount: i64,
    /// `None` when no destination was given; `Some(None)` when the shop does not ship there.
    pub shipping: Option<Option<(Quote, i64)>>,
}

/// A priced cart in the buyer's currency.
#[derive(Debug, Clone)]
pub struct PricedCart {
    pub currency: Currency,
    pub shops: Vec<ShopPart>,
    pub subtotal: i64,
    /// The promotion's discount on every line.
    pub discount: i64,
    /// `None` until every shop has a shipping quote.
    pub shipping: Option<i64>,
    pub promotion: Option<AppliedCode>,
}

impl PricedCart {
    /// A cart in `currency` with nothing priced: for an answer that shows only its currency.
    pub fn unpriced(currency: Currency) -> Self {
        Self {
            currency,
            shops: Vec::new(),
            subtotal: 0,
            discount: 0,
            shipping: None,
            promotion: None,
        }
    }

    pub fn total(&self) -> Option<i64> {
        self.shipping.map(|s| self.subtotal - self.discount + s)
    }
}

impl ShopPart {
    /// What the buyer pays this shop for its lines, after the promotion, in their currency.
    pub fn paid_subtotal(&self) -> i64 {
        self.subtotal - self.discount
    }
}

fn convert(rates: &Rates, minor: i64, from: Currency, to: Currency) -> AppResult<i64> {
    rates
        .convert(Money::new(minor, from), to)
        .map(|m| m.minor)
        .ok_or_else(|| {
            AppError::invalid(
                "currency",
                format!("no exchange rate from {} to {}", from.code(), to.code()),
            )
        })
}

/// What to price a cart for.
#[derive(Debug, Clone, Copy)]
pub struct PriceFor<'a> {
    pub currency: Currency,
    /// Shipping is quoted when a destination is given.
    pub country: Option<&'a str>,
    pub languages: &'a [String],
    /// The promotion code to quote, and for whom (`None`: a guest).
    pub code: Option<&'a promotion_codes::Model>,
    pub buyer: Option<Uuid>,
}

/// Prices `items` (variant, quantity): sale prices where a sale is live, the promotion code's
/// discount, and shipping. Repeated variants are summed.
pub async fn price(
    db: &impl ConnectionTrait,
    items: &[(Uuid, i32)],
    want: PriceFor<'_>,
) -> AppResult<PricedCart> {
    let PriceFor {
        currency,
        country,
        languages,
        code,
        buyer,
    } = want;
    let mut quantities: BTreeMap<Uuid, i32> = BTreeMap::new();
    for (variant, qty) in items {
        *quantities.entry(*variant).or_default() += qty;
    }
    let ids: Vec<Uuid> = quantities.keys().copied().collect();
    let variants = product_variants::Entity::find()
        .filter(product_variants::Column::Id.is_in(ids))
        .all(db)
        .await?;
    let product_ids: Vec<Uuid> = variants.iter().map(|v| v.product_id).collect();
    let products: HashMap<Uuid, products::Model> = products::Entity::find()
        .filter(products::Column::Id.is_in(product_ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let shop_ids: Vec<Uuid> = products.values().map(|p| p.shop_id).collect();
    let shops: HashMap<Uuid, shops::Model> = shops::Entity::find()
        .filter(shops::Column::Id.is_in(shop_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let translations = product_translations::Entity::find()
        .filter(product_translations::Column::ProductId.is_in(product_ids))
        .all(db)
        .await?;
    let rates = crate::money::Rates::load(db).await?;
    let now = Utc::now();
    let offers = crate::catalog::sales::live_offers(db, &product_ids_of(&products), now).await?;

    let mut parts: BTreeMap<Uuid, ShopPart> = BTreeMap::new();
    for variant in variants {
        let (Some(product), Some(quantity)) = (
            products.get(&variant.product_id),
            quantities.get(&variant.id),
        ) else {
            continue;
        };
        let Some(shop) = shops.get(&product.shop_id) else {
            continue;
        };
        let shop_currency = Currency::parse(&product.currency)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("product currency unreadable")))?;
        let texts: Vec<&product_translations::Model> = translations
            .iter()
            .filter(|t| t.product_id == product.id)
            .collect();
        let available: Vec<&str> = texts.iter().map(|t| t.language.as_str()).collect();
        let title_in = |want: &[String]| {
            pick_language(&available, want, &shop.default_language)
                .and_then(|l| texts.iter().find(|t| t.language == l))
                .map_or_else(|| product.slug.clone(), |t| t.title.clone())
        };
        let shop_list = variant.price_override_minor.unwrap_or(product.price_minor);
        let shop_unit = offers
            .get(&product.id)
            .and_then(|o| crate::catalog::sales::price_now(shop_list, variant.id, o))
            .map_or(shop_list, |(price, _)| price);
        let unit = convert(&rates, shop_unit, shop_currency, currency)?;
        let list_unit = convert(&rates, shop_list, shop_currency, currency)?;
        let problem =
            if product.status != ProductStatus::Active || shop.status != ShopStatus::Active {
                Some(LineProblem::Unavailable)
            } else if variant.stock < *quantity {
                Some(LineProblem::InsufficientStock)
            } else {
                None
            };
        let rate = rates.rate(shop_currency, currency).ok_or_else(|| {
            AppError::invalid(
                "currency",
                format!(
                    "no exchange rate from {} to {}",
                    shop_currency.code(),
                    currency.code()
                ),
            )
        })?;
        let part = parts.entry(shop.id).or_insert_with(|| ShopPart {
            shop: shop.clone(),
            lines: Vec::new(),
            rate,
            to_mnt: Currency::parse(crate::money::HOME).and_then(|c| rates.rate(shop_currency, c)),
            to_usd: Currency::parse("USD").and_then(|c| rates.rate(shop_currency, c)),
            shop_subtotal: 0,
            subtotal: 0,
            discount: 0,
            shop_discount: 0,
            shipping: None,
        });
        part.shop_subtotal += shop_unit * i64::from(*quantity);
        part.subtotal += unit * i64::from(*quantity);
        part.lines.push(PricedLine {
            title: title_in(languages),
            title_en: title_in(&["en".to_owned()]),
            variant,
            product: product.clone(),
            quantity: *quantity,
            shop_unit,
            unit,
            list_unit,
            discount: 0,
            shop_discount: 0,
            problem,
        });
    }
    let promotion = match code {
        Some(code) => Some(discount(db, &mut parts, code, currency, &rates, buyer, now).await?),
        None => None,
    };

    let mut shipping_total = Some(0);
    for part in parts.values_mut() {
        let Some(country) = country else {
            shipping_total = None;
            continue;
        };
        let profiles = shipping::profiles_of(db, part.shop.id).await?;
        let lines: Vec<(Option<Uuid>, i32)> = part
            .lines
            .iter()
            .map(|l| (l.product.shipping_profile_id, l.quantity))
            .collect();
        let shop_currency = Currency::parse(&part.shop.settlement_currency)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("shop currency unreadable")))?;
        part.shipping = Some(match shipping::quote_shop(&profiles, &lines, country) {
            Some(quote) => {
                let cost = convert(&rates, quote.cost_minor, shop_currency, currency)?;
                shipping_total = shipping_total.map(|t| t + cost);
                Some((quote, cost))
            }
            None => {
                shipping_total = None;
                None
            }
        });
    }
    let subtotal = parts.values().map(|p| p.subtotal).sum();
    let discount = parts.values().map(|p| p.discount).sum();
    Ok(PricedCart {
        currency,
        shops: parts.into_values().collect(),
        subtotal,
        discount,
        shipping: shipping_total,
        promotion,
    })
}

fn product_ids_of(products: &HashMap<Uuid, products::Model>) -> Vec<Uuid> {
    products.keys().copied().collect()
}

/// Quotes the code on the lines and writes its discount onto them and their shops.
async fn discount(
    db: &impl ConnectionTrait,
    parts: &mut BTreeMap<Uuid, ShopPart>,
    code: &promotion_codes::Model,
    currency: Currency,
    rates: &Rates,
    buyer: Option<Uuid>,
    now: chrono::DateTime<Utc>,
) -> AppResult<AppliedCode> {
    let lines: Vec<promotions::Line> = parts
        .values()
        .flat_map(|part| {
            part.lines.iter().map(|l| promotions::Line {
                shop: part.shop.id,
                product: l.product.id,
                category: l.product.category_id,
                amount: l.amount(),
                shop_amount: l.shop_amount(),
            })
        })
        .collect();
    let quoted = promotions::redeem::quote(db, code, &lines, currency, rates, buyer, now).await?;
    let shares = match quoted {
        Ok(shares) => shares,
        Err(refusal) => {
            return Ok(AppliedCode {
                code: code.clone(),
                refusal: Some(refusal),
            });
        }
    };
    let mut shares = shares.into_iter();
    for part in parts.values_mut() {
        for line in &mut part.lines {
            let share = shares.next().unwrap_or_default();
            line.discount = share.amount;
            line.shop_discount = share.shop_amount;
            part.discount += share.amount;
            part.shop_discount += share.shop_amount;
        }
    }
    Ok(AppliedCode {
        code: code.clone(),
        refusal: None,
    })
}

/// Whose cart: a signed-in user's, or a guest's known by its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CartOwner {
    User(Uuid),
    Guest(Uuid),
}

impl CartOwner {
    fn condition(self) -> sea_orm::Condition {
        match self {
            Self::User(id) => sea_orm::Condition::all().add(cart_items::Column::UserId.eq(id)),
            Self::Guest(id) => {
                sea_orm::Condition::all().add(cart_items::Column::GuestCartId.eq(id))
            }
        }
    }
}

/// The currency a cart is shown in: the one asked for, else the account's preferred one;
/// guests have told us nothing, so their prices stay in tögrög until they choose.
pub async fn shown_currency(
    db: &impl ConnectionTrait,
    owner: CartOwner,
    requested: Option<&str>,
) -> AppResult<Currency> {
    let stored = match (requested, owner) {
        (Some(code), _) => return Currency::parse_field("currency", code),
        (None, CartOwner::User(id)) => crate::entities::users::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|u| u.preferred_currency)
            .ok_or_else(|| AppError::Unauthenticated("this account no longer exists".into()))?,
        (None, CartOwner::Guest(_)) => crate::money::HOME.to_owned(),
    };
    Currency::parse(&stored)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("stored currency {stored} unreadable")))
}

/// The cart's lines as (variant, quantity), oldest first.
pub async fn items(db: &impl ConnectionTrait, owner: CartOwner) -> AppResult<Vec<(Uuid, i32)>> {
    Ok(cart_items::Entity::find()
        .filter(owner.condition())
        .order_by_asc(cart_items::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.variant_id, i.quantity))
        .collect())
}

/// Empties a cart, its promotion code with it.
pub async fn clear(db: &impl ConnectionTrait, owner: CartOwner) -> AppResult<()> {
    cart_items::Entity::delete_many()
        .filter(owner.condition())
        .exec(db)
        .await?;
    super::attribution::forget(db, owner).await?;
    remove_code(db, owner).await
}

/// Counts an addition to a cart for the shop's analytics (in memory until the next flush),
/// under the country the buyer is shown prices for and the channel they came from.
async fn count_addition(
    state: &AppState,
    variant: Option<product_variants::Model>,
    variant_id: Uuid,
    country: Option<&str>,
    channel: Option<&super::attribution::Attribution>,
) -> AppResult<()> {
    let variant = match variant {
        Some(variant) => variant,
        None => match product_variants::Entity::find_by_id(variant_id)
            .one(&state.db)
            .await?
        {
            Some(variant) => variant,
            None => return Ok(()),
        },
    };
    let country = country
        .and_then(crate::i18n::CountryCode::parse)
        .map(|c| c.as_str().to_owned())
        .unwrap_or_default();
    let channel = channel.map_or_else(
        || crate::rollups::DIRECT.to_owned(),
        |c| crate::rollups::channel(c.source.as_deref(), c.referrer.as_deref()),
    );
    state.tally.record(
        crate::rollups::Event::AddToCart,
        crate::rollups::Key {
            shop_id: variant.shop_id,
            product_id: variant.product_id,
            day: Utc::now().date_naive(),
            country,
            channel,
        },
    );
    Ok(())
}

/// Starts a guest cart; the token is shown once and only its hash is kept.
pub async fn open_guest_cart(db: &impl ConnectionTrait) -> AppResult<(Uuid, String)> {
    let token = crate::tokens::generate();
    let id = Uuid::now_v7();
    guest_carts::ActiveModel {
        id: Set(id),
        token_hash: Set(crate::tokens::hash(&token)),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok((id, token))
}

/// The guest cart a token opens.
pub async fn guest_cart(db: &impl ConnectionTrait, token: &str) -> AppResult<Uuid> {
    guest_carts::Entity::find()
        .filter(guest_carts::Column::TokenHash.eq(crate::tokens::hash(token.trim())))
        .one(db)
        .await?
        .map(|c| c.id)
        .ok_or_else(|| AppError::invalid("cartToken", "no cart has this token"))
}

/// Moves a guest cart into a user's cart, adding quantities of variants in both (up to the
/// per-line limit), and forgets the guest cart. Returns how many guest lines were merged.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn merge_guest_cart(state: &AppState, token: &str, user: Uuid) -> AppResult<usize> {
    let guest = guest_cart(&state.db, token).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    let theirs = cart_items::Entity::find()
        .filter(cart_items::Column::GuestCartId.eq(guest))
        .all(&txn)
        .await?;
    let merged = theirs.len();
    for item in theirs {
        let mine = cart_items::Entity::find()
            .filter(cart_items::Column::UserId.eq(user))
            .filter(cart_items::Column::VariantId.eq(item.variant_id))
            .one(&txn)
            .await?;
        match mine {
            Some(line) => {
                let quantity = (line.quantity + item.quantity).min(MAX_QUANTITY);
                let mut active: cart_items::ActiveModel = line.into();
                active.quantity = Set(quantity);
                active.update(&txn).await?;
                cart_items::Entity::delete_by_id(item.id).exec(&txn).await?;
            }
            None => {
                let mut active: cart_items::ActiveModel = item.into();
                active.user_id = Set(Some(user));
                active.guest_cart_id = Set(None);
                active.update(&txn).await?;
            }
        }
    }
    // The guest's code comes along unless the account's cart has one of its own.
    if applied_row(&txn, CartOwner::User(user)).await?.is_none()
        && let Some(row) = applied_row(&txn, CartOwner::Guest(guest)).await?
    {
        let mut active: cart_promotions::ActiveModel = row.into();
        active.user_id = Set(Some(user));
        active.guest_cart_id = Set(None);
        active.update(&txn).await?;
    }
    super::attribution::merge_guest(&txn, guest, user).await?;
    guest_carts::Entity::delete_by_id(guest).exec(&txn).await?;
    txn.commit().await?;
    Ok(merged)
}

/// Sets how many units of a variant the cart holds (`add` adds to what is there); 0 removes
/// the line. `channel`, when the visit brought one, becomes the cart's attribution.
#[tracing::instrument(skip_all)]
pub async fn set_quantity(
    state: &AppState,
    owner: CartOwner,
    variant_id: Uuid,
    quantity: i32,
    add: bool,
    channel: Option<&super::attribution::Attribution>,
    country: Option<&str>,
) -> AppResult<()> {
    if !(0..=MAX_QUANTITY).contains(&quantity) || (add && quantity == 0) {
        return Err(AppError::invalid(
            "quantity",
            format!("a quantity is 1 to {MAX_QUANTITY}"),
        ));
    }
    let existing = cart_items::Entity::find()
        .filter(owner.condition())
        .filter(cart_items::Column::VariantId.eq(variant_id))
        .one(&state.db)
        .await?;
    let quantity = if add {
        existing.as_ref().map_or(0, |e| e.quantity) + quantity
    } else {
        quantity
    };
    if quantity > MAX_QUANTITY {
        return Err(AppError::invalid(
            "quantity",
            format!("at most {MAX_QUANTITY} of one item"),
        ));
    }
    // The variant, when a new line had to read it.
    let mut read = None;
    match (existing, quantity) {
        (Some(item), 0) => {
            cart_items::Entity::delete_by_id(item.id)
                .exec(&state.db)
                .await?;
        }
        (Some(item), q) => {
            let mut active: cart_items::ActiveModel = item.into();
            active.quantity = Set(q);
            active.update(&state.db).await?;
        }
        (None, 0) => {}
        (None, q) => {
            // Only what buyers can see can go into a cart.
            let variant = product_variants::Entity::find_by_id(variant_id)
                .one(&state.db)
                .await?
                .ok_or_else(|| AppError::NotFound("no such variant".into()))?;
            crate::catalog::products::product_by_id(
                &state.db,
                crate::auth::Caller::Anonymous,
                variant.product_id,
            )
            .await
            .map_err(|_| AppError::NotFound("no such variant".into()))?;
            let (user_id, guest_cart_id) = match owner {
                CartOwner::User(id) => (Some(id), None),
                CartOwner::Guest(id) => (None, Some(id)),
            };
            cart_items::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(user_id),
                guest_cart_id: Set(guest_cart_id),
                variant_id: Set(variant_id),
                quantity: Set(q),
                created_at: Set(Utc::now()),
            }
            .insert(&state.db)
            .await?;
            read = Some(variant);
        }
    }
    // Only once the cart changed: a refused change leaves nothing behind.
    if let Some(channel) = channel {
        super::attribution::remember(&state.db, owner, channel).await?;
    }
    if add {
        count_addition(state, read, variant_id, country, channel).await?;
    }
    Ok(())
}

async fn applied_row(
    db: &impl ConnectionTrait,
    owner: CartOwner,
) -> AppResult<Option<cart_promotions::Model>> {
    let query = cart_promotions::Entity::find();
    let query = match owner {
        CartOwner::User(id) => query.filter(cart_promotions::Column::UserId.eq(id)),
        CartOwner::Guest(id) => query.filter(cart_promotions::Column::GuestCartId.eq(id)),
    };
    Ok(query.one(db).await?)
}

/// The promotion code applied to a cart, if any.
pub async fn applied_code(
    db: &impl ConnectionTrait,
    owner: CartOwner,
) -> AppResult<Option<promotion_codes::Model>> {
    let Some(row) = applied_row(db, owner).await? else {
        return Ok(None);
    };
    Ok(promotion_codes::Entity::find_by_id(row.promotion_id)
        .one(db)
        .await?)
}

/// The owner as the buyer a code is quoted for: guests' limits wait for their sign-in.
pub fn buyer_of(owner: CartOwner) -> Option<Uuid> {
    match owner {
        CartOwner::User(id) => Some(id),
        CartOwner::Guest(_) => None,
    }
}

/// Puts a promotion code on the cart, replacing any other. The code is looked up with the
/// guessing throttle (per cart and per client address) and must give a discount on the cart
/// as it is now, priced in `currency`; if not, its refusal is the error and nothing is saved.
pub async fn apply_code(
    state: &AppState,
    owner: CartOwner,
    typed: &str,
    client: Option<&str>,
    currency: Currency,
) -> AppResult<()> {
    let trier = match owner {
        CartOwner::User(id) => format!("user:{id}"),
        CartOwner::Guest(id) => format!("cart:{id}"),
    };
    let code = promotions::redeem::find(state, typed, &trier, client).await?;
    let items = items(&state.db, owner).await?;
    if items.is_empty() {
        return Err(AppError::refused(
            "EMPTY_CART",
            "the cart is empty; add items before applying a code",
        ));
    }
    let want = PriceFor {
        currency,
        country: None,
        languages: &[],
        code: Some(&code),
        buyer: buyer_of(owner),
    };
    let priced = price(&state.db, &items, want).await?;
    if let Some(refusal) = priced.promotion.as_ref().and_then(|p| p.refusal) {
        return Err(refusal.error());
    }
    let txn = crate::db::begin_write(&state.db).await?;
    remove_code(&txn, owner).await?;
    let (user_id, guest_cart_id) = match owner {
        CartOwner::User(id) => (Some(id), None),
        CartOwner::Guest(id) => (None, Some(id)),
    };
    cart_promotions::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        guest_cart_id: Set(guest_cart_id),
        promotion_id: Set(code.id),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Takes the promotion code off a cart.
pub async fn remove_code(db: &impl ConnectionTrait, owner: CartOwner) -> AppResult<()> {
    let query = cart_promotions::Entity::delete_many();
    let query = match owner {
        CartOwner::User(id) => query.filter(cart_promotions::Column::UserId.eq(id)),
        CartOwner::Guest(id) => query.filter(cart_promotions::Column::GuestCartId.eq(id)),
    };
    query.exec(db).await?;
    Ok(())
}
