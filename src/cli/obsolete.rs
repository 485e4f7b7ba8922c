//! GNU tail's obsolete forms (`rtail -5 file`, `+5`, `-3c`, `-5f`), accepted as GNU accepts
//! them, and the refusal of digits inside option clusters that GNU also refuses.

use std::ffi::OsString;

use super::Exit;
use rtail::Unit;

/// Short options that take a value (their value may follow in the same word).
const SHORT_WITH_VALUE: &[char] = &['c', 'n', 's', 'g', 'x'];
/// Long options that take a value (a separate word unless given with `=`).
const LONG_WITH_VALUE: &[&str] = &[
    "bytes",
    "lines",
    "sleep-interval",
    "max-unchanged-stats",
    "pid",
    "grep",
    "exclude",
    "until",
    "timeout",
    "idle-timeout",
    "generate",
];

/// GNU's obsolete forms, accepted only as the sole option with at most one file operand:
/// `-N`, `+N`, with an optional unit `b` (512 bytes), `c` (bytes) or `l` (lines), e.g. `-5c`.
/// Rewritten into the modern options; anything else is returned unchanged.
pub(super) fn expand_obsolete(args: Vec<OsString>) -> Vec<OsString> {
    let rest = &args[1..];
    let shape_ok = match rest.len() {
        1 => true,
        2 => rest[1] == "--" || !(rest[1].as_encoded_bytes().starts_with(b"-") && rest[1].len() > 1),
        3 => rest[1] == "--",
        _ => false,
    };
    let Some(opt) = rest.first().and_then(|a| a.to_str()) else {
        return args;
    };
    if !shape_ok {
        return args;
    }
    let (from_start, body) = match opt.as_bytes().first() {
        Some(b'+') => (true, &opt[1..]),
        Some(b'-') if !opt[1..].is_empty() && opt != "-c" && !opt.starts_with("--") => (false, &opt[1..]),
        _ => return args,
    };
    let digits_end = body.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(body.len());
    let (digits, mut tail) = body.split_at(digits_end);
    let (unit, factor) = match tail.as_bytes().first() {
        Some(b'b') => (Unit::Bytes, 512),
        Some(b'c') => (Unit::Bytes, 1),
        Some(b'l') => (Unit::Lines, 1),
        _ => (Unit::Lines, 1),
    };
    if matches!(tail.as_bytes().first(), Some(b'b' | b'c' | b'l')) {
        tail = &tail[1..];
    }
    let follow = tail == "f";
    if !tail.is_empty() && !follow {
        return args;
    }
    let n = if digits.is_empty() {
        10
    } else {
        digits.bytes().fold(0u64, |acc, d| acc.saturating_mul(10).saturating_add(u64::from(d - b'0')))
    };
    let n = n.saturating_mul(factor);
    let flag = if unit == Unit::Bytes { "-c" } else { "-n" };
    let value = if from_start { format!("+{n}") } else { n.to_string() };
    let mut out = vec![args[0].clone(), flag.into(), value.into()];
    if follow {
        out.push("-f".into());
    }
    out.extend(rest[1..].iter().cloned());
    out
}

/// GNU rejects digits inside option clusters (`-2 a b`, `-v5`) with a message of its own.
pub(super) fn reject_digit_options(args: &[OsString]) -> Result<(), Exit> {
    let mut skip_next = false;
    for arg in &args[1..] {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        let Some(text) = arg.to_str() else { continue };
        if text == "--" {
            break;
        }
        if let Some(long) = text.strip_prefix("--") {
            skip_next = !long.contains('=')
                && !long.is_empty()
                && LONG_WITH_VALUE.iter().any(|name| name.starts_with(long));
            continue;
        }
        let Some(cluster) = text.strip_prefix('-') else {
            continue;
        };
        for (i, ch) in cluster.char_indices() {
            if ch.is_ascii_digit() {
                return Err(Exit::Invalid(format!("option used in invalid context -- {ch}")));
            }
            if SHORT_WITH_VALUE.contains(&ch) {
                skip_next = i + ch.len_utf8() == cluster.len();
                break;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }
    #[test]
    fn obsolete_forms_are_rewritten() {
        assert_eq!(expand_obsolete(os(&["rtail", "-5", "f"])), os(&["rtail", "-n", "5", "f"]));
        assert_eq!(expand_obsolete(os(&["rtail", "+5"])), os(&["rtail", "-n", "+5"]));
        assert_eq!(expand_obsolete(os(&["rtail", "-3c", "f"])), os(&["rtail", "-c", "3", "f"]));
        assert_eq!(expand_obsolete(os(&["rtail", "-2b"])), os(&["rtail", "-c", "1024"]));
        assert_eq!(expand_obsolete(os(&["rtail", "-b"])), os(&["rtail", "-c", "5120"]));
        assert_eq!(expand_obsolete(os(&["rtail", "+l", "f"])), os(&["rtail", "-n", "+10", "f"]));
        assert_eq!(expand_obsolete(os(&["rtail", "-3", "--", "f"])), os(&["rtail", "-n", "3", "--", "f"]));
        assert_eq!(expand_obsolete(os(&["rtail", "-3", "-"])), os(&["rtail", "-n", "3", "-"]));
    }

    #[test]
    fn non_obsolete_shapes_are_left_alone() {
        for args in [
            &["rtail", "-2", "a", "b"][..],
            &["rtail", "-c", "f"],
            &["rtail", "-5x", "f"],
            &["rtail", "+x", "f"],
            &["rtail", "-3", "-v"],
            &["rtail", "-n", "3"],
            &["rtail", "-"],
            &["rtail", "--5"],
        ] {
            assert_eq!(expand_obsolete(os(args)), os(args), "{args:?}");
        }
    }

    #[test]
    fn digits_in_option_clusters_are_rejected() {
        assert!(reject_digit_options(&os(&["rtail", "-2", "a", "b"])).is_err());
        assert!(reject_digit_options(&os(&["rtail", "-v5", "a"])).is_err());
        assert!(reject_digit_options(&os(&["rtail", "-n", "-5", "a"])).is_ok());
        assert!(reject_digit_options(&os(&["rtail", "-n5", "a"])).is_ok());
        assert!(reject_digit_options(&os(&["rtail", "--lines", "-5", "a"])).is_ok());
        assert!(reject_digit_options(&os(&["rtail", "--", "-5"])).is_ok());
    }
}
