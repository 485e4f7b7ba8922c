//! Timestamps of log records: the time a line says it was written, as a [`Stamp`].
//!
//! This module owns recognising a stamp at the start of a line (or, for the common log format,
//! in its first bytes), turning it into an instant, telling which layout a file uses
//! ([`Detector`]), and reading the `--since WHEN` argument ([`parse_since`]). It is pure: no I/O
//! beyond what jiff does to load a time zone, and it must not know about records, files or
//! outputs.
//!
//! **Instants.** A [`Stamp`] is nanoseconds since the Unix epoch, UTC, in an `i64` (years 1677
//! to 2262). It is written for JSON as RFC 3339 in UTC with `Z` (a reader needs no zone to
//! compare two), with as many fraction digits as the value needs in groups of three: none,
//! milliseconds, microseconds or nanoseconds.
//!
//! **Layouts** ([`Format`]), each with an optional fraction (`.` or `,`, any number of digits,
//! kept to nanoseconds):
//! - ISO 8601 / RFC 3339: `2026-12-01T10:00:00Z`, `2026-12-01 10:00:00.123+01:00`; `T` or a
//!   space; zone `Z`, `±hh:mm`, `±hhmm`, `±hh` or none, or after a space `±hhmm`, `±hh:mm`,
//!   `UTC` or `GMT` (Ruby's `Time#to_s`, PostgreSQL's log prefix). Python logging's default
//!   (`2026-12-01 10:00:00,123`) is this layout.
//! - the same after a `[` at the line's start: `[2026-12-01 10:00:00,123]` (the `]` is not
//!   looked for: some layouts put the level inside, `[2026-12-01 10:00:00,123 INFO]`);
//! - Go's log package: `2026/12/01 10:00:00`, `2026/12/01 10:00:00.123456`;
//! - syslog (RFC 3164): `Dec  1 10:00:00`, `Dec 11 10:00:00`, also `Dec 1 10:00:00`;
//! - epoch seconds (9 or 10 digits, `.fraction` allowed) or milliseconds (12 or 13 digits),
//!   only from 2000-01-01 to 2100-01-01, followed by a non-digit or the end;
//! - the common log format `[01/Dec/2026:10:00:00 +0000]`, at the first `[` within the line's
//!   first 64 bytes (so after an access log's client address too);
//! - JSON lines: an object whose top-level `ts`, `time`, `timestamp` or `@timestamp` (that order
//!   of preference) is an ISO string as above (the whole string) or a number of epoch seconds
//!   (fraction allowed) or milliseconds, in the same plausible range. Fractional numbers are
//!   kept to microseconds (an `f64` holds no more for today's values).
//!
//! A stamp followed at once by a digit is not one (`10:00:001`). Each layout is a fixed-position
//! parser over bytes; none allocates except JSON, which serde_json reads in full.
//!
//! **Zone-less stamps** are local time in the [`TimeZone`] the [`Parser`] was given (the caller
//! passes `TimeZone::system()`, which respects `TZ`). The UTC offset found for one is cached
//! with the range of local times it holds for (from the zone's transitions either side, minus
//! any gap or fold), so a file's records meet the tz database about twice a year. A local time
//! in a gap (spring forward) takes the offset before the gap, as jiff's "compatible" rule does;
//! one in a fold (the repeated hour) takes whichever of its two instants is closer to the
//! previous stamp parsed, the later on a tie, and the earlier when there is none, so a log
//! running through the repeated hour twice stays in order.
//!
//! **Syslog's missing year.** The first syslog stamp a parser sees takes the latest of next
//! year, this year and last year (of "now" in the zone) that puts it at most 31 days after now:
//! a stamp further ahead belongs to last year, and `Jan  1 00:00:05` read at 23:59 on Dec 31
//! is next year's. Every later one takes, of the previous stamp's year and the years either
//! side, the one that puts it closest to the previous stamp (the later on a tie): going from
//! Dec to Jan rolls the year forward, and a line slightly out of order across New Year goes
//! back with it.
//!
//! **Detection** ([`Detector`]): the first 64 lines (or 64 KiB) of a file are tried against
//! every layout; blank lines do not count. The layout that parses the most wins, ties going to
//! the more specific (the order of [`Format::ALL`]); there is none unless at least one line in
//! eight parses, and at least two lines when two or more were seen, so a traceback between
//! records does not hide a format, and one number at a line's start does not make one.
//!
//! **Speed.** Per parsed line, with rtail, serde_json and memchr optimised (opt-level 3, no
//! overflow checks) on the shared 2-core development machine: an ISO line about 40 ns, a syslog
//! line about 27 ns, a JSON line about 165 ns (serde_json reads the whole object). The ignored
//! test `stamp::tests::speed` prints these; its documentation has the command.

use std::cell::Cell;
use std::cmp::Reverse;
use std::fmt;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

const NANOS_PER_SEC: i64 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;
/// The years a civil stamp may have: every instant of them, a day either way, fits in an `i64`
/// of nanoseconds.
const FIRST_YEAR: i32 = 1678;
const LAST_YEAR: i32 = 2261;
/// Plausible epoch numbers: 2000-01-01 up to 2100-01-01, in seconds.
const EPOCH_MIN_SECS: i64 = 946_684_800;
const EPOCH_MAX_SECS: i64 = 4_102_444_800;
/// How far after "now" the first syslog stamp may be and still take the year that puts it there.
const SYSLOG_AHEAD_SECS: i64 = 31 * SECS_PER_DAY;
/// The common log format's `[` is looked for in this many first bytes of a line.
const BRACKET_WITHIN: usize = 64;
/// What the detector looks at, at most.
const DETECT_LINES: u32 = 64;
const DETECT_BYTES: usize = 64 * 1024;

/// An instant: nanoseconds since 1970-01-01T00:00:00Z. Ordered by value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Stamp(i64);

impl Stamp {
    pub(crate) const fn from_nanos(nanos: i64) -> Stamp {
        Stamp(nanos)
    }

    pub(crate) const fn as_nanos(self) -> i64 {
        self.0
    }

    pub(crate) fn now() -> Stamp {
        Stamp::from_timestamp(Timestamp::now())
    }

    /// Saturates outside the years 1677–2262.
    pub(crate) fn from_timestamp(ts: Timestamp) -> Stamp {
        let nanos = ts.as_nanosecond();
        Stamp(i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX }))
    }

    pub(crate) fn to_timestamp(self) -> Timestamp {
        // Every i64 of nanoseconds is within jiff's range (years -9999 to 9999).
        Timestamp::from_nanosecond(i128::from(self.0)).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// The same instant as a [`std::time::SystemTime`].
    pub(crate) fn to_system(self) -> std::time::SystemTime {
        let nanos = self.0.unsigned_abs();
        let span = std::time::Duration::new(nanos / 1_000_000_000, (nanos % 1_000_000_000) as u32);
        if self.0 >= 0 { std::time::UNIX_EPOCH + span } else { std::time::UNIX_EPOCH - span }
    }

    /// `time` as a stamp (saturating outside the years 1677–2262).
    pub(crate) fn from_system(time: std::time::SystemTime) -> Stamp {
        let nanos = |d: std::time::Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        match time.duration_since(std::time::UNIX_EPOCH) {
            Ok(after) => Stamp(nanos(after)),
            Err(before) => Stamp(-nanos(before.duration())),
        }
    }

    /// Appends RFC 3339 in UTC: `2026-12-01T10:00:00Z`, `2026-12-01T10:00:00.123Z`, with 0, 3,
    /// 6 or 9 fraction digits, the fewest that show the value exactly.
    pub(crate) fn write_rfc3339(self, out: &mut Vec<u8>) {
        let mut buf = [0u8; 30];
        let n = self.encode(&mut buf);
        out.extend_from_slice(&buf[..n]);
    }

    fn encode(self, buf: &mut [u8; 30]) -> usize {
        thread_local! {
            /// The second last written and its text (`2026-12-01T10:00:00`): records come in
            /// runs within one second, and the calendar is the costly part.
            static LAST: Cell<(i64, [u8; 19])> = const { Cell::new((i64::MIN, [0; 19])) };
        }
        let secs = self.0.div_euclid(NANOS_PER_SEC);
        let frac = self.0.rem_euclid(NANOS_PER_SEC) as u32;
        let (last, text) = LAST.get();
        if last == secs {
            buf[..19].copy_from_slice(&text);
        } else {
            let days = secs.div_euclid(SECS_PER_DAY);
            let sod = secs.rem_euclid(SECS_PER_DAY) as u32;
            let (year, month, day) = civil_from_days(days);
            // An i64 of nanoseconds is in the years 1677 to 2262: always four digits.
            put_digits(&mut buf[0..4], year.unsigned_abs());
            buf[4] = b'-';
            put_digits(&mut buf[5..7], month);
            buf[7] = b'-';
            put_digits(&mut buf[8..10], day);
            buf[10] = b'T';
            put_digits(&mut buf[11..13], sod / 3600);
            buf[13] = b':';
            put_digits(&mut buf[14..16], sod / 60 % 60);
            buf[16] = b':';
            put_digits(&mut buf[17..19], sod % 60);
            let mut text = [0; 19];
            text.copy_from_slice(&buf[..19]);
            LAST.set((secs, text));
        }
        let mut n = 19;
        let (digits, value) = if frac == 0 {
            (0, 0)
        } else if frac % 1_000_000 == 0 {
            (3, frac / 1_000_000)
        } else if frac % 1_000 == 0 {
            (6, frac / 1_000)
        } else {
            (9, frac)
        };
        if digits > 0 {
            buf[n] = b'.';
            put_digits(&mut buf[n + 1..n + 1 + digits], value);
            n += 1 + digits;
        }
        buf[n] = b'Z';
        n + 1
    }
}

impl fmt::Display for Stamp {
    /// RFC 3339 in UTC, as [`Stamp::write_rfc3339`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 30];
        let n = self.encode(&mut buf);
        f.write_str(std::str::from_utf8(&buf[..n]).map_err(|_| fmt::Error)?)
    }
}

/// Writes `value`'s last `out.len()` decimal digits, zero-padded.
fn put_digits(out: &mut [u8], mut value: u32) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// A layout of stamps; see the module's documentation for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Format {
    /// A JSON object with a `ts`, `time`, `timestamp` or `@timestamp` field.
    Json,
    /// `[01/Dec/2026:10:00:00 +0000]` at the first `[` in the first 64 bytes.
    Clf,
    /// `[` and an ISO stamp at the line's start.
    BracketedIso,
    /// ISO 8601 / RFC 3339 at the line's start (Python logging's default too).
    Iso,
    /// `2026/12/01 10:00:00[.123456]`.
    Go,
    /// `Dec  1 10:00:00`, no year.
    Syslog,
    /// Epoch seconds or milliseconds.
    Epoch,
}

impl Format {
    /// Every layout, the most specific first: the detector's order for ties.
    pub(crate) const ALL: [Format; 7] = [
        Format::Json,
        Format::Clf,
        Format::BracketedIso,
        Format::Iso,
        Format::Go,
        Format::Syslog,
        Format::Epoch,
    ];

    /// A short name, for messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Clf => "common log format",
            Format::BracketedIso => "bracketed iso8601",
            Format::Iso => "iso8601",
            Format::Go => "go log",
            Format::Syslog => "syslog",
            Format::Epoch => "epoch",
        }
    }

    /// The most specific layout that this one line's stamp has, if any.
    pub(crate) fn of_line(line: &[u8]) -> Option<Format> {
        Format::ALL.into_iter().find(|&f| raw(f, line).is_some())
    }
}

/// A stamp's date and time as written, checked (month, day of month, hour, minute; second 60 is
/// taken as 59).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Civil {
    /// 0 for a syslog stamp until its year is inferred.
    year: i32,
    month: u32,
    day: u32,
    /// Seconds since midnight.
    sod: u32,
    nanos: u32,
}

impl Civil {
    /// Seconds since the epoch of this civil time read as if it were UTC.
    fn secs(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * SECS_PER_DAY + i64::from(self.sod)
    }
}

/// A stamp as read from a line, before its zone or year is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Raw {
    /// With its UTC offset, in seconds east.
    Zoned(Civil, i32),
    /// Local time.
    Local(Civil),
    /// Local time without a year (syslog).
    NoYear(Civil),
    /// Already an instant (epoch numbers): nanoseconds.
    Instant(i64),
}

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date. Years are counted from March so that
/// February's length only matters at a year's end; 146097 days make 400 years.
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(if month <= 2 { year - 1 } else { year });
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719468 days from 0000-03-01 to 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day).
fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year as i32, month, day)
}

/// Checks the fields of a date and time; `year` 0 is a syslog stamp's unknown year (February
/// may then have 29 days).
fn civil(year: u32, month: u32, day: u32, hour: u32, minute: u32, second: u32, nanos: u32) -> Option<Civil> {
    let year = i32::try_from(year).ok()?;
    if year != 0 && !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
        return None;
    }
    if !(1..=12).contains(&month) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let max_day = if year == 0 { days_in_month(2000, month) } else { days_in_month(year, month) };
    if day == 0 || day > max_day {
        return None;
    }
    Some(Civil { year, month, day, sod: hour * 3600 + minute * 60 + second.min(59), nanos })
}

#[inline]
fn dig(b: &[u8], i: usize) -> Option<u32> {
    let d = b.get(i)?.wrapping_sub(b'0');
    (d < 10).then_some(u32::from(d))
}

#[inline]
fn two(b: &[u8], i: usize) -> Option<u32> {
    Some(dig(b, i)? * 10 + dig(b, i + 1)?)
}

#[inline]
fn four(b: &[u8], i: usize) -> Option<u32> {
    Some(two(b, i)? * 100 + two(b, i + 2)?)
}

#[inline]
fn is(b: &[u8], i: usize, c: u8) -> bool {
    b.get(i) == Some(&c)
}

#[inline]
fn is_digit(b: &[u8], i: usize) -> bool {
    dig(b, i).is_some()
}

/// The fraction's digits from `b[i]` on (after its separator): nanoseconds (digits past the
/// ninth are dropped) and where the digits end.
fn fraction(b: &[u8], mut i: usize) -> (u32, usize) {
    /// The scale of a fraction of n digits, by n.
    const SCALE: [u32; 10] = [0, 100_000_000, 10_000_000, 1_000_000, 100_000, 10_000, 1_000, 100, 10, 1];
    let (mut value, mut digits) = (0, 0);
    while let Some(d) = dig(b, i) {
        if digits < 9 {
            value = value * 10 + d;
            digits += 1;
        }
        i += 1;
    }
    (value * SCALE[digits], i)
}

/// A fraction at `b[i]` if one is there (a `.`, or with `comma` a `,` too, then a digit):
/// (nanos, end).
#[inline]
fn maybe_fraction(b: &[u8], i: usize, comma: bool) -> (u32, usize) {
    match b.get(i) {
        Some(&c) if (c == b'.' || comma && c == b',') && is_digit(b, i + 1) => fraction(b, i + 1),
        _ => (0, i),
    }
}

/// `Jan` … `Dec`, any case.
fn month_abbr(b: &[u8]) -> Option<u32> {
    let [a, b, c] = *b else { return None };
    let month = match [a | 0x20, b | 0x20, c | 0x20] {
        [b'j', b'a', b'n'] => 1,
        [b'f', b'e', b'b'] => 2,
        [b'm', b'a', b'r'] => 3,
        [b'a', b'p', b'r'] => 4,
        [b'm', b'a', b'y'] => 5,
        [b'j', b'u', b'n'] => 6,
        [b'j', b'u', b'l'] => 7,
        [b'a', b'u', b'g'] => 8,
        [b's', b'e', b'p'] => 9,
        [b'o', b'c', b't'] => 10,
        [b'n', b'o', b'v'] => 11,
        [b'd', b'e', b'c'] => 12,
        _ => return None,
    };
    Some(month)
}

/// A zone at `b[i]`: `Z`, `±hh:mm`, `±hhmm`, `±hh`, or nothing. `None` when a sign starts one
/// that is malformed; otherwise the offset in seconds east (if any) and where it ends.
fn zone(b: &[u8], i: usize) -> Option<(Option<i32>, usize)> {
    match b.get(i) {
        Some(b'Z' | b'z') => Some((Some(0), i + 1)),
        Some(&sign @ (b'+' | b'-')) => {
            let hours = two(b, i + 1)?;
            let (minutes, end) = if is(b, i + 3, b':') {
                (two(b, i + 4)?, i + 6)
            } else if let Some(m) = two(b, i + 3) {
                (m, i + 5)
            } else {
                (0, i + 3)
            };
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = (hours * 3600 + minutes * 60) as i32;
            Some((Some(if sign == b'-' { -offset } else { offset }), end))
        }
        _ => Some((None, i)),
    }
}

/// `YYYY-MM-DD[T ]HH:MM:SS[(.|,)F…][zone]` at `b`'s start; with `minutes_ok` the seconds may be
/// missing (`--since`). Returns the stamp and where it ends.
fn iso(b: &[u8], minutes_ok: bool) -> Option<(Raw, usize)> {
    let minute = iso_minute(b)?;
    let (second, nanos, offset, end) = iso_seconds(b, minutes_ok)?;
    let civil = Civil { sod: minute.sod + second, nanos, ..minute };
    Some((offset.map_or(Raw::Local(civil), |o| Raw::Zoned(civil, o)), end))
}

/// The date, hour and minute of an ISO stamp (`YYYY-MM-DD[T ]HH:MM`, its first 16 bytes),
/// checked: the civil time of the minute's start.
fn iso_minute(b: &[u8]) -> Option<Civil> {
    let year = four(b, 0)?;
    if !is(b, 4, b'-') || !is(b, 7, b'-') || !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (month, day) = (two(b, 5)?, two(b, 8)?);
    if !is(b, 13, b':') {
        return None;
    }
    let (hour, minute) = (two(b, 11)?, two(b, 14)?);
    civil(year, month, day, hour, minute, 0, 0)
}

/// The rest of an ISO stamp after its minute (byte 16 on): the second (a leap second counted
/// as 59), the fraction in nanoseconds, the zone's offset if it has one, and where it ends.
fn iso_seconds(b: &[u8], minutes_ok: bool) -> Option<(u32, u32, Option<i32>, usize)> {
    let (second, nanos, end) = if is(b, 16, b':') {
        let second = two(b, 17)?;
        let (nanos, end) = maybe_fraction(b, 19, true);
        (second, nanos, end)
    } else if minutes_ok {
        (0, 0, 16)
    } else {
        return None;
    };
    if second > 60 {
        return None;
    }
    let (offset, end) = match b.get(end) {
        // Most stamps end the line's first word: no zone, and no need to look for one.
        None => (None, end),
        Some(b' ') if !matches!(b.get(end + 1), Some(b'U' | b'G' | b'+' | b'-')) => (None, end),
        _ => match zone(b, end)? {
            (None, end) if is(b, end, b' ') => spaced_zone(b, end + 1).unwrap_or((None, end)),
            found => found,
        },
    };
    if is_digit(b, end) {
        return None;
    }
    Some((second.min(59), nanos, offset, end))
}

/// Whether `b` starts with `YYYY-MM-DD[T ]HH:MM:SS` (digits and separators only: what
/// [`iso`] reads, without its range checks and zone).
fn iso_shaped(b: &[u8]) -> bool {
    let Some(h) = b.get(..19) else { return false };
    let digits = |at: &[usize]| at.iter().all(|&i| h[i].is_ascii_digit());
    // The separators first: most lines that are not stamps fail there.
    h[4] == b'-'
        && h[7] == b'-'
        && h[13] == b':'
        && h[16] == b':'
        && matches!(h[10], b'T' | b't' | b' ')
        && digits(&[0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18])
        && !is_digit(b, 19)
}

/// A zone after a space, as Ruby's `Time#to_s` and PostgreSQL's log prefix write them:
/// `±hhmm` or `±hh:mm` (not a bare `±hh`, which could be a number), `UTC` or `GMT`. Other
/// abbreviations (CET, EST) are not read: the stamp is then local time.
fn spaced_zone(b: &[u8], i: usize) -> Option<(Option<i32>, usize)> {
    let word = b.get(i..i + 3)?;
    if word == b"UTC" || word == b"GMT" {
        return (!b.get(i + 3).is_some_and(u8::is_ascii_alphanumeric)).then_some((Some(0), i + 3));
    }
    match zone(b, i)? {
        (Some(offset), end) if matches!(b[i], b'+' | b'-') && end - i >= 5 && !is_digit(b, end) => {
            Some((Some(offset), end))
        }
        _ => None,
    }
}

/// `YYYY/MM/DD HH:MM:SS[.F…]`, local.
fn go(b: &[u8]) -> Option<Raw> {
    let year = four(b, 0)?;
    if !is(b, 4, b'/') || !is(b, 7, b'/') || !is(b, 10, b' ') || !is(b, 13, b':') || !is(b, 16, b':') {
        return None;
    }
    let (month, day) = (two(b, 5)?, two(b, 8)?);
    let (hour, minute, second) = (two(b, 11)?, two(b, 14)?, two(b, 17)?);
    let (nanos, end) = maybe_fraction(b, 19, false);
    if is_digit(b, end) {
        return None;
    }
    civil(year, month, day, hour, minute, second, nanos).map(Raw::Local)
}

/// `Mmm dd HH:MM:SS[.F…]` with the day space-padded, zero-padded or bare; no year, local.
fn syslog(b: &[u8]) -> Option<Raw> {
    let month = month_abbr(b.get(0..3)?)?;
    if !is(b, 3, b' ') {
        return None;
    }
    let (day, i) = if is(b, 4, b' ') {
        (dig(b, 5)?, 6)
    } else if let Some(d) = two(b, 4) {
        (d, 6)
    } else {
        (dig(b, 4)?, 5)
    };
    if !is(b, i, b' ') || !is(b, i + 3, b':') || !is(b, i + 6, b':') {
        return None;
    }
    let (hour, minute, second) = (two(b, i + 1)?, two(b, i + 4)?, two(b, i + 7)?);
    let (nanos, end) = maybe_fraction(b, i + 9, false);
    if is_digit(b, end) {
        return None;
    }
    civil(0, month, day, hour, minute, second, nanos).map(Raw::NoYear)
}

/// An epoch number of seconds (9 or 10 digits, fraction allowed) or milliseconds (12 or 13),
/// in the plausible range.
fn epoch_number(b: &[u8]) -> Option<i64> {
    let digits = b.iter().take(14).take_while(|c| c.is_ascii_digit()).count();
    if is_digit(b, digits) {
        return None;
    }
    let value = b[..digits].iter().fold(0i64, |v, &c| v * 10 + i64::from(c - b'0'));
    let (nanos, _) = maybe_fraction(b, digits, false);
    epoch_nanos(digits, value, nanos)
}

/// Nanoseconds for an epoch number of `digits` integer digits and its fraction in nanos of the unit.
fn epoch_nanos(digits: usize, value: i64, frac_nanos: u32) -> Option<i64> {
    match digits {
        9 | 10 if (EPOCH_MIN_SECS..=EPOCH_MAX_SECS).contains(&value) => {
            Some(value * NANOS_PER_SEC + i64::from(frac_nanos))
        }
        12 | 13 if (EPOCH_MIN_SECS * 1000..=EPOCH_MAX_SECS * 1000).contains(&value) => {
            Some(value * 1_000_000 + i64::from(frac_nanos / 1000))
        }
        _ => None,
    }
}

/// `[dd/Mmm/yyyy:HH:MM:SS[.F…][ ±hhmm]]` at the first `[` in the first [`BRACKET_WITHIN`] bytes.
fn clf(line: &[u8]) -> Option<Raw> {
    let window = &line[..line.len().min(BRACKET_WITHIN)];
    let open = memchr::memchr(b'[', window)?;
    let b = &line[open + 1..];
    if !is(b, 2, b'/') || !is(b, 6, b'/') || !is(b, 11, b':') || !is(b, 14, b':') || !is(b, 17, b':') {
        return None;
    }
    let day = two(b, 0)?;
    let month = month_abbr(b.get(3..6)?)?;
    let year = four(b, 7)?;
    let (hour, minute, second) = (two(b, 12)?, two(b, 15)?, two(b, 18)?);
    let (nanos, mut end) = maybe_fraction(b, 20, false);
    let mut offset = None;
    if is(b, end, b' ') && matches!(b.get(end + 1), Some(b'+' | b'-')) {
        let (hours, minutes) = (two(b, end + 2)?, two(b, end + 4)?);
        if hours > 23 || minutes > 59 {
            return None;
        }
        let east = (hours * 3600 + minutes * 60) as i32;
        offset = Some(if b[end + 1] == b'-' { -east } else { east });
        end += 6;
    }
    if !is(b, end, b']') {
        return None;
    }
    let civil = civil(year, month, day, hour, minute, second, nanos)?;
    Some(offset.map_or(Raw::Local(civil), |o| Raw::Zoned(civil, o)))
}

/// The first byte that is not ASCII white space.
fn first_non_space(line: &[u8]) -> Option<u8> {
    line.iter().copied().find(|c| !c.is_ascii_whitespace())
}

/// A JSON line's stamp.
fn json(line: &[u8]) -> Option<Raw> {
    if first_non_space(line) != Some(b'{') {
        return None;
    }
    serde_json::from_slice::<JsonStamp>(line).ok()?.0
}

/// The stamp of a JSON object: its most preferred stamp field that holds one.
struct JsonStamp(Option<Raw>);

/// A top-level key: one of the stamp fields (by preference, 0 first), or another.
enum Key {
    Stamp(u8),
    Other,
}

/// A stamp field's value: a stamp, or something else (which is not an error).
struct StampValue(Option<Raw>);

impl<'de> Deserialize<'de> for JsonStamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(JsonStampVisitor)
    }
}

struct JsonStampVisitor;

impl<'de> Visitor<'de> for JsonStampVisitor {
    type Value = JsonStamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonStamp, A::Error> {
        let mut best: Option<(u8, Raw)> = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Stamp(rank) => {
                    let StampValue(value) = map.next_value()?;
                    if let Some(raw) = value {
                        if best.is_none_or(|(r, _)| rank < r) {
                            best = Some((rank, raw));
                        }
                    }
                }
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(JsonStamp(best.map(|(_, raw)| raw)))
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(match key {
                    "ts" => Key::Stamp(0),
                    "time" => Key::Stamp(1),
                    "timestamp" => Key::Stamp(2),
                    "@timestamp" => Key::Stamp(3),
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for StampValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StampValueVisitor)
    }
}

struct StampValueVisitor;

impl<'de> Visitor<'de> for StampValueVisitor {
    type Value = StampValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<StampValue, E> {
        let b = s.as_bytes();
        Ok(StampValue(iso(b, false).filter(|&(_, end)| end == b.len()).map(|(raw, _)| raw)))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<StampValue, E> {
        let Ok(value) = i64::try_from(n) else { return Ok(StampValue(None)) };
        let digits = value.checked_ilog10().map_or(1, |l| l as usize + 1);
        Ok(StampValue(epoch_nanos(digits, value, 0).map(Raw::Instant)))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<StampValue, E> {
        match u64::try_from(n) {
            Ok(n) => self.visit_u64(n),
            Err(_) => Ok(StampValue(None)),
        }
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<StampValue, E> {
        // Microseconds: an f64 near 1.7e9 (seconds) or 1.7e12 (milliseconds) holds no finer.
        let micros = if (EPOCH_MIN_SECS as f64..=EPOCH_MAX_SECS as f64).contains(&f) {
            (f * 1e6).round()
        } else if (EPOCH_MIN_SECS as f64 * 1e3..=EPOCH_MAX_SECS as f64 * 1e3).contains(&f) {
            (f * 1e3).round()
        } else {
            return Ok(StampValue(None));
        };
        Ok(StampValue(Some(Raw::Instant(micros as i64 * 1000))))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<StampValue, E> {
        Ok(StampValue(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<StampValue, E> {
        Ok(StampValue(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StampValue, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(StampValue(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StampValue, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(StampValue(None))
    }
}

/// The stamp of `line` in layout `format`, as written.
fn raw(format: Format, line: &[u8]) -> Option<Raw> {
    match format {
        Format::Json => json(line),
        Format::Clf => clf(line),
        Format::BracketedIso => match line.first() {
            Some(b'[') => iso(&line[1..], false).map(|(raw, _)| raw),
            _ => None,
        },
        Format::Iso => iso(line, false).map(|(raw, _)| raw),
        Format::Go => go(line),
        Format::Syslog => syslog(line),
        Format::Epoch => epoch_number(line).map(Raw::Instant),
    }
}

/// jiff's civil date and time for civil seconds since the epoch (`None` outside its range).
fn civil_datetime(civil_secs: i64) -> Option<DateTime> {
    let (year, month, day) = civil_from_days(civil_secs.div_euclid(SECS_PER_DAY));
    let sod = civil_secs.rem_euclid(SECS_PER_DAY);
    DateTime::new(
        i16::try_from(year).ok()?,
        month as i8,
        day as i8,
        (sod / 3600) as i8,
        (sod / 60 % 60) as i8,
        (sod % 60) as i8,
        0,
    )
    .ok()
}

/// Local civil seconds of `now` in `tz`, and its year.
fn local_now(now: Stamp, tz: &TimeZone) -> (i64, i32) {
    let dt = tz.to_datetime(now.to_timestamp());
    let year = i32::from(dt.year());
    let days =
        days_from_civil(year, u32::from(dt.month().unsigned_abs()), u32::from(dt.day().unsigned_abs()));
    let sod = i64::from(dt.hour()) * 3600 + i64::from(dt.minute()) * 60 + i64::from(dt.second());
    (days * SECS_PER_DAY + sod, year)
}

/// UTC seconds for local civil seconds by jiff's "compatible" rule (a gap takes the offset
/// before it, a fold its earlier instant).
fn local_compatible(tz: &TimeZone, civil_secs: i64) -> Option<i64> {
    let ts = tz.to_ambiguous_timestamp(civil_datetime(civil_secs)?).compatible().ok()?;
    Some(ts.as_second())
}

/// Local civil seconds in `lo..hi` are `offset` seconds east of UTC, and no other offset of the
/// zone gives them.
#[derive(Clone, Copy, Debug)]
struct OffsetRange {
    lo: i64,
    hi: i64,
    offset: i64,
}

impl OffsetRange {
    const EMPTY: OffsetRange = OffsetRange { lo: 0, hi: 0, offset: 0 };

    /// The range around civil seconds `c` that `tz` maps unambiguously with `offset`: from the
    /// transition before to the one after, less the gap or fold at each. It assumes, as every
    /// zone's history allows, that transitions are further apart than their offsets differ.
    fn around(tz: &TimeZone, c: i64, offset: i64) -> OffsetRange {
        let t = c - offset;
        let (Ok(after_t), Ok(at_t)) = (Timestamp::from_second(t + 1), Timestamp::from_second(t)) else {
            return OffsetRange::EMPTY;
        };
        let mut back = tz.preceding(after_t);
        let lo = match back.next() {
            None => i64::MIN,
            Some(p) => match back.next() {
                // The offset before p is q's.
                Some(q) => p.timestamp().as_second() + offset.max(i64::from(q.offset().seconds())),
                // The offset before the first transition is not told: from c on is safe.
                None => c,
            },
        };
        let hi = match tz.following(at_t).next() {
            None => i64::MAX,
            Some(n) => n.timestamp().as_second() + offset.min(i64::from(n.offset().seconds())),
        };
        OffsetRange { lo, hi, offset }
    }
}

/// Turns one file's lines into stamps in one layout; it keeps what consecutive lines share (the
/// UTC offset, syslog's year).
#[derive(Debug)]
pub(crate) struct Parser {
    format: Format,
    tz: TimeZone,
    /// The offset of the last local time looked up, and where it holds.
    cache: OffsetRange,
    /// "Now" in local civil seconds, and its year: the first syslog stamp's year is chosen by it.
    now_civil: i64,
    now_year: i32,
    /// The previous syslog stamp: its year, month and local civil seconds.
    syslog_prev: Option<(i32, u32, i64)>,
    /// The previous stamp parsed (nanoseconds), which picks a side of a fold.
    last: Option<i64>,
    /// ISO layouts: the previous stamp's first 16 bytes (date, hour, minute) and the civil
    /// seconds they stand for. Consecutive records mostly share them, and the calendar is
    /// then skipped.
    minute: Option<([u8; 16], i64)>,
}

impl Parser {
    /// A parser of `format`'s stamps; zone-less ones are local time in `tz`; `now` is the
    /// reference for syslog's missing year.
    pub(crate) fn new(format: Format, now: Stamp, tz: TimeZone) -> Parser {
        let (now_civil, now_year) = local_now(now, &tz);
        Parser {
            format,
            tz,
            cache: OffsetRange::EMPTY,
            now_civil,
            now_year,
            syslog_prev: None,
            last: None,
            minute: None,
        }
    }

    pub(crate) fn format(&self) -> Format {
        self.format
    }

    /// The stamp `line` starts with (for the common log format: has in its first bytes), if it
    /// has one in this parser's layout.
    pub(crate) fn parse(&mut self, line: &[u8]) -> Option<Stamp> {
        let nanos = match self.format {
            Format::Iso => self.iso(line)?,
            Format::BracketedIso if line.first() == Some(&b'[') => self.iso(&line[1..])?,
            format => self.instant(raw(format, line)?)?,
        };
        self.last = Some(nanos);
        Some(Stamp(nanos))
    }

    /// [`iso`], the calendar skipped while the minute is the previous stamp's.
    #[inline]
    fn iso(&mut self, b: &[u8]) -> Option<i64> {
        let head: [u8; 16] = b.get(..16)?.try_into().ok()?;
        let minute = match self.minute {
            Some((h, secs)) if h == head => secs,
            _ => {
                let secs = iso_minute(b)?.secs();
                self.minute = Some((head, secs));
                secs
            }
        };
        let (second, nanos, offset, _) = iso_seconds(b, false)?;
        let civil = minute + i64::from(second);
        match offset {
            Some(offset) => Some((civil - i64::from(offset)) * NANOS_PER_SEC + i64::from(nanos)),
            None => self.local(civil, nanos),
        }
    }

    /// Nanoseconds for a stamp as read.
    fn instant(&mut self, raw: Raw) -> Option<i64> {
        Some(match raw {
            Raw::Instant(nanos) => nanos,
            Raw::Zoned(c, offset) => (c.secs() - i64::from(offset)) * NANOS_PER_SEC + i64::from(c.nanos),
            Raw::Local(c) => self.local(c.secs(), c.nanos)?,
            Raw::NoYear(c) => {
                let c = self.syslog_year(c)?;
                self.local(c.secs(), c.nanos)?
            }
        })
    }

    /// Whether `line` starts a record: it has a stamp in this layout (checked, not converted).
    /// For JSON lines, any line whose first non-blank byte is `{` does.
    pub(crate) fn starts_with_stamp(&self, line: &[u8]) -> bool {
        match self.format {
            Format::Json => first_non_space(line) == Some(b'{'),
            // Shaped like the stamp is enough to start a record: lines that do not start one
            // (a traceback's) fail at once, and the many that do skip the calendar.
            Format::Iso => iso_shaped(line),
            Format::BracketedIso => line.first() == Some(&b'[') && iso_shaped(&line[1..]),
            format => raw(format, line).is_some(),
        }
    }

    /// Nanoseconds for a local time: from the cached offset when it holds there.
    #[inline]
    fn local(&mut self, civil_secs: i64, nanos: u32) -> Option<i64> {
        let cache = self.cache;
        let secs = if cache.lo <= civil_secs && civil_secs < cache.hi {
            civil_secs - cache.offset
        } else {
            self.look_up(civil_secs)?
        };
        Some(secs * NANOS_PER_SEC + i64::from(nanos))
    }

    /// UTC seconds for a local time from the tz database; caches the offset's range.
    fn look_up(&mut self, c: i64) -> Option<i64> {
        let secs = match self.tz.to_ambiguous_timestamp(civil_datetime(c)?).offset() {
            AmbiguousOffset::Unambiguous { offset } => {
                let offset = i64::from(offset.seconds());
                self.cache = OffsetRange::around(&self.tz, c, offset);
                c - offset
            }
            AmbiguousOffset::Gap { before, .. } => c - i64::from(before.seconds()),
            AmbiguousOffset::Fold { before, after } => {
                let one = c - i64::from(before.seconds());
                let other = c - i64::from(after.seconds());
                let (early, late) = (one.min(other), one.max(other));
                match self.last {
                    Some(last) => {
                        let last = last.div_euclid(NANOS_PER_SEC);
                        if (late - last).abs() <= (early - last).abs() { late } else { early }
                    }
                    None => early,
                }
            }
        };
        Some(secs)
    }

    /// A syslog stamp with its year (see the module's documentation for the rule).
    fn syslog_year(&mut self, c: Civil) -> Option<Civil> {
        let with_year = |year: i32| {
            ((FIRST_YEAR..=LAST_YEAR).contains(&year) && c.day <= days_in_month(year, c.month))
                .then_some(Civil { year, ..c })
        };
        let chosen = match self.syslog_prev {
            // The same month as the previous stamp is in the same year.
            Some((year, month, _)) if c.month == month => with_year(year)?,
            Some((year, _, prev)) => [year - 1, year, year + 1]
                .into_iter()
                .filter_map(with_year)
                .min_by_key(|k| ((k.secs() - prev).abs(), Reverse(k.year)))?,
            None => {
                let limit = self.now_civil + SYSLOG_AHEAD_SECS;
                [self.now_year + 1, self.now_year, self.now_year - 1]
                    .into_iter()
                    .filter_map(with_year)
                    .find(|k| k.secs() <= limit)?
            }
        };
        self.syslog_prev = Some((chosen.year, chosen.month, chosen.secs()));
        Some(chosen)
    }
}

/// Tells a file's layout from its first lines.
#[derive(Clone, Debug, Default)]
pub(crate) struct Detector {
    /// Lines that parsed, by layout, in the order of [`Format::ALL`].
    hits: [u32; Format::ALL.len()],
    /// Non-blank lines fed.
    lines: u32,
    /// Bytes fed.
    bytes: usize,
    /// The layouts the first non-blank line parsed in, in the order of [`Format::ALL`].
    first: Option<[bool; Format::ALL.len()]>,
}

impl Detector {
    pub(crate) fn new() -> Detector {
        Detector::default()
    }

    /// Tries one line (without its terminator) against every layout. Returns whether the
    /// detector wants more (it stops at 64 lines or 64 KiB); lines fed after that are ignored.
    pub(crate) fn feed(&mut self, line: &[u8]) -> bool {
        if !self.wants_more() {
            return false;
        }
        self.bytes += line.len() + 1;
        if first_non_space(line).is_some() {
            self.lines += 1;
            let mut parsed = [false; Format::ALL.len()];
            for ((hits, format), parsed) in self.hits.iter_mut().zip(Format::ALL).zip(&mut parsed) {
                *parsed = raw(format, line).is_some();
                *hits += u32::from(*parsed);
            }
            self.first.get_or_insert(parsed);
        }
        self.wants_more()
    }

    pub(crate) fn wants_more(&self) -> bool {
        self.lines < DETECT_LINES && self.bytes < DETECT_BYTES
    }

    /// The layout that parsed the most lines (ties: the more specific); `None` unless it parsed
    /// at least one non-blank line in eight, and two if two or more were fed.
    pub(crate) fn decide(&self) -> Option<Format> {
        let (mut best, mut most) = (None, 0);
        for (&hits, format) in self.hits.iter().zip(Format::ALL) {
            if hits > most {
                (best, most) = (Some(format), hits);
            }
        }
        let enough = most >= self.lines.min(2) && most * 8 >= self.lines;
        best.filter(|_| enough)
    }

    /// As [`Detector::decide`], without the one-in-eight rule: for records whose continuation
    /// lines may far outnumber their first lines (a Java stack trace). One line will do when it
    /// is the first: a record's first line comes first.
    pub(crate) fn decide_loose(&self) -> Option<Format> {
        let (mut best, mut most) = (None, 0);
        for (k, (&hits, format)) in self.hits.iter().zip(Format::ALL).enumerate() {
            let first = self.first.is_some_and(|f| f[k]);
            if hits > most && (hits >= 2 || first) {
                (best, most) = (Some(format), hits);
            }
        }
        best
    }
}

/// The stamps of one stream of lines (a source), line after line: the layout is detected from
/// its first lines, then each line is parsed with it, and a line without a stamp takes the
/// previous line's time (a traceback's lines are the time of the line they follow).
///
/// While detection wants more lines, each call decides on what it saw so far (lines handed over
/// together are all seen first), so stamps are given from the first line on and never wait for
/// more input; once detection has seen its 64 lines, the layout is fixed.
#[derive(Debug)]
pub(crate) struct Stamper {
    detector: Option<Detector>,
    /// For telling where records start (`--multiline`): a layout found on two lines will do,
    /// however many continuation lines lie between.
    loose: bool,
    parser: Option<Parser>,
    now: Stamp,
    tz: TimeZone,
    last: Option<Stamp>,
}

impl Stamper {
    pub(crate) fn new(now: Stamp, tz: TimeZone) -> Stamper {
        Stamper { detector: Some(Detector::new()), loose: false, parser: None, now, tz, last: None }
    }

    /// A stamper whose layout also says where records start ([`Stamper::starts_with_stamp`]).
    pub(crate) fn for_records(now: Stamp, tz: TimeZone) -> Stamper {
        Stamper { loose: true, ..Stamper::new(now, tz) }
    }

    /// Whether `line` begins with a stamp in the layout detected; `None` while there is none.
    pub(crate) fn starts_with_stamp(&self, line: &[u8]) -> Option<bool> {
        self.parser.as_ref().map(|p| p.starts_with_stamp(line))
    }

    /// Lines about to be stamped: detection looks at them first, while it wants more.
    pub(crate) fn look_at<'a>(&mut self, lines: impl Iterator<Item = &'a [u8]>) {
        let Some(detector) = self.detector.as_mut() else { return };
        for line in lines {
            if !detector.feed(line) {
                break;
            }
        }
        let decided = if self.loose { detector.decide_loose() } else { detector.decide() };
        if !detector.wants_more() {
            self.detector = None;
        }
        if decided != self.parser.as_ref().map(Parser::format) {
            self.parser = decided.map(|format| Parser::new(format, self.now, self.tz.clone()));
        }
    }

    /// Whether a layout was detected (so far).
    pub(crate) fn has_layout(&self) -> bool {
        self.parser.is_some()
    }

    /// The time of `line`: its own stamp, or the previous line's.
    pub(crate) fn stamp(&mut self, line: &[u8]) -> Option<Stamp> {
        if let Some(stamp) = self.parser.as_mut().and_then(|p| p.parse(line)) {
            self.last = Some(stamp);
        }
        self.last
    }
}

/// `--since WHEN` that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SinceError {
    input: String,
}

impl fmt::Display for SinceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid time '{}': expected a duration before now (10m, 1h30m, 2d), a date and time \
             (2026-12-01 10:00), a date (2026-12-01), a time today (10:00), RFC 3339 \
             (2026-12-01T10:00:00Z), today or yesterday",
            self.input
        )
    }
}

impl std::error::Error for SinceError {}

/// Reads `--since WHEN` against the clock and the local zone (`TZ` respected): the instant
/// records are printed from. It takes:
/// - a duration before now: numbers with units `s`, `m`, `h`, `d`, `w` (or `sec`, `min`,
///   `hour(s)`, `day(s)`, `week(s)`), spaces allowed, optionally ending in `ago`: `10m`,
///   `1h30m`, `90s`, `2d`;
/// - `now`, `today` (local midnight), `yesterday` (the midnight before);
/// - a date and time, `T` or space, seconds and fraction optional, zone optional (local when
///   absent): `2026-12-01 10:00`, `2026-12-01T10:00:00Z`;
/// - a date, `2026-12-01` (its local midnight); a time today, `10:00` or `10:00:30`.
///
/// The error says which forms are taken.
pub fn parse_since(when: &str) -> Result<std::time::SystemTime, String> {
    let stamp = parse_since_at(when, Stamp::now(), &TimeZone::system()).map_err(|e| e.to_string())?;
    Ok(stamp.to_system())
}

/// Reads `--since WHEN` against `now`, local times in `tz`:
/// - a duration before now: numbers with units `s`, `m`, `h`, `d`, `w` (or `sec`, `min`,
///   `hour(s)`, `day(s)`, `week(s)`), spaces allowed, optionally ending in `ago`: `10m`,
///   `1h30m`, `1h 30m`, `90s`, `2d`;
/// - `now`, `today` (local midnight), `yesterday` (the midnight before);
/// - a date and time, `T` or space, seconds and fraction optional, zone optional (local when
///   absent): `2026-12-01 10:00`, `2026-12-01 10:00:00`, `2026-12-01T10:00:00Z`;
/// - a date: `2026-12-01`, its local midnight;
/// - a time: `10:00`, `10:00:30`, today's (local) even if that is still to come.
///
/// A local time in a gap or fold is read by jiff's "compatible" rule (the offset before a gap,
/// a fold's earlier instant).
pub(crate) fn parse_since_at(when: &str, now: Stamp, tz: &TimeZone) -> Result<Stamp, SinceError> {
    let error = || SinceError { input: when.to_owned() };
    let text = when.trim();
    let b = text.as_bytes();
    let local = |civil_secs: i64, nanos: u32| {
        local_compatible(tz, civil_secs)
            .map(|secs| Stamp(secs * NANOS_PER_SEC + i64::from(nanos)))
            .ok_or_else(error)
    };
    let today = || local_now(now, tz).0.div_euclid(SECS_PER_DAY) * SECS_PER_DAY;
    if text.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if text.eq_ignore_ascii_case("today") {
        return local(today(), 0);
    }
    if text.eq_ignore_ascii_case("yesterday") {
        return local(today() - SECS_PER_DAY, 0);
    }
    if let Some(before) = duration(b) {
        return now.0.checked_sub(before).map(Stamp).ok_or_else(error);
    }
    if let Some((raw, end)) = iso(b, true) {
        if end == b.len() {
            return match raw {
                Raw::Zoned(c, offset) => {
                    Ok(Stamp((c.secs() - i64::from(offset)) * NANOS_PER_SEC + i64::from(c.nanos)))
                }
                Raw::Local(c) => local(c.secs(), c.nanos),
                Raw::NoYear(_) | Raw::Instant(_) => Err(error()),
            };
        }
    }
    if b.len() == 10 && is(b, 4, b'-') && is(b, 7, b'-') {
        let (year, month, day) =
            (four(b, 0).ok_or_else(error)?, two(b, 5).ok_or_else(error)?, two(b, 8).ok_or_else(error)?);
        let c = civil(year, month, day, 0, 0, 0, 0).ok_or_else(error)?;
        return local(c.secs(), 0);
    }
    if (b.len() == 5 || (b.len() == 8 && is(b, 5, b':'))) && is(b, 2, b':') {
        let hour = two(b, 0).ok_or_else(error)?;
        let minute = two(b, 3).ok_or_else(error)?;
        let second = if b.len() == 8 { two(b, 6).ok_or_else(error)? } else { 0 };
        if hour > 23 || minute > 59 || second > 59 {
            return Err(error());
        }
        return local(today() + i64::from(hour * 3600 + minute * 60 + second), 0);
    }
    Err(error())
}

/// Nanoseconds of a duration such as `1h30m`, `1h 30m`, `90s`, `2 days ago`.
fn duration(b: &[u8]) -> Option<i64> {
    let skip_spaces = |mut i: usize| {
        while is(b, i, b' ') {
            i += 1;
        }
        i
    };
    let mut i = 0;
    let mut total: i64 = 0;
    let mut parts = 0;
    loop {
        i = skip_spaces(i);
        if i == b.len() || (parts > 0 && b[i..].eq_ignore_ascii_case(b"ago")) {
            break;
        }
        let start = i;
        while is_digit(b, i) {
            i += 1;
        }
        if i == start || i - start > 12 {
            return None;
        }
        let n = b[start..i].iter().fold(0i64, |v, &c| v * 10 + i64::from(c - b'0'));
        i = skip_spaces(i);
        let unit_start = i;
        while b.get(i).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
        }
        let unit = b[unit_start..i].to_ascii_lowercase();
        let secs = match unit.as_slice() {
            b"s" | b"sec" | b"secs" | b"second" | b"seconds" => 1,
            b"m" | b"min" | b"mins" | b"minute" | b"minutes" => 60,
            b"h" | b"hr" | b"hrs" | b"hour" | b"hours" => 3600,
            b"d" | b"day" | b"days" => SECS_PER_DAY,
            b"w" | b"week" | b"weeks" => 7 * SECS_PER_DAY,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(secs)?)?;
        parts += 1;
    }
    if parts == 0 {
        return None;
    }
    total.checked_mul(NANOS_PER_SEC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamper_detects_then_carries_the_time_over_unstamped_lines() {
        let mut s = Stamper::new(Stamp::from_nanos(0), TimeZone::UTC);
        let lines: [&[u8]; 4] = [b"2026-12-01T10:00:00Z a", b"  at x", b"2026-12-01T10:00:01Z b", b"c"];
        s.look_at(lines.iter().copied());
        let got: Vec<_> = lines.iter().map(|l| s.stamp(l).map(|t| t.to_string())).collect();
        let want =
            ["2026-12-01T10:00:00Z", "2026-12-01T10:00:00Z", "2026-12-01T10:00:01Z", "2026-12-01T10:00:01Z"];
        assert_eq!(got, want.map(|w| Some(w.to_string())));
        // Nothing stamped before a stamp was seen; a file without stamps stays without.
        let mut s = Stamper::new(Stamp::from_nanos(0), TimeZone::UTC);
        s.look_at([&b"plain"[..], b"words"].into_iter());
        assert_eq!(s.stamp(b"plain"), None);
    }

    /// An instant from RFC 3339 text.
    fn at(s: &str) -> Stamp {
        Stamp::from_timestamp(s.parse::<Timestamp>().unwrap())
    }

    /// Europe/Berlin from the system's tz database, or the same rules as a POSIX TZ string where
    /// there is none, so that no test depends on the machine's zone.
    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").or_else(|_| TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3")).unwrap()
    }

    fn new_york() -> TimeZone {
        TimeZone::get("America/New_York").or_else(|_| TimeZone::posix("EST5EDT,M3.2.0,M11.1.0")).unwrap()
    }

    fn parse_utc(format: Format, line: &str) -> Option<String> {
        Parser::new(format, at("2026-12-15T00:00:00Z"), TimeZone::UTC)
            .parse(line.as_bytes())
            .map(|s| s.to_string())
    }

    #[test]
    fn days_agree_with_jiff_over_the_whole_range() {
        let first = days_from_civil(FIRST_YEAR, 1, 1) - 1;
        let last = days_from_civil(LAST_YEAR, 12, 31) + 1;
        for days in first..=last {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            let dt = TimeZone::UTC.to_datetime(Timestamp::from_second(days * SECS_PER_DAY).unwrap());
            assert_eq!((i32::from(dt.year()), dt.month() as u32, dt.day() as u32), (y, m, d), "day {days}");
        }
    }

    #[test]
    fn rfc3339_of_stamps_in_and_out_of_the_last_second_written() {
        // The text of the last second is kept: each must still show its own second.
        let base = at("2026-12-31T23:59:59Z").as_nanos();
        let steps = [0, 1, 999_999_999, 1_000_000_000, -1, 0, 86_400_000_000_000, -NANOS_PER_SEC, 0];
        for step in steps {
            let nanos = base + step;
            let got = Stamp::from_nanos(nanos).to_string();
            let want = Timestamp::from_nanosecond(i128::from(nanos)).unwrap().strftime("%Y-%m-%dT%H:%M:%S");
            assert_eq!(got[..19], want.to_string(), "{nanos}");
        }
    }

    #[test]
    fn rfc3339_shows_the_precision_the_value_needs() {
        let base = at("2026-12-01T10:00:00Z").as_nanos();
        let cases = [
            (0, "2026-12-01T10:00:00Z"),
            (123_000_000, "2026-12-01T10:00:00.123Z"),
            (100_000_000, "2026-12-01T10:00:00.100Z"),
            (123_456_000, "2026-12-01T10:00:00.123456Z"),
            (123_456_789, "2026-12-01T10:00:00.123456789Z"),
            (1, "2026-12-01T10:00:00.000000001Z"),
        ];
        for (nanos, text) in cases {
            let stamp = Stamp::from_nanos(base + nanos);
            assert_eq!(stamp.to_string(), text);
            let mut out = b"ts=".to_vec();
            stamp.write_rfc3339(&mut out);
            assert_eq!(out, format!("ts={text}").as_bytes());
            assert_eq!(Stamp::from_timestamp(text.parse().unwrap()), stamp);
        }
        assert_eq!(Stamp::from_nanos(-1).to_string(), "1969-12-31T23:59:59.999999999Z");
        assert_eq!(Stamp::from_nanos(i64::MIN).to_string(), "1677-09-21T00:12:43.145224192Z");
        assert_eq!(Stamp::from_nanos(i64::MAX).to_string(), "2262-04-11T23:47:16.854775807Z");
        assert!(Stamp::from_nanos(1) < Stamp::from_nanos(2));
    }

    #[test]
    fn iso_forms_with_and_without_fractions_and_zones() {
        let cases = [
            ("2026-12-01T10:00:00Z", "2026-12-01T10:00:00Z"),
            ("2026-12-01t10:00:00z rest", "2026-12-01T10:00:00Z"),
            ("2026-12-01 10:00:00.123+01:00 GET /", "2026-12-01T09:00:00.123Z"),
            ("2026-12-01T10:00:00,123456", "2026-12-01T10:00:00.123456Z"),
            ("2026-12-01T10:00:00.123456789123Z", "2026-12-01T10:00:00.123456789Z"),
            ("2026-12-01T10:00:00.5-0230 x", "2026-12-01T12:30:00.500Z"),
            ("2026-12-01T10:00:00+05 x", "2026-12-01T05:00:00Z"),
            ("2026-12-01T10:00:00-00:00", "2026-12-01T10:00:00Z"),
            ("2026-12-01 10:00:00 INFO started", "2026-12-01T10:00:00Z"),
            // A zone after a space (Ruby's Time#to_s, PostgreSQL's %m).
            ("2026-12-01 10:00:00 +0100 x", "2026-12-01T09:00:00Z"),
            ("2026-12-01 10:00:00 -01:30", "2026-12-01T11:30:00Z"),
            ("2026-12-01 10:00:00.123 UTC [1234] LOG: x", "2026-12-01T10:00:00.123Z"),
            ("2026-12-01 10:00:00 GMT", "2026-12-01T10:00:00Z"),
            // Not zones: local time, the rest is the message.
            ("2026-12-01 10:00:00 -12 degrees", "2026-12-01T10:00:00Z"),
            ("2026-12-01 10:00:00 +123456", "2026-12-01T10:00:00Z"),
            ("2026-12-01 10:00:00 UTCx", "2026-12-01T10:00:00Z"),
            ("2026-12-01 10:00:00 CET", "2026-12-01T10:00:00Z"),
            ("2026-12-01T10:00:00", "2026-12-01T10:00:00Z"),
            ("2026-06-30T23:59:60Z", "2026-06-30T23:59:59Z"),
            ("2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"),
            // Python logging's default.
            ("2026-12-01 10:00:00,123 - app - INFO - hi", "2026-12-01T10:00:00.123Z"),
        ];
        for (line, want) in cases {
            assert_eq!(parse_utc(Format::Iso, line).as_deref(), Some(want), "{line}");
            let bracketed = format!("[{line}] x");
            assert_eq!(parse_utc(Format::BracketedIso, &bracketed).as_deref(), Some(want), "{bracketed}");
        }
    }

    #[test]
    fn other_layouts_with_and_without_fractions() {
        let cases = [
            (Format::Go, "2026/12/01 10:00:00 server started", "2026-12-01T10:00:00Z"),
            (Format::Go, "2026/12/01 10:00:00.123456 x", "2026-12-01T10:00:00.123456Z"),
            (Format::Syslog, "Dec  1 10:00:00 host sshd[1]: hi", "2026-12-01T10:00:00Z"),
            (Format::Syslog, "Dec 11 10:00:00 host x", "2026-12-11T10:00:00Z"),
            (Format::Syslog, "Dec 1 10:00:00 host x", "2026-12-01T10:00:00Z"),
            (Format::Syslog, "dec 01 10:00:00.250 host x", "2026-12-01T10:00:00.250Z"),
            (Format::Epoch, "1764583200", "2025-12-01T10:00:00Z"),
            (Format::Epoch, "1764583200 GET /", "2025-12-01T10:00:00Z"),
            (Format::Epoch, "1764583200.123 x", "2025-12-01T10:00:00.123Z"),
            (Format::Epoch, "1764583200.123456789", "2025-12-01T10:00:00.123456789Z"),
            (Format::Epoch, "1764583200123 x", "2025-12-01T10:00:00.123Z"),
            (Format::Epoch, "1764583200123.5", "2025-12-01T10:00:00.123500Z"),
            (Format::Epoch, "946684800", "2000-01-01T00:00:00Z"),
            (Format::Clf, "[01/Dec/2026:10:00:00 +0000] x", "2026-12-01T10:00:00Z"),
            (
                Format::Clf,
                "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326",
                "2000-10-10T20:55:36Z",
            ),
            (Format::Clf, "host - - [01/Dec/2026:10:00:00.123 +0130] x", "2026-12-01T08:30:00.123Z"),
            (Format::Clf, "[01/Dec/2026:10:00:00]", "2026-12-01T10:00:00Z"),
        ];
        for (format, line, want) in cases {
            assert_eq!(parse_utc(format, line).as_deref(), Some(want), "{format:?} {line}");
            assert_eq!(Format::of_line(line.as_bytes()), Some(format), "{line}");
        }
    }

    #[test]
    fn json_lines_take_the_preferred_top_level_field() {
        let cases = [
            (r#"{"ts":"2026-12-01T10:00:00Z","msg":"hi"}"#, Some("2026-12-01T10:00:00Z")),
            (r#"  {"time": "2026-12-01 10:00:00,123+01:00"}"#, Some("2026-12-01T09:00:00.123Z")),
            (r#"{"timestamp":"2026-12-01T10:00:00"}"#, Some("2026-12-01T10:00:00Z")),
            (r#"{"@timestamp":"2026-12-01T10:00:00.5Z"}"#, Some("2026-12-01T10:00:00.500Z")),
            (r#"{"ts":1764583200}"#, Some("2025-12-01T10:00:00Z")),
            (r#"{"ts":1764583200.123}"#, Some("2025-12-01T10:00:00.123Z")),
            (r#"{"ts":1764583200.123456}"#, Some("2025-12-01T10:00:00.123456Z")),
            (r#"{"ts":1764583200123}"#, Some("2025-12-01T10:00:00.123Z")),
            (r#"{"ts":1764583200123.5}"#, Some("2025-12-01T10:00:00.123500Z")),
            (r#"{"ts":1.764583200123e9}"#, Some("2025-12-01T10:00:00.123Z")),
            // Escapes are read: \u005a is Z.
            (r#"{"ts":"2026-12-01T10:00:00\u005a"}"#, Some("2026-12-01T10:00:00Z")),
            (r#"{"t\u0073":"2026-12-01T10:00:00Z"}"#, Some("2026-12-01T10:00:00Z")),
            // Preference whatever the order: ts, time, timestamp, @timestamp.
            (
                r#"{"@timestamp":"2020-01-01T00:00:00Z","time":"2026-12-01T10:00:00Z"}"#,
                Some("2026-12-01T10:00:00Z"),
            ),
            // A preferred field that holds no stamp gives way.
            (r#"{"ts":"soon","time":"2026-12-01T10:00:00Z"}"#, Some("2026-12-01T10:00:00Z")),
            (
                r#"{"ts":null,"ts":[1,{"a":2}],"ts":{"b":[]},"ts":true,"time":1764583200}"#,
                Some("2025-12-01T10:00:00Z"),
            ),
            // Only the top level counts.
            (r#"{"inner":{"ts":"2026-12-01T10:00:00Z"}}"#, None),
            (r#"{"ts":"2026-12-01T10:00:00Z trailing"}"#, None),
            (r#"{"ts":"2026-12-01"}"#, None),
            (r#"{"ts":12345}"#, None),
            (r#"{"ts":-1764583200}"#, None),
            (r#"{"ts":1e300}"#, None),
            (r#"{"ts":"2026-12-01T10:00:00Z""#, None),
            (r#"{"ts":"2026-12-01T10:00:00Z"} extra"#, None),
            (r#"["2026-12-01T10:00:00Z"]"#, None),
            ("{", None),
        ];
        for (line, want) in cases {
            assert_eq!(parse_utc(Format::Json, line).as_deref(), want, "{line}");
        }
        // Deep nesting is skipped without recursion, or refused: never a stack overflow.
        let deep = format!(r#"{{"ts":1764583200,"x":{}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse_utc(Format::Json, &deep).as_deref(), Some("2025-12-01T10:00:00Z"));
        let deep = format!(r#"{{"ts":{}{},"time":1764583200}}"#, "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse_utc(Format::Json, &deep).as_deref(), Some("2025-12-01T10:00:00Z"));
        let deep = format!(r#"{{"ts":{}"#, "{\"a\":".repeat(100_000));
        assert_eq!(parse_utc(Format::Json, &deep), None);
        assert_eq!(
            parse_utc(Format::Json, "{\"ts\":\"2026-12-01T10:00:00Z\"}\r\n").as_deref(),
            Some("2026-12-01T10:00:00Z")
        );
    }

    #[test]
    fn garbage_is_no_stamp() {
        let lines = [
            "",
            "hello",
            "2026-12-01",
            "2026-12-01T10:00",
            "2026-12-01T10:00:001",
            "2026-12-01X10:00:00",
            "2026-13-01T10:00:00",
            "2026-02-29T10:00:00",
            "2026-04-31T10:00:00",
            "2026-12-00T10:00:00",
            "2026-12-01T24:00:00",
            "2026-12-01T10:60:00",
            "2026-12-01T10:00:61",
            "2026-12-01T10:00:00+2400",
            "2026-12-01T10:00:00+01:",
            "2026-12-01T10:00:00+1",
            "2026-12-01T10:00:00+010",
            "2026-12-01T10:00:00-",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "+2026-12-01T10:00:00",
            " 2026-12-01T10:00:00",
            "2026/12/01 10:00:001",
            "2026/12/01T10:00:00",
            "Foo  1 10:00:00",
            "Dec 32 10:00:00",
            "Feb 30 10:00:00",
            "Dec  1 10:00",
            "Dec  1 10:00:00000",
            "Dec001 10:00:00",
            "12345678",
            "900000000",
            "4102444801",
            "10000000000",
            "17645832001",
            "900000000000",
            "4102444800001",
            "17645832001234",
            "176458320012345",
            "1764583200123456789",
            "[01/Dec/2026:10:00:00 +0000",
            "[01/Foo/2026:10:00:00 +0000]",
            "[1/Dec/2026:10:00:00 +0000]",
            "[01/Dec/2026:10:00:00 +2500]",
            "[ 2026-12-01 10:00:00]",
            "                                                                 [01/Dec/2026:10:00:00 +0000]",
            "[x] [01/Dec/2026:10:00:00 +0000]",
            "{\"ts\":",
            "{}",
            "not json {\"ts\":1764583200}",
        ];
        for line in lines {
            for format in Format::ALL {
                assert_eq!(parse_utc(format, line), None, "{format:?} {line:?}");
            }
            assert_eq!(Format::of_line(line.as_bytes()), None, "{line:?}");
        }
    }

    /// Every example above, for the prefix and mutation tests.
    const VALID: &[&str] = &[
        "2026-12-01T10:00:00.123456+01:30 x",
        "2026-12-01 10:00:00,123 - x",
        "[2026-12-01 10:00:00.5Z] x",
        "2026/12/01 10:00:00.123456 x",
        "Dec  1 10:00:00.5 host",
        "Dec 11 10:00:00 host",
        "1764583200.123 x",
        "1764583200123 x",
        "127.0.0.1 - - [01/Dec/2026:10:00:00.1 -0700] \"GET /\"",
        r#"{"ts":"2026-12-01T10:00:00Z","time":1764583200.5,"x":[1,{"y":"\u00e9"}]}"#,
    ];

    #[test]
    fn every_prefix_is_no_stamp_or_a_valid_one() {
        let tz = berlin();
        for line in VALID {
            let line = line.as_bytes();
            let format = Format::of_line(line).unwrap();
            let whole = Parser::new(format, at("2026-12-15T00:00:00Z"), tz.clone()).parse(line).unwrap();
            for end in 0..line.len() {
                let prefix = &line[..end];
                for f in Format::ALL {
                    let mut parser = Parser::new(f, at("2026-12-15T00:00:00Z"), tz.clone());
                    let got = parser.parse(prefix);
                    let _ = parser.starts_with_stamp(prefix);
                    if f == format {
                        // A cut stamp is none, or the same instant with less fraction or zone.
                        if let Some(got) = got {
                            let diff = (got.as_nanos() - whole.as_nanos()).abs();
                            assert!(diff < 3 * 3600 * NANOS_PER_SEC, "{:?}", String::from_utf8_lossy(prefix));
                        }
                    }
                }
            }
        }
    }

    /// A small seeded generator (xorshift64*), so a failure can be replayed.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        const ALPHABET: &[u8] =
            b"0123456789012345678901234567890123456789-:/.,+ TZ[]{}\"tsime@Dec JanFeb\\\x00\xff\xc3";
        let seed = 0x5eed_0f57_4700_u64;
        let mut rng = Rng(seed);
        let tz = berlin();
        let now = at("2026-12-15T00:00:00Z");
        let mut parsers: Vec<Parser> = Format::ALL.iter().map(|&f| Parser::new(f, now, tz.clone())).collect();
        let mut detector = Detector::new();
        let mut line = Vec::new();
        for round in 0..40_000 {
            line.clear();
            if round % 2 == 0 {
                // A valid line, mutated.
                line.extend_from_slice(VALID[rng.below(VALID.len())].as_bytes());
                for _ in 0..1 + rng.below(3) {
                    let i = rng.below(line.len());
                    match rng.below(3) {
                        0 => line[i] = ALPHABET[rng.below(ALPHABET.len())],
                        1 => {
                            line.remove(i);
                        }
                        _ => line.insert(i, ALPHABET[rng.below(ALPHABET.len())]),
                    }
                }
            } else {
                for _ in 0..rng.below(48) {
                    let byte = if rng.below(8) == 0 {
                        rng.next() as u8
                    } else {
                        ALPHABET[rng.below(ALPHABET.len())]
                    };
                    line.push(byte);
                }
            }
            for parser in &mut parsers {
                let _ = parser.parse(&line);
                let _ = parser.starts_with_stamp(&line);
            }
            let _ = Format::of_line(&line);
            detector.feed(&line);
            let _ = parse_since_at(&String::from_utf8_lossy(&line), now, &tz);
        }
        let _ = detector.decide();
    }

    #[test]
    fn syslog_year_comes_from_now_then_follows_the_file() {
        let parse_all = |now: &str, lines: &[&str]| -> Vec<String> {
            let mut parser = Parser::new(Format::Syslog, at(now), TimeZone::UTC);
            lines.iter().map(|l| parser.parse(l.as_bytes()).unwrap().to_string()).collect()
        };
        // Read in January: December was last year, and the year rolls forward at Jan.
        assert_eq!(
            parse_all(
                "2027-01-05T10:00:00Z",
                &["Dec 31 23:59:58 a", "Jan  1 00:00:02 b", "Jan  2 00:00:00 c"]
            ),
            ["2026-12-31T23:59:58Z", "2027-01-01T00:00:02Z", "2027-01-02T00:00:00Z"]
        );
        // Read at 23:59 on New Year's Eve, a line already in the new year is next year's.
        assert_eq!(
            parse_all("2026-12-31T23:59:00Z", &["Jan  1 00:00:05 a", "Dec 31 23:59:59 b"]),
            ["2027-01-01T00:00:05Z", "2026-12-31T23:59:59Z"]
        );
        // Up to 31 days ahead is this year; further is last year.
        assert_eq!(parse_all("2026-06-05T00:00:00Z", &["Jul  1 00:00:00 a"]), ["2026-07-01T00:00:00Z"]);
        assert_eq!(parse_all("2026-06-05T00:00:00Z", &["Jul 10 00:00:00 a"]), ["2025-07-10T00:00:00Z"]);
        // A file spanning New Year, read months later, rolls forward once.
        assert_eq!(
            parse_all(
                "2027-03-01T00:00:00Z",
                &["Nov 30 12:00:00 a", "Dec 31 12:00:00 b", "Jan 15 12:00:00 c", "Feb 20 12:00:00 d"]
            ),
            ["2026-11-30T12:00:00Z", "2026-12-31T12:00:00Z", "2027-01-15T12:00:00Z", "2027-02-20T12:00:00Z"]
        );
        // A line slightly out of order across New Year goes back with it.
        assert_eq!(
            parse_all(
                "2027-01-05T00:00:00Z",
                &["Jan  1 00:00:01 a", "Dec 31 23:59:59 b", "Jan  1 00:00:02 c"]
            ),
            ["2027-01-01T00:00:01Z", "2026-12-31T23:59:59Z", "2027-01-01T00:00:02Z"]
        );
        // Feb 29 takes a leap year.
        assert_eq!(parse_all("2025-03-01T00:00:00Z", &["Feb 29 10:00:00 a"]), ["2024-02-29T10:00:00Z"]);
        let mut parser = Parser::new(Format::Syslog, at("2026-03-01T00:00:00Z"), TimeZone::UTC);
        assert_eq!(
            parser.parse(b"Feb 28 10:00:00 a").map(|s| s.to_string()).as_deref(),
            Some("2026-02-28T10:00:00Z")
        );
        assert_eq!(parser.parse(b"Feb 29 10:00:00 a"), None);
    }

    #[test]
    fn zone_less_stamps_are_local_across_dst_changes() {
        let tz = berlin();
        let mut parser = Parser::new(Format::Iso, at("2026-12-15T00:00:00Z"), tz.clone());
        let mut parse = |line: &str| parser.parse(line.as_bytes()).unwrap().to_string();
        // Spring forward, Sunday 2026-03-29 02:00 CET becomes 03:00 CEST.
        assert_eq!(parse("2026-03-28 12:00:00"), "2026-03-28T11:00:00Z");
        assert_eq!(parse("2026-03-29 01:59:59.5"), "2026-03-29T00:59:59.500Z");
        assert_eq!(parse("2026-03-29 02:30:00"), "2026-03-29T01:30:00Z"); // in the gap: the offset before
        assert_eq!(parse("2026-03-29 03:00:00"), "2026-03-29T01:00:00Z");
        assert_eq!(parse("2026-03-30 12:00:00"), "2026-03-30T10:00:00Z");
        assert_eq!(parse("2026-03-28 12:00:00"), "2026-03-28T11:00:00Z"); // and back again
        // Fall back, Sunday 2026-10-25 03:00 CEST becomes 02:00 CET: 02:xx happens twice.
        assert_eq!(parse("2026-10-25 01:59:00"), "2026-10-24T23:59:00Z");
        assert_eq!(parse("2026-10-25 02:30:00"), "2026-10-25T00:30:00Z");
        assert_eq!(parse("2026-10-25 02:59:59"), "2026-10-25T00:59:59Z");
        assert_eq!(parse("2026-10-25 02:00:00"), "2026-10-25T01:00:00Z"); // the second time
        assert_eq!(parse("2026-10-25 02:30:00"), "2026-10-25T01:30:00Z");
        assert_eq!(parse("2026-10-25 03:00:00"), "2026-10-25T02:00:00Z");
        // A fresh parser takes a fold's first instant.
        let mut fresh = Parser::new(Format::Iso, at("2026-12-15T00:00:00Z"), tz.clone());
        assert_eq!(fresh.parse(b"2026-10-25 02:30:00").unwrap().to_string(), "2026-10-25T00:30:00Z");
        // An explicit offset wins over the zone.
        let mut zoned = Parser::new(Format::Iso, at("2026-12-15T00:00:00Z"), tz);
        assert_eq!(zoned.parse(b"2026-07-01 12:00:00Z").unwrap().to_string(), "2026-07-01T12:00:00Z");
    }

    #[test]
    fn cached_offsets_agree_with_jiff_at_every_unambiguous_time() {
        let mut zones = vec![berlin(), new_york()];
        // Lord Howe moves its clocks by 30 minutes; Kathmandu is +05:45.
        zones.extend(
            ["Australia/Lord_Howe", "Asia/Kathmandu", "America/Sao_Paulo"]
                .iter()
                .filter_map(|n| TimeZone::get(n).ok()),
        );
        let start = days_from_civil(2025, 1, 1) * SECS_PER_DAY;
        let end = days_from_civil(2027, 1, 1) * SECS_PER_DAY;
        for tz in zones {
            let mut parser = Parser::new(Format::Iso, at("2026-12-15T00:00:00Z"), tz.clone());
            // Odd steps, forward, then a pass backward.
            let forward = (start..end).step_by(7 * 60 + 13);
            let backward = (start..end).rev().step_by(3 * 3600 + 17);
            for c in forward.chain(backward) {
                let dt = civil_datetime(c).unwrap();
                let ambiguous = tz.to_ambiguous_timestamp(dt);
                let AmbiguousOffset::Unambiguous { offset } = ambiguous.offset() else { continue };
                let line = format!("{} x", dt.strftime("%Y-%m-%d %H:%M:%S"));
                let got = parser.parse(line.as_bytes()).unwrap();
                assert_eq!(
                    got.as_nanos(),
                    (c - i64::from(offset.seconds())) * NANOS_PER_SEC,
                    "{tz:?} {line}"
                );
            }
        }
    }

    #[test]
    fn detection_picks_the_format_most_lines_have() {
        let detect = |text: &str| {
            let mut detector = Detector::new();
            for line in text.lines() {
                if !detector.feed(line.as_bytes()) {
                    break;
                }
            }
            detector.decide()
        };
        let python = "\
2026-12-01 10:00:00,123 - app - INFO - starting
2026-12-01 10:00:01,456 - app - ERROR - failed
Traceback (most recent call last):
  File \"app.py\", line 3, in <module>
    main()
  File \"app.py\", line 2, in main
    raise ValueError(1764583200)
ValueError: 1764583200

2026-12-01 10:00:02,789 - app - INFO - retrying
1764583200 is not a stamp here
";
        assert_eq!(detect(python), Some(Format::Iso));
        let access = "\
127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /a HTTP/1.0\" 200 2326
10.0.0.2 - - [10/Oct/2000:13:55:37 -0700] \"GET /b HTTP/1.0\" 404 0
";
        assert_eq!(detect(access), Some(Format::Clf));
        assert_eq!(detect("Dec  1 10:00:00 h a\nDec  1 10:00:01 h b\n  continued\n"), Some(Format::Syslog));
        assert_eq!(
            detect("[2026-12-01 10:00:00,123] INFO a\n[2026-12-01 10:00:01,123] INFO b\n"),
            Some(Format::BracketedIso)
        );
        assert_eq!(detect("2026/12/01 10:00:00 a\n2026/12/01 10:00:01.5 b\n"), Some(Format::Go));
        assert_eq!(detect("1764583200.1 a\n1764583201.2 b\n"), Some(Format::Epoch));
        // Both the JSON field and a CLF stamp in the first bytes: the more specific wins the tie.
        let json = "{\"msg\":\"[01/Dec/2026:10:00:00 +0000]\",\"ts\":\"2026-12-01T10:00:00Z\"}\n".repeat(3);
        assert_eq!(detect(&json), Some(Format::Json));
        // Too few lines with a stamp, or only one.
        assert_eq!(detect("1764583200 apples\n"), Some(Format::Epoch));
        assert_eq!(detect("1764583200 apples\npears\n"), None);
        assert_eq!(
            detect(&format!("2026-12-01 10:00:00 a\n2026-12-01 10:00:00 b\n{}", "text\n".repeat(20))),
            None
        );
        assert_eq!(
            detect(&format!("2026-12-01 10:00:00 a\n2026-12-01 10:00:00 b\n{}", "text\n".repeat(14))),
            Some(Format::Iso)
        );
        assert_eq!(detect("plain\ntext\n"), None);
        assert_eq!(detect("\n\n   \n"), None);
        assert_eq!(detect(""), None);
        // It stops asking after 64 lines.
        let mut detector = Detector::new();
        let wanted = (0..100).take_while(|_| detector.feed(b"Dec  1 10:00:00 h a")).count();
        assert_eq!(wanted, 63);
        assert_eq!(detector.decide(), Some(Format::Syslog));
    }

    #[test]
    fn starts_with_stamp_tells_a_record_from_its_continuation() {
        let parser = Parser::new(Format::Iso, Stamp::now(), TimeZone::UTC);
        assert!(parser.starts_with_stamp(b"2026-12-01 10:00:00,123 - app - ERROR - failed"));
        assert!(!parser.starts_with_stamp(b"Traceback (most recent call last):"));
        assert!(!parser.starts_with_stamp(b"  File \"app.py\", line 3, in <module>"));
        assert!(!parser.starts_with_stamp(b""));
        let json = Parser::new(Format::Json, Stamp::now(), TimeZone::UTC);
        assert!(json.starts_with_stamp(b" {\"msg\":\"no stamp\"}"));
        assert!(!json.starts_with_stamp(b"  \"continued\": 1"));
        let clf = Parser::new(Format::Clf, Stamp::now(), TimeZone::UTC);
        assert!(clf.starts_with_stamp(b"1.2.3.4 - - [01/Dec/2026:10:00:00 +0000] \"GET /\""));
        assert_eq!(clf.format(), Format::Clf);
    }

    #[test]
    fn iso_shape_is_what_starts_a_record() {
        for yes in ["2026-12-01 10:00:00,123 INFO x", "2026-12-01T10:00:00Z", "2026-12-01t10:00:00"] {
            assert!(iso_shaped(yes.as_bytes()), "{yes}");
        }
        for no in ["  File \"x\"", "2026-12-01 10:00 x", "2026-12-01 10:00:001", "2026/12/01 10:00:00", ""] {
            assert!(!iso_shaped(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn since_accepts_durations_dates_and_times() {
        let tz = berlin();
        let now = at("2026-12-01T15:00:00Z"); // 16:00 in Berlin
        let since = |when: &str| parse_since_at(when, now, &tz).map(|s| s.to_string());
        let cases = [
            ("10m", "2026-12-01T14:50:00Z"),
            ("  10m ", "2026-12-01T14:50:00Z"),
            ("1h30m", "2026-12-01T13:30:00Z"),
            ("1h 30m", "2026-12-01T13:30:00Z"),
            ("90s", "2026-12-01T14:58:30Z"),
            ("2d", "2026-11-29T15:00:00Z"),
            ("1w", "2026-11-24T15:00:00Z"),
            ("2 days ago", "2026-11-29T15:00:00Z"),
            ("1 hour 5 MIN", "2026-12-01T13:55:00Z"),
            ("0s", "2026-12-01T15:00:00Z"),
            ("now", "2026-12-01T15:00:00Z"),
            ("today", "2026-11-30T23:00:00Z"),
            ("Yesterday", "2026-11-29T23:00:00Z"),
            ("2026-12-01 10:00", "2026-12-01T09:00:00Z"),
            ("2026-12-01 10:00:00", "2026-12-01T09:00:00Z"),
            ("2026-12-01T10:00:00.25", "2026-12-01T09:00:00.250Z"),
            ("2026-07-01 10:00", "2026-07-01T08:00:00Z"),
            ("2026-12-01T10:00:00Z", "2026-12-01T10:00:00Z"),
            ("2026-12-01T10:00+02:00", "2026-12-01T08:00:00Z"),
            ("2026-12-01", "2026-11-30T23:00:00Z"),
            ("10:00", "2026-12-01T09:00:00Z"),
            ("10:00:30", "2026-12-01T09:00:30Z"),
            // Later today is still today.
            ("23:00", "2026-12-01T22:00:00Z"),
        ];
        for (when, want) in cases {
            assert_eq!(since(when).as_deref(), Ok(want), "{when}");
        }
    }

    #[test]
    fn since_rejects_anything_else_and_says_what_it_takes() {
        let tz = TimeZone::UTC;
        let now = at("2026-12-01T15:00:00Z");
        for when in [
            "",
            " ",
            "xyz",
            "10",
            "10x",
            "1h30",
            "h",
            "ago",
            "-10m",
            "10m ago ago",
            "999999999999d",
            "99999999999w",
            "2026-13-01",
            "2026-02-30",
            "2026-12-1",
            "2026-12-01 10",
            "2026-12-01 25:00",
            "2026-12-01T10:00:00Zjunk",
            "25:00",
            "10:60",
            "10:00:60",
            "1:00",
            "10:00:0",
            "Dec  1 10:00:00",
            "1764583200",
        ] {
            assert!(parse_since_at(when, now, &tz).is_err(), "{when:?}");
        }
        let error = parse_since_at("xyz", now, &tz).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid time 'xyz': expected a duration before now (10m, 1h30m, 2d), a date and time \
             (2026-12-01 10:00), a date (2026-12-01), a time today (10:00), RFC 3339 \
             (2026-12-01T10:00:00Z), today or yesterday"
        );
    }

    /// Not a test of speed (no timing is asserted): prints nanoseconds per line, over 100,000
    /// lines ten times. Run it with the crates on the path optimised, the rest a debug build:
    ///
    /// ```text
    /// cargo test --lib \
    ///   --config 'profile.dev.package.rtail.opt-level=3' \
    ///   --config 'profile.dev.package.rtail.overflow-checks=false' \
    ///   --config 'profile.dev.package.rtail.debug-assertions=false' \
    ///   --config 'profile.dev.package.serde_json.opt-level=3' \
    ///   --config 'profile.dev.package.serde_core.opt-level=3' \
    ///   --config 'profile.dev.package.memchr.opt-level=3' \
    ///   stamp::tests::speed -- --ignored --nocapture
    /// ```
    #[test]
    #[ignore]
    fn speed() {
        let lines: Vec<String> = (0..100_000)
            .map(|i| {
                format!(
                    "2026-12-01 {:02}:{:02}:{:02},{:03} - app - INFO - line {i}",
                    i / 3600 % 24,
                    i / 60 % 60,
                    i % 60,
                    i % 1000
                )
            })
            .collect();
        let syslog: Vec<String> = (0..100_000)
            .map(|i| {
                format!("Dec  1 {:02}:{:02}:{:02} host app: line {i}", i / 3600 % 24, i / 60 % 60, i % 60)
            })
            .collect();
        let json: Vec<String> = (0..100_000)
            .map(|i| {
                format!(
                    r#"{{"level":"info","ts":"2026-12-01T10:00:{:02}.{i:06}Z","msg":"line {i}"}}"#,
                    i % 60
                )
            })
            .collect();
        for (name, format, lines) in
            [("iso", Format::Iso, &lines), ("syslog", Format::Syslog, &syslog), ("json", Format::Json, &json)]
        {
            let mut parser = Parser::new(format, at("2026-12-15T00:00:00Z"), berlin());
            let started = std::time::Instant::now();
            let mut sum = 0i64;
            for _ in 0..10 {
                for line in lines.iter() {
                    sum = sum.wrapping_add(parser.parse(line.as_bytes()).unwrap().as_nanos());
                }
            }
            let per_line = started.elapsed().as_nanos() as f64 / (10.0 * lines.len() as f64);
            println!("{name}: {per_line:.1} ns per line ({sum})");
        }
    }
}
