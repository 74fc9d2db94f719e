//! Exact integers from JSON number text.
//!
//! JavaScript numbers lose precision past 2^53, but a snapshot's `sequence` or a request's
//! `offset` is a uint64; so numbers are kept as their text and converted here, exactly, accepting
//! what protojson accepts for integer fields: any JSON number whose value is a whole number.

/// Why number text is not an acceptable unsigned integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UintProblem {
    /// Not a JSON number at all.
    NotANumber,
    /// Below zero.
    Negative,
    /// Has a fractional part.
    Fractional,
    /// Larger than the field allows.
    TooLarge,
}

impl std::fmt::Display for UintProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UintProblem::NotANumber => "not a number",
            UintProblem::Negative => "negative",
            UintProblem::Fractional => "not a whole number",
            UintProblem::TooLarge => "too large",
        })
    }
}

impl std::error::Error for UintProblem {}

/// Parses JSON number text (`12`, `1.0`, `1e3`) whose value is a whole number in `0..=max`.
/// (Byte slices throughout: slicing `str` would bring its char-boundary panic into the module.)
pub fn parse_uint(text: &str, max: u64) -> Result<u64, UintProblem> {
    let text = text.as_bytes();
    let (negative, rest) = match text.split_first() {
        Some((b'-', r)) => (true, r),
        _ => (false, text),
    };
    let (mantissa, exponent) = match rest.iter().position(|&b| b == b'e' || b == b'E') {
        Some(i) => (&rest[..i], parse_exponent(&rest[i + 1..])?),
        None => (rest, 0),
    };
    let (int_part, frac_part): (&[u8], &[u8]) = match mantissa.iter().position(|&b| b == b'.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, &[]),
    };
    let valid = !int_part.is_empty()
        && int_part.iter().all(u8::is_ascii_digit)
        && frac_part.iter().all(u8::is_ascii_digit)
        && (mantissa.len() == int_part.len() || !frac_part.is_empty());
    if !valid {
        return Err(UintProblem::NotANumber);
    }
    // All the digits, and the power of ten that scales them.
    let scale = exponent - frac_part.len() as i64;
    let all: Vec<u8> = int_part.iter().chain(frac_part).copied().collect();
    let significant = match all.iter().position(|&d| d != b'0') {
        Some(i) => &all[i..],
        None => return Ok(0),
    };
    if negative {
        return Err(UintProblem::Negative);
    }
    let (whole, dropped): (&[u8], &[u8]) = if scale >= 0 {
        (significant, &[])
    } else {
        let cut = (-scale) as u64;
        if cut >= significant.len() as u64 {
            return Err(UintProblem::Fractional);
        }
        significant.split_at(significant.len() - cut as usize)
    };
    if dropped.iter().any(|&d| d != b'0') {
        return Err(UintProblem::Fractional);
    }
    let mut value: u64 = 0;
    for &d in whole {
        value = value.checked_mul(10).and_then(|v| v.checked_add(u64::from(d - b'0'))).ok_or(UintProblem::TooLarge)?;
    }
    for _ in 0..scale.max(0) {
        value = value.checked_mul(10).ok_or(UintProblem::TooLarge)?;
    }
    if value > max {
        return Err(UintProblem::TooLarge);
    }
    Ok(value)
}

fn parse_exponent(text: &[u8]) -> Result<i64, UintProblem> {
    let (sign, digits) = match text.split_first() {
        Some((&s @ (b'+' | b'-'), rest)) => (s, rest),
        _ => (b'+', text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(UintProblem::NotANumber);
    }
    // Exponents beyond a few hundred only make zero or overflow; clamp to keep loops short.
    let magnitude = digits.iter().fold(0i64, |m, &d| (m * 10 + i64::from(d - b'0')).min(1000));
    Ok(if sign == b'-' { -magnitude } else { magnitude })
}

/// Parses a string of decimal digits only (`"267831"`), as a uint64 in a JSON string.
pub fn parse_decimal(text: &str, max: u64) -> Result<u64, UintProblem> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(if text.starts_with('-') { UintProblem::Negative } else { UintProblem::NotANumber });
    }
    let mut value: u64 = 0;
    for d in text.bytes() {
        value = value.checked_mul(10).and_then(|v| v.checked_add(u64::from(d - b'0'))).ok_or(UintProblem::TooLarge)?;
    }
    if value > max {
        return Err(UintProblem::TooLarge);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_in_any_json_form() {
        assert_eq!(parse_uint("0", u64::MAX), Ok(0));
        assert_eq!(parse_uint("-0", u64::MAX), Ok(0));
        assert_eq!(parse_uint("12", u64::MAX), Ok(12));
        assert_eq!(parse_uint("1.0", u64::MAX), Ok(1));
        assert_eq!(parse_uint("1e3", u64::MAX), Ok(1000));
        assert_eq!(parse_uint("2500e-2", u64::MAX), Ok(25));
        assert_eq!(parse_uint("18446744073709551615", u64::MAX), Ok(u64::MAX));
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(parse_uint("-1", u64::MAX), Err(UintProblem::Negative));
        assert_eq!(parse_uint("1.5", u64::MAX), Err(UintProblem::Fractional));
        assert_eq!(parse_uint("1e-1", u64::MAX), Err(UintProblem::Fractional));
        assert_eq!(parse_uint("18446744073709551616", u64::MAX), Err(UintProblem::TooLarge));
        assert_eq!(parse_uint("1e400", u64::MAX), Err(UintProblem::TooLarge));
        assert_eq!(parse_uint("1e99999999999999999999", u64::MAX), Err(UintProblem::TooLarge));
        assert_eq!(parse_uint("5e-99999999999999999999", u64::MAX), Err(UintProblem::Fractional));
        assert_eq!(parse_uint("0e+5", u64::MAX), Ok(0));
        assert_eq!(parse_uint("1e", u64::MAX), Err(UintProblem::NotANumber));
        assert_eq!(parse_uint("4294967296", u32::MAX as u64), Err(UintProblem::TooLarge));
        assert_eq!(parse_uint("NaN", u64::MAX), Err(UintProblem::NotANumber));
        assert_eq!(parse_uint("1.", u64::MAX), Err(UintProblem::NotANumber));
        assert_eq!(parse_decimal("007", u64::MAX), Ok(7));
        assert_eq!(parse_decimal("1e3", u64::MAX), Err(UintProblem::NotANumber));
        assert_eq!(parse_decimal("-5", u64::MAX), Err(UintProblem::Negative));
    }
}
