//! Arbitrary-precision numbers with exact integer and float round-trips.
//!
//! cty numbers are big decimals. On the wire they appear as msgpack ints,
//! float64s or decimal strings; the representation here is canonical (an
//! integer that fits `i64` is always `Int`, a non-integer exactly representable
//! as `f64` is always `Float`, anything else is a big decimal), so structural
//! equality is numeric equality and re-encoding picks the same wire form cty's
//! encoder would.

use bigdecimal::num_bigint::BigInt;
use bigdecimal::BigDecimal;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Largest decimal exponent magnitude accepted for big decimals. Bounds the
/// cost of comparisons on hostile input; far beyond anything a config holds.
pub const MAX_DECIMAL_EXPONENT: i64 = 4096;
/// Longest decimal text accepted.
pub const MAX_NUMBER_TEXT: usize = 4096;

/// A cty number: finite arbitrary-precision decimal or ±infinity.
#[derive(Clone, Debug, PartialEq)]
pub struct Number(Repr);

#[derive(Clone, Debug, PartialEq)]
enum Repr {
    Int(i64),
    /// Finite, not an integer in `i64` range.
    Float(f64),
    /// Normalised, not representable by the other two.
    Big(BigDecimal),
    PosInf,
    NegInf,
}

/// Why a number could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NumberError {
    /// NaN is not a cty number.
    #[error("NaN is not a number")]
    NaN,
    /// Not decimal number syntax.
    #[error("{0:?} is not a decimal number")]
    Syntax(String),
    /// Exponent or length beyond the supported range.
    #[error("{0:?} is outside the supported number range")]
    Range(String),
}

impl Number {
    /// An integer.
    pub fn from_i64(v: i64) -> Self {
        Number(Repr::Int(v))
    }

    /// An unsigned integer.
    pub fn from_u64(v: u64) -> Self {
        match i64::try_from(v) {
            Ok(i) => Number(Repr::Int(i)),
            Err(_) => Self::from_big(BigDecimal::from(v)),
        }
    }

    /// A float; NaN is rejected, infinities are allowed.
    pub fn from_f64(v: f64) -> Result<Self, NumberError> {
        if v.is_nan() {
            return Err(NumberError::NaN);
        }
        if v == f64::INFINITY {
            return Ok(Number(Repr::PosInf));
        }
        if v == f64::NEG_INFINITY {
            return Ok(Number(Repr::NegInf));
        }
        // -2^63 <= v < 2^63 and integral: exactly an i64.
        if v.fract() == 0.0
            && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&v)
        {
            return Ok(Number(Repr::Int(v as i64)));
        }
        Ok(Number(Repr::Float(v)))
    }

    /// Positive infinity.
    pub fn infinity() -> Self {
        Number(Repr::PosInf)
    }

    /// Negative infinity.
    pub fn neg_infinity() -> Self {
        Number(Repr::NegInf)
    }

    /// Parses decimal text (`-12.5e3`), or `Inf`/`+Inf`/`-Inf` as cty does.
    pub fn parse(text: &str) -> Result<Self, NumberError> {
        match text {
            "Inf" | "+Inf" | "inf" | "+inf" => return Ok(Number(Repr::PosInf)),
            "-Inf" | "-inf" => return Ok(Number(Repr::NegInf)),
            _ => {}
        }
        if text.len() > MAX_NUMBER_TEXT {
            return Err(NumberError::Range(truncate(text)));
        }
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Number(Repr::Int(i)));
        }
        if !is_decimal_syntax(text) {
            return Err(NumberError::Syntax(truncate(text)));
        }
        let exponent = exponent_of(text).ok_or_else(|| NumberError::Range(truncate(text)))?;
        if exponent.abs() > MAX_DECIMAL_EXPONENT {
            return Err(NumberError::Range(truncate(text)));
        }
        let big = BigDecimal::from_str(text).map_err(|_| NumberError::Syntax(truncate(text)))?;
        Ok(Self::from_big(big))
    }

    fn from_big(big: BigDecimal) -> Self {
        let big = big.normalized();
        if big.is_integer() {
            if let Some(i) = bigdecimal::ToPrimitive::to_i64(&big) {
                return Number(Repr::Int(i));
            }
        }
        // Exactly representable as f64? Round to nearest and compare exactly.
        if let Ok(f) = big.to_string().parse::<f64>() {
            if f.is_finite() && exact_decimal(f) == big {
                return Number(Repr::Float(f));
            }
        }
        Number(Repr::Big(big))
    }

    /// The value as `i64` if it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        match self.0 {
            Repr::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The nearest `f64` (may round; infinities map to infinities).
    pub fn to_f64(&self) -> f64 {
        match &self.0 {
            Repr::Int(i) => *i as f64,
            Repr::Float(f) => *f,
            Repr::Big(b) => b.to_string().parse().unwrap_or(f64::NAN),
            Repr::PosInf => f64::INFINITY,
            Repr::NegInf => f64::NEG_INFINITY,
        }
    }

    /// The value as `f64` only when that is exact.
    pub fn as_exact_f64(&self) -> Option<f64> {
        match &self.0 {
            Repr::Int(i) => {
                let f = *i as f64;
                // i64 -> f64 is exact when converting back yields the same integer.
                ((-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f)
                    && f as i64 == *i)
                    .then_some(f)
            }
            Repr::Float(f) => Some(*f),
            Repr::Big(_) => None,
            Repr::PosInf => Some(f64::INFINITY),
            Repr::NegInf => Some(f64::NEG_INFINITY),
        }
    }

    /// True for a finite whole number.
    pub fn is_integer(&self) -> bool {
        match &self.0 {
            Repr::Int(_) => true,
            Repr::Float(_) => false,
            Repr::Big(b) => b.is_integer(),
            Repr::PosInf | Repr::NegInf => false,
        }
    }

    /// True for ±infinity.
    pub fn is_infinite(&self) -> bool {
        matches!(self.0, Repr::PosInf | Repr::NegInf)
    }

    /// How the number goes on the msgpack wire, following cty's encoder.
    pub(crate) fn wire(&self) -> Wire<'_> {
        match &self.0 {
            Repr::Int(i) => Wire::Int(*i),
            Repr::Float(f) => Wire::Float(*f),
            Repr::PosInf => Wire::Float(f64::INFINITY),
            Repr::NegInf => Wire::Float(f64::NEG_INFINITY),
            Repr::Big(b) => Wire::Text(b),
        }
    }

    fn to_big(&self) -> Option<BigDecimal> {
        match &self.0 {
            Repr::Int(i) => Some(BigDecimal::from(*i)),
            Repr::Float(f) => Some(exact_decimal(*f)),
            Repr::Big(b) => Some(b.clone()),
            Repr::PosInf | Repr::NegInf => None,
        }
    }
}

pub(crate) enum Wire<'a> {
    Int(i64),
    Float(f64),
    Text(&'a BigDecimal),
}

fn truncate(text: &str) -> String {
    text.chars().take(64).collect()
}

fn is_decimal_syntax(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    if let Some(b'-' | b'+') = b.first() {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

/// The explicit exponent of syntactically valid text (0 if none); `None`
/// if it does not even fit an `i64`. With the text length capped, this bounds
/// the scale of the resulting decimal.
fn exponent_of(text: &str) -> Option<i64> {
    match text.find(['e', 'E']) {
        Some(pos) => text[pos + 1..].parse::<i64>().ok(),
        None => Some(0),
    }
}

/// The exact decimal value of a finite `f64`.
fn exact_decimal(f: f64) -> BigDecimal {
    let bits = f.to_bits();
    let negative = bits >> 63 == 1;
    let exp_bits = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    let (mantissa, exp2) = if exp_bits == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp_bits - 1075)
    };
    let mut m = BigInt::from(mantissa);
    if negative {
        m = -m;
    }
    let d = if exp2 >= 0 {
        BigDecimal::new(m << (exp2 as usize), 0)
    } else {
        // m * 2^-k = m * 5^k / 10^k
        let k = (-exp2) as u32;
        BigDecimal::new(m * BigInt::from(5u8).pow(k), k as i64)
    };
    d.normalized()
}

impl Eq for Number {}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Numeric order; -Inf < every finite number < +Inf.
impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.0, &other.0) {
            (Repr::NegInf, Repr::NegInf) | (Repr::PosInf, Repr::PosInf) => Ordering::Equal,
            (Repr::NegInf, _) | (_, Repr::PosInf) => Ordering::Less,
            (_, Repr::NegInf) | (Repr::PosInf, _) => Ordering::Greater,
            (Repr::Int(a), Repr::Int(b)) => a.cmp(b),
            (Repr::Float(a), Repr::Float(b)) => a.total_cmp(b),
            _ => match (self.to_big(), other.to_big()) {
                (Some(a), Some(b)) => a.cmp(&b),
                _ => Ordering::Equal,
            },
        }
    }
}

/// Decimal text without exponent, as cty writes numbers (`Text('f', -1)`);
/// infinities as `+Inf` / `-Inf`.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Int(i) => write!(f, "{i}"),
            Repr::Float(v) => {
                // The shortest round-trip text is used when it is exact (0.5);
                // otherwise the exact expansion, so the text means the same
                // number to any arbitrary-precision reader.
                let short = format!("{v}");
                match BigDecimal::from_str(&short) {
                    Ok(b) if b == exact_decimal(*v) => f.write_str(&short),
                    _ => f.write_str(&exact_decimal(*v).to_plain_string()),
                }
            }
            Repr::Big(b) => f.write_str(&b.to_plain_string()),
            Repr::PosInf => f.write_str("+Inf"),
            Repr::NegInf => f.write_str("-Inf"),
        }
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Self {
        Number::from_i64(v)
    }
}

impl From<i32> for Number {
    fn from(v: i32) -> Self {
        Number::from_i64(v.into())
    }
}

impl From<u32> for Number {
    fn from(v: u32) -> Self {
        Number::from_i64(v.into())
    }
}

impl From<u64> for Number {
    fn from(v: u64) -> Self {
        Number::from_u64(v)
    }
}

impl FromStr for Number {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Number::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        assert_eq!(Number::parse("42").unwrap(), Number::from_i64(42));
        assert_eq!(Number::parse("42.000").unwrap(), Number::from_i64(42));
        assert_eq!(Number::parse("4.2e1").unwrap(), Number::from_i64(42));
        assert_eq!(
            Number::parse("0.5").unwrap(),
            Number::from_f64(0.5).unwrap()
        );
        assert_eq!(Number::from_f64(-0.0).unwrap(), Number::from_i64(0));
        let tenth = Number::parse("0.1").unwrap();
        assert_ne!(
            tenth,
            Number::from_f64(0.1).unwrap(),
            "0.1 is not exactly a float64"
        );
        assert_eq!(tenth.to_string(), "0.1");
        let float_tenth = Number::from_f64(0.1).unwrap();
        assert_eq!(
            float_tenth.to_string(),
            "0.1000000000000000055511151231257827021181583404541015625"
        );
        assert_eq!(
            Number::parse(&float_tenth.to_string()).unwrap(),
            float_tenth
        );
        assert_eq!(Number::from_f64(0.5).unwrap().to_string(), "0.5");
        let big = Number::parse("123456789012345678901234567890").unwrap();
        assert_eq!(big.to_string(), "123456789012345678901234567890");
        assert_eq!(
            Number::from_u64(u64::MAX).to_string(),
            "18446744073709551615"
        );
        assert_eq!(Number::from_f64(1e300).unwrap().as_exact_f64(), Some(1e300));
    }

    #[test]
    fn ordering_is_numeric() {
        let v: Vec<Number> = [
            "-Inf",
            "-1e40",
            "-1",
            "0.1",
            "0.5",
            "1",
            "123456789012345678901234567890",
            "+Inf",
        ]
        .iter()
        .map(|s| Number::parse(s).unwrap())
        .collect();
        for w in v.windows(2) {
            assert!(w[0] < w[1], "{} < {}", w[0], w[1]);
        }
    }

    #[test]
    fn rejects_garbage_and_extremes() {
        for bad in [
            "",
            "-",
            "1e",
            "abc",
            "1.2.3",
            "0x10",
            "NaN",
            "1e999999999999999999999",
        ] {
            assert!(Number::parse(bad).is_err(), "{bad}");
        }
        assert!(Number::parse("1e5000").is_err());
        assert!(Number::from_f64(f64::NAN).is_err());
    }
}
