//! `--grep`, `--exclude` and `--until` on byte batches of whole records (lines). Pure: no I/O.
//!
//! A batch is searched as a whole (the regex engine's literal scanning is far faster than one
//! call per line), and line bounds are found around each match with memchr. A match that spans a
//! delimiter is checked again against its first line alone, so a pattern never matches across
//! lines.

use memchr::{memchr, memrchr};
use regex::bytes::{Regex, RegexBuilder};

/// The filtering patterns, as given (compiled when a run or a [`crate::Follower`] starts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patterns {
    /// `--grep`: a line is printed when any of these match (all lines when empty).
    pub grep: Vec<String>,
    /// `--exclude`: a line matching any of these is not printed (checked after `grep`).
    pub exclude: Vec<String>,
    /// `--until`: stop after printing the first line that matches.
    pub until: Option<String>,
    /// `--ignore-case`, for all of the above.
    pub ignore_case: bool,
}

impl Patterns {
    /// Whether any pattern is set.
    pub fn is_empty(&self) -> bool {
        self.grep.is_empty() && self.exclude.is_empty() && self.until.is_none()
    }
}

/// Compiled patterns.
#[derive(Debug)]
pub(crate) struct Filter {
    grep: Option<Regex>,
    exclude: Option<Regex>,
    until: Option<Regex>,
    delim: u8,
}

/// A pattern that does not compile: which option, and the regex error.
#[derive(Debug)]
pub struct PatternError {
    /// `grep`, `exclude` or `until` (the command line's options), or `wait_for` (the library's
    /// [`crate::Follower::wait_for`]).
    pub option: &'static str,
    /// The pattern as given.
    pub pattern: String,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The command line's options are named as options; the library's `wait_for` as it is.
        let dashes =
            if matches!(self.option, "grep" | "exclude" | "until" | "record-start") { "--" } else { "" };
        write!(f, "invalid {dashes}{} pattern '{}': {}", self.option, self.pattern, self.message)
    }
}

impl std::error::Error for PatternError {}

fn compile(
    option: &'static str,
    patterns: &[String],
    ignore_case: bool,
    delim: u8,
) -> Result<Option<Regex>, PatternError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    // Check each alone first so the error names the pattern at fault.
    for p in patterns {
        if let Err(e) = RegexBuilder::new(p).build() {
            return Err(PatternError { option, pattern: p.clone(), message: one_line(&e) });
        }
    }
    let joined = if patterns.len() == 1 {
        patterns[0].clone()
    } else {
        patterns.iter().map(|p| format!("(?:{p})")).collect::<Vec<_>>().join("|")
    };
    RegexBuilder::new(&joined)
        .case_insensitive(ignore_case)
        .multi_line(true)
        .line_terminator(delim)
        .build()
        .map(Some)
        .map_err(|e| PatternError { option, pattern: joined, message: one_line(&e) })
}

/// `--record-start REGEX`, matched against one line (without its delimiter); `-i` applies.
pub(crate) fn record_start(pattern: &str, ignore_case: bool) -> Result<Regex, PatternError> {
    RegexBuilder::new(pattern).case_insensitive(ignore_case).build().map_err(|e| PatternError {
        option: "record-start",
        pattern: pattern.to_string(),
        message: one_line(&e),
    })
}

/// The regex crate's errors draw the pattern with a caret over several lines; keep the reason.
pub(crate) fn one_line(err: &regex::Error) -> String {
    let text = err.to_string();
    let last = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or(&text);
    last.trim().trim_start_matches("error: ").to_string()
}

impl Filter {
    pub(crate) fn new(p: &Patterns, delim: u8) -> Result<Filter, PatternError> {
        let until: Vec<String> = p.until.iter().cloned().collect();
        Ok(Filter {
            grep: compile("grep", &p.grep, p.ignore_case, delim)?,
            exclude: compile("exclude", &p.exclude, p.ignore_case, delim)?,
            until: compile("until", &until, p.ignore_case, delim)?,
            delim,
        })
    }

    /// The regexes whose matches are highlighted in colour output.
    pub(crate) fn highlights(&self) -> impl Iterator<Item = &Regex> {
        self.grep.iter().chain(self.until.iter())
    }

    /// Hand the lines of `batch` that pass to `keep`, as `start..end` bounds in `batch` (a run
    /// of passing lines may come as one). `batch` holds whole lines; its last line may lack the
    /// delimiter. Returns true when an `--until` line was reached: the last bounds handed end
    /// with it and the rest of the batch is dropped.
    pub(crate) fn apply(&self, batch: &[u8], mut keep: impl FnMut(usize, usize)) -> bool {
        match &self.grep {
            Some(grep) => self.apply_grep(grep, batch, &mut keep),
            None => self.apply_all(batch, &mut keep),
        }
    }

    /// [`Filter::apply`] for records that are groups of lines (`--multiline`), starting at
    /// `starts`: a record passes or not as a whole, a pattern matching anywhere in it.
    pub(crate) fn apply_records(
        &self,
        batch: &[u8],
        starts: &[usize],
        mut keep: impl FnMut(usize, usize),
    ) -> bool {
        if let Some(grep) = &self.grep {
            return self.grep_records(grep, batch, starts, &mut keep);
        }
        for (k, &start) in starts.iter().enumerate() {
            let end = starts.get(k + 1).copied().unwrap_or(batch.len());
            let record = body(&batch[start..end], self.delim);
            if self.grep.as_ref().is_some_and(|re| !re.is_match(record)) || self.excluded(record) {
                continue;
            }
            keep(start, end);
            if self.until.as_ref().is_some_and(|u| u.is_match(record)) {
                return true;
            }
        }
        false
    }

    /// [`Filter::apply_records`] with `--grep`: the batch is searched as a whole (as lines are,
    /// [`next_line_matching`]), and a match is taken to the record it starts in; one that runs
    /// past that record's end is checked against the record alone.
    fn grep_records(
        &self,
        grep: &Regex,
        batch: &[u8],
        starts: &[usize],
        keep: &mut impl FnMut(usize, usize),
    ) -> bool {
        let mut k = 0;
        while let Some(&from) = starts.get(k) {
            let Some(m) = grep.find_at(batch, from) else { break };
            // The record the match starts in (at or after record k, as from <= m.start()).
            let j = starts.partition_point(|&s| s <= m.start()) - 1;
            k = j + 1;
            let start = starts[j];
            let end = starts.get(k).copied().unwrap_or(batch.len());
            let record = body(&batch[start..end], self.delim);
            if m.end() > start + record.len() && !grep.is_match(record) || self.excluded(record) {
                continue;
            }
            keep(start, end);
            if self.until.as_ref().is_some_and(|u| u.is_match(record)) {
                return true;
            }
        }
        false
    }

    fn apply_grep(&self, grep: &Regex, batch: &[u8], keep: &mut impl FnMut(usize, usize)) -> bool {
        let mut pos = 0;
        while let Some((start, end)) = next_line_matching(grep, batch, pos, self.delim) {
            let line = &batch[start..end];
            pos = end;
            if self.excluded(line) {
                continue;
            }
            keep(start, end);
            if self.until.as_ref().is_some_and(|u| u.is_match(body(line, self.delim))) {
                return true;
            }
        }
        false
    }

    /// No `--grep`: every line passes but the excluded ones; stop at the first `--until` line.
    fn apply_all(&self, batch: &[u8], keep: &mut impl FnMut(usize, usize)) -> bool {
        let mut pos = 0;
        let mut next_ex: Option<(usize, usize)> = None;
        let mut next_until: Option<(usize, usize)> = None;
        let mut keep_nonempty = |start: usize, end: usize| {
            if start < end {
                keep(start, end);
            }
        };
        loop {
            if next_ex.is_none_or(|(s, _)| s < pos) {
                next_ex = self.exclude.as_ref().and_then(|re| next_line_matching(re, batch, pos, self.delim));
            }
            if next_until.is_none_or(|(s, _)| s < pos) {
                next_until =
                    self.until.as_ref().and_then(|re| next_line_matching(re, batch, pos, self.delim));
            }
            match (next_ex, next_until) {
                (Some((es, ee)), u) if u.is_none_or(|(us, _)| es <= us) => {
                    keep_nonempty(pos, es);
                    pos = ee;
                }
                (_, Some((_, ue))) => {
                    keep_nonempty(pos, ue);
                    return true;
                }
                _ => {
                    keep_nonempty(pos, batch.len());
                    return false;
                }
            }
        }
    }

    fn excluded(&self, line: &[u8]) -> bool {
        self.exclude.as_ref().is_some_and(|re| re.is_match(body(line, self.delim)))
    }
}

/// A line without its delimiter.
fn body(line: &[u8], delim: u8) -> &[u8] {
    line.strip_suffix(&[delim]).unwrap_or(line)
}

/// Bounds (start, end past the delimiter) of the first line at or after `from` that `re` matches.
fn next_line_matching(re: &Regex, batch: &[u8], from: usize, delim: u8) -> Option<(usize, usize)> {
    let mut pos = from;
    while pos < batch.len() {
        let m = re.find_at(batch, pos)?;
        let start = memrchr(delim, &batch[pos..m.start()]).map_or(pos, |i| pos + i + 1);
        let body_end = memchr(delim, &batch[m.start()..]).map_or(batch.len(), |i| m.start() + i);
        let end = (body_end + 1).min(batch.len());
        // A match that stays inside its line is a match of that line; one that spans the
        // delimiter is checked against the line alone.
        if m.end() <= body_end || re.is_match(&batch[start..body_end]) {
            return Some((start, end));
        }
        pos = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(grep: &[&str], exclude: &[&str], until: Option<&str>, ci: bool) -> Filter {
        let p = Patterns {
            grep: grep.iter().map(|s| s.to_string()).collect(),
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
            until: until.map(str::to_string),
            ignore_case: ci,
        };
        Filter::new(&p, b'\n').expect("valid patterns")
    }

    /// The kept lines, concatenated.
    fn kept(f: &Filter, batch: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let hit = f.apply(batch, |start, end| out.extend_from_slice(&batch[start..end]));
        (out, hit)
    }

    fn run(f: &Filter, batch: &[u8]) -> (String, bool) {
        let (out, hit) = kept(f, batch);
        (String::from_utf8_lossy(&out).into_owned(), hit)
    }

    const LOG: &[u8] = b"INFO start\nERROR disk\nWARN slow\nerror lower\nINFO ready\nERROR net\n";

    #[test]
    fn grep_keeps_matching_lines() {
        assert_eq!(run(&filter(&["ERROR"], &[], None, false), LOG).0, "ERROR disk\nERROR net\n");
        assert_eq!(run(&filter(&["ERROR"], &[], None, true), LOG).0, "ERROR disk\nerror lower\nERROR net\n");
        assert_eq!(run(&filter(&["WARN", "ready"], &[], None, false), LOG).0, "WARN slow\nINFO ready\n");
    }

    #[test]
    fn exclude_applies_after_grep() {
        assert_eq!(run(&filter(&["ERROR"], &["net"], None, false), LOG).0, "ERROR disk\n");
        assert_eq!(
            run(&filter(&[], &["INFO"], None, false), LOG).0,
            "ERROR disk\nWARN slow\nerror lower\nERROR net\n"
        );
    }

    #[test]
    fn until_stops_after_its_line() {
        assert_eq!(
            run(&filter(&[], &[], Some("ready"), false), LOG),
            ("INFO start\nERROR disk\nWARN slow\nerror lower\nINFO ready\n".into(), true)
        );
        assert_eq!(
            run(&filter(&["ERROR"], &[], Some("net"), false), LOG),
            ("ERROR disk\nERROR net\n".into(), true)
        );
        assert!(!run(&filter(&[], &[], Some("absent"), false), LOG).1);
        // An excluded line does not count for --until.
        assert!(!run(&filter(&[], &["ready"], Some("ready"), false), LOG).1);
    }

    #[test]
    fn anchors_work_per_line() {
        assert_eq!(run(&filter(&["^WARN"], &[], None, false), LOG).0, "WARN slow\n");
        assert_eq!(run(&filter(&["disk$"], &[], None, false), LOG).0, "ERROR disk\n");
    }

    #[test]
    fn matches_never_span_lines() {
        // `\s` matches the newline; the pattern must still be tested line by line.
        assert_eq!(run(&filter(&[r"disk\sWARN"], &[], None, false), LOG).0, "");
        assert_eq!(run(&filter(&[r"[^x]+net"], &[], None, false), LOG).0, "ERROR net\n");
    }

    #[test]
    fn unterminated_last_line_and_bytes() {
        let f = filter(&["b"], &[], None, false);
        assert_eq!(run(&f, b"a\nab").0, "ab");
        let f = filter(&[r"(?-u:\xff)"], &[], None, false);
        assert_eq!(kept(&f, b"ok\n\xff\xfe bad utf8\n").0, b"\xff\xfe bad utf8\n");
    }

    #[test]
    fn nul_delimited_records() {
        let p = Patterns { grep: vec!["^b".into()], ..Patterns::default() };
        let f = Filter::new(&p, 0).expect("valid");
        assert_eq!(kept(&f, b"a\nb\0b2\0").0, b"b2\0");
    }

    #[test]
    fn bad_pattern_names_the_option() {
        let p = Patterns { exclude: vec!["(".into()], ..Patterns::default() };
        let err = Filter::new(&p, b'\n').expect_err("invalid");
        assert_eq!(err.option, "exclude");
        assert_eq!(err.pattern, "(");
    }

    /// Records framed by `starts`: the kept ones, concatenated.
    fn records(f: &Filter, batch: &[u8], starts: &[usize]) -> (String, bool) {
        let mut out = Vec::new();
        let hit = f.apply_records(batch, starts, |start, end| out.extend_from_slice(&batch[start..end]));
        (String::from_utf8_lossy(&out).into_owned(), hit)
    }

    #[test]
    fn grep_keeps_whole_records_matched_anywhere_and_only_within_one() {
        let batch = b"10:00 INFO a\n  at x\n10:01 ERROR b\n  at y\n10:02 INFO c\n  ERROR in trace\n10:03 d";
        let starts = [0, 20, 41, 71];
        let f = filter(&["ERROR"], &[], None, false);
        assert_eq!(
            records(&f, batch, &starts).0,
            "10:01 ERROR b\n  at y\n10:02 INFO c\n  ERROR in trace\n",
            "a match in a continuation line keeps its record"
        );
        // `^` is a line start, inside a record too.
        assert_eq!(
            records(&filter(&["^  at y"], &[], None, false), batch, &starts).0,
            "10:01 ERROR b\n  at y\n"
        );
        // A match across two records is no match of either.
        assert_eq!(records(&filter(&[r"at x\n10:01"], &[], None, false), batch, &starts).0, "");
        assert_eq!(records(&filter(&[r"x\n10"], &[], None, false), batch, &starts).0, "");
        // A match spanning a record's delimiter, with one inside the record later on.
        assert_eq!(
            records(&filter(&[r"a\n|at x"], &[], None, false), batch, &starts).0,
            "10:00 INFO a\n  at x\n"
        );
        // --exclude and --until act on the records grep kept; the last record has no delimiter.
        assert_eq!(
            records(&filter(&["ERROR|d$"], &["trace"], None, false), batch, &starts).0,
            "10:01 ERROR b\n  at y\n10:03 d"
        );
        assert_eq!(
            records(&filter(&["ERROR"], &[], Some("b$"), false), batch, &starts),
            ("10:01 ERROR b\n  at y\n".into(), true)
        );
    }
}
