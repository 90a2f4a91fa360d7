//! Calendar dates from Unix time, without a date crate: run ids in
//! `backup` and waiver expiry in `waivers` both need only UTC dates.

/// Days since 1970-01-01 as `YYYY-MM-DD` (Howard Hinnant's
/// civil_from_days, exact for the proleptic Gregorian calendar).
pub fn date(days: u64) -> String {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::date(0), "1970-01-01");
        assert_eq!(super::date(20_454), "2026-01-01");
        assert_eq!(super::date(11_016), "2000-02-29");
    }
}
