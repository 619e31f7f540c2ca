//! Media: uploaded photos (pending until their bytes arrive and are processed, then ready
//! with their renditions' widths, placeholder and colour), and the references to them from
//! product photos, shop logos and banners and maker portraits. The references are foreign
//! keys, so a photo in use can never be deleted from under its page.

use sea_orm_migration::prelude::*;

use crate::ddl::{
    add_column, big, drop_column, drop_tables, fk, index, int, long_text, table, text, text_null,
    time, time_null, uuid_col, uuid_pk, uuid_ref_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        table(
            manager,
            "images",
            vec![
                uuid_pk("id"),
                uuid_col("shop_id"),
                uuid_col("uploaded_by"),
                // PRODUCT, SHOP_LOGO, SHOP_BANNER or MAKER_PORTRAIT.
                text("purpose", 20),
                // PENDING (waiting for its bytes) or READY.
                text("status", 12),
                // SHA-256 of the one-time upload token, while pending.
                text_null("upload_token_hash", 64),
                // The format the upload had (JPEG, PNG, WEBP).
                text_null("source_format", 8),
                int("width"),
                int("height"),
                // Bytes kept for all renditions: what counts against the shop's quota.
                big("stored_bytes"),
                // JSON array of the rendition widths.
                long_text("widths"),
                text_null("placeholder", 100),
                text_null("dominant_color", 7),
                time("created_at"),
                time_null("expires_at"),
            ],
            vec![fk("images", "shop_id", "shops", ForeignKeyAction::Cascade)],
        )
        .await?;
        index(manager, "images", &["shop_id", "status"], false).await?;
        index(manager, "images", &["status", "created_at"], false).await?;
        index(manager, "images", &["upload_token_hash"], true).await?;
        add_column(
            manager,
            "product_images",
            uuid_ref_null("image_id", "images"),
        )
        .await?;
        add_column(manager, "shops", uuid_ref_null("logo_image_id", "images")).await?;
        add_column(manager, "shops", uuid_ref_null("banner_image_id", "images")).await?;
        add_column(
            manager,
            "makers",
            uuid_ref_null("portrait_image_id", "images"),
        )
        .await?;
        index(manager, "product_images", &["image_id"], false).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, "makers", "portrait_image_id").await?;
        drop_column(manager, "shops", "banner_image_id").await?;
        drop_column(manager, "shops", "logo_image_id").await?;
        drop_column(manager, "product_images", "image_id").await?;
        drop_tables(manager, &["images"]).await
    }
}
