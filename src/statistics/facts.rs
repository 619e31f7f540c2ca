//! What each paid order contributes to the market statistics: its facts, computed by the pure
//! [`contribution`] from what `super::sources::facts_of` reads, and stored so a later change
//! can take back exactly what they added (see [`super::cube`]).
//!
//! Rules, each in one place here:
//! - an order counts once it was paid, in the month it was paid (UTC), net of refunds: every
//!   line loses the share of its value that the refunds so far are of the order's total;
//! - values are the lines after discounts, without shipping, converted at the rates locked on
//!   the order (`rate_to_mnt`, `rate_to_usd`), never today's;
//! - the artisans' share is what the shop is paid for the lines: before a platform-funded
//!   discount, after a shop-funded one, less the order's commission, net of refunds;
//! - an order and its per-order counts (refunded, new buyer, repeat, days to ship) belong to
//!   its main craft: the category of its largest line, so an order is counted once;
//! - a line's value and the artisans' share of it are split equally among the makers its
//!   product names (the first takes the remainder of a minor unit), or go to no maker (the nil
//!   id) when it names none; each fact keeps its split, and a second cube sums it per maker.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    entities::{orders, statistics_facts},
    money::{self, Currency, HOME, Money, Rate},
};

/// A cube cell: month, shop, craft, destination and payment method.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellKey {
    pub month: String,
    pub shop_id: Uuid,
    pub category_id: Uuid,
    pub country: String,
    pub method: String,
}

/// What a fact or cell adds up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measures {
    pub orders: i64,
    pub units: i64,
    pub gross_mnt: i64,
    pub gross_usd: i64,
    pub share_mnt: i64,
    pub share_usd: i64,
    pub refunded_orders: i64,
    pub new_buyers: i64,
    pub repeat_orders: i64,
}

/// The columns of [`Measures`] in facts, cubes and grids, in the order of
/// [`Measures::fields`].
pub const MEASURE_COLUMNS: [&str; 9] = [
    "orders",
    "units",
    "gross_mnt",
    "gross_usd",
    "share_mnt",
    "share_usd",
    "refunded_orders",
    "new_buyers",
    "repeat_orders",
];

impl Measures {
    pub(super) fn fields(&mut self) -> [&mut i64; 9] {
        [
            &mut self.orders,
            &mut self.units,
            &mut self.gross_mnt,
            &mut self.gross_usd,
            &mut self.share_mnt,
            &mut self.share_usd,
            &mut self.refunded_orders,
            &mut self.new_buyers,
            &mut self.repeat_orders,
        ]
    }

    pub(super) fn add(&mut self, mut other: Self, sign: i64) {
        for (a, b) in self.fields().into_iter().zip(other.fields()) {
            *a += sign * *b;
        }
    }

    pub fn is_zero(mut self) -> bool {
        self.fields().iter().all(|v| **v == 0)
    }
}

impl std::ops::AddAssign for Measures {
    // Field by field: questions sum hundreds of thousands of cells with it.
    fn add_assign(&mut self, o: Self) {
        self.orders += o.orders;
        self.units += o.units;
        self.gross_mnt += o.gross_mnt;
        self.gross_usd += o.gross_usd;
        self.share_mnt += o.share_mnt;
        self.share_usd += o.share_usd;
        self.refunded_orders += o.refunded_orders;
        self.new_buyers += o.new_buyers;
        self.repeat_orders += o.repeat_orders;
    }
}

/// The part of a fact's value that went to one maker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MakerShare {
    /// The nil id for lines whose product names no maker.
    pub maker_id: Uuid,
    pub gross_mnt: i64,
    pub gross_usd: i64,
    pub share_mnt: i64,
    pub share_usd: i64,
}

impl MakerShare {
    fn fields(&mut self) -> [&mut i64; 4] {
        [
            &mut self.gross_mnt,
            &mut self.gross_usd,
            &mut self.share_mnt,
            &mut self.share_usd,
        ]
    }

    pub(super) fn add(&mut self, mut other: Self, sign: i64) {
        for (a, b) in self.fields().into_iter().zip(other.fields()) {
            *a += sign * *b;
        }
    }

    pub(super) fn is_zero(mut self) -> bool {
        self.fields().iter().all(|v| **v == 0)
    }

    /// A line's values split equally among its makers, the first taking the remainder.
    fn split(values: Measures, makers: &[Uuid]) -> Vec<Self> {
        let nil = [Uuid::nil()];
        let makers = if makers.is_empty() { &nil[..] } else { makers };
        let n = makers.len() as i64;
        let part = |v: i64, first: bool| v / n + if first { v % n } else { 0 };
        makers
            .iter()
            .enumerate()
            .map(|(i, id)| Self {
                maker_id: *id,
                gross_mnt: part(values.gross_mnt, i == 0),
                gross_usd: part(values.gross_usd, i == 0),
                share_mnt: part(values.share_mnt, i == 0),
                share_usd: part(values.share_usd, i == 0),
            })
            .collect()
    }
}

/// One order's contribution to one craft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub key: CellKey,
    pub measures: Measures,
    pub ship_days: Option<i32>,
    pub deliver_days: Option<i32>,
    /// How the value was split among makers, by maker id.
    pub makers: Vec<MakerShare>,
}

/// A line as the statistics see it, in the shop's currency.
#[derive(Debug, Clone)]
pub struct Line {
    pub category_id: Uuid,
    pub quantity: i64,
    /// Unit price × quantity, before any discount.
    pub value: i64,
    pub discount: i64,
    /// The makers the product names, in their order.
    pub makers: Vec<Uuid>,
}

/// The buyer's history as it bears on this order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Buyer {
    /// This is the buyer's first paid order on the marketplace.
    pub first: bool,
    /// The buyer had paid for an earlier checkout.
    pub returning: bool,
}

/// The columns of an order the statistics read (a rebuild reads every paid order, so it
/// reads only these).
#[derive(Debug, Clone, PartialEq, Eq, sea_orm::DerivePartialModel)]
#[sea_orm(entity = "orders::Entity", from_query_result)]
pub struct PaidOrder {
    pub id: Uuid,
    pub checkout_id: Uuid,
    pub shop_id: Uuid,
    pub buyer_id: Uuid,
    pub total_minor: i64,
    pub shop_currency: String,
    pub shipping_address: String,
    pub paid_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub commission_bps: i32,
    pub refunded_minor: i64,
    pub discount_funded_by: Option<String>,
    pub rate_to_mnt: Option<String>,
    pub rate_to_usd: Option<String>,
}

/// Everything [`contribution`] needs about one order.
#[derive(Debug, Clone)]
pub struct OrderInput<'a> {
    pub order: &'a PaidOrder,
    pub lines: Vec<Line>,
    pub method: String,
    pub to_mnt: Option<Rate>,
    pub to_usd: Option<Rate>,
    pub buyer: Buyer,
    pub shipped_at: Option<DateTime<Utc>>,
}

/// The destination country of an order, from its address snapshot.
pub fn destination(order: &PaidOrder) -> String {
    serde_json::from_str::<serde_json::Value>(&order.shipping_address)
        .ok()
        .and_then(|a| a["country"].as_str().map(str::to_ascii_uppercase))
        .filter(|c| c.len() == 2)
        .unwrap_or_default()
}

/// The facts of one order: none until it was paid.
pub fn contribution(input: &OrderInput<'_>) -> Vec<Fact> {
    let order = input.order;
    let Some(paid_at) = order.paid_at else {
        return Vec::new();
    };
    if input.lines.is_empty() {
        return Vec::new();
    }
    let net = |v: i64| {
        let refunded = money::share(v, order.refunded_minor, order.total_minor).unwrap_or(0);
        (v - refunded.clamp(0, v.max(0))).max(0)
    };
    let shop_funded = order.discount_funded_by.as_deref() != Some("PLATFORM");
    let currency = Currency::parse(&order.shop_currency);
    let to = |code: &str, rate: Option<Rate>, v: i64| match (currency, Currency::parse(code), rate)
    {
        (Some(from), Some(to), Some(rate)) => {
            money::convert(Money::new(v, from), to, rate).map_or(0, |m| m.minor)
        }
        _ => 0,
    };
    let main = input
        .lines
        .iter()
        .enumerate()
        .max_by_key(|(i, l)| (l.value - l.discount, std::cmp::Reverse(*i)))
        .map_or(Uuid::nil(), |(_, l)| l.category_id);
    let days = |at: Option<DateTime<Utc>>| {
        at.map(|t| i32::try_from((t - paid_at).num_days().max(0)).unwrap_or(i32::MAX))
    };
    let mut per_craft: BTreeMap<Uuid, Measures> = BTreeMap::new();
    let mut per_maker: BTreeMap<(Uuid, Uuid), MakerShare> = BTreeMap::new();
    for line in &input.lines {
        let paid = net(line.value - line.discount);
        let base = if shop_funded {
            line.value - line.discount
        } else {
            line.value
        };
        let commission = money::share(base, i64::from(order.commission_bps), 10_000).unwrap_or(0);
        let share = net(base - commission);
        let values = Measures {
            units: line.quantity,
            gross_mnt: to(HOME, input.to_mnt, paid),
            gross_usd: to("USD", input.to_usd, paid),
            share_mnt: to(HOME, input.to_mnt, share),
            share_usd: to("USD", input.to_usd, share),
            ..Measures::default()
        };
        *per_craft.entry(line.category_id).or_default() += values;
        for part in MakerShare::split(values, &line.makers) {
            per_maker
                .entry((line.category_id, part.maker_id))
                .or_insert(MakerShare {
                    maker_id: part.maker_id,
                    ..MakerShare::default()
                })
                .add(part, 1);
        }
    }
    let key = |category_id| CellKey {
        month: paid_at.format("%Y-%m").to_string(),
        shop_id: order.shop_id,
        category_id,
        country: destination(order),
        method: input.method.clone(),
    };
    per_craft
        .into_iter()
        .map(|(category_id, mut measures)| {
            let is_main = category_id == main;
            if is_main {
                measures.orders = 1;
                measures.refunded_orders = i64::from(order.refunded_minor > 0);
                measures.new_buyers = i64::from(input.buyer.first);
                measures.repeat_orders = i64::from(input.buyer.returning);
            }
            Fact {
                key: key(category_id),
                measures,
                ship_days: if is_main {
                    days(input.shipped_at)
                } else {
                    None
                },
                deliver_days: if is_main {
                    days(order.delivered_at)
                } else {
                    None
                },
                makers: per_maker
                    .range((category_id, Uuid::nil())..=(category_id, Uuid::max()))
                    .map(|(_, share)| *share)
                    .collect(),
            }
        })
        .collect()
}

pub(super) fn stored(f: statistics_facts::Model) -> Fact {
    Fact {
        key: CellKey {
            month: f.month,
            shop_id: f.shop_id,
            category_id: f.category_id,
            country: f.country,
            method: f.method,
        },
        measures: Measures {
            orders: f.orders,
            units: f.units,
            gross_mnt: f.gross_mnt,
            gross_usd: f.gross_usd,
            share_mnt: f.share_mnt,
            share_usd: f.share_usd,
            refunded_orders: f.refunded_orders,
            new_buyers: f.new_buyers,
            repeat_orders: f.repeat_orders,
        },
        ship_days: f.ship_days,
        deliver_days: f.deliver_days,
        // Facts counted before makers were have none: nothing of theirs is in the makers' cube.
        makers: f
            .maker_shares
            .as_deref()
            .and_then(|json| serde_json::from_str::<Vec<(Uuid, i64, i64, i64, i64)>>(json).ok())
            .unwrap_or_default()
            .into_iter()
            .map(
                |(maker_id, gross_mnt, gross_usd, share_mnt, share_usd)| MakerShare {
                    maker_id,
                    gross_mnt,
                    gross_usd,
                    share_mnt,
                    share_usd,
                },
            )
            .collect(),
    }
}

pub(super) fn shares_json(shares: &[MakerShare]) -> String {
    let rows: Vec<(Uuid, i64, i64, i64, i64)> = shares
        .iter()
        .map(|s| {
            (
                s.maker_id,
                s.gross_mnt,
                s.gross_usd,
                s.share_mnt,
                s.share_usd,
            )
        })
        .collect();
    serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(refunded: i64, funded_by: Option<&str>) -> PaidOrder {
        let at = DateTime::parse_from_rfc3339("2026-07-11T10:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        PaidOrder {
            id: Uuid::from_u128(1),
            checkout_id: Uuid::from_u128(2),
            shop_id: Uuid::from_u128(3),
            buyer_id: Uuid::from_u128(4),
            total_minor: 10_000,
            shop_currency: "MNT".into(),
            shipping_address: r#"{"country":"de"}"#.into(),
            paid_at: Some(at),
            delivered_at: Some(at + chrono::Duration::days(9)),
            commission_bps: 1000,
            refunded_minor: refunded,
            discount_funded_by: funded_by.map(str::to_owned),
            rate_to_mnt: None,
            rate_to_usd: None,
        }
    }

    fn input(order: &PaidOrder) -> OrderInput<'_> {
        let (felt, cashmere) = (Uuid::from_u128(10), Uuid::from_u128(11));
        OrderInput {
            order,
            lines: vec![
                Line {
                    category_id: felt,
                    quantity: 2,
                    value: 1_000_000,
                    discount: 100_000,
                    makers: vec![
                        Uuid::from_u128(20),
                        Uuid::from_u128(21),
                        Uuid::from_u128(22),
                    ],
                },
                Line {
                    category_id: cashmere,
                    quantity: 1,
                    value: 3_000_000,
                    discount: 0,
                    makers: Vec::new(),
                },
            ],
            method: "CARD".into(),
            to_mnt: Rate::from_fraction("1/1"),
            to_usd: Rate::from_fraction("1/3450"),
            buyer: Buyer {
                first: true,
                returning: false,
            },
            shipped_at: order.paid_at.map(|t| t + chrono::Duration::hours(60)),
        }
    }

    #[test]
    fn an_order_counts_once_under_its_main_craft_and_its_lines_under_theirs() {
        let o = order(0, Some("SHOP"));
        let facts = contribution(&input(&o));
        assert_eq!(facts.len(), 2);
        let felt = &facts[0];
        let cashmere = &facts[1];
        assert_eq!(felt.key.month, "2026-07");
        assert_eq!(felt.key.country, "DE");
        // The discount is off the value; commission is 10 % of what the shop was paid.
        assert_eq!(felt.measures.gross_mnt, 900_000);
        assert_eq!(felt.measures.share_mnt, 810_000);
        assert_eq!((felt.measures.orders, cashmere.measures.orders), (0, 1));
        assert_eq!(cashmere.measures.new_buyers, 1);
        assert_eq!(cashmere.measures.gross_usd, 870);
        assert_eq!(
            (cashmere.ship_days, cashmere.deliver_days),
            (Some(2), Some(9))
        );
        assert_eq!((felt.ship_days, felt.deliver_days), (None, None));
    }

    #[test]
    fn a_lines_value_is_split_among_its_makers_to_the_last_minor_unit() {
        let o = order(0, Some("SHOP"));
        let facts = contribution(&input(&o));
        let (felt, cashmere) = (&facts[0], &facts[1]);
        // 900,000 among three makers; 810,000 of it reached them.
        let gross: Vec<i64> = felt.makers.iter().map(|m| m.gross_mnt).collect();
        assert_eq!(gross, [300_000, 300_000, 300_000]);
        assert_eq!(
            felt.makers.iter().map(|m| m.gross_usd).sum::<i64>(),
            felt.measures.gross_usd
        );
        assert_eq!(
            felt.makers.iter().map(|m| m.share_mnt).sum::<i64>(),
            810_000
        );
        // Cents that do not divide by three go to the first maker.
        let usd: Vec<i64> = felt.makers.iter().map(|m| m.gross_usd).collect();
        assert!(usd[0] >= usd[1] && usd[1] == usd[2] && usd[0] - usd[1] < 3);
        // A product naming no maker gives its value to no one in particular.
        assert_eq!(cashmere.makers.len(), 1);
        assert_eq!(cashmere.makers[0].maker_id, Uuid::nil());
        assert_eq!(cashmere.makers[0].gross_mnt, cashmere.measures.gross_mnt);
        // The split survives being stored.
        let json = shares_json(&felt.makers);
        let back: Vec<(Uuid, i64, i64, i64, i64)> = serde_json::from_str(&json).expect("json");
        assert_eq!(back.len(), 3);
    }

    #[test]
    fn refunds_take_their_share_off_every_line_and_a_platform_discount_stays_the_shops() {
        let o = order(2_500, Some("PLATFORM"));
        let facts = contribution(&input(&o));
        // A quarter of the order was refunded.
        assert_eq!(facts[0].measures.gross_mnt, 675_000);
        // The platform pays the discount: the shop is paid on the full value.
        assert_eq!(facts[0].measures.share_mnt, 675_000);
        assert_eq!(facts[1].measures.refunded_orders, 1);
        let unpaid = PaidOrder {
            paid_at: None,
            ..order(0, None)
        };
        assert!(contribution(&input(&unpaid)).is_empty());
    }
}
