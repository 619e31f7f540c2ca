//! Summing a question from the copy: which rows it keeps, how it labels them by the shops',
//! crafts' and makers' attributes as they are now, and the groups it adds them into.

use std::collections::{BTreeMap, BTreeSet};

use foldhash::HashMap;
use sea_orm::{ConnectionTrait, Statement};
use uuid::Uuid;

use super::{Block, BlockKey, Cubes, Key, Names, Place, View};
use crate::{
    error::AppResult,
    statistics::{
        facts::Measures,
        query::{Cell, Dimension, Filter, Month},
    },
};

/// What a question needs to know of the shops, crafts and makers, as they are now.
#[derive(Debug, Default)]
pub struct Attributes {
    /// Slug and parent's slug.
    pub categories: HashMap<Uuid, (String, Option<String>)>,
    /// Region, country and size band.
    pub shops: HashMap<Uuid, [String; 3]>,
    pub makers: HashMap<Uuid, Maker>,
}

/// A maker's characteristics as researchers may use them: empty without consent.
#[derive(Debug, Clone, Default)]
pub struct Maker {
    pub consented: bool,
    pub gender: Option<String>,
    pub birth_year: Option<i32>,
    pub cooperative_member: Option<bool>,
    pub region: String,
    pub years_practising: Option<i32>,
}

impl Attributes {
    /// Reads what `dims` and `filter` need (and the makers when `makers`).
    pub async fn read(
        db: &impl ConnectionTrait,
        dims: &[Dimension],
        filter: &Filter,
        makers: bool,
    ) -> AppResult<Self> {
        let backend = db.get_database_backend();
        let all =
            |sql: &'static str| db.query_all_raw(Statement::from_string(backend, sql.to_owned()));
        let mut out = Self::default();
        let needs = |d: Dimension| dims.contains(&d);
        if needs(Dimension::Craft) || needs(Dimension::CraftGroup) || filter.craft.is_some() {
            let rows = all("SELECT id, slug, parent_id FROM categories").await?;
            let mut slugs: HashMap<Uuid, String> = HashMap::default();
            let mut parents: Vec<(Uuid, Option<Uuid>)> = Vec::new();
            for row in rows {
                let id: Uuid = row.try_get_by_index(0)?;
                slugs.insert(id, row.try_get_by_index(1)?);
                parents.push((id, row.try_get_by_index(2)?));
            }
            for (id, parent) in parents {
                let parent = parent.and_then(|p| slugs.get(&p).cloned());
                if let Some(slug) = slugs.get(&id) {
                    out.categories.insert(id, (slug.clone(), parent));
                }
            }
        }
        let of_shop = [
            Dimension::Region,
            Dimension::ArtisanCountry,
            Dimension::ShopSize,
        ];
        if of_shop.iter().any(|d| needs(*d))
            || filter.region.is_some()
            || filter.artisan_country.is_some()
            || filter.shop_size.is_some()
        {
            let mut sizes: HashMap<Uuid, i64> = HashMap::default();
            for row in all("SELECT shop_id, COUNT(*) FROM makers GROUP BY shop_id").await? {
                sizes.insert(row.try_get_by_index(0)?, row.try_get_by_index(1)?);
            }
            for row in all("SELECT id, region, country FROM shops").await? {
                let id: Uuid = row.try_get_by_index(0)?;
                let size = match sizes.get(&id).copied().unwrap_or(0) {
                    ..=1 => "SOLO",
                    2..=5 => "WORKSHOP",
                    _ => "ENTERPRISE",
                };
                out.shops.insert(
                    id,
                    [
                        row.try_get_by_index(1)?,
                        row.try_get_by_index(2)?,
                        size.to_owned(),
                    ],
                );
            }
        }
        if makers {
            for row in all(
                "SELECT id, statistics_consent_at, gender, birth_year, cooperative_member, \
                 region, years_practising FROM makers",
            )
            .await?
            {
                let consent: Option<chrono::DateTime<chrono::Utc>> = row.try_get_by_index(1)?;
                out.makers.insert(
                    row.try_get_by_index(0)?,
                    Maker {
                        consented: consent.is_some(),
                        gender: row.try_get_by_index(2)?,
                        birth_year: row.try_get_by_index(3)?,
                        cooperative_member: row.try_get_by_index(4)?,
                        region: row.try_get_by_index(5)?,
                        years_practising: row.try_get_by_index(6)?,
                    },
                );
            }
        }
        Ok(out)
    }
}

/// What to sum.
#[derive(Debug, Clone, Copy)]
pub struct Wanted {
    /// Break down by makers' characteristics: values from the makers' cube.
    pub by_makers: bool,
    /// List the makers of each cell.
    pub makers: bool,
    /// Histograms of days to ship and deliver.
    pub days: bool,
}

/// Labels of the dimensions that are not numbers of months: the code indexes `labels`.
struct Axis {
    dim: Dimension,
    /// Per interned id of the source the dimension reads (category, shop, maker): its code,
    /// `None` to leave the row out.
    codes: Vec<Option<u32>>,
    labels: Vec<String>,
}

/// Age bands, as [`Dimension::MakerAgeBand`] labels them.
const AGE_BANDS: [&str; 7] = [
    "UNDECLARED",
    "<25",
    "25-34",
    "35-44",
    "45-54",
    "55-64",
    "65+",
];

fn age_band(birth_year: Option<i32>, year: i32) -> u32 {
    match birth_year.map(|b| year - b) {
        None => 0,
        Some(..25) => 1,
        Some(25..35) => 2,
        Some(35..45) => 3,
        Some(45..55) => 4,
        Some(55..65) => 5,
        Some(_) => 6,
    }
}

/// One group while summing.
#[derive(Default)]
struct Sum {
    measures: Measures,
    shops: Ids,
    makers: Ids,
    days: std::collections::HashMap<(char, i32), i64>,
}

/// The groups of an answer by number, their sums apart (a sum is large, and the index grows
/// while it is built), in the order they were found.
#[derive(Default)]
struct Groups {
    index: HashMap<[u32; 4], usize>,
    keys: Vec<[u32; 4]>,
    sums: Vec<Sum>,
}

impl Groups {
    fn sum(&mut self, group: [u32; 4]) -> &mut Sum {
        let i = *self.index.entry(group).or_insert_with(|| {
            self.keys.push(group);
            self.sums.push(Sum::default());
            self.sums.len() - 1
        });
        &mut self.sums[i]
    }

    /// A group found before, not made anew.
    fn found(&mut self, group: [u32; 4]) -> Option<&mut Sum> {
        let i = *self.index.get(&group)?;
        self.sums.get_mut(i)
    }
}

/// Small numbers, deduplicated now and then while they are added.
#[derive(Default)]
struct Ids {
    list: Vec<u32>,
    unique: usize,
}

impl Ids {
    fn add(&mut self, id: u32) {
        if self.list.last() == Some(&id) {
            return;
        }
        self.list.push(id);
        if self.list.len() > 2 * self.unique + 64 {
            self.settle();
        }
    }

    fn settle(&mut self) {
        self.list.sort_unstable();
        self.list.dedup();
        self.unique = self.list.len();
    }

    fn into_set(mut self) -> BTreeSet<Uuid> {
        self.settle();
        self.list
            .into_iter()
            .map(|id| Uuid::from_u128(u128::from(id) + 1))
            .collect()
    }
}

impl View<'_> {
    /// The cells of `dims` within `from..=to` and `filter`, each with its shops (and makers
    /// and days as wanted), under the cubes' rules for live rows: a shop cell counts when it
    /// has orders or units, a maker's part when it has value. Shops and makers are given as
    /// numbers that stand for one each within this answer.
    pub fn cells(
        &self,
        dims: &[Dimension],
        from: Month,
        to: Month,
        filter: &Filter,
        attributes: &Attributes,
        wanted: Wanted,
    ) -> BTreeMap<Vec<String>, Cell> {
        let c = &*self.0;
        let Some(pass) = Pass::new(c, dims, from, to, filter, attributes) else {
            return BTreeMap::new();
        };
        let mut groups = Groups::default();
        let blocks = c.blocks.iter().filter(|(k, _)| pass.wants(k));
        if wanted.by_makers {
            for (bk, block) in blocks {
                for (place, maker, p) in &block.parts {
                    if p[0] == 0 && p[1] == 0 && p[2] == 0 {
                        continue;
                    }
                    let Some(group) = pass.group(&Key::join(*bk, *place), Some(*maker)) else {
                        continue;
                    };
                    let sum = groups.sum(group);
                    let m = &mut sum.measures;
                    m.gross_mnt += p[0];
                    m.gross_usd += p[1];
                    m.share_mnt += p[2];
                    m.share_usd += p[3];
                    sum.shops.add(bk.shop);
                    if pass.named(*maker) {
                        sum.makers.add(*maker);
                    }
                }
            }
        } else {
            let blocks: Vec<(&BlockKey, &Block)> = blocks.collect();
            for (bk, block) in &blocks {
                for (place, m) in &block.cells {
                    if m.orders == 0 && m.units == 0 {
                        continue;
                    }
                    if let Some(group) = pass.group(&Key::join(**bk, *place), None) {
                        let sum = groups.sum(group);
                        sum.measures += *m;
                        sum.shops.add(bk.shop);
                    }
                }
            }
            let found = |bk: &BlockKey, place: &Place| pass.group(&Key::join(*bk, *place), None);
            if wanted.makers {
                for (bk, block) in &blocks {
                    for (place, maker, p) in &block.parts {
                        if (p[0] == 0 && p[1] == 0 && p[2] == 0) || !pass.named(*maker) {
                            continue;
                        }
                        if let Some(sum) = found(bk, place).and_then(|g| groups.found(g)) {
                            sum.makers.add(*maker);
                        }
                    }
                }
            }
            if wanted.days {
                for (bk, block) in &blocks {
                    for (place, kind, d, n) in &block.days {
                        if let Some(sum) = found(bk, place).and_then(|g| groups.found(g)) {
                            let kind = if *kind == 1 { 'D' } else { 'S' };
                            *sum.days.entry((kind, *d)).or_default() += n;
                        }
                    }
                }
            }
        }
        groups
            .keys
            .into_iter()
            .zip(groups.sums)
            .map(|(group, sum)| {
                (
                    pass.labels(&group),
                    Cell {
                        measures: sum.measures,
                        shops: sum.shops.into_set(),
                        makers: sum.makers.into_set(),
                        days: sum.days,
                    },
                )
            })
            .collect()
    }

    /// The quarters with sales, newest first.
    pub fn quarters(&self) -> Vec<String> {
        let quarters: BTreeSet<u32> = self
            .0
            .blocks
            .iter()
            .filter(|(_, b)| b.cells.iter().any(|(_, m)| m.orders != 0 || m.units != 0))
            .map(|(k, _)| k.month / 3)
            .collect();
        quarters
            .into_iter()
            .rev()
            .map(|q| Month::from_index(q * 3).quarter_text())
            .collect()
    }

    /// Per craft (slug) and shop: orders, units and gross USD of the shops' sales abroad
    /// (outside the shop's own country), within `from..=to`, for the crafts `shop` sold.
    pub fn exports_by_craft(
        &self,
        shop: Uuid,
        from: Month,
        to: Month,
        attributes: &Attributes,
    ) -> BTreeMap<String, BTreeMap<Uuid, [i64; 3]>> {
        let c = &*self.0;
        let (from, to) = (from.index(), to.index());
        let Some(own) = c.shops.find(&shop) else {
            return BTreeMap::new();
        };
        let in_range = |k: &&BlockKey| (from..=to).contains(&k.month);
        let sold: BTreeSet<u32> = c
            .blocks
            .keys()
            .filter(in_range)
            .filter(|k| k.shop == own)
            .map(|k| k.category)
            .collect();
        let mut out: BTreeMap<String, BTreeMap<Uuid, [i64; 3]>> = BTreeMap::new();
        for (k, block) in &c.blocks {
            if !in_range(&k) || !sold.contains(&k.category) {
                continue;
            }
            let id = c.shops.values[k.shop as usize];
            let Some([_, country, _]) = attributes.shops.get(&id) else {
                continue;
            };
            let craft = attributes
                .categories
                .get(&c.categories.values[k.category as usize])
                .map_or("uncategorised", |(slug, _)| slug.as_str());
            for (place, m) in &block.cells {
                if c.countries.values[place.country as usize] == *country {
                    continue;
                }
                let sums = out
                    .entry(craft.to_owned())
                    .or_default()
                    .entry(id)
                    .or_default();
                sums[0] += m.orders;
                sums[1] += m.units;
                sums[2] += m.gross_usd;
            }
        }
        out
    }
}

/// One question's way through the copy: which rows it keeps and how it groups them.
struct Pass<'a> {
    cubes: &'a Cubes,
    dims: Vec<Dimension>,
    axes: Vec<Option<Axis>>,
    from: u32,
    to: u32,
    country: Option<u32>,
    method: Option<u32>,
    categories: Option<Vec<bool>>,
    shops: Option<Vec<bool>>,
    /// Per maker: its declared characteristics, when the question reads them.
    makers: Vec<Option<&'a Maker>>,
    nil_maker: Option<u32>,
}

impl<'a> Pass<'a> {
    /// `None` when the filter matches nothing the copy holds.
    fn new(
        c: &'a Cubes,
        dims: &[Dimension],
        from: Month,
        to: Month,
        f: &Filter,
        at: &'a Attributes,
    ) -> Option<Self> {
        let upper = |v: &Option<String>| v.as_ref().map(|v| v.trim().to_ascii_uppercase());
        let country = match upper(&f.destination) {
            Some(code) => Some(c.countries.find(&code)?),
            None => None,
        };
        let method = match upper(&f.payment_method) {
            Some(code) => Some(c.methods.find(&code)?),
            None => None,
        };
        let categories = f.craft.as_ref().map(|craft| {
            let craft = craft.trim();
            c.categories
                .values
                .iter()
                .map(|id| {
                    at.categories.get(id).is_some_and(|(slug, parent)| {
                        slug == craft || parent.as_deref() == Some(craft)
                    })
                })
                .collect()
        });
        let region = f.region.as_ref().map(|r| r.trim().to_owned());
        let (artisan_country, size) = (upper(&f.artisan_country), upper(&f.shop_size));
        let shops = (region.is_some() || artisan_country.is_some() || size.is_some()).then(|| {
            c.shops
                .values
                .iter()
                .map(|id| {
                    at.shops.get(id).is_some_and(|[r, country, s]| {
                        region.as_ref().is_none_or(|v| v == r)
                            && artisan_country.as_ref().is_none_or(|v| v == country)
                            && size.as_ref().is_none_or(|v| v == s)
                    })
                })
                .collect()
        });
        let makers = c.makers.values.iter().map(|id| at.makers.get(id)).collect();
        let axes = dims.iter().map(|d| Self::axis(c, *d, at)).collect();
        Some(Self {
            cubes: c,
            dims: dims.to_vec(),
            axes,
            from: from.index(),
            to: to.index(),
            country,
            method,
            categories,
            shops,
            makers,
            nil_maker: c.makers.find(&Uuid::nil()),
        })
    }

    /// How a dimension that reads a category, shop or maker labels each of them.
    fn axis(c: &Cubes, dim: Dimension, at: &Attributes) -> Option<Axis> {
        let mut labels: Names<String> = Names::default();
        let codes: Vec<Option<u32>> = match dim {
            Dimension::Craft | Dimension::CraftGroup => c
                .categories
                .values
                .iter()
                .map(|id| {
                    let label = match (at.categories.get(id), dim) {
                        (None, _) => "uncategorised",
                        (Some((_, Some(parent))), Dimension::CraftGroup) => parent.as_str(),
                        (Some((slug, _)), _) => slug.as_str(),
                    };
                    Some(labels.id(label.to_owned()))
                })
                .collect(),
            Dimension::Region | Dimension::ArtisanCountry | Dimension::ShopSize => {
                let i = match dim {
                    Dimension::Region => 0,
                    Dimension::ArtisanCountry => 1,
                    _ => 2,
                };
                c.shops
                    .values
                    .iter()
                    .map(|id| at.shops.get(id).map(|a| labels.id(a[i].clone())))
                    .collect()
            }
            Dimension::MakerGender
            | Dimension::MakerCooperative
            | Dimension::MakerRegion
            | Dimension::MakerExperience => c
                .makers
                .values
                .iter()
                .map(|id| Some(labels.id(maker_label(dim, at.makers.get(id)))))
                .collect(),
            _ => return None,
        };
        Some(Axis {
            dim,
            codes,
            labels: labels.values,
        })
    }

    /// Whether a block's month, shop and craft are in the question at all.
    fn wants(&self, k: &BlockKey) -> bool {
        k.month >= self.from
            && k.month <= self.to
            && self
                .categories
                .as_ref()
                .is_none_or(|ok| ok[k.category as usize])
            && self.shops.as_ref().is_none_or(|ok| ok[k.shop as usize])
    }

    /// Whether a maker is a named one (not the nil id of lines without makers).
    fn named(&self, maker: u32) -> bool {
        self.nil_maker != Some(maker)
    }

    /// The group a row belongs to, or `None` when the question leaves it out.
    fn group(&self, k: &Key, maker: Option<u32>) -> Option<[u32; 4]> {
        if k.month < self.from
            || k.month > self.to
            || self.country.is_some_and(|c| c != k.country)
            || self.method.is_some_and(|m| m != k.method)
            || self
                .categories
                .as_ref()
                .is_some_and(|ok| !ok[k.category as usize])
            || self.shops.as_ref().is_some_and(|ok| !ok[k.shop as usize])
        {
            return None;
        }
        let mut group = [0u32; 4];
        for (i, dim) in self.dims.iter().enumerate() {
            group[i] = match (dim, &self.axes[i]) {
                (Dimension::Month, _) => k.month,
                (Dimension::Quarter, _) => k.month / 3,
                (Dimension::Year, _) => k.month / 12,
                (Dimension::Destination, _) => k.country,
                (Dimension::PaymentMethod, _) => k.method,
                (Dimension::MakerAgeBand, _) => {
                    let birth = maker
                        .and_then(|m| self.makers[m as usize])
                        .and_then(|m| m.birth_year);
                    age_band(birth, (k.month / 12) as i32)
                }
                (_, Some(axis)) => {
                    let source = match axis.dim {
                        Dimension::Craft | Dimension::CraftGroup => k.category,
                        Dimension::Region | Dimension::ArtisanCountry | Dimension::ShopSize => {
                            k.shop
                        }
                        _ => maker?,
                    };
                    axis.codes[source as usize]?
                }
                (_, None) => return None,
            };
        }
        Some(group)
    }

    fn labels(&self, group: &[u32; 4]) -> Vec<String> {
        self.dims
            .iter()
            .zip(group)
            .enumerate()
            .map(|(i, (dim, code))| match (dim, &self.axes[i]) {
                (Dimension::Month, _) => Month::from_index(*code).text(),
                (Dimension::Quarter, _) => Month::from_index(code * 3).quarter_text(),
                (Dimension::Year, _) => (code / 12).to_string(),
                (Dimension::Destination, _) => self.cubes.countries.values[*code as usize].clone(),
                (Dimension::PaymentMethod, _) => self.cubes.methods.values[*code as usize].clone(),
                (Dimension::MakerAgeBand, _) => AGE_BANDS[*code as usize].to_owned(),
                (_, Some(axis)) => axis.labels[*code as usize].clone(),
                (_, None) => String::new(),
            })
            .collect()
    }
}

/// A maker's label along a characteristic: what they declared with consent, else
/// `UNDECLARED` (also for lines with no maker).
fn maker_label(dim: Dimension, maker: Option<&Maker>) -> String {
    let undeclared = || "UNDECLARED".to_owned();
    let Some(m) = maker else {
        return undeclared();
    };
    match dim {
        Dimension::MakerGender => m.gender.clone().unwrap_or_else(undeclared),
        Dimension::MakerCooperative => match m.cooperative_member {
            None => undeclared(),
            Some(true) => "MEMBER".into(),
            Some(false) => "NOT_MEMBER".into(),
        },
        Dimension::MakerRegion if m.consented => m.region.clone(),
        Dimension::MakerExperience if m.consented => match m.years_practising {
            None => undeclared(),
            Some(..5) => "0-4".into(),
            Some(5..10) => "5-9".into(),
            Some(10..20) => "10-19".into(),
            Some(_) => "20+".into(),
        },
        _ => undeclared(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makers_are_labelled_only_by_what_they_consented_to() {
        let declared = Maker {
            consented: true,
            gender: Some("FEMALE".into()),
            birth_year: Some(1990),
            cooperative_member: Some(false),
            region: "Khentii".into(),
            years_practising: Some(12),
        };
        let silent = Maker {
            region: "Khentii".into(),
            years_practising: Some(12),
            ..Maker::default()
        };
        let label = |d, m| maker_label(d, m);
        assert_eq!(label(Dimension::MakerGender, Some(&declared)), "FEMALE");
        assert_eq!(
            label(Dimension::MakerCooperative, Some(&declared)),
            "NOT_MEMBER"
        );
        assert_eq!(label(Dimension::MakerRegion, Some(&declared)), "Khentii");
        assert_eq!(label(Dimension::MakerExperience, Some(&declared)), "10-19");
        for d in [
            Dimension::MakerGender,
            Dimension::MakerCooperative,
            Dimension::MakerRegion,
            Dimension::MakerExperience,
        ] {
            assert_eq!(label(d, Some(&silent)), "UNDECLARED");
            assert_eq!(label(d, None), "UNDECLARED");
        }
        assert_eq!(AGE_BANDS[age_band(Some(1990), 2026) as usize], "35-44");
        assert_eq!(AGE_BANDS[age_band(Some(2002), 2026) as usize], "<25");
        assert_eq!(AGE_BANDS[age_band(Some(1961), 2026) as usize], "65+");
        assert_eq!(AGE_BANDS[age_band(None, 2026) as usize], "UNDECLARED");
    }
}
