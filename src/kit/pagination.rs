//! Relay cursor pagination over tables keyed by UUIDv7 (which sort by creation time).

use async_graphql::{
    OutputType, SimpleObject,
    connection::{Connection, CursorType, Edge, EmptyFields, OpaqueCursor},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Largest page any connection returns.
pub const MAX_PAGE: i32 = 100;
/// Page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE: i32 = 20;

/// Cursors are opaque to clients: base64 of the row id.
pub type IdCursor = OpaqueCursor<Uuid>;

/// Fields every connection carries besides edges and page info.
#[derive(SimpleObject)]
pub struct TotalCount {
    /// How many items match, across all pages.
    pub total_count: i64,
}

/// A connection of `Node`s with `totalCount`.
pub type IdConnection<Node> = Connection<IdCursor, Node, TotalCount, EmptyFields>;

/// Checked pagination arguments.
#[derive(Debug, Clone, Copy)]
pub struct PageArgs {
    size: u64,
    backward: bool,
    newest_first: bool,
    after: Option<Uuid>,
    before: Option<Uuid>,
}

impl PageArgs {
    /// Validates `first`/`after`/`last`/`before` the way Relay clients send them.
    ///
    /// Sizes arrive as `i64` (still `Int` in the schema) so that an absurd value reaches this
    /// check and gets a `BAD_USER_INPUT` naming the argument, not a coercion failure.
    pub fn new(
        first: Option<i64>,
        after: Option<String>,
        last: Option<i64>,
        before: Option<String>,
    ) -> AppResult<Self> {
        let cursor = |field: &'static str, c: Option<String>| {
            c.map(|c| {
                IdCursor::decode_cursor(&c)
                    .map(|c| c.0)
                    .map_err(|_| AppError::invalid(field, "cursor is not valid"))
            })
            .transpose()
        };
        let (size, backward) = size_and_direction(first, last)?;
        Ok(Self {
            size,
            backward,
            newest_first: false,
            after: cursor("after", after)?,
            before: cursor("before", before)?,
        })
    }
}

/// The page size and whether the client pages backward (`last`), with Relay's rules and
/// our cap. Sizes arrive as `i64` so that absurd values reach this check.
pub fn size_and_direction(first: Option<i64>, last: Option<i64>) -> AppResult<(u64, bool)> {
    let check = |field: &'static str, n: i64| {
        if (0..=i64::from(MAX_PAGE)).contains(&n) {
            Ok(n as u64)
        } else {
            Err(AppError::invalid(
                field,
                format!("{field} must be between 0 and {MAX_PAGE}"),
            ))
        }
    };
    match (first, last) {
        (Some(_), Some(_)) => Err(AppError::invalid(
            "last",
            "pass either first or last, not both",
        )),
        (Some(n), None) => Ok((check("first", n)?, false)),
        (None, Some(n)) => Ok((check("last", n)?, true)),
        (None, None) => Ok((DEFAULT_PAGE as u64, false)),
    }
}

impl PageArgs {
    /// Lists newest first instead of oldest first.
    pub fn newest_first(mut self) -> Self {
        self.newest_first = true;
        self
    }
}

/// Complexity of a connection field: the page size times what each node costs.
pub fn complexity(first: Option<i64>, last: Option<i64>, child_complexity: usize) -> usize {
    let size = first
        .or(last)
        .unwrap_or(i64::from(DEFAULT_PAGE))
        .clamp(1, i64::from(MAX_PAGE)) as usize;
    size.saturating_mul(child_complexity).saturating_add(1)
}

/// One page of models and what lies around it.
pub struct Page<M> {
    pub items: Vec<M>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
    pub total_count: i64,
}

impl<M> Page<M> {
    /// Wraps the models as GraphQL nodes with their cursors.
    pub fn into_connection<Node: OutputType>(
        self,
        id_of: impl Fn(&M) -> Uuid,
        node: impl Fn(M) -> Node,
    ) -> IdConnection<Node> {
        let mut connection = Connection::with_additional_fields(
            self.has_previous_page,
            self.has_next_page,
            TotalCount {
                total_count: self.total_count,
            },
        );
        connection.edges = self
            .items
            .into_iter()
            .map(|m| Edge::new(OpaqueCursor(id_of(&m)), node(m)))
            .collect();
        connection
    }
}

/// Fetches one page of `select`, ordered by the id column (oldest first, or newest first when
/// the page asks), plus its total count.
pub async fn by_id<E, C>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    id: C,
    page: PageArgs,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    C: ColumnTrait,
    E::Model: Sync,
{
    let total_count = select.clone().count(db).await? as i64;
    let mut query = select;
    // "After" means later in the list's own order.
    let later = |c: Uuid| {
        if page.newest_first {
            id.lt(c)
        } else {
            id.gt(c)
        }
    };
    let earlier = |c: Uuid| {
        if page.newest_first {
            id.gt(c)
        } else {
            id.lt(c)
        }
    };
    if let Some(after) = page.after {
        query = query.filter(later(after));
    }
    if let Some(before) = page.before {
        query = query.filter(earlier(before));
    }
    // One extra row tells whether there is more in the direction of travel.
    query = if page.backward != page.newest_first {
        query.order_by_desc(id)
    } else {
        query.order_by_asc(id)
    };
    let mut items = query.limit(page.size + 1).all(db).await?;
    let more = items.len() as u64 > page.size;
    items.truncate(page.size as usize);
    if page.backward {
        items.reverse();
        Ok(Page {
            items,
            has_previous_page: more,
            has_next_page: page.before.is_some(),
            total_count,
        })
    } else {
        Ok(Page {
            items,
            has_previous_page: page.after.is_some(),
            has_next_page: more,
            total_count,
        })
    }
}
