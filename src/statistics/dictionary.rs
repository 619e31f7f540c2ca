//! The statistics' dictionary: every dimension and measure a table can have, with its column
//! name, its description in English and Mongolian (for tables, files and the data
//! dictionary); [`super::memory`] labels rows by them.

/// What a table can be broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    Month,
    Quarter,
    Year,
    Craft,
    CraftGroup,
    Destination,
    Region,
    ArtisanCountry,
    ShopSize,
    PaymentMethod,
    MakerGender,
    MakerAgeBand,
    MakerCooperative,
    MakerRegion,
    MakerExperience,
}

impl Dimension {
    pub const ALL: [Self; 15] = [
        Self::Month,
        Self::Quarter,
        Self::Year,
        Self::Craft,
        Self::CraftGroup,
        Self::Destination,
        Self::Region,
        Self::ArtisanCountry,
        Self::ShopSize,
        Self::PaymentMethod,
        Self::MakerGender,
        Self::MakerAgeBand,
        Self::MakerCooperative,
        Self::MakerRegion,
        Self::MakerExperience,
    ];

    /// The column name in tables and files.
    pub fn key(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Quarter => "quarter",
            Self::Year => "year",
            Self::Craft => "craft",
            Self::CraftGroup => "craft_group",
            Self::Destination => "destination_country",
            Self::Region => "artisan_region",
            Self::ArtisanCountry => "artisan_country",
            Self::ShopSize => "shop_size",
            Self::PaymentMethod => "payment_method",
            Self::MakerGender => "maker_gender",
            Self::MakerAgeBand => "maker_age_band",
            Self::MakerCooperative => "maker_cooperative",
            Self::MakerRegion => "maker_region",
            Self::MakerExperience => "maker_experience",
        }
    }

    /// A characteristic of makers: read from the makers' cube, where a line's value is
    /// split among its makers.
    pub fn is_maker(self) -> bool {
        matches!(
            self,
            Self::MakerGender
                | Self::MakerAgeBand
                | Self::MakerCooperative
                | Self::MakerRegion
                | Self::MakerExperience
        )
    }

    /// What the public may break down by.
    pub(super) fn is_open(self) -> bool {
        matches!(
            self,
            Self::Quarter | Self::Year | Self::Craft | Self::CraftGroup | Self::Destination
        )
    }

    /// English and Mongolian descriptions, for tables and the data dictionary.
    pub fn describe(self) -> (&'static str, &'static str) {
        match self {
            Self::Month => (
                "Month the order was paid, YYYY-MM (UTC).",
                "Захиалгын төлбөр төлөгдсөн сар, ЖЖЖЖ-СС (UTC).",
            ),
            Self::Quarter => (
                "Quarter the order was paid, YYYY-Qn.",
                "Захиалгын төлбөр төлөгдсөн улирал, ЖЖЖЖ-Qn.",
            ),
            Self::Year => ("Year the order was paid.", "Захиалгын төлбөр төлөгдсөн он."),
            Self::Craft => (
                "Craft: the product's category (slug).",
                "Гар урлалын төрөл: бүтээгдэхүүний ангилал.",
            ),
            Self::CraftGroup => (
                "Craft group: the category's parent, or the category itself at the top.",
                "Гар урлалын бүлэг: ангиллын эх ангилал.",
            ),
            Self::Destination => (
                "Destination country (ISO 3166-1 alpha-2) the order shipped to.",
                "Захиалга илгээгдсэн улс (ISO 3166-1 alpha-2).",
            ),
            Self::Region => (
                "The artisan's region: aimag or city of the shop.",
                "Урлагчийн бүс нутаг: дэлгүүрийн аймаг эсвэл хот.",
            ),
            Self::ArtisanCountry => (
                "The artisan's country (ISO 3166-1 alpha-2).",
                "Урлагчийн улс (ISO 3166-1 alpha-2).",
            ),
            Self::ShopSize => (
                "Shop size by its makers: SOLO (1), WORKSHOP (2-5), ENTERPRISE (6 or more).",
                "Дэлгүүрийн хэмжээ урлагчдын тоогоор: SOLO (1), WORKSHOP (2-5), ENTERPRISE (6+).",
            ),
            Self::PaymentMethod => (
                "How the buyer paid: CARD or BANK_TRANSFER.",
                "Худалдан авагчийн төлбөрийн хэлбэр: CARD эсвэл BANK_TRANSFER.",
            ),
            Self::MakerGender => (
                "The maker's self-declared gender (FEMALE, MALE, OTHER), with consent; else UNDECLARED. Values are split equally among a product's makers.",
                "Урлагчийн өөрөө мэдүүлсэн хүйс (FEMALE, MALE, OTHER), зөвшөөрлөөр; эс бөгөөс UNDECLARED. Дүнг бүтээгдэхүүний урлагчдад тэнцүү хуваана.",
            ),
            Self::MakerAgeBand => (
                "The maker's age in the year of the sale (<25, 25-34, 35-44, 45-54, 55-64, 65+), from a consented birth year; else UNDECLARED.",
                "Борлуулалтын жилд урлагчийн нас (<25, 25-34, 35-44, 45-54, 55-64, 65+), зөвшөөрлөөр мэдүүлсэн төрсөн оноос; эс бөгөөс UNDECLARED.",
            ),
            Self::MakerCooperative => (
                "Whether the maker belongs to a cooperative (MEMBER, NOT_MEMBER), with consent; else UNDECLARED.",
                "Урлагч хоршооны гишүүн эсэх (MEMBER, NOT_MEMBER), зөвшөөрлөөр; эс бөгөөс UNDECLARED.",
            ),
            Self::MakerRegion => (
                "The maker's own region (aimag or city), with consent; else UNDECLARED.",
                "Урлагчийн өөрийн бүс нутаг (аймаг эсвэл хот), зөвшөөрлөөр; эс бөгөөс UNDECLARED.",
            ),
            Self::MakerExperience => (
                "The maker's years practising the craft (0-4, 5-9, 10-19, 20+), with consent; else UNDECLARED.",
                "Урлагчийн дадлагажсан жил (0-4, 5-9, 10-19, 20+), зөвшөөрлөөр; эс бөгөөс UNDECLARED.",
            ),
        }
    }
}

/// What a table can measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Measure {
    Orders,
    Units,
    GrossMnt,
    GrossUsd,
    ArtisansShareMnt,
    ArtisansShareUsd,
    ArtisansSharePercent,
    AverageOrderMnt,
    AverageOrderUsd,
    ActiveShops,
    ActiveMakers,
    NewBuyers,
    RepeatBuyerOrders,
    MedianDaysToShip,
    MedianDaysToDeliver,
    RefundRate,
}

impl Measure {
    pub const ALL: [Self; 16] = [
        Self::Orders,
        Self::Units,
        Self::GrossMnt,
        Self::GrossUsd,
        Self::ArtisansShareMnt,
        Self::ArtisansShareUsd,
        Self::ArtisansSharePercent,
        Self::AverageOrderMnt,
        Self::AverageOrderUsd,
        Self::ActiveShops,
        Self::ActiveMakers,
        Self::NewBuyers,
        Self::RepeatBuyerOrders,
        Self::MedianDaysToShip,
        Self::MedianDaysToDeliver,
        Self::RefundRate,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::Orders => "orders",
            Self::Units => "units",
            Self::GrossMnt => "gross_mnt",
            Self::GrossUsd => "gross_usd",
            Self::ArtisansShareMnt => "artisans_share_mnt",
            Self::ArtisansShareUsd => "artisans_share_usd",
            Self::ArtisansSharePercent => "artisans_share_percent",
            Self::AverageOrderMnt => "average_order_mnt",
            Self::AverageOrderUsd => "average_order_usd",
            Self::ActiveShops => "active_shops",
            Self::ActiveMakers => "active_makers",
            Self::NewBuyers => "new_buyers",
            Self::RepeatBuyerOrders => "repeat_buyer_orders",
            Self::MedianDaysToShip => "median_days_to_ship",
            Self::MedianDaysToDeliver => "median_days_to_deliver",
            Self::RefundRate => "refund_rate_percent",
        }
    }

    pub fn describe(self) -> (&'static str, &'static str) {
        match self {
            Self::Orders => (
                "Paid orders, each counted once under its main craft (its largest line).",
                "Төлөгдсөн захиалга; захиалга бүрийг үндсэн төрлөөр нь нэг удаа тоолно.",
            ),
            Self::Units => ("Items sold.", "Зарагдсан бүтээгдэхүүний тоо."),
            Self::GrossMnt => (
                "Value of the goods sold, after discounts and net of refunds, without shipping, in MNT at the rates locked on each order.",
                "Зарагдсан барааны үнийн дүн (хөнгөлөлт, буцаалтыг хассан, хүргэлтгүй), захиалга бүрт түгжсэн ханшаар, төгрөгөөр.",
            ),
            Self::GrossUsd => (
                "The same value in US dollars at the rates locked on each order.",
                "Мөн дүн, захиалга бүрт түгжсэн ханшаар, ам.доллараар.",
            ),
            Self::ArtisansShareMnt => (
                "What reached the artisans, after the platform's commission and net of refunds, in MNT.",
                "Урлагчдад очсон дүн (шимтгэл, буцаалтыг хассан), төгрөгөөр.",
            ),
            Self::ArtisansShareUsd => (
                "What reached the artisans, in US dollars.",
                "Урлагчдад очсон дүн, ам.доллараар.",
            ),
            Self::ArtisansSharePercent => (
                "The artisans' share of the value, in percent.",
                "Урлагчдад очсон хувь.",
            ),
            Self::AverageOrderMnt => (
                "Average order value in MNT: value divided by orders.",
                "Захиалгын дундаж үнэ, төгрөгөөр.",
            ),
            Self::AverageOrderUsd => (
                "Average order value in US dollars.",
                "Захиалгын дундаж үнэ, ам.доллараар.",
            ),
            Self::ActiveShops => (
                "Shops with at least one sale.",
                "Дор хаяж нэг борлуулалт хийсэн дэлгүүр.",
            ),
            Self::ActiveMakers => (
                "Makers named on at least one product sold.",
                "Дор хаяж нэг зарагдсан бүтээгдэхүүнд нэр нь орсон урлагч.",
            ),
            Self::NewBuyers => (
                "Buyers whose first paid order on the marketplace this is.",
                "Анх удаа худалдан авалт хийсэн худалдан авагч.",
            ),
            Self::RepeatBuyerOrders => (
                "Orders by buyers who had paid for an earlier checkout.",
                "Өмнө нь худалдан авалт хийж байсан худалдан авагчийн захиалга.",
            ),
            Self::MedianDaysToShip => (
                "Median whole days from payment to shipping.",
                "Төлбөрөөс илгээлт хүртэлх хоногийн медиан.",
            ),
            Self::MedianDaysToDeliver => (
                "Median whole days from payment to delivery.",
                "Төлбөрөөс хүргэлт хүртэлх хоногийн медиан.",
            ),
            Self::RefundRate => (
                "Share of orders with a refund, in percent.",
                "Буцаалт хийгдсэн захиалгын хувь.",
            ),
        }
    }

    pub(super) fn wants_days(self) -> bool {
        matches!(self, Self::MedianDaysToShip | Self::MedianDaysToDeliver)
    }

    /// Whether the makers' cube holds it: values, not per-order counts.
    pub(super) fn by_makers(self) -> bool {
        matches!(
            self,
            Self::GrossMnt
                | Self::GrossUsd
                | Self::ArtisansShareMnt
                | Self::ArtisansShareUsd
                | Self::ArtisansSharePercent
                | Self::ActiveShops
                | Self::ActiveMakers
        )
    }
}
