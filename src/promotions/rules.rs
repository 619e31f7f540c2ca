//! The pure rules of a promotion: when a code may be used, which lines it covers and how its
//! discount is shared among them. No database here, so every case is a unit test.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{entities::promotion_codes, money};

/// Why a code cannot be used now; each is a stable error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such code, or switched off.
    Unknown,
    NotStarted,
    Expired,
    /// Its total uses or the buyer's own are used up.
    UsedUp,
    /// Nothing in the cart is covered (another shop's code, another category…).
    NotApplicable,
    /// The covered lines come to less than the code's minimum.
    MinimumNotMet,
    /// Only for a buyer's first order.
    FirstOrderOnly,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::Unknown => "PROMOTION_CODE_UNKNOWN",
            Self::NotStarted => "PROMOTION_NOT_STARTED",
            Self::Expired => "PROMOTION_EXPIRED",
            Self::UsedUp => "PROMOTION_USED_UP",
            Self::NotApplicable => "PROMOTION_NOT_APPLICABLE",
            Self::MinimumNotMet => "PROMOTION_MINIMUM_NOT_MET",
            Self::FirstOrderOnly => "PROMOTION_FIRST_ORDER_ONLY",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::Unknown => "no promotion has this code",
            Self::NotStarted => "this code is not valid yet",
            Self::Expired => "this code has expired",
            Self::UsedUp => "this code has been used as often as it may be",
            Self::NotApplicable => "this code does not apply to anything in your cart",
            Self::MinimumNotMet => "the items this code applies to do not reach its minimum",
            Self::FirstOrderOnly => "this code is for a first order only",
        }
    }

    pub fn error(self) -> crate::error::AppError {
        crate::error::AppError::refused(self.code(), self.message()).with_detail("field", "code")
    }
}

/// Whether the code is switched on and within its dates.
pub fn check_period(code: &promotion_codes::Model, now: DateTime<Utc>) -> Result<(), Refusal> {
    if !code.active {
        return Err(Refusal::Unknown);
    }
    if now < code.starts_at {
        return Err(Refusal::NotStarted);
    }
    if code.ends_at.is_some_and(|end| now >= end) {
        return Err(Refusal::Expired);
    }
    if code.max_uses.is_some_and(|max| code.uses >= i64::from(max)) {
        return Err(Refusal::UsedUp);
    }
    Ok(())
}

/// What a code is limited to; every limit given must hold.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub shop: Option<Uuid>,
    /// The category and every category below it.
    pub categories: Option<Vec<Uuid>>,
    /// The products of the collection.
    pub collection_products: Option<Vec<Uuid>>,
    pub products: Option<Vec<Uuid>>,
}

/// A cart line as the rules see it.
#[derive(Debug, Clone)]
pub struct Line {
    pub shop: Uuid,
    pub product: Uuid,
    pub category: Option<Uuid>,
    /// The line's amount in the buyer's currency and in the shop's.
    pub amount: i64,
    pub shop_amount: i64,
}

impl Scope {
    pub fn covers(&self, line: &Line) -> bool {
        self.shop.is_none_or(|s| s == line.shop)
            && self
                .categories
                .as_ref()
                .is_none_or(|c| line.category.is_some_and(|l| c.contains(&l)))
            && self
                .collection_products
                .as_ref()
                .is_none_or(|p| p.contains(&line.product))
            && self
                .products
                .as_ref()
                .is_none_or(|p| p.contains(&line.product))
    }
}

/// The offer in the buyer's currency.
#[derive(Debug, Clone, Copy)]
pub enum Offer {
    /// 1 to 100.
    Percent(i64),
    /// An amount, already converted at the order's rates.
    Fixed(i64),
}

/// One line's discount, in the buyer's and in the shop's currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineDiscount {
    pub amount: i64,
    pub shop_amount: i64,
}

/// Shares the offer among the lines (zero for lines out of scope). A fixed amount larger than
/// the covered lines is cut to them, so no total is ever negative; it is spread in proportion
/// to the lines, the remainder of rounding going to the largest fractions.
pub fn allocate(
    offer: Offer,
    scope: &Scope,
    lines: &[Line],
    minimum: Option<i64>,
) -> Result<Vec<LineDiscount>, Refusal> {
    let covered: Vec<bool> = lines.iter().map(|l| scope.covers(l)).collect();
    let base: i64 = lines
        .iter()
        .zip(&covered)
        .filter(|(_, c)| **c)
        .map(|(l, _)| l.amount)
        .sum();
    if base <= 0 {
        return Err(Refusal::NotApplicable);
    }
    if minimum.is_some_and(|m| base < m) {
        return Err(Refusal::MinimumNotMet);
    }
    let shop_share = |line: &Line, amount: i64| {
        money::share(line.shop_amount, amount, line.amount).unwrap_or(line.shop_amount)
    };
    let out = match offer {
        Offer::Percent(pct) => lines
            .iter()
            .zip(&covered)
            .map(|(line, c)| {
                if !*c || line.amount <= 0 {
                    return LineDiscount::default();
                }
                let amount = money::share(line.amount, pct, 100).unwrap_or(0);
                LineDiscount {
                    amount,
                    shop_amount: shop_share(line, amount),
                }
            })
            .collect(),
        Offer::Fixed(total) => {
            let total = total.clamp(0, base);
            // Floor shares, then one unit each to the largest remainders.
            let mut shares: Vec<(i64, i128, usize)> = lines
                .iter()
                .zip(&covered)
                .enumerate()
                .map(|(i, (line, c))| {
                    if !*c || line.amount <= 0 {
                        return (0, -1, i);
                    }
                    let n = i128::from(total) * i128::from(line.amount);
                    let d = i128::from(base);
                    (i64::try_from(n / d).unwrap_or(0), n % d, i)
                })
                .collect();
            let mut left = total - shares.iter().map(|s| s.0).sum::<i64>();
            let mut order: Vec<usize> = (0..shares.len()).collect();
            order.sort_by(|a, b| shares[*b].1.cmp(&shares[*a].1).then(a.cmp(b)));
            for i in order {
                if left == 0 {
                    break;
                }
                if shares[i].1 >= 0 {
                    shares[i].0 += 1;
                    left -= 1;
                }
            }
            shares
                .iter()
                .zip(lines)
                .map(|((amount, _, _), line)| LineDiscount {
                    amount: *amount,
                    shop_amount: if *amount == 0 {
                        0
                    } else {
                        shop_share(line, *amount)
                    },
                })
                .collect()
        }
    };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(shop: u128, product: u128, amount: i64, shop_amount: i64) -> Line {
        Line {
            shop: Uuid::from_u128(shop),
            product: Uuid::from_u128(product),
            category: None,
            amount,
            shop_amount,
        }
    }

    #[test]
    fn percent_applies_to_covered_lines_only() {
        let scope = Scope {
            shop: Some(Uuid::from_u128(1)),
            ..Scope::default()
        };
        let lines = [line(1, 10, 10_000, 340_000), line(2, 20, 5_000, 170_000)];
        let out = allocate(Offer::Percent(15), &scope, &lines, None).expect("allocated");
        assert_eq!(
            out,
            vec![
                LineDiscount {
                    amount: 1_500,
                    shop_amount: 51_000
                },
                LineDiscount::default()
            ]
        );
    }

    #[test]
    fn fixed_amount_is_spread_exactly_and_never_exceeds_the_lines() {
        let scope = Scope::default();
        let lines = [line(1, 1, 1_000, 1_000), line(1, 2, 2_000, 2_000)];
        let out = allocate(Offer::Fixed(1_001), &scope, &lines, None).expect("allocated");
        assert_eq!(out.iter().map(|d| d.amount).sum::<i64>(), 1_001);
        assert_eq!(out[0].amount, 334);
        assert_eq!(out[1].amount, 667);
        // Larger than the cart: the lines become free, never negative.
        let out = allocate(Offer::Fixed(99_999), &scope, &lines, None).expect("allocated");
        assert_eq!(out[0].amount, 1_000);
        assert_eq!(out[1].amount, 2_000);
    }

    #[test]
    fn a_code_for_another_shop_or_below_its_minimum_is_refused() {
        let scope = Scope {
            shop: Some(Uuid::from_u128(9)),
            ..Scope::default()
        };
        let lines = [line(1, 1, 1_000, 1_000)];
        assert_eq!(
            allocate(Offer::Percent(10), &scope, &lines, None),
            Err(Refusal::NotApplicable)
        );
        assert_eq!(
            allocate(Offer::Percent(10), &Scope::default(), &lines, Some(1_001)),
            Err(Refusal::MinimumNotMet)
        );
        assert!(allocate(Offer::Percent(10), &Scope::default(), &lines, Some(1_000)).is_ok());
    }

    #[test]
    fn categories_and_products_narrow_the_scope() {
        let cat = Uuid::from_u128(7);
        let mut covered = line(1, 1, 500, 500);
        covered.category = Some(cat);
        let other = line(1, 2, 500, 500);
        let scope = Scope {
            categories: Some(vec![cat]),
            ..Scope::default()
        };
        assert!(scope.covers(&covered));
        assert!(!scope.covers(&other));
        let scope = Scope {
            products: Some(vec![Uuid::from_u128(2)]),
            ..Scope::default()
        };
        assert!(!scope.covers(&covered));
        assert!(scope.covers(&other));
    }
}
