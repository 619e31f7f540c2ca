//! Currencies with their ISO 4217 exponents. Money is always integer minor units plus a code.

use std::fmt;

/// Active ISO 4217 codes with the number of digits after the decimal point.
#[rustfmt::skip]
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("ANG", 2), ("AOA", 2), ("ARS", 2),
    ("AUD", 2), ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2), ("BGN", 2),
    ("BHD", 3), ("BIF", 0), ("BMD", 2), ("BND", 2), ("BOB", 2), ("BRL", 2), ("BSD", 2),
    ("BTN", 2), ("BWP", 2), ("BYN", 2), ("BZD", 2), ("CAD", 2), ("CDF", 2), ("CHF", 2),
    ("CLP", 0), ("CNY", 2), ("COP", 2), ("CRC", 2), ("CUP", 2), ("CVE", 2), ("CZK", 2),
    ("DJF", 0), ("DKK", 2), ("DOP", 2), ("DZD", 2), ("EGP", 2), ("ERN", 2), ("ETB", 2),
    ("EUR", 2), ("FJD", 2), ("FKP", 2), ("GBP", 2), ("GEL", 2), ("GHS", 2), ("GIP", 2),
    ("GMD", 2), ("GNF", 0), ("GTQ", 2), ("GYD", 2), ("HKD", 2), ("HNL", 2), ("HTG", 2),
    ("HUF", 2), ("IDR", 2), ("ILS", 2), ("INR", 2), ("IQD", 3), ("IRR", 2), ("ISK", 0),
    ("JMD", 2), ("JOD", 3), ("JPY", 0), ("KES", 2), ("KGS", 2), ("KHR", 2), ("KMF", 0),
    ("KPW", 2), ("KRW", 0), ("KWD", 3), ("KYD", 2), ("KZT", 2), ("LAK", 2), ("LBP", 2),
    ("LKR", 2), ("LRD", 2), ("LSL", 2), ("LYD", 3), ("MAD", 2), ("MDL", 2), ("MGA", 2),
    ("MKD", 2), ("MMK", 2), ("MNT", 2), ("MOP", 2), ("MRU", 2), ("MUR", 2), ("MVR", 2),
    ("MWK", 2), ("MXN", 2), ("MYR", 2), ("MZN", 2), ("NAD", 2), ("NGN", 2), ("NIO", 2),
    ("NOK", 2), ("NPR", 2), ("NZD", 2), ("OMR", 3), ("PAB", 2), ("PEN", 2), ("PGK", 2),
    ("PHP", 2), ("PKR", 2), ("PLN", 2), ("PYG", 0), ("QAR", 2), ("RON", 2), ("RSD", 2),
    ("RUB", 2), ("RWF", 0), ("SAR", 2), ("SBD", 2), ("SCR", 2), ("SDG", 2), ("SEK", 2),
    ("SGD", 2), ("SHP", 2), ("SLE", 2), ("SOS", 2), ("SRD", 2), ("SSP", 2), ("STN", 2),
    ("SVC", 2), ("SYP", 2), ("SZL", 2), ("THB", 2), ("TJS", 2), ("TMT", 2), ("TND", 3),
    ("TOP", 2), ("TRY", 2), ("TTD", 2), ("TWD", 2), ("TZS", 2), ("UAH", 2), ("UGX", 0),
    ("USD", 2), ("UYU", 2), ("UZS", 2), ("VES", 2), ("VND", 0), ("VUV", 0), ("WST", 2),
    ("XAF", 0), ("XCD", 2), ("XOF", 0), ("XPF", 0), ("YER", 2), ("ZAR", 2), ("ZMW", 2),
    ("ZWG", 2),
];

/// An ISO 4217 currency code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    exponent: u8,
}

impl Currency {
    /// Parses a client's value for `field`; the one place its error is worded.
    pub fn parse_field(field: &'static str, input: &str) -> crate::error::AppResult<Self> {
        Self::parse(input).ok_or_else(|| {
            crate::error::AppError::invalid(field, "currency must be an ISO 4217 code")
        })
    }

    /// Accepts any case; rejects codes that are not active ISO 4217 currencies.
    pub fn parse(input: &str) -> Option<Self> {
        // Prices are shown field by field, each parsing its currency: no allocation, and a
        // binary search of the sorted list.
        let wanted: [u8; 3] = input.trim().as_bytes().try_into().ok()?;
        let wanted = wanted.map(|b| b.to_ascii_uppercase());
        CURRENCIES
            .binary_search_by(|(code, _)| code.as_bytes().cmp(&wanted[..]))
            .ok()
            .map(|i| {
                let (code, exponent) = CURRENCIES[i];
                Self { code, exponent }
            })
    }

    pub fn code(self) -> &'static str {
        self.code
    }

    /// Digits after the decimal point: 0 for JPY and KRW, 2 for MNT, USD and EUR.
    pub fn exponent(self) -> u8 {
        self.exponent
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

/// An amount of money: integer minor units of one currency. Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    /// Parses a client's decimal amount for `field`: positive, with at most the currency's
    /// decimals; the one place its error is worded.
    pub fn parse_field(
        field: &'static str,
        amount: &str,
        currency: Currency,
    ) -> crate::error::AppResult<i64> {
        match Self::parse(amount, currency) {
            Some(m) if m.minor > 0 => Ok(m.minor),
            _ => Err(crate::error::AppError::invalid(
                field,
                format!(
                    "an amount is a positive decimal in {} with at most {} decimals",
                    currency.code(),
                    currency.exponent()
                ),
            )),
        }
    }

    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Parses a non-negative decimal such as `"1250.5"` with at most the currency's number
    /// of decimals (`"1.5"` JPY is refused rather than rounded).
    pub fn parse(amount: &str, currency: Currency) -> Option<Self> {
        let amount = amount.trim();
        let (whole, frac) = amount.split_once('.').unwrap_or((amount, ""));
        let exp = usize::from(currency.exponent);
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > exp {
            return None;
        }
        if amount.contains('.') && frac.is_empty() {
            return None;
        }
        let mut minor: i64 = whole.parse().ok()?;
        for _ in 0..exp {
            minor = minor.checked_mul(10)?;
        }
        let frac_value: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse::<i64>().ok()? * 10_i64.pow((exp - frac.len()) as u32)
        };
        Some(Self::new(minor.checked_add(frac_value)?, currency))
    }

    /// The amount as a decimal string with exactly the currency's decimals: `"1250.50"`.
    pub fn amount(&self) -> String {
        let exp = u32::from(self.currency.exponent);
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if exp == 0 {
            return format!("{sign}{abs}");
        }
        let unit = 10_u64.pow(exp);
        format!(
            "{sign}{}.{:0width$}",
            abs / unit,
            abs % unit,
            width = exp as usize
        )
    }
}

/// How people read an amount in a message: thousands grouped, the code after, e.g.
/// `"12,500.00 MNT"` (English) or `"12 500.00 MNT"` (Mongolian, which groups with spaces).
/// Unknown currencies show their minor units as stored.
pub fn display(minor: i64, currency: &str, language: &str) -> String {
    let Some(c) = Currency::parse(currency) else {
        return format!("{minor} {currency}");
    };
    let amount = Money::new(minor, c).amount();
    let (sign, digits) = amount
        .strip_prefix('-')
        .map_or(("", amount.as_str()), |d| ("-", d));
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let separator = if language == "mn" { ' ' } else { ',' };
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(separator);
        }
        grouped.push(ch);
    }
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(".{frac}")
    };
    format!("{sign}{grouped}{frac} {}", c.code())
}

/// An exchange rate as an exact fraction: one unit of the base buys `num / den` of the quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    num: i128,
    den: i128,
}

impl Rate {
    /// Parses a positive decimal with up to 12 decimals and 18 digits, e.g. `"0.000293"`.
    pub fn parse(input: &str) -> Option<Self> {
        let input = input.trim();
        let (whole, frac) = input.split_once('.').unwrap_or((input, ""));
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 12 {
            return None;
        }
        if whole.len() + frac.len() > 18 {
            return None;
        }
        let num: i128 = format!("{whole}{frac}").parse().ok()?;
        let den = 10_i128.pow(frac.len() as u32);
        (num > 0).then_some(Self { num, den })
    }

    /// The exact rate as `numerator/denominator`, as orders store it.
    pub fn to_fraction(self) -> String {
        format!("{}/{}", self.num, self.den)
    }

    /// Reads back what [`Rate::to_fraction`] wrote.
    pub fn from_fraction(text: &str) -> Option<Self> {
        let (num, den) = text.split_once('/')?;
        let (num, den): (i128, i128) = (num.trim().parse().ok()?, den.trim().parse().ok()?);
        (num > 0 && den > 0).then_some(Self { num, den })
    }

    fn inverse(self) -> Self {
        Self {
            num: self.den,
            den: self.num,
        }
    }

    fn then(self, next: Self) -> Option<Self> {
        Some(Self {
            num: self.num.checked_mul(next.num)?,
            den: self.den.checked_mul(next.den)?,
        })
    }
}

/// The home currency: shops' rates are kept against it and prices sort in it.
pub const HOME: &str = "MNT";

impl Rates {
    /// Every rate in the `exchange_rates` table, ready for conversions.
    pub async fn load(db: &impl sea_orm::ConnectionTrait) -> crate::error::AppResult<Self> {
        use sea_orm::EntityTrait;
        let mut rates = Self::default();
        for row in crate::entities::exchange_rates::Entity::find()
            .all(db)
            .await?
        {
            if let Some(rate) = Rate::parse(&row.rate) {
                rates.insert(&row.base, &row.quote, rate);
            }
        }
        Ok(rates)
    }
}

/// Converts at `rate` (one `money.currency` buys `rate` of `to`), rounding half-to-even once.
pub fn convert(money: Money, to: Currency, rate: Rate) -> Option<Money> {
    let from_exp = u32::from(money.currency.exponent);
    let to_exp = u32::from(to.exponent);
    let num = i128::from(money.minor)
        .checked_mul(rate.num)?
        .checked_mul(10_i128.pow(to_exp))?;
    let den = rate.den.checked_mul(10_i128.pow(from_exp))?;
    let minor = i64::try_from(div_round_half_even(num, den)).ok()?;
    Some(Money::new(minor, to))
}

/// `amount × part / whole` in minor units, rounded half-to-even: a commission
/// (`part` basis points of 10 000) or a refund's share of an order. `None` when `whole` is not
/// positive.
pub fn share(amount: i64, part: i64, whole: i64) -> Option<i64> {
    if whole <= 0 {
        return None;
    }
    let n = i128::from(amount).checked_mul(i128::from(part))?;
    i64::try_from(div_round_half_even(n, i128::from(whole))).ok()
}

/// `n / d` rounded half-to-even; `d` must be positive.
fn div_round_half_even(n: i128, d: i128) -> i128 {
    let q = n.div_euclid(d);
    let r = n.rem_euclid(d);
    match (2 * r).cmp(&d) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q & 1),
    }
}

/// A set of rates keyed by (base, quote) currency codes.
#[derive(Debug, Clone, Default)]
pub struct Rates(std::collections::HashMap<(String, String), Rate>);

impl Rates {
    pub fn insert(&mut self, base: &str, quote: &str, rate: Rate) {
        self.0.insert((base.to_owned(), quote.to_owned()), rate);
    }

    /// The rate from one currency to another: direct, inverse, or across MNT (the home
    /// currency every shop's rate is kept against), composed exactly.
    pub fn rate(&self, from: Currency, to: Currency) -> Option<Rate> {
        let direct = |a: &str, b: &str| {
            if a == b {
                return Some(Rate { num: 1, den: 1 });
            }
            self.0
                .get(&(a.to_owned(), b.to_owned()))
                .copied()
                .or_else(|| {
                    self.0
                        .get(&(b.to_owned(), a.to_owned()))
                        .map(|r| r.inverse())
                })
        };
        direct(from.code, to.code)
            .or_else(|| direct(from.code, "MNT")?.then(direct("MNT", to.code)?))
    }

    /// `money` in `to`, or `None` when no rate connects the two currencies.
    pub fn convert(&self, money: Money, to: Currency) -> Option<Money> {
        if money.currency == to {
            return Some(money);
        }
        convert(money, to, self.rate(money.currency, to)?)
    }
}

#[cfg(test)]
mod tests {
    use super::{Currency, Money, Rate, Rates, convert, display, share};

    #[test]
    fn amounts_display_grouped_in_the_readers_language() {
        assert_eq!(display(1_250_000, "MNT", "en"), "12,500.00 MNT");
        assert_eq!(display(1_250_000, "MNT", "mn"), "12 500.00 MNT");
        assert_eq!(display(-99, "USD", "en"), "-0.99 USD");
        assert_eq!(display(123_456_789, "JPY", "en"), "123,456,789 JPY");
        assert_eq!(display(5, "XXX", "en"), "5 XXX");
    }

    fn c(code: &str) -> Currency {
        Currency::parse(code).expect("currency")
    }

    #[test]
    fn every_currency_is_found_in_any_case() {
        // `parse` searches the list by halves: it must stay sorted.
        assert!(super::CURRENCIES.windows(2).all(|w| w[0].0 < w[1].0));
        for (code, _) in super::CURRENCIES {
            assert_eq!(c(code).code(), *code);
            assert_eq!(c(&code.to_ascii_lowercase()).code(), *code);
        }
        assert_eq!(c(" usd ").code(), "USD");
        assert!(Currency::parse("US").is_none());
        assert!(Currency::parse("USDX").is_none());
        assert!(Currency::parse("ZZZ").is_none());
    }

    #[test]
    fn locked_rates_read_back_exactly() {
        let rate = Rate::parse("0.000293").expect("rate");
        assert_eq!(Rate::from_fraction(&rate.to_fraction()), Some(rate));
        assert_eq!(Rate::from_fraction("0/1"), None);
        assert_eq!(Rate::from_fraction("1/0"), None);
        assert_eq!(Rate::from_fraction("12"), None);
    }

    #[test]
    fn parses_and_formats_amounts_by_exponent() {
        assert_eq!(
            Money::parse("1250.5", c("MNT")).map(|m| m.minor),
            Some(125_050)
        );
        assert_eq!(
            Money::parse("30000000", c("MNT")).map(|m| m.minor),
            Some(3_000_000_000)
        );
        assert_eq!(Money::parse("1500", c("JPY")).map(|m| m.minor), Some(1500));
        assert!(Money::parse("1.5", c("JPY")).is_none());
        assert!(Money::parse("1.234", c("USD")).is_none());
        assert!(Money::parse("-1", c("USD")).is_none());
        assert!(Money::parse("1.", c("USD")).is_none());
        assert!(Money::parse("abc", c("USD")).is_none());
        assert!(Money::parse("99999999999999999999", c("USD")).is_none());
        assert_eq!(Money::new(125_050, c("MNT")).amount(), "1250.50");
        assert_eq!(Money::new(5, c("USD")).amount(), "0.05");
        assert_eq!(Money::new(1500, c("KRW")).amount(), "1500");
        assert_eq!(Money::new(1, c("KWD")).amount(), "0.001");
    }

    #[test]
    fn converts_with_half_even_rounding_once() {
        // 100.00 MNT at 0.000293 USD = 0.0293 USD -> 0.03
        let rate = Rate::parse("0.000293").expect("rate");
        assert_eq!(
            convert(Money::new(10_000, c("MNT")), c("USD"), rate).map(|m| m.minor),
            Some(3)
        );
        // Ties go to even: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2
        let half = Rate::parse("0.5").expect("rate");
        assert_eq!(
            convert(Money::new(1, c("USD")), c("USD"), half).map(|m| m.minor),
            Some(0)
        );
        assert_eq!(
            convert(Money::new(3, c("USD")), c("USD"), half).map(|m| m.minor),
            Some(2)
        );
        assert_eq!(
            convert(Money::new(5, c("USD")), c("USD"), half).map(|m| m.minor),
            Some(2)
        );
        // JPY has no minor units: 1000.00 MNT at 0.0437 JPY = 43.7 -> 44
        let jpy = Rate::parse("0.0437").expect("rate");
        assert_eq!(
            convert(Money::new(100_000, c("MNT")), c("JPY"), jpy).map(|m| m.minor),
            Some(44)
        );
    }

    #[test]
    fn rates_work_inverse_and_across_mnt() {
        let mut rates = Rates::default();
        rates.insert("USD", "MNT", Rate::parse("3450").expect("rate"));
        rates.insert("EUR", "MNT", Rate::parse("3700").expect("rate"));
        // Inverse: 3450.00 MNT -> 1.00 USD
        assert_eq!(
            rates
                .convert(Money::new(345_000, c("MNT")), c("USD"))
                .map(|m| m.minor),
            Some(100)
        );
        // Cross: 37.00 EUR -> 136900 MNT -> 39.68 USD (136900/3450 = 39.6811...)
        assert_eq!(
            rates
                .convert(Money::new(3_700, c("EUR")), c("USD"))
                .map(|m| m.minor),
            Some(3_968)
        );
        assert!(rates.convert(Money::new(100, c("MNT")), c("KRW")).is_none());
        assert!(Rate::parse("0").is_none());
        assert!(Rate::parse("1.0000000000001").is_none());
    }

    #[test]
    fn shares_round_half_to_even() {
        // 10 % of 12 345 = 1 234.5 → 1 234; of 12 355 = 1 235.5 → 1 236.
        assert_eq!(share(12_345, 1_000, 10_000), Some(1_234));
        assert_eq!(share(12_355, 1_000, 10_000), Some(1_236));
        // A third of an order's 10 000 shop amount for a third of its 3 000 total.
        assert_eq!(share(10_000, 1_000, 3_000), Some(3_333));
        assert_eq!(share(10_000, 3_000, 3_000), Some(10_000));
        assert_eq!(share(0, 1, 1), Some(0));
        assert_eq!(share(5, 1, 0), None);
    }

    #[test]
    fn exponents_follow_iso_4217() {
        let exp = |c: &str| Currency::parse(c).map(Currency::exponent);
        assert_eq!(exp("MNT"), Some(2));
        assert_eq!(exp("usd"), Some(2));
        assert_eq!(exp("JPY"), Some(0));
        assert_eq!(exp("KRW"), Some(0));
        assert_eq!(exp("KWD"), Some(3));
        assert_eq!(exp("XYZ"), None);
    }

    #[test]
    fn table_is_sorted_and_unique() {
        let codes: Vec<_> = super::CURRENCIES.iter().map(|(c, _)| *c).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted);
    }
}
