//! The rows around a product: validating and writing translations, variants, images and
//! maker credits, and keeping materials, sort price and the search document in step.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::ProductInput;
use crate::{
    catalog::{search, texts::Texts},
    entities::{
        makers, product_images, product_makers, product_materials, product_translations,
        product_variants, products, shops,
    },
    error::{AppError, AppResult, OnConflict},
    i18n::LanguageTag,
    money::{Currency, Money},
};

/// Checks an HS code: 6 to 10 digits (dots and spaces ignored).
pub fn hs_code(input: &str) -> AppResult<String> {
    let digits: String = input.chars().filter(|c| !matches!(c, '.' | ' ')).collect();
    if (6..=10).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(AppError::invalid("hsCode", "an HS code has 6 to 10 digits"))
    }
}

pub(super) fn words(field: &'static str, list: Vec<String>) -> AppResult<Vec<String>> {
    if list.len() > 20 {
        return Err(AppError::invalid(field, "at most 20 entries"));
    }
    let mut out: Vec<String> = Vec::new();
    for item in list {
        let item = item.trim().to_owned();
        if item.is_empty() || item.chars().count() > 100 {
            return Err(AppError::invalid(
                field,
                "entries must be 1 to 100 characters",
            ));
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&item)) {
            out.push(item);
        }
    }
    Ok(out)
}

pub(super) fn price(field: &'static str, input: &str, currency: Currency) -> AppResult<i64> {
    let money = Money::parse(input, currency).ok_or_else(|| {
        AppError::invalid(
            field,
            format!(
                "a price is a decimal amount in {} with at most {} decimals",
                currency.code(),
                currency.exponent()
            ),
        )
    })?;
    if money.minor == 0 {
        return Err(AppError::invalid(field, "a price must be more than zero"));
    }
    Ok(money.minor)
}

pub(super) fn shop_currency(shop: &shops::Model) -> AppResult<Currency> {
    Currency::parse(&shop.settlement_currency)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("shop currency unreadable")))
}

/// Validated child rows of a product, ready to write.
pub(super) struct Children {
    translations: Option<Vec<product_translations::Model>>,
    variants: Option<Vec<product_variants::Model>>,
    images: Option<Vec<product_images::Model>>,
    makers: Option<Vec<product_makers::Model>>,
}

pub(super) async fn children(
    db: &impl ConnectionTrait,
    shop: &shops::Model,
    product_id: Uuid,
    input: &mut ProductInput,
) -> AppResult<Children> {
    let currency = shop_currency(shop)?;
    let translations = match input.translations.take() {
        None => None,
        Some(list) => {
            let mut seen = HashSet::new();
            let mut rows = Vec::new();
            for t in list {
                let language = LanguageTag::parse(&t.language).ok_or_else(|| {
                    AppError::invalid(
                        "translations",
                        format!("{:?} is not a BCP 47 tag", t.language),
                    )
                })?;
                if !seen.insert(language.as_str().to_owned()) {
                    return Err(AppError::invalid(
                        "translations",
                        format!("{} is given twice", t.language),
                    ));
                }
                let title = t.title.trim();
                if title.is_empty() || title.chars().count() > 200 {
                    return Err(AppError::invalid(
                        "translations",
                        "a title is 1 to 200 characters",
                    ));
                }
                if t.description.chars().count() > 10_000 {
                    return Err(AppError::invalid(
                        "translations",
                        "a description is at most 10000 characters",
                    ));
                }
                rows.push(product_translations::Model {
                    product_id,
                    language: language.as_str().to_owned(),
                    title: title.to_owned(),
                    description: t.description.trim().to_owned(),
                });
            }
            Some(rows)
        }
    };
    let variants = match input.variants.take() {
        None => None,
        Some(list) => {
            if list.is_empty() {
                return Err(AppError::invalid(
                    "variants",
                    "a product needs at least one variant",
                ));
            }
            if list.len() > 100 {
                return Err(AppError::invalid("variants", "at most 100 variants"));
            }
            let mut skus = HashSet::new();
            let mut rows = Vec::new();
            for (position, v) in list.into_iter().enumerate() {
                let sku = v.sku.trim().to_owned();
                let sku_ok = (1..=64).contains(&sku.len())
                    && sku
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
                if !sku_ok {
                    return Err(AppError::invalid(
                        "variants",
                        "a SKU is 1 to 64 letters, digits, '-', '_' or '.'",
                    ));
                }
                if !skus.insert(sku.to_ascii_uppercase()) {
                    return Err(AppError::invalid(
                        "variants",
                        format!("SKU {sku} is given twice"),
                    ));
                }
                if v.stock < 0 {
                    return Err(AppError::invalid("variants", "stock cannot be negative"));
                }
                if v.options.iter().any(|o| {
                    o.name.trim().is_empty()
                        || o.value.trim().is_empty()
                        || o.name.len() > 50
                        || o.value.len() > 100
                }) {
                    return Err(AppError::invalid(
                        "variants",
                        "options need a name and a value",
                    ));
                }
                let price_override = v
                    .price
                    .as_deref()
                    .map(|p| price("variants", p, currency))
                    .transpose()?;
                rows.push(product_variants::Model {
                    id: Uuid::now_v7(),
                    product_id,
                    shop_id: shop.id,
                    sku,
                    options: serde_json::to_string(&v.options).unwrap_or_else(|_| "[]".into()),
                    price_override_minor: price_override,
                    stock: v.stock,
                    position: position as i32,
                    created_at: Utc::now(),
                });
            }
            Some(rows)
        }
    };
    let images = match input.images.take() {
        None => None,
        Some(list) => {
            if list.len() > 20 {
                return Err(AppError::invalid("images", "at most 20 images"));
            }
            let uploaded: Vec<Uuid> = list.iter().filter_map(|i| i.image_id).collect();
            crate::media::attachable(
                db,
                shop.id,
                crate::media::Purpose::Product,
                &uploaded,
                "images",
            )
            .await?;
            let mut rows = Vec::new();
            for (position, image) in list.into_iter().enumerate() {
                let url = match (image.url.as_deref().map(str::trim), image.image_id) {
                    (Some(url), None) => {
                        if !(url.starts_with("https://") || url.starts_with("http://"))
                            || url.len() > 2048
                            || url.contains(char::is_whitespace)
                        {
                            return Err(AppError::invalid(
                                "images",
                                "an image needs an http(s) URL",
                            ));
                        }
                        url.to_owned()
                    }
                    (None, Some(_)) => String::new(),
                    _ => {
                        return Err(AppError::invalid(
                            "images",
                            "each image is either a url or a photoId, not both",
                        ));
                    }
                };
                rows.push(product_images::Model {
                    id: Uuid::now_v7(),
                    product_id,
                    url,
                    image_id: image.image_id,
                    alt: Texts::from_input("images", image.alt, 300)?.to_json(),
                    position: position as i32,
                });
            }
            Some(rows)
        }
    };
    let makers = match input.makers.take() {
        None => None,
        Some(list) => {
            let ids: Vec<Uuid> = list.iter().map(|m| m.maker_id).collect();
            let known: HashSet<Uuid> = makers::Entity::find()
                .filter(makers::Column::ShopId.eq(shop.id))
                .filter(makers::Column::Id.is_in(ids))
                .all(db)
                .await?
                .into_iter()
                .map(|m| m.id)
                .collect();
            let mut seen = HashSet::new();
            let mut rows = Vec::new();
            for (position, m) in list.into_iter().enumerate() {
                if !known.contains(&m.maker_id) {
                    return Err(AppError::invalid(
                        "makers",
                        "every maker must belong to this shop",
                    ));
                }
                if !seen.insert(m.maker_id) {
                    return Err(AppError::invalid("makers", "a maker is named twice"));
                }
                rows.push(product_makers::Model {
                    product_id,
                    maker_id: m.maker_id,
                    role: crate::catalog::texts::required("makers", &m.role, 100)?,
                    position: position as i32,
                });
            }
            Some(rows)
        }
    };
    Ok(Children {
        translations,
        variants,
        images,
        makers,
    })
}

pub(super) async fn write_children(
    db: &impl ConnectionTrait,
    product_id: Uuid,
    children: Children,
) -> AppResult<()> {
    if let Some(rows) = children.translations {
        product_translations::Entity::delete_many()
            .filter(product_translations::Column::ProductId.eq(product_id))
            .exec(db)
            .await?;
        for row in rows {
            product_translations::ActiveModel::from(row)
                .insert(db)
                .await?;
        }
    }
    if let Some(rows) = children.variants {
        // Keep the ids of variants whose SKU stays, so carts and orders keep pointing at them.
        let existing: HashMap<String, product_variants::Model> = product_variants::Entity::find()
            .filter(product_variants::Column::ProductId.eq(product_id))
            .all(db)
            .await?
            .into_iter()
            .map(|v| (v.sku.to_ascii_uppercase(), v))
            .collect();
        let keep: HashSet<String> = rows.iter().map(|r| r.sku.to_ascii_uppercase()).collect();
        let gone: Vec<Uuid> = existing
            .iter()
            .filter(|(sku, _)| !keep.contains(*sku))
            .map(|(_, v)| v.id)
            .collect();
        if !gone.is_empty() {
            product_variants::Entity::delete_many()
                .filter(product_variants::Column::Id.is_in(gone))
                .exec(db)
                .await?;
        }
        for mut row in rows {
            match existing.get(&row.sku.to_ascii_uppercase()) {
                Some(old) => {
                    row.id = old.id;
                    row.created_at = old.created_at;
                    product_variants::ActiveModel {
                        sku: Set(row.sku),
                        options: Set(row.options),
                        price_override_minor: Set(row.price_override_minor),
                        stock: Set(row.stock),
                        position: Set(row.position),
                        ..product_variants::ActiveModel::from(old.clone())
                    }
                    .update(db)
                    .await?;
                }
                None => {
                    product_variants::ActiveModel::from(row)
                        .insert(db)
                        .await
                        .on_conflict("a variant of this shop already uses that SKU")?;
                }
            }
        }
    }
    if let Some(rows) = children.images {
        product_images::Entity::delete_many()
            .filter(product_images::Column::ProductId.eq(product_id))
            .exec(db)
            .await?;
        for row in rows {
            product_images::ActiveModel::from(row).insert(db).await?;
        }
    }
    if let Some(rows) = children.makers {
        product_makers::Entity::delete_many()
            .filter(product_makers::Column::ProductId.eq(product_id))
            .exec(db)
            .await?;
        for row in rows {
            product_makers::ActiveModel::from(row).insert(db).await?;
        }
    }
    Ok(())
}

/// Rewrites the lower-cased material rows, the MNT sort price and the search document.
pub(super) async fn refresh_derived(
    db: &impl ConnectionTrait,
    product: &products::Model,
) -> AppResult<()> {
    product_materials::Entity::delete_many()
        .filter(product_materials::Column::ProductId.eq(product.id))
        .exec(db)
        .await?;
    let materials: Vec<String> = serde_json::from_str(&product.materials).unwrap_or_default();
    let mut lowered: Vec<String> = materials.iter().map(|m| m.to_lowercase()).collect();
    lowered.sort();
    lowered.dedup();
    for material in lowered {
        product_materials::ActiveModel {
            product_id: Set(product.id),
            material: Set(material),
        }
        .insert(db)
        .await?;
    }
    crate::catalog::sales::refresh_sort_prices(db, &[product.id]).await?;
    reindex_products(db, &[product.id]).await
}

/// Rebuilds the search documents of the given products.
pub async fn reindex_products(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let products = products::Entity::find()
        .filter(products::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?;
    let translations = product_translations::Entity::find()
        .filter(product_translations::Column::ProductId.is_in(ids.to_vec()))
        .all(db)
        .await?;
    let links = product_makers::Entity::find()
        .filter(product_makers::Column::ProductId.is_in(ids.to_vec()))
        .all(db)
        .await?;
    let maker_ids: Vec<Uuid> = links.iter().map(|l| l.maker_id).collect();
    let makers: HashMap<Uuid, makers::Model> = makers::Entity::find()
        .filter(makers::Column::Id.is_in(maker_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    for product in products {
        let mut parts: Vec<String> = Vec::new();
        for t in translations.iter().filter(|t| t.product_id == product.id) {
            parts.push(t.title.clone());
            parts.push(t.description.clone());
        }
        parts.extend(serde_json::from_str::<Vec<String>>(&product.materials).unwrap_or_default());
        parts.extend(serde_json::from_str::<Vec<String>>(&product.techniques).unwrap_or_default());
        parts.extend(product.origin_region.clone());
        for link in links.iter().filter(|l| l.product_id == product.id) {
            if let Some(maker) = makers.get(&link.maker_id) {
                parts.push(maker.name.clone());
                parts.push(maker.craft.clone());
            }
        }
        let body = search::document(parts.iter().map(String::as_str));
        search::write(db, product.id, &body).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn hs_codes_have_six_to_ten_digits() {
        assert_eq!(super::hs_code("6307.90").ok(), Some("630790".into()));
        assert_eq!(
            super::hs_code("4202 91 1000").ok(),
            Some("4202911000".into())
        );
        assert!(super::hs_code("12345").is_err());
        assert!(super::hs_code("12345678901").is_err());
        assert!(super::hs_code("63079A").is_err());
    }
}
