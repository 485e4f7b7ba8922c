//! A log file's rotated generations, and reading its last lines back through them (`--history`).
//!
//! This module owns two things: finding the rotated copies of a live file ([`generations`]), and
//! reading them back in chronological order, oldest needed line first ([`last_lines`] for
//! `-n N`, [`all_lines`] for `-n +1`). It reads files only; it never prints, never touches the
//! live file's contents, and knows nothing of the pipeline: what it reads goes to a callback as
//! [`Chunk`]s, and what went wrong comes back as a [`Report`] for the caller to word and count.
//!
//! **The naming rule.** A generation of `app.log` lives in the same directory and is named
//! `app.log` followed by one rotation stamp, then optionally one compression suffix (`.gz`,
//! `.bz2`, `.xz`, `.zst`). A stamp is
//! - a number after a dot, at most 7 digits: `app.log.1`, `app.log.12` (logrotate, Python's
//!   `RotatingFileHandler`, concurrent-log-handler's `app.log.1.gz`);
//! - a date after a dash or a dot: digit groups joined by single `-` or `_`, either starting with
//!   at least 8 digits (`app.log-20261130`, `app.log-2026113012`, logrotate's `dateext`) or with
//!   `YYYY-MM-DD` (`app.log-2026-11-30`, and `TimedRotatingFileHandler`'s `app.log.2026-11-30`,
//!   `app.log.2026-11-30_10`, `…_10-00`, `…_10-00-00`).
//!
//! Nothing else matches (`app.log.bak`, `app.log.swp`, `app.log2`, `app.log.1.tmp`, `app.log.gz`).
//! When a plain generation and its compressed copy both exist (`app.log.2` and `app.log.2.gz`:
//! the compressor is still at work, or `delaycompress` left both), only the plain one is taken:
//! it is complete, and its copy would repeat its lines.
//!
//! **The order.** Oldest first, by modification time; at equal times a higher number is older
//! and an earlier date is older (and a numbered name older than a dated one), then by name. The
//! live file and anything that is the same file (same device and inode: a hard link, or the
//! instant after a rename) are left out, as is any second name of one generation.
//!
//! **What is read.** Only what is needed, newest generation first, stopping once enough lines
//! were found. A plain generation is read backwards from its end in blocks; a gzip one cannot
//! be, so it is decompressed as a stream (several members allowed) and only its last needed
//! lines are kept, in blocks ([`Tail`]): memory grows with the lines kept, never with the file.
//! Each generation is read up to its size when opened: lines a late writer adds after that are
//! not taken. A generation whose name now holds another file (a rotation between listing and
//! reading) or that has vanished is skipped silently: it was rotated away. `.bz2`, `.xz` and
//! `.zst` generations are listed but not read: each one reached is reported once as
//! `unsupported compression` (no decoder is built in yet), and reading goes on past it.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The longest number taken as a numbered generation (`app.log.1234567`); longer digit runs are
/// dates (`app.log.20261130`).
const MAX_NUMBER_DIGITS: usize = 7;

/// How a generation is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compression {
    Plain,
    Gzip,
    /// Listed, not read: no decoder built in.
    Bzip2,
    /// Listed, not read: no decoder built in.
    Xz,
    /// Listed, not read: no decoder built in.
    Zstd,
}

impl Compression {
    /// The compression a name's suffix says, and the name without that suffix.
    fn split(name: &[u8]) -> (Compression, &[u8]) {
        let suffixes: [(&[u8], Compression); 4] = [
            (b".gz", Compression::Gzip),
            (b".bz2", Compression::Bzip2),
            (b".xz", Compression::Xz),
            (b".zst", Compression::Zstd),
        ];
        for (suffix, kind) in suffixes {
            if let Some(base) = name.strip_suffix(suffix) {
                return (kind, base);
            }
        }
        (Compression::Plain, name)
    }

    fn name(self) -> &'static str {
        match self {
            Compression::Plain => "none",
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
        }
    }
}

/// What a generation's name says of its age: the tie-breaker at equal modification times.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// `app.log.3`: higher is older.
    Number(u64),
    /// `app.log-2026-11-30_10`: the digits alone (`2026113010`); compared as text, earlier is
    /// older (a longer stamp with the same start is later).
    Date(Vec<u8>),
}

/// One rotated generation of a live file, as found when listing its directory.
#[derive(Clone, Debug)]
pub(crate) struct Rotated {
    /// The live file's directory joined with the generation's name (no `./` added when the live
    /// path has no directory).
    pub(crate) path: PathBuf,
    pub(crate) compression: Compression,
    pub(crate) stamp: Stamp,
    /// Size on disk (compressed, for a compressed generation) when listed.
    pub(crate) size: u64,
    pub(crate) mtime: SystemTime,
    pub(crate) dev: u64,
    pub(crate) ino: u64,
}

/// The stamp and compression of `name` when it names a rotated generation of `live`.
pub(crate) fn rotation_stamp(live: &[u8], name: &[u8]) -> Option<(Stamp, Compression)> {
    let rest = name.strip_prefix(live)?;
    let (compression, rest) = Compression::split(rest);
    let (&sep, stamp) = rest.split_first()?;
    if sep == b'.' && (1..=MAX_NUMBER_DIGITS).contains(&stamp.len()) && stamp.iter().all(u8::is_ascii_digit) {
        let number = std::str::from_utf8(stamp).ok()?.parse().ok()?;
        return Some((Stamp::Number(number), compression));
    }
    if sep == b'.' || sep == b'-' {
        return date_digits(stamp).map(|digits| (Stamp::Date(digits), compression));
    }
    None
}

/// The digits of a date stamp (`20261130`, `2026113012`, `2026-11-30`, `2026-11-30_10-00-00`):
/// digit groups joined by single `-` or `_`, the first of at least 8 digits, or `YYYY-MM-DD`.
fn date_digits(stamp: &[u8]) -> Option<Vec<u8>> {
    let groups: Vec<&[u8]> = stamp.split(|&b| b == b'-' || b == b'_').collect();
    if groups.iter().any(|g| g.is_empty() || !g.iter().all(u8::is_ascii_digit)) {
        return None;
    }
    let long_first = groups[0].len() >= 8;
    let ymd = groups.len() >= 3 && groups[0].len() == 4 && groups[1].len() == 2 && groups[2].len() == 2;
    (long_first || ymd).then(|| groups.concat())
}

/// Oldest first: by modification time, then by what the names say, then by path.
fn older_first(a: &Rotated, b: &Rotated) -> Ordering {
    let by_stamp = match (&a.stamp, &b.stamp) {
        (Stamp::Number(x), Stamp::Number(y)) => y.cmp(x),
        (Stamp::Date(x), Stamp::Date(y)) => x.cmp(y),
        (Stamp::Number(_), Stamp::Date(_)) => Ordering::Less,
        (Stamp::Date(_), Stamp::Number(_)) => Ordering::Greater,
    };
    a.mtime.cmp(&b.mtime).then(by_stamp).then_with(|| a.path.cmp(&b.path))
}

/// The rotated generations of `live`, oldest first (see the module's naming rule and order).
/// Only listing the directory can fail; an entry that vanishes meanwhile, or is not a regular
/// file, is left out. The live file need not exist.
pub(crate) fn generations(live: &Path) -> io::Result<Vec<Rotated>> {
    let Some(live_name) = live.file_name() else { return Ok(Vec::new()) };
    let dir = match live.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new(""),
    };
    let live_id = fs::metadata(live).ok().map(|m| (m.dev(), m.ino()));
    let listing = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let mut found = Vec::new();
    for entry in fs::read_dir(listing)? {
        let entry = match entry {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let name = entry.file_name();
        let Some((stamp, compression)) = rotation_stamp(live_name.as_bytes(), name.as_bytes()) else {
            continue;
        };
        let path = dir.join(&name);
        // Follows a symbolic link: a link to a rotated file is that file.
        let Ok(meta) = fs::metadata(&path) else { continue };
        if !meta.is_file() || live_id == Some((meta.dev(), meta.ino())) {
            continue;
        }
        let Ok(mtime) = meta.modified() else { continue };
        found.push(Rotated {
            path,
            compression,
            stamp,
            size: meta.len(),
            mtime,
            dev: meta.dev(),
            ino: meta.ino(),
        });
    }
    let plain: HashSet<PathBuf> =
        found.iter().filter(|g| g.compression == Compression::Plain).map(|g| g.path.clone()).collect();
    found.retain(|g| g.compression == Compression::Plain || !plain.contains(&uncompressed_path(&g.path)));
    found.sort_by(older_first);
    let mut seen = HashSet::new();
    found.retain(|g| seen.insert((g.dev, g.ino)));
    Ok(found)
}

/// `path` without its compression suffix.
fn uncompressed_path(path: &Path) -> PathBuf {
    let bytes = path.as_os_str().as_bytes();
    PathBuf::from(OsStr::from_bytes(Compression::split(bytes).1))
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::io::Write;
    use std::time::Duration;

    use flate2::write::GzEncoder;

    use super::*;

    /// A time `secs` after an arbitrary start: mtimes are set explicitly, never left to the clock.
    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    fn put(dir: &Path, name: &str, bytes: &[u8], mtime: u64) -> PathBuf {
        let path = dir.join(name);
        let mut f = File::create(&path).unwrap();
        f.write_all(bytes).unwrap();
        f.set_modified(at(mtime)).unwrap();
        path
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn names(found: &[Rotated]) -> Vec<String> {
        found.iter().map(|g| g.path.file_name().unwrap().to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn rotation_stamps_of_the_usual_schemes() {
        let stamp = |name: &str| rotation_stamp(b"app.log", name.as_bytes());
        let num = |n| Some((Stamp::Number(n), Compression::Plain));
        let date = |d: &str, c| Some((Stamp::Date(d.as_bytes().to_vec()), c));
        assert_eq!(stamp("app.log.1"), num(1));
        assert_eq!(stamp("app.log.12"), num(12));
        assert_eq!(stamp("app.log.0"), num(0));
        assert_eq!(stamp("app.log.2.gz"), Some((Stamp::Number(2), Compression::Gzip)));
        assert_eq!(stamp("app.log.3.xz"), Some((Stamp::Number(3), Compression::Xz)));
        assert_eq!(stamp("app.log.3.bz2"), Some((Stamp::Number(3), Compression::Bzip2)));
        assert_eq!(stamp("app.log.3.zst"), Some((Stamp::Number(3), Compression::Zstd)));
        assert_eq!(stamp("app.log-20261130"), date("20261130", Compression::Plain));
        assert_eq!(stamp("app.log-20261130.gz"), date("20261130", Compression::Gzip));
        assert_eq!(stamp("app.log-2026113012"), date("2026113012", Compression::Plain));
        assert_eq!(stamp("app.log-2026-11-30"), date("20261130", Compression::Plain));
        assert_eq!(stamp("app.log-20261130-1764460800"), date("202611301764460800", Compression::Plain));
        assert_eq!(stamp("app.log.2026-11-30"), date("20261130", Compression::Plain));
        assert_eq!(stamp("app.log.2026-11-30_10"), date("2026113010", Compression::Plain));
        assert_eq!(stamp("app.log.2026-11-30_10-00"), date("202611301000", Compression::Plain));
        assert_eq!(stamp("app.log.2026-11-30_10-00-00.gz"), date("20261130100000", Compression::Gzip));
        assert_eq!(stamp("app.log.20261130"), date("20261130", Compression::Plain));
    }

    #[test]
    fn names_that_are_not_rotations_do_not_match() {
        for name in [
            "app.log",
            "app.log.bak",
            "app.log.swp",
            "app.log2",
            "app.log.1.tmp",
            "app.log.1.gz.tmp",
            "app.log.gz",
            "app.log.",
            "app.log.-1",
            "app.log-1",
            "app.log-old",
            "app.log-2026-11",
            "app.log.2026-11-30-",
            "app.log.2026--11-30",
            "app.log.1.2",
            "app.log_20261130",
            "xapp.log.1",
            "app.log.1.gz.gz",
            "app.log.１",
        ] {
            assert_eq!(rotation_stamp(b"app.log", name.as_bytes()), None, "{name}");
        }
    }

    #[test]
    fn generations_are_listed_oldest_first_by_mtime() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let live = put(d, "app.log", b"live\n", 100);
        // The numbers say the opposite of the mtimes here: the mtimes decide.
        put(d, "app.log.1", b"a\n", 10);
        put(d, "app.log.2.gz", &gz(b"b\n"), 20);
        put(d, "app.log-20261130", b"c\n", 5);
        put(d, "app.log.2026-11-29_10-00", b"d\n", 30);
        for other in ["app.log.bak", "app.log.swp", "app.log2", "app.log.1.tmp", "other.log.3"] {
            put(d, other, b"x\n", 1);
        }
        fs::create_dir(d.join("app.log.7")).unwrap();
        let found = generations(&live).unwrap();
        assert_eq!(
            names(&found),
            ["app.log-20261130", "app.log.1", "app.log.2.gz", "app.log.2026-11-29_10-00"]
        );
        let gz_one = &found[2];
        assert_eq!(gz_one.compression, Compression::Gzip);
        assert_eq!(gz_one.size, fs::metadata(&gz_one.path).unwrap().len());
        assert_eq!(gz_one.mtime, at(20));
        assert_eq!(gz_one.ino, fs::metadata(&gz_one.path).unwrap().ino());
        assert_eq!(gz_one.path, d.join("app.log.2.gz"));
    }

    #[test]
    fn equal_mtimes_are_ordered_by_number_or_date() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for name in ["app.log.1", "app.log.10", "app.log.2.gz", "app.log-20261130", "app.log-20261129.gz"] {
            put(d, name, b"x\n", 50);
        }
        let found = generations(&d.join("app.log")).unwrap();
        assert_eq!(
            names(&found),
            ["app.log.10", "app.log.2.gz", "app.log.1", "app.log-20261129.gz", "app.log-20261130"]
        );
    }

    #[test]
    fn the_live_file_and_its_other_names_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let live = put(d, "app.log", b"live\n", 100);
        // The instant after `mv app.log app.log.1`, before the new app.log: the same file.
        fs::hard_link(&live, d.join("app.log.1")).unwrap();
        put(d, "app.log.2", b"two\n", 10);
        fs::hard_link(d.join("app.log.2"), d.join("app.log-20261130")).unwrap();
        let found = generations(&live).unwrap();
        assert_eq!(found.len(), 1, "{:?}", names(&found));
        assert!(names(&found)[0] == "app.log.2" || names(&found)[0] == "app.log-20261130");
    }

    #[test]
    fn a_plain_generation_hides_its_compressed_copy() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        put(d, "app.log.2", b"two\n", 10);
        put(d, "app.log.2.gz", &gz(b"tw"), 11); // the compressor at work
        put(d, "app.log.3.gz", &gz(b"three\n"), 5);
        let found = generations(&d.join("app.log")).unwrap();
        assert_eq!(names(&found), ["app.log.3.gz", "app.log.2"]);
    }

    #[test]
    fn a_live_path_without_a_directory_lists_the_current_one() {
        // The test runs in the crate's directory, which has no rotated generations of this name.
        let found = generations(Path::new("no-such-rtail-test.log")).unwrap();
        assert!(found.is_empty());
        assert!(generations(Path::new("/")).unwrap().is_empty());
    }
}
