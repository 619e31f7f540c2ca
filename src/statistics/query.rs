//! Reading the cube: any combination of dimensions and measures over whole months, every
//! answer protected by the suppression rule of [`protect`].
//!
//! The privacy rule, in one place ([`answer`], [`protect`], [`rule`]):
//! 1. primary: a cell with fewer than `k` distinct shops (`statistics.min_shops`, default 3)
//!    is suppressed: every measure is withheld;
//! 2. the public (anyone, and the open-data files) reads one fixed grid, quarter × destination
//!    × craft, and every public number is a sum of that grid's published cells only
//!    (coarsened totals; a row missing some cells says so). No public number contains a
//!    suppressed cell, so no arithmetic on public numbers recovers one;
//! 3. researchers and admins ask for any dimensions by month; each answer's cells are
//!    suppressed by rule 1 and then, along every dimension, a lone suppressed cell in a group
//!    of cells that differ only in that dimension takes the group's smallest published cells
//!    with it, until the group's suppressed cells are at least two and hold at least `k`
//!    shops between them; its total is the sum of its published cells. Researchers are
//!    granted by an admin; differences between their own answers are the residual risk.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{
    facts::Measures,
    memory::{Attributes, Memory, Wanted},
};
use crate::{
    error::{AppError, AppResult},
    money::{Currency, HOME, Money},
};

pub use super::dictionary::{Dimension, Measure};

/// Narrows a table. Values as the dimensions print them.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// A craft's slug: the craft and every craft under it.
    pub craft: Option<String>,
    pub destination: Option<String>,
    pub region: Option<String>,
    pub artisan_country: Option<String>,
    pub shop_size: Option<String>,
    pub payment_method: Option<String>,
}

/// Who is asking, as far as the statistics care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: quarters, destinations and crafts.
    Open,
    /// A researcher or an admin: every dimension by month.
    Full,
}

/// A whole month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month(NaiveDate);

impl Month {
    /// Parses `YYYY-MM`.
    pub fn parse(field: &'static str, text: &str) -> AppResult<Self> {
        NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d")
            .map(Self)
            .map_err(|_| AppError::invalid(field, "a month is written YYYY-MM"))
    }

    pub fn text(self) -> String {
        self.0.format("%Y-%m").to_string()
    }

    /// Months since year 0: `year * 12 + month0`.
    pub(super) fn index(self) -> u32 {
        (self.0.year().max(0) as u32) * 12 + self.0.month0()
    }

    pub(super) fn from_index(index: u32) -> Self {
        Self(
            NaiveDate::from_ymd_opt((index / 12) as i32, index % 12 + 1, 1)
                .unwrap_or(NaiveDate::MIN),
        )
    }

    fn quarter_start(self) -> Self {
        let m = (self.0.month0() / 3) * 3 + 1;
        Self(NaiveDate::from_ymd_opt(self.0.year(), m, 1).unwrap_or(self.0))
    }

    fn quarter_end(self) -> Self {
        let m = (self.0.month0() / 3) * 3 + 3;
        Self(NaiveDate::from_ymd_opt(self.0.year(), m, 1).unwrap_or(self.0))
    }

    fn months_to(self, to: Self) -> i32 {
        (to.0.year() - self.0.year()) * 12 + to.0.month() as i32 - self.0.month() as i32
    }

    /// The first and last month of a quarter such as `2026-Q3`.
    pub fn quarter(text: &str) -> Option<(Self, Self)> {
        let (year, q) = text.split_once("-Q")?;
        let (year, q): (i32, u32) = (year.parse().ok()?, q.parse().ok()?);
        if !(1..=4).contains(&q) {
            return None;
        }
        let first = NaiveDate::from_ymd_opt(year, (q - 1) * 3 + 1, 1)?;
        Some((Self(first), Self(first).quarter_end()))
    }

    /// The quarter this month is in, `YYYY-Qn`.
    pub fn quarter_text(self) -> String {
        format!("{}-Q{}", self.0.year(), self.0.month0() / 3 + 1)
    }
}

/// The longest range one question covers: ten years.
const MAX_MONTHS: i32 = 120;

/// A question to the cube.
#[derive(Debug, Clone)]
pub struct Request {
    pub dimensions: Vec<Dimension>,
    pub measures: Vec<Measure>,
    pub from: Month,
    pub to: Month,
    pub filter: Filter,
}

/// A column of an answer.
#[derive(Debug, Clone)]
pub struct Column {
    pub key: &'static str,
    pub is_dimension: bool,
    pub description_en: &'static str,
    pub description_mn: &'static str,
}

/// A row of an answer: dimension values, then measures (`None` where withheld).
#[derive(Debug, Clone)]
pub struct Row {
    pub values: Vec<Option<String>>,
    pub suppressed: bool,
    /// Some of the cells it sums were withheld: its figures are lower bounds.
    pub coarsened: bool,
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    /// The published rows summed (measures only; dimension values are empty).
    pub total: Row,
    pub from: Month,
    pub to: Month,
    pub min_shops: usize,
}

/// The suppression rule as the files and the API state it.
pub fn rule(k: usize) -> String {
    format!(
        "A cell with fewer than {k} distinct shops is suppressed. Public figures are sums of \
         the published cells of one grid (quarter x destination country x craft) only, so no \
         suppressed cell is part of any public figure; a row marked coarsened lacks some \
         cells. Researchers' tables also suppress, along every dimension, further cells until \
         each group's suppressed cells are at least two and hold at least {k} shops between \
         them. Totals are the sums of the published rows only."
    )
}

/// One cell while it is being built.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    pub measures: Measures,
    pub shops: BTreeSet<Uuid>,
    /// Named makers (filled when active makers are asked for).
    pub makers: BTreeSet<Uuid>,
    /// Orders by whole days to ship (S) and to deliver (D).
    pub days: HashMap<(char, i32), i64>,
}

/// Checks a request against the caller's access and settles its range: the public's ranges
/// widen to whole quarters, so no answer splits a quarter.
pub fn settle(mut req: Request, access: Access) -> AppResult<Request> {
    if req.dimensions.len() > 4 {
        return Err(AppError::invalid(
            "dimensions",
            "at most four dimensions at once",
        ));
    }
    if req.measures.is_empty() {
        return Err(AppError::invalid(
            "measures",
            "ask for at least one measure",
        ));
    }
    let mut seen = BTreeSet::new();
    if !req.dimensions.iter().all(|d| seen.insert(*d)) {
        return Err(AppError::invalid("dimensions", "a dimension is repeated"));
    }
    if req.to < req.from {
        return Err(AppError::invalid("to", "the range ends before it starts"));
    }
    if let Some(m) = req
        .measures
        .iter()
        .find(|m| !m.by_makers())
        .filter(|_| req.dimensions.iter().any(|d| d.is_maker()))
    {
        return Err(AppError::invalid(
            "measures",
            format!(
                "{} is counted per order; by makers' characteristics ask for values, \
                 the artisans' share, active shops or active makers",
                m.key()
            ),
        ));
    }
    if access == Access::Open {
        if let Some(d) = req.dimensions.iter().find(|d| !d.is_open()) {
            return Err(AppError::Forbidden(format!(
                "{} is for researchers; the open data is by quarter, destination and craft",
                d.key()
            )));
        }
        let f = &req.filter;
        if f.region.is_some()
            || f.artisan_country.is_some()
            || f.shop_size.is_some()
            || f.payment_method.is_some()
        {
            return Err(AppError::Forbidden(
                "only craft and destination filters are open; the rest is for researchers".into(),
            ));
        }
        req.from = req.from.quarter_start();
        req.to = req.to.quarter_end();
    }
    if req.from.months_to(req.to) >= MAX_MONTHS {
        return Err(AppError::invalid("to", "at most ten years at once"));
    }
    Ok(req)
}

/// Answers a settled request from the copy of the cubes in memory: researchers' at the
/// resolution asked, the public's from the open grid of quarter × destination × craft (see
/// the module's rule).
pub async fn answer(
    db: &impl ConnectionTrait,
    memory: &Memory,
    req: &Request,
    access: Access,
    k: usize,
) -> AppResult<Table> {
    let by_makers = req.dimensions.iter().any(|d| d.is_maker());
    let wanted = Wanted {
        by_makers,
        makers: req.measures.contains(&Measure::ActiveMakers),
        days: req.measures.iter().any(|m| m.wants_days()),
    };
    match access {
        Access::Full => {
            let attributes = Attributes::read(db, &req.dimensions, &req.filter, by_makers).await?;
            let cells = memory.current(db).await?.cells(
                &req.dimensions,
                req.from,
                req.to,
                &req.filter,
                &attributes,
                wanted,
            );
            let listed: Vec<(Vec<String>, Cell)> = cells.into_iter().collect();
            let hidden = protect(
                &listed
                    .iter()
                    .map(|(key, c)| (key.as_slice(), &c.shops, c.measures.gross_mnt))
                    .collect::<Vec<_>>(),
                k,
            );
            let rows = listed
                .into_iter()
                .enumerate()
                .map(|(i, (key, cell))| Part {
                    key,
                    published: (!hidden.contains(&i)).then_some(cell),
                    withheld: hidden.contains(&i),
                })
                .collect();
            Ok(tabulate(req, rows, k))
        }
        Access::Open => {
            let attributes = Attributes::read(db, &OPEN_GRID, &Filter::default(), false).await?;
            let base = memory.current(db).await?.cells(
                &OPEN_GRID,
                req.from,
                req.to,
                &Filter::default(),
                &attributes,
                wanted,
            );
            Ok(tabulate(req, coarsen(req, base, k), k))
        }
    }
}

/// The one grid every public figure is summed from.
const OPEN_GRID: [Dimension; 4] = [
    Dimension::Quarter,
    Dimension::Destination,
    Dimension::Craft,
    Dimension::CraftGroup,
];

/// A public answer (the open data, the charts page): settled and answered as anyone sees it.
pub async fn public(
    db: &impl ConnectionTrait,
    memory: &Memory,
    req: Request,
    k: usize,
) -> AppResult<Table> {
    let req = settle(req, Access::Open)?;
    answer(db, memory, &req, Access::Open, k).await
}

/// A row being built from cells: what was published of it, and whether any was withheld.
#[derive(Debug, Clone)]
pub struct Part {
    pub key: Vec<String>,
    pub published: Option<Cell>,
    pub withheld: bool,
}

/// Sums the published cells of the open grid into the requested dimensions, keeping the
/// requested filters; a row none of whose cells was published is suppressed, one some of
/// whose cells were withheld is marked coarsened.
fn coarsen(req: &Request, base: BTreeMap<Vec<String>, Cell>, k: usize) -> Vec<Part> {
    let mut rows: BTreeMap<Vec<String>, Part> = BTreeMap::new();
    for (key, cell) in base {
        let [quarter, destination, craft, group] = [&key[0], &key[1], &key[2], &key[3]];
        if req
            .filter
            .destination
            .as_ref()
            .is_some_and(|d| !d.trim().eq_ignore_ascii_case(destination))
            || req
                .filter
                .craft
                .as_ref()
                .is_some_and(|c| c.trim() != craft && c.trim() != group)
        {
            continue;
        }
        let projected: Vec<String> = req
            .dimensions
            .iter()
            .map(|d| match d {
                Dimension::Year => quarter.get(..4).unwrap_or_default().to_owned(),
                Dimension::Destination => destination.clone(),
                Dimension::Craft => craft.clone(),
                Dimension::CraftGroup => group.clone(),
                _ => quarter.clone(),
            })
            .collect();
        let row = rows.entry(projected.clone()).or_insert(Part {
            key: projected,
            published: None,
            withheld: false,
        });
        if cell.shops.len() < k {
            row.withheld = true;
            continue;
        }
        let sum = row.published.get_or_insert_with(Cell::default);
        sum.measures += cell.measures;
        sum.shops.extend(cell.shops);
        sum.makers.extend(cell.makers);
        for (d, n) in cell.days {
            *sum.days.entry(d).or_default() += n;
        }
    }
    rows.into_values().collect()
}

/// Lays rows out as an answer; the total sums the published rows only.
pub fn tabulate(req: &Request, parts: Vec<Part>, k: usize) -> Table {
    let mut columns: Vec<Column> = req
        .dimensions
        .iter()
        .map(|d| {
            let (en, mn) = d.describe();
            Column {
                key: d.key(),
                is_dimension: true,
                description_en: en,
                description_mn: mn,
            }
        })
        .collect();
    columns.extend(req.measures.iter().map(|m| {
        let (en, mn) = m.describe();
        Column {
            key: m.key(),
            is_dimension: false,
            description_en: en,
            description_mn: mn,
        }
    }));
    let mut total = Cell::default();
    let mut rows = Vec::with_capacity(parts.len());
    for part in parts {
        let mut values: Vec<Option<String>> = part.key.into_iter().map(Some).collect();
        match &part.published {
            None => values.extend(req.measures.iter().map(|_| None)),
            Some(cell) => {
                values.extend(req.measures.iter().map(|m| Some(value(*m, cell))));
                total.measures += cell.measures;
                total.shops.extend(cell.shops.iter().copied());
                total.makers.extend(cell.makers.iter().copied());
                for (d, n) in &cell.days {
                    *total.days.entry(*d).or_default() += n;
                }
            }
        }
        rows.push(Row {
            values,
            suppressed: part.published.is_none(),
            coarsened: part.published.is_some() && part.withheld,
        });
    }
    let mut total_values: Vec<Option<String>> = req.dimensions.iter().map(|_| None).collect();
    total_values.extend(
        req.measures
            .iter()
            .map(|m| (!total.shops.is_empty()).then(|| value(*m, &total))),
    );
    Table {
        columns,
        rows,
        total: Row {
            values: total_values,
            suppressed: false,
            coarsened: false,
        },
        from: req.from,
        to: req.to,
        min_shops: k,
    }
}

fn amount(minor: i64, code: &str) -> String {
    Currency::parse(code).map_or_else(|| minor.to_string(), |c| Money::new(minor, c).amount())
}

fn ratio(part: i64, whole: i64) -> String {
    if whole == 0 {
        return "0.0".into();
    }
    format!("{:.1}", part as f64 * 100.0 / whole as f64)
}

fn average(sum: i64, n: i64, code: &str) -> String {
    amount(if n == 0 { 0 } else { sum / n }, code)
}

/// A measure of a cell, as text (amounts in major units, rates in percent).
fn value(m: Measure, c: &Cell) -> String {
    let x = &c.measures;
    match m {
        Measure::Orders => x.orders.to_string(),
        Measure::Units => x.units.to_string(),
        Measure::GrossMnt => amount(x.gross_mnt, HOME),
        Measure::GrossUsd => amount(x.gross_usd, "USD"),
        Measure::ArtisansShareMnt => amount(x.share_mnt, HOME),
        Measure::ArtisansShareUsd => amount(x.share_usd, "USD"),
        Measure::ArtisansSharePercent => ratio(x.share_mnt, x.gross_mnt),
        Measure::AverageOrderMnt => average(x.gross_mnt, x.orders, HOME),
        Measure::AverageOrderUsd => average(x.gross_usd, x.orders, "USD"),
        Measure::ActiveShops => c.shops.len().to_string(),
        Measure::ActiveMakers => c.makers.len().to_string(),
        Measure::NewBuyers => x.new_buyers.to_string(),
        Measure::RepeatBuyerOrders => x.repeat_orders.to_string(),
        Measure::MedianDaysToShip => median(&c.days, 'S'),
        Measure::MedianDaysToDeliver => median(&c.days, 'D'),
        Measure::RefundRate => ratio(x.refunded_orders, x.orders),
    }
}

/// The median of a histogram of whole days; empty when nothing was counted.
fn median(days: &HashMap<(char, i32), i64>, kind: char) -> String {
    let mut hist: Vec<(i32, i64)> = days
        .iter()
        .filter(|((k, _), n)| *k == kind && **n > 0)
        .map(|((_, d), n)| (*d, *n))
        .collect();
    hist.sort_unstable();
    let n: i64 = hist.iter().map(|(_, c)| c).sum();
    if n == 0 {
        return String::new();
    }
    let nth = |i: i64| {
        let mut seen = 0;
        for (d, c) in &hist {
            seen += c;
            if seen > i {
                return f64::from(*d);
            }
        }
        0.0
    };
    let m = if n % 2 == 1 {
        nth(n / 2)
    } else {
        (nth(n / 2 - 1) + nth(n / 2)) / 2.0
    };
    format!("{m:.1}")
}

/// Which cells to withhold: the primary and secondary suppression of the module's rule.
/// Cells are given as (dimension values, shops, size); a smaller size is suppressed first.
pub fn protect(cells: &[(&[String], &BTreeSet<Uuid>, i64)], k: usize) -> BTreeSet<usize> {
    let mut hidden: Vec<bool> = cells.iter().map(|c| c.1.len() < k).collect();
    let dims = cells.first().map_or(0, |c| c.0.len());
    // Per dimension, the groups of cells that differ only in it, in the order of the rest of
    // their values (so the rule's choices never depend on a hash).
    let groups: Vec<Vec<usize>> = (0..dims)
        .flat_map(|d| {
            let mut by_rest: foldhash::HashMap<Vec<&str>, Vec<usize>> = Default::default();
            for (i, (key, _, _)) in cells.iter().enumerate() {
                let rest: Vec<&str> = key
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != d)
                    .map(|(_, v)| v.as_str())
                    .collect();
                by_rest.entry(rest).or_default().push(i);
            }
            let mut listed: Vec<(Vec<&str>, Vec<usize>)> = by_rest.into_iter().collect();
            listed.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            listed.into_iter().map(|(_, members)| members)
        })
        .collect();
    // Whether the suppressed members of a group hold at least k shops between them.
    let enough = |members: &[usize], hidden: &[bool]| {
        let mut shops: BTreeSet<&Uuid> = BTreeSet::new();
        for i in members.iter().filter(|i| hidden[**i]) {
            shops.extend(cells[*i].1.iter());
            if shops.len() >= k {
                return true;
            }
        }
        false
    };
    loop {
        let mut changed = false;
        for members in &groups {
            loop {
                let gone = members.iter().filter(|i| hidden[**i]).count();
                if gone == 0 || (gone >= 2 && enough(members, &hidden)) {
                    break;
                }
                let Some(next) = members
                    .iter()
                    .copied()
                    .filter(|i| !hidden[*i])
                    .min_by_key(|i| (cells[*i].1.len(), cells[*i].2, *i))
                else {
                    break;
                };
                hidden[next] = true;
                changed = true;
            }
        }
        if !changed {
            return hidden
                .iter()
                .enumerate()
                .filter(|(_, h)| **h)
                .map(|(i, _)| i)
                .collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shops(ids: &[u128]) -> BTreeSet<Uuid> {
        ids.iter().map(|i| Uuid::from_u128(*i)).collect()
    }

    fn protected(cells: &[(Vec<String>, BTreeSet<Uuid>, i64)], k: usize) -> BTreeSet<usize> {
        protect(
            &cells
                .iter()
                .map(|(key, shops, size)| (key.as_slice(), shops, *size))
                .collect::<Vec<_>>(),
            k,
        )
    }

    fn cell(a: &str, b: &str, ids: &[u128], size: i64) -> (Vec<String>, BTreeSet<Uuid>, i64) {
        (vec![a.into(), b.into()], shops(ids), size)
    }

    #[test]
    fn a_lone_small_cell_takes_company_along_every_dimension() {
        // Germany × felt is one shop's; everything else has three.
        let cells = vec![
            cell("DE", "felt", &[1], 10),
            cell("DE", "cashmere", &[2, 3, 4], 20),
            cell("DE", "wood", &[5, 6, 7], 40),
            cell("JP", "felt", &[2, 3, 5], 30),
            cell("JP", "cashmere", &[2, 3, 4], 25),
            cell("JP", "wood", &[5, 6, 7], 70),
            cell("US", "felt", &[2, 3, 5], 90),
            cell("US", "cashmere", &[2, 3, 4], 90),
            cell("US", "wood", &[5, 6, 7], 90),
        ];
        let hidden = protected(&cells, 3);
        assert!(hidden.contains(&0));
        // In Germany's row and in felt's column another cell is withheld with it, and those
        // in turn are not alone in theirs.
        for d in 0..2 {
            let mut groups: BTreeMap<&String, Vec<usize>> = BTreeMap::new();
            for (i, c) in cells.iter().enumerate() {
                groups.entry(&c.0[1 - d]).or_default().push(i);
            }
            for members in groups.values() {
                let gone: Vec<_> = members.iter().filter(|i| hidden.contains(i)).collect();
                assert!(gone.is_empty() || gone.len() >= 2, "{gone:?} alone");
            }
        }
        // The smallest rectangle through the small cell: Germany and Japan × felt and cashmere.
        assert_eq!(hidden, BTreeSet::from([0, 1, 3, 4]));
    }

    #[test]
    fn suppressed_cells_together_hold_k_shops() {
        // Two one-shop cells would shield each other only from outsiders; a third joins them.
        let cells = vec![
            (vec!["A".into()], shops(&[1]), 1),
            (vec!["B".into()], shops(&[2]), 1),
            (vec!["C".into()], shops(&[3, 4, 5]), 9),
            (vec!["D".into()], shops(&[6, 7, 8]), 8),
        ];
        assert_eq!(protected(&cells, 3), BTreeSet::from([0, 1, 3]));
    }

    #[test]
    fn medians_read_from_histograms() {
        let mut days = HashMap::new();
        days.insert(('S', 1), 2);
        days.insert(('S', 4), 1);
        days.insert(('D', 10), 1);
        days.insert(('D', 12), 1);
        assert_eq!(median(&days, 'S'), "1.0");
        assert_eq!(median(&days, 'D'), "11.0");
        assert_eq!(median(&HashMap::new(), 'S'), "");
    }

    #[test]
    fn the_public_sees_whole_quarters_by_destination_and_craft() {
        let m = |t| Month::parse("from", t).expect("month");
        let req = Request {
            dimensions: vec![Dimension::Destination],
            measures: vec![Measure::Orders],
            from: m("2026-02"),
            to: m("2026-05"),
            filter: Filter::default(),
        };
        let open = settle(req.clone(), Access::Open).expect("open");
        assert_eq!(
            (open.from.text(), open.to.text()),
            ("2026-01".into(), "2026-06".into())
        );
        let monthly = Request {
            dimensions: vec![Dimension::Month],
            ..req.clone()
        };
        assert!(matches!(
            settle(monthly.clone(), Access::Open),
            Err(AppError::Forbidden(_))
        ));
        assert!(settle(monthly, Access::Full).is_ok());
        assert_eq!(
            Month::quarter("2026-Q3").map(|(a, b)| (a.text(), b.text())),
            Some(("2026-07".into(), "2026-09".into()))
        );
    }
}
