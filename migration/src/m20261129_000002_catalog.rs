//! Shops, makers, categories (seeded with Mongolian crafts), products with translations,
//! variants, images and makers, collections, exchange rates and the product search index.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Shops {
    Table,
    Id,
    OwnerId,
    Slug,
    Name,
    Country,
    Region,
    SettlementCurrency,
    DefaultLanguage,
    Story,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Makers {
    Table,
    Id,
    ShopId,
    Name,
    Region,
    Craft,
    YearsPractising,
    Biography,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Id,
    ParentId,
    Slug,
    Names,
    Position,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    ShopId,
    Slug,
    Status,
    CategoryId,
    PriceMinor,
    Currency,
    SortPrice,
    Handmade,
    MadeToOrder,
    ProcessingDays,
    OriginRegion,
    HsCode,
    WeightGrams,
    Materials,
    Techniques,
    CreatedAt,
    UpdatedAt,
    PublishedAt,
}

#[derive(DeriveIden)]
enum ProductTranslations {
    Table,
    ProductId,
    Language,
    Title,
    Description,
}

#[derive(DeriveIden)]
enum ProductMaterials {
    Table,
    ProductId,
    Material,
}

#[derive(DeriveIden)]
enum ProductMakers {
    Table,
    ProductId,
    MakerId,
    Role,
    Position,
}

#[derive(DeriveIden)]
enum ProductVariants {
    Table,
    Id,
    ProductId,
    ShopId,
    Sku,
    Options,
    PriceOverrideMinor,
    Stock,
    Position,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ProductImages {
    Table,
    Id,
    ProductId,
    Url,
    Alt,
    Position,
}

#[derive(DeriveIden)]
enum Collections {
    Table,
    Id,
    ShopId,
    Slug,
    Names,
    Descriptions,
    Featured,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CollectionProducts {
    Table,
    CollectionId,
    ProductId,
    Position,
}

#[derive(DeriveIden)]
enum ExchangeRates {
    Table,
    Base,
    Quote,
    Rate,
    UpdatedAt,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: &[&str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(Alias::new(*col));
    }
    if unique {
        stmt.unique();
    }
    manager.create_index(stmt.to_owned()).await
}

/// The seeded craft categories: (slug, parent slug, English name, Mongolian name).
const CATEGORIES: &[(&str, Option<&str>, &str, &str)] = &[
    ("felt", None, "Felt", "Эсгий"),
    (
        "felt-rugs",
        Some("felt"),
        "Felt rugs and shirdeg",
        "Ширдэг, хивс",
    ),
    (
        "felt-slippers",
        Some("felt"),
        "Felt slippers and boots",
        "Эсгий гутал, шаахай",
    ),
    (
        "felt-toys",
        Some("felt"),
        "Felt toys and decor",
        "Эсгий тоглоом, чимэглэл",
    ),
    ("cashmere-wool", None, "Cashmere and wool", "Ноолуур, ноос"),
    (
        "cashmere-scarves",
        Some("cashmere-wool"),
        "Scarves and shawls",
        "Ороолт, алчуур",
    ),
    (
        "knitwear",
        Some("cashmere-wool"),
        "Knitwear",
        "Сүлжмэл эдлэл",
    ),
    ("leather", None, "Leather", "Арьс шир"),
    (
        "mongol-boots",
        Some("leather"),
        "Mongol boots",
        "Монгол гутал",
    ),
    (
        "silver-metalwork",
        None,
        "Silver and metalwork",
        "Мөнгө, төмөр урлал",
    ),
    ("wood-carving", None, "Wood carving", "Модон сийлбэр"),
    (
        "mongol-zurag",
        None,
        "Mongol zurag painting",
        "Монгол зураг",
    ),
    ("calligraphy", None, "Calligraphy", "Уран бичлэг"),
    (
        "textiles-embroidery",
        None,
        "Textiles and embroidery",
        "Нэхмэл, хатгамал",
    ),
    (
        "deel",
        Some("textiles-embroidery"),
        "Deel and traditional dress",
        "Дээл, үндэсний хувцас",
    ),
    ("ceramics", None, "Ceramics", "Шаазан, вааран эдлэл"),
    (
        "musical-instruments",
        None,
        "Musical instruments",
        "Хөгжмийн зэмсэг",
    ),
    (
        "morin-khuur",
        Some("musical-instruments"),
        "Morin khuur",
        "Морин хуур",
    ),
    ("jewellery", None, "Jewellery", "Үнэт эдлэл"),
    ("dolls-toys", None, "Dolls and toys", "Хүүхэлдэй, тоглоом"),
    (
        "ger-furnishings",
        None,
        "Ger furnishings",
        "Гэр ахуйн эдлэл",
    ),
    ("bone-horn", None, "Bone and horn carving", "Яс, эвэр урлал"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Shops::Table)
                    .col(ColumnDef::new(Shops::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Shops::OwnerId).uuid().not_null())
                    .col(ColumnDef::new(Shops::Slug).string_len(64).not_null())
                    .col(ColumnDef::new(Shops::Name).string_len(120).not_null())
                    .col(ColumnDef::new(Shops::Country).string_len(2).not_null())
                    .col(ColumnDef::new(Shops::Region).string_len(100).not_null())
                    .col(
                        ColumnDef::new(Shops::SettlementCurrency)
                            .string_len(3)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Shops::DefaultLanguage)
                            .string_len(35)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Shops::Story).text().not_null())
                    .col(ColumnDef::new(Shops::Status).string_len(16).not_null())
                    .col(
                        ColumnDef::new(Shops::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Shops::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "shops_owner_id_fkey",
                        (Shops::Table, Shops::OwnerId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, "shops_slug_key", Shops::Table, &["slug"], true).await?;
        // One shop per artisan.
        index(
            manager,
            "shops_owner_id_key",
            Shops::Table,
            &["owner_id"],
            true,
        )
        .await?;
        index(
            manager,
            "shops_country_idx",
            Shops::Table,
            &["country"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Makers::Table)
                    .col(ColumnDef::new(Makers::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Makers::ShopId).uuid().not_null())
                    .col(ColumnDef::new(Makers::Name).string_len(120).not_null())
                    .col(ColumnDef::new(Makers::Region).string_len(100).not_null())
                    .col(ColumnDef::new(Makers::Craft).string_len(100).not_null())
                    .col(ColumnDef::new(Makers::YearsPractising).integer().null())
                    .col(ColumnDef::new(Makers::Biography).text().not_null())
                    .col(
                        ColumnDef::new(Makers::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "makers_shop_id_fkey",
                        (Makers::Table, Makers::ShopId),
                        (Shops::Table, Shops::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "makers_shop_id_idx",
            Makers::Table,
            &["shop_id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Categories::Table)
                    .col(
                        ColumnDef::new(Categories::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Categories::ParentId).uuid().null())
                    .col(ColumnDef::new(Categories::Slug).string_len(64).not_null())
                    .col(ColumnDef::new(Categories::Names).text().not_null())
                    .col(ColumnDef::new(Categories::Position).integer().not_null())
                    .col(
                        ColumnDef::new(Categories::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "categories_parent_id_fkey",
                        (Categories::Table, Categories::ParentId),
                        (Categories::Table, Categories::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "categories_slug_key",
            Categories::Table,
            &["slug"],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .col(ColumnDef::new(Products::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Products::ShopId).uuid().not_null())
                    .col(ColumnDef::new(Products::Slug).string_len(120).not_null())
                    .col(ColumnDef::new(Products::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Products::CategoryId).uuid().null())
                    .col(
                        ColumnDef::new(Products::PriceMinor)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Products::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Products::SortPrice).big_integer().not_null())
                    .col(ColumnDef::new(Products::Handmade).boolean().not_null())
                    .col(ColumnDef::new(Products::MadeToOrder).boolean().not_null())
                    .col(
                        ColumnDef::new(Products::ProcessingDays)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Products::OriginRegion)
                            .string_len(100)
                            .null(),
                    )
                    .col(ColumnDef::new(Products::HsCode).string_len(10).null())
                    .col(ColumnDef::new(Products::WeightGrams).integer().null())
                    .col(ColumnDef::new(Products::Materials).text().not_null())
                    .col(ColumnDef::new(Products::Techniques).text().not_null())
                    .col(
                        ColumnDef::new(Products::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Products::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Products::PublishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(&mut fk(
                        "products_shop_id_fkey",
                        (Products::Table, Products::ShopId),
                        (Shops::Table, Shops::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "products_category_id_fkey",
                        (Products::Table, Products::CategoryId),
                        (Categories::Table, Categories::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "products_shop_slug_key",
            Products::Table,
            &["shop_id", "slug"],
            true,
        )
        .await?;
        index(
            manager,
            "products_status_id_idx",
            Products::Table,
            &["status", "id"],
            false,
        )
        .await?;
        index(
            manager,
            "products_status_price_idx",
            Products::Table,
            &["status", "sort_price", "id"],
            false,
        )
        .await?;
        index(
            manager,
            "products_category_id_idx",
            Products::Table,
            &["category_id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProductTranslations::Table)
                    .col(
                        ColumnDef::new(ProductTranslations::ProductId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ProductTranslations::Language)
                            .string_len(35)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ProductTranslations::Title)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ProductTranslations::Description)
                            .text()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ProductTranslations::ProductId)
                            .col(ProductTranslations::Language),
                    )
                    .foreign_key(&mut fk(
                        "product_translations_product_id_fkey",
                        (ProductTranslations::Table, ProductTranslations::ProductId),
                        (Products::Table, Products::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProductMaterials::Table)
                    .col(
                        ColumnDef::new(ProductMaterials::ProductId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ProductMaterials::Material)
                            .string_len(100)
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ProductMaterials::ProductId)
                            .col(ProductMaterials::Material),
                    )
                    .foreign_key(&mut fk(
                        "product_materials_product_id_fkey",
                        (ProductMaterials::Table, ProductMaterials::ProductId),
                        (Products::Table, Products::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "product_materials_material_idx",
            ProductMaterials::Table,
            &["material"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProductMakers::Table)
                    .col(ColumnDef::new(ProductMakers::ProductId).uuid().not_null())
                    .col(ColumnDef::new(ProductMakers::MakerId).uuid().not_null())
                    .col(
                        ColumnDef::new(ProductMakers::Role)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ProductMakers::Position).integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(ProductMakers::ProductId)
                            .col(ProductMakers::MakerId),
                    )
                    .foreign_key(&mut fk(
                        "product_makers_product_id_fkey",
                        (ProductMakers::Table, ProductMakers::ProductId),
                        (Products::Table, Products::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "product_makers_maker_id_fkey",
                        (ProductMakers::Table, ProductMakers::MakerId),
                        (Makers::Table, Makers::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "product_makers_maker_id_idx",
            ProductMakers::Table,
            &["maker_id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProductVariants::Table)
                    .col(
                        ColumnDef::new(ProductVariants::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ProductVariants::ProductId).uuid().not_null())
                    .col(ColumnDef::new(ProductVariants::ShopId).uuid().not_null())
                    .col(
                        ColumnDef::new(ProductVariants::Sku)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ProductVariants::Options).text().not_null())
                    .col(
                        ColumnDef::new(ProductVariants::PriceOverrideMinor)
                            .big_integer()
                            .null(),
                    )
                    .col(ColumnDef::new(ProductVariants::Stock).integer().not_null())
                    .col(
                        ColumnDef::new(ProductVariants::Position)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ProductVariants::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "product_variants_product_id_fkey",
                        (ProductVariants::Table, ProductVariants::ProductId),
                        (Products::Table, Products::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "product_variants_shop_sku_key",
            ProductVariants::Table,
            &["shop_id", "sku"],
            true,
        )
        .await?;
        index(
            manager,
            "product_variants_product_id_idx",
            ProductVariants::Table,
            &["product_id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProductImages::Table)
                    .col(
                        ColumnDef::new(ProductImages::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ProductImages::ProductId).uuid().not_null())
                    .col(
                        ColumnDef::new(ProductImages::Url)
                            .string_len(2048)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ProductImages::Alt).text().not_null())
                    .col(ColumnDef::new(ProductImages::Position).integer().not_null())
                    .foreign_key(&mut fk(
                        "product_images_product_id_fkey",
                        (ProductImages::Table, ProductImages::ProductId),
                        (Products::Table, Products::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "product_images_product_id_idx",
            ProductImages::Table,
            &["product_id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Collections::Table)
                    .col(
                        ColumnDef::new(Collections::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Collections::ShopId).uuid().null())
                    .col(ColumnDef::new(Collections::Slug).string_len(80).not_null())
                    .col(ColumnDef::new(Collections::Names).text().not_null())
                    .col(ColumnDef::new(Collections::Descriptions).text().not_null())
                    .col(ColumnDef::new(Collections::Featured).boolean().not_null())
                    .col(
                        ColumnDef::new(Collections::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "collections_shop_id_fkey",
                        (Collections::Table, Collections::ShopId),
                        (Shops::Table, Shops::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "collections_slug_key",
            Collections::Table,
            &["slug"],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CollectionProducts::Table)
                    .col(
                        ColumnDef::new(CollectionProducts::CollectionId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CollectionProducts::ProductId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CollectionProducts::Position)
                            .integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(CollectionProducts::CollectionId)
                            .col(CollectionProducts::ProductId),
                    )
                    .foreign_key(&mut fk(
                        "collection_products_collection_id_fkey",
                        (CollectionProducts::Table, CollectionProducts::CollectionId),
                        (Collections::Table, Collections::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "collection_products_product_id_fkey",
                        (CollectionProducts::Table, CollectionProducts::ProductId),
                        (Products::Table, Products::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ExchangeRates::Table)
                    .col(ColumnDef::new(ExchangeRates::Base).string_len(3).not_null())
                    .col(
                        ColumnDef::new(ExchangeRates::Quote)
                            .string_len(3)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ExchangeRates::Rate)
                            .string_len(40)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ExchangeRates::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ExchangeRates::Base)
                            .col(ExchangeRates::Quote),
                    )
                    .to_owned(),
            )
            .await?;

        // The full-text index: one document per product, written by the catalogue service.
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Sqlite => {
                // product_id holds the product's 16-byte id so it compares with products.id;
                // prefix indexes make "word*" queries cheap.
                db.execute_unprepared(
                    "CREATE VIRTUAL TABLE product_search USING fts5(\
                     product_id UNINDEXED, body, \
                     tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4')",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE TABLE product_search (\
                     product_id uuid PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE, \
                     body text NOT NULL, \
                     document tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED)",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE INDEX product_search_document_idx ON product_search USING GIN (document)",
                )
                .await?;
            }
        }

        seed_categories(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE product_search")
            .await?;
        for table in [
            ExchangeRates::Table.into_iden(),
            CollectionProducts::Table.into_iden(),
            Collections::Table.into_iden(),
            ProductImages::Table.into_iden(),
            ProductVariants::Table.into_iden(),
            ProductMakers::Table.into_iden(),
            ProductMaterials::Table.into_iden(),
            ProductTranslations::Table.into_iden(),
            Products::Table.into_iden(),
            Categories::Table.into_iden(),
            Makers::Table.into_iden(),
            Shops::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Inserts the craft tree. Ids are fixed so every database agrees on them.
async fn seed_categories(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use sea_orm_migration::sea_orm::prelude::{ChronoUtc, Uuid};
    let now = ChronoUtc::now();
    let id_of = |slug: &str| {
        let index = CATEGORIES.iter().position(|c| c.0 == slug).unwrap_or(0) as u128;
        // A fixed UUIDv7-shaped id per category, stable across databases.
        Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 | (index + 1))
    };
    for (position, (slug, parent, en, mn)) in CATEGORIES.iter().enumerate() {
        let names = format!("{{\"en\":{},\"mn\":{}}}", json_string(en), json_string(mn));
        let insert = Query::insert()
            .into_table(Categories::Table)
            .columns([
                Categories::Id,
                Categories::ParentId,
                Categories::Slug,
                Categories::Names,
                Categories::Position,
                Categories::CreatedAt,
            ])
            .values([
                id_of(slug).into(),
                parent.map(id_of).into(),
                (*slug).into(),
                names.into(),
                (position as i32).into(),
                now.into(),
            ])
            .map_err(|e| DbErr::Custom(e.to_string()))?
            .to_owned();
        manager.exec_stmt(insert).await?;
    }
    Ok(())
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
