//! How names are quoted in messages, as GNU's diagnostics do. Used by every module that words
//! a notice; it depends on nothing of ours.

/// A name at the start of a message, as GNU's `quotef`: as it is when the shell would read it
/// as one plain word (`app.log`), otherwise [`quote`]d (`'a b': file truncated`).
pub(crate) fn quotef(name: &[u8]) -> String {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"%+,-./:=@_".contains(&b);
    if !name.is_empty() && name.iter().all(|&b| plain(b)) {
        String::from_utf8_lossy(name).into_owned()
    } else {
        quote(name)
    }
}

/// Quote a name for a message the way GNU's diagnostics do (shell quoting, C locale): `'name'`;
/// `"it's"` when a single quote is the only special character; `'it'\''s'` otherwise; control and
/// non-ASCII bytes as `$'\n'` or `$'\351'` pieces between quoted runs.
pub(crate) fn quote(name: &[u8]) -> String {
    let printable = |b: u8| (0x20..0x7f).contains(&b);
    if name.iter().all(|&b| printable(b)) {
        let text = String::from_utf8_lossy(name);
        if text.contains('\'') && !text.contains(['"', '$', '`', '\\']) {
            return format!("\"{text}\"");
        }
        return format!("'{}'", text.replace('\'', r"'\''"));
    }
    let mut out = String::new();
    let mut run = Vec::new();
    let flush = |run: &mut Vec<u8>, out: &mut String| {
        if !run.is_empty() {
            out.push_str(&format!("'{}'", String::from_utf8_lossy(run).replace('\'', r"'\''")));
            run.clear();
        }
    };
    for &b in name {
        if printable(b) {
            run.push(b);
            continue;
        }
        flush(&mut run, &mut out);
        let escaped = match b {
            0x07 => "\\a".to_string(),
            0x08 => "\\b".to_string(),
            b'\t' => "\\t".to_string(),
            b'\n' => "\\n".to_string(),
            0x0b => "\\v".to_string(),
            0x0c => "\\f".to_string(),
            b'\r' => "\\r".to_string(),
            _ => format!("\\{b:03o}"),
        };
        out.push_str(&format!("$'{escaped}'"));
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::{quote, quotef};

    #[test]
    fn names_are_quoted_like_gnu() {
        assert_eq!(quote(b"app.log"), "'app.log'");
        assert_eq!(quote(b"a b"), "'a b'");
        assert_eq!(quote(b"it's"), "\"it's\"");
        assert_eq!(quote(b"it's$x"), r"'it'\''s$x'");
        assert_eq!(quote(b"quo'te\"d"), r#"'quo'\''te"d'"#);
        assert_eq!(quote(b"tab\there"), r"'tab'$'\t''here'");
        assert_eq!(quote(b"x\xe9y"), r"'x'$'\351''y'");
        assert_eq!(quote(b"a\nb"), r"'a'$'\n''b'");
    }

    #[test]
    fn plain_names_at_the_start_stay_bare() {
        assert_eq!(quotef(b"logs/app.log"), "logs/app.log");
        assert_eq!(quotef(b"a b"), "'a b'");
        assert_eq!(quotef(b""), "''");
    }
}
