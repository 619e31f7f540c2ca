//! Column and table helpers for migrations from 000004 on. Migrations are frozen once
//! released, so these helpers may gain new functions but never change what one emits.

use sea_orm_migration::prelude::*;

pub fn uuid_pk(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .uuid()
        .not_null()
        .primary_key()
        .to_owned()
}

pub fn uuid_col(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .uuid()
        .not_null()
        .to_owned()
}

pub fn uuid_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).uuid().null().to_owned()
}

pub fn text(name: &'static str, len: u32) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .string_len(len)
        .not_null()
        .to_owned()
}

pub fn text_null(name: &'static str, len: u32) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .string_len(len)
        .null()
        .to_owned()
}

pub fn big(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
        .not_null()
        .to_owned()
}

pub fn int(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .integer()
        .not_null()
        .to_owned()
}

pub fn time(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

pub fn fk(
    table: &'static str,
    col: &'static str,
    to: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("{table}_{col}_fkey"))
        .from(Alias::new(table), Alias::new(col))
        .to(Alias::new(to), Alias::new("id"))
        .on_delete(on_delete)
        .to_owned()
}

pub async fn table(
    manager: &SchemaManager<'_>,
    name: &'static str,
    cols: Vec<ColumnDef>,
    fks: Vec<ForeignKeyCreateStatement>,
) -> Result<(), DbErr> {
    let mut stmt = Table::create();
    stmt.table(Alias::new(name));
    for mut col in cols {
        stmt.col(&mut col);
    }
    for mut f in fks {
        stmt.foreign_key(&mut f);
    }
    manager.create_table(stmt.to_owned()).await
}

pub async fn index(
    manager: &SchemaManager<'_>,
    table: &'static str,
    cols: &[&str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(format!(
        "{table}_{}_{}",
        cols.join("_"),
        if unique { "key" } else { "idx" }
    ))
    .table(Alias::new(table));
    for col in cols {
        stmt.col(Alias::new(*col));
    }
    if unique {
        stmt.unique();
    }
    manager.create_index(stmt.to_owned()).await
}

/// Adds one column; SQLite takes a single change per `ALTER TABLE`.
pub async fn add_column(
    manager: &SchemaManager<'_>,
    table: &'static str,
    mut col: ColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(Alias::new(table))
                .add_column(&mut col)
                .to_owned(),
        )
        .await
}

pub async fn drop_column(
    manager: &SchemaManager<'_>,
    table: &'static str,
    col: &'static str,
) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(Alias::new(table))
                .drop_column(Alias::new(col))
                .to_owned(),
        )
        .await
}

pub async fn drop_tables(manager: &SchemaManager<'_>, names: &[&'static str]) -> Result<(), DbErr> {
    for name in names {
        manager
            .drop_table(Table::drop().table(Alias::new(*name)).to_owned())
            .await?;
    }
    Ok(())
}

pub fn time_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

/// Unbounded text, for JSON documents.
pub fn long_text(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .text()
        .not_null()
        .to_owned()
}

pub fn flag(name: &'static str, default: bool) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .boolean()
        .not_null()
        .default(default)
        .to_owned()
}

/// A nullable reference to another table's `id`, for a column added to an existing table
/// (SQLite cannot add a foreign-key constraint later, but accepts it on the new column).
pub fn uuid_ref_null(name: &'static str, to: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .uuid()
        .null()
        .extra(format!("REFERENCES {to}(id)"))
        .to_owned()
}
