//! Log timestamps as seconds, and the log time window (`--since`, `--until`).
//!
//! Classic syslog stamps (`Nov 23 07:01:02`) carry neither year nor zone. The year is
//! inferred from the collection time: a stamp more than two days in the future belongs to
//! the previous year (a log read in January still holds December's lines). Stamps are
//! compared with each other on the log's own clock, which is why a relative `--since 2h`
//! counts back from the newest log line, not from now.

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days of month `m` (1-12) of year `y`, in the proleptic Gregorian calendar.
pub fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The year of a time in seconds since the epoch.
pub fn year_of(t: i64) -> i64 {
    let z = t.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    yoe + era * 400 + i64::from(m <= 2)
}

fn num(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

/// `HH:MM[:SS[.frac]]` → seconds in the day.
fn clock(s: &str) -> Option<i64> {
    let mut it = s.split(':');
    let h = num(it.next()?)?;
    let m = num(it.next()?)?;
    let sec = it.next().map(|x| x.split('.').next().unwrap_or("0")).map(num).unwrap_or(Some(0))?;
    ((0..24).contains(&h) && (0..60).contains(&m) && (0..61).contains(&sec)).then_some(h * 3600 + m * 60 + sec)
}

/// `+01:00`, `-0500`, `Z` → seconds east of UTC.
fn offset(s: &str) -> Option<i64> {
    if s.is_empty() || s == "Z" {
        return Some(0);
    }
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 4 {
        return None;
    }
    Some(sign * (num(&digits[..2])? * 3600 + num(&digits[2..])? * 60))
}

/// `2026-11-23T08:15:05.123456+00:00` or `2026-11-23 08:15:05` (no zone: the log's clock).
pub fn parse_iso(s: &str) -> Option<i64> {
    let (date, rest) = s.split_at_checked(10)?;
    let mut d = date.split('-');
    let (y, m, day) = (num(d.next()?)?, num(d.next()?)?, num(d.next()?)?);
    // `2026-02-30` is no date (days_from_civil would quietly make it March 2nd).
    if !(1..=12).contains(&m) || day < 1 || day > days_in_month(y, m) {
        return None;
    }
    let rest = rest.strip_prefix(['T', ' ']).unwrap_or(rest);
    let zone_at = rest.find(['+', 'Z']).or_else(|| rest.rfind('-').filter(|&i| i > 5)).unwrap_or(rest.len());
    let secs = if rest.is_empty() { 0 } else { clock(&rest[..zone_at])? };
    Some(days_from_civil(y, m, day) * 86_400 + secs - offset(&rest[zone_at..])?)
}

/// A classic `Nov 23 08:15:05` stamp, its year inferred against `reference`.
pub fn parse_classic(s: &str, reference: i64) -> Option<i64> {
    let m = MONTHS.iter().position(|x| s.get(..3) == Some(*x))? as i64 + 1;
    let day = num(s.get(4..6)?)?;
    let secs = clock(s.get(7..)?)?;
    let year = year_of(reference);
    let t = days_from_civil(year, m, day) * 86_400 + secs;
    Some(if t > reference + 2 * 86_400 { days_from_civil(year - 1, m, day) * 86_400 + secs } else { t })
}

/// `2026-11-23 08:15:05` (on the log's clock).
pub fn format(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// Any timestamp `split_syslog` recognises.
pub fn parse_stamp(s: &str, reference: i64) -> Option<i64> {
    if s.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        parse_iso(s)
    } else {
        parse_classic(s, reference)
    }
}

/// The lines a report considers: `[since, until]` in log-clock seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl Window {
    pub fn contains(&self, t: i64) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u)
    }
}

/// What the user asked for (`--since`, `--until`), resolved once the newest line is known.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WindowSpec {
    pub since: Option<String>,
    pub until: Option<String>,
    /// No window at all (every line read counts).
    pub all: bool,
}

/// The default: the last 24 hours before the newest log line.
pub const DEFAULT_WINDOW: i64 = 24 * 3600;

/// `2h`, `30m`, `3d`, `90s`, `1w` → seconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = n.parse().ok()?;
    let mul = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    Some(n * mul)
}

/// One bound: a duration back from `newest`, or an absolute date (`2026-11-23`,
/// `2026-11-23 08:00`, RFC 3339).
pub fn parse_bound(s: &str, newest: i64) -> Result<i64, String> {
    if let Some(d) = parse_duration(s) {
        return Ok(newest - d);
    }
    let t = s.trim();
    let padded = match t.len() {
        10 => format!("{t} 00:00:00"),
        16 => format!("{t}:00"),
        _ => t.to_string(),
    };
    parse_iso(&padded).ok_or_else(|| format!("{s:?}: expected a duration (2h, 30m, 3d) or a date (2026-11-23, 2026-11-23 08:00, RFC 3339)"))
}

impl WindowSpec {
    pub fn resolve(&self, newest: Option<i64>) -> Result<Window, String> {
        if self.all {
            return Ok(Window::default());
        }
        let Some(newest) = newest else { return Ok(Window::default()) };
        let since = match &self.since {
            Some(s) => Some(parse_bound(s, newest)?),
            None if self.until.is_none() => Some(newest - DEFAULT_WINDOW),
            None => None,
        };
        let until = self.until.as_deref().map(|u| parse_bound(u, newest)).transpose()?;
        Ok(Window { since, until })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_dates_are_rejected() {
        assert_eq!(parse_iso("2026-02-30"), None);
        assert_eq!(parse_iso("2026-04-31 08:00"), None);
        assert_eq!(parse_iso("2100-02-29"), None);
        assert!(parse_iso("2024-02-29").is_some() && parse_iso("2000-02-29").is_some());
        assert!(parse_iso("2026-12-31T23:59:59Z").is_some());
    }

    #[test]
    fn civil_days_and_years() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(year_of(parse_iso("2026-11-23T08:15:05+00:00").unwrap_or(0)), 2026);
        assert_eq!(year_of(parse_iso("2024-02-29T23:59:59Z").unwrap_or(0)), 2024);
    }

    #[test]
    fn iso_stamps_with_zones() {
        let utc = parse_iso("2026-11-23T08:15:05.123456+00:00").unwrap_or(0);
        assert_eq!(parse_iso("2026-11-23T09:15:05+01:00"), Some(utc));
        assert_eq!(parse_iso("2026-11-23T03:15:05-0500"), Some(utc));
        assert_eq!(parse_iso("2026-11-23 08:15:05"), Some(utc));
        assert_eq!(parse_iso("2026-13-23 08:15:05"), None);
    }

    #[test]
    fn classic_stamps_take_the_year_of_the_collection_across_new_year() {
        let jan2 = parse_iso("2027-01-02T10:00:00Z").unwrap_or(0);
        // Read on 2 January: a 31 December line is last year's, a 1 January line this year's.
        assert_eq!(parse_classic("Dec 31 23:59:58", jan2), parse_iso("2026-12-31T23:59:58Z"));
        assert_eq!(parse_classic("Jan  1 00:00:01", jan2), parse_iso("2027-01-01T00:00:01Z"));
        assert_eq!(parse_classic("Nov 23 10:45:29.123", jan2), parse_iso("2026-11-23T10:45:29Z"));
        assert_eq!(parse_classic("Foo 23 10:45:29", jan2), None);
    }

    #[test]
    fn formatting_round_trips() {
        for s in ["2026-11-23 08:15:05", "2024-02-29 23:59:59", "1999-12-31 00:00:00"] {
            assert_eq!(format(parse_iso(s).unwrap_or(0)), s);
        }
    }

    #[test]
    fn windows() {
        let newest = parse_iso("2026-11-23T12:00:00Z").unwrap_or(0);
        let w = WindowSpec::default().resolve(Some(newest)).unwrap_or_default();
        assert_eq!(w.since, Some(newest - 86_400));
        let w = WindowSpec { since: Some("2h".into()), ..Default::default() }.resolve(Some(newest)).unwrap_or_default();
        assert!(w.contains(newest - 3600) && !w.contains(newest - 3 * 3600));
        let w = WindowSpec { since: Some("2026-11-23".into()), until: Some("2026-11-23 06:30".into()), all: false }
            .resolve(Some(newest))
            .unwrap_or_default();
        assert_eq!(w.until, parse_iso("2026-11-23T06:30:00Z"));
        assert!(WindowSpec { since: Some("yesterday".into()), ..Default::default() }.resolve(Some(newest)).is_err());
        assert_eq!(WindowSpec { all: true, ..Default::default() }.resolve(Some(newest)), Ok(Window::default()));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every second from 1970 to 2100 prints and reads back the same.
        #[test]
        fn iso_stamps_round_trip(t in 0i64..4_102_444_800) {
            prop_assert_eq!(parse_iso(&format(t)), Some(t));
        }

        #[test]
        fn any_text_is_a_stamp_or_not_without_panicking(s in "\\PC{0,40}", reference in 0i64..4_102_444_800) {
            let _ = parse_stamp(&s, reference);
            let _ = parse_iso(&s);
        }

        #[test]
        fn stamp_like_text_never_panics(y in 0u32..10_000, m in 0u32..20, d in 0u32..40, rest in "[0-9:.+Z -]{0,20}") {
            let _ = parse_iso(&format!("{y:04}-{m:02}-{d:02}{rest}"));
        }
    }
}
