//! Glob patterns among the file arguments: which arguments are patterns, what they match now,
//! and which directories the follow engine must watch to see new matches. This module owns the
//! rule and the matching; it does no following, printing or watching itself, and knows nothing
//! of the engine or the command line.
//!
//! **The rule.** An argument is a pattern when it contains a glob metacharacter (`*`, `?`, `[`,
//! `{`) and nothing by that literal name exists (`lstat`). Otherwise it is a plain path, as
//! before; a directory stays a path (GNU tail then says it is a directory). So
//! `rtail -F 'logs/*.log'` (quoted: the shell leaves it alone) follows every `.log` file in
//! `logs`, and every one that appears there later. Any `lstat` failure counts as "no such
//! file": when `logs` cannot be searched, the argument is a pattern, and its scan reports the
//! unreadable directory (as a path it would wait for a file literally named `*.log`).
//!
//! **The syntax.** `*` (any run of characters), `?` (one), `[abc]`, `[a-z]`, `[!a]` (or
//! `[^a]`), `{a,b}` (nested groups too) and `**` as a whole component: any number of
//! directories, zero included, so `logs/**/*.log` matches `logs/a.log` and `logs/x/y/a.log`.
//! `*`, `?` and classes never match `/`, and a class cannot hold one (`[a/b]` is unclosed). A
//! backslash is an ordinary character, not an escape: a literal `*` is written `[*]`. Braces
//! are expanded first, as a shell does (`logs/{app,web/x}.log` is two patterns). A lone `}` in
//! the components after the first metacharacter is an error; before it, it is a literal.
//!
//! **Decisions.**
//! - *Hidden names*, as in a shell: a name that begins with `.` is matched only by a component
//!   that itself begins with `.`: `*` and `*.log` do not match `.hidden.log`, `.*.log` does, and
//!   `**` never enters a hidden directory (`.git`). Cheap because matching is done component
//!   by component (each compiled by globset), which also makes pruning exact.
//! - *Spelling.* Matches are spelled as rtail prints them: the pattern's literal leading
//!   components (its *prefix*, as [`Path::components`] normalizes them: `logs//` is `logs`)
//!   joined with the names found: `logs/a.log` for `logs/*.log`, `./logs/a.log` for
//!   `./logs/*.log`, `/var/log/x/app.log` for `/var/log/*/app.log`, and `a.log`, not `./a.log`,
//!   for `*.log`. [`Pattern::matches`] and [`Pattern::wants_dir`] take paths in that spelling
//!   only; [`Pattern::child`] spells an entry of a watched directory that way.
//! - *Kinds.* [`Pattern::scan`] returns every non-directory whose name matches: regular files,
//!   FIFOs, sockets, devices, and symbolic links to any of those or to nothing (a dangling link
//!   is followed by name like a missing file). A symlink is matched by its own name.
//!   [`Pattern::matches`] looks at the name only.
//! - *Symlinked directories* are entered where a component other than `**` matches their name
//!   (`logs/*/app.log` finds `logs/current/app.log` when `current` links to a directory, as a
//!   shell does: the depth is bounded, no loop is possible), never by `**` (bash's globstar does
//!   the same): that keeps a link to `..` from looping.
//! - *Missing base.* A base directory that does not exist (or is not a directory) is not an
//!   error: nothing matches, and the watch list names its nearest existing ancestor, so that its
//!   creation is seen; the engine then calls [`Pattern::scan_dir`] on what appeared.
//! - *Unreadable directories* are skipped and listed once in [`Scan::problems`]; they are not
//!   watched (inotify needs read permission), but their parent is, so a `chmod` is seen there.
//! - *Non-UTF-8.* A pattern must be UTF-8 to be compiled: a non-UTF-8 argument is a plain path,
//!   whatever it contains. Names found on disk are matched as bytes: `*.log` matches a name
//!   that is not UTF-8 (`caf\xe9.log`).
//! - `.` components after the first metacharacter are dropped, `..` there is an error (a
//!   directory listing never holds it).
//!
//! The speed: one `read_dir` per directory that can lead to a match, the kind from
//! `DirEntry::file_type` (no `stat` per entry; one only for a symlink whose name matters), one
//! compiled match per name and component. 10,000 files in 100 directories take 12 to 26 ms in
//! a debug build and 4 to 8 ms in a release one, warm cache (the ignored test
//! `scan_10000_files` prints them).

use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use globset::{Candidate, GlobBuilder, GlobMatcher};

use crate::text::quote;

/// The bytes that make an argument a pattern (when no file of that name exists).
const META: &[u8] = b"*?[{";

/// Brace expansion stops here: more alternatives than this make an error.
const MAX_ALTERNATIVES: usize = 1024;

/// Whether `arg` is a pattern (the rule above): `Ok(None)` for a plain path, `Err` for an
/// argument that is a pattern but not a valid one.
pub(crate) fn pattern(arg: &OsStr) -> Result<Option<Pattern>, GlobError> {
    pattern_in(arg, Path::new(""))
}

/// [`pattern`], with relative names looked up under `cwd` (the process's own when empty).
fn pattern_in(arg: &OsStr, cwd: &Path) -> Result<Option<Pattern>, GlobError> {
    if !arg.as_bytes().iter().any(|b| META.contains(b)) {
        return Ok(None);
    }
    if fs::symlink_metadata(cwd.join(arg)).is_ok() {
        return Ok(None);
    }
    match arg.to_str() {
        Some(text) => Pattern::compile(text, cwd).map(Some),
        None => Ok(None),
    }
}

/// "No such file" or "not a directory": nothing is there.
fn is_absent(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory)
}

/// An argument that is a pattern but cannot be compiled; its message names the argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GlobError {
    arg: String,
    reason: String,
}

impl fmt::Display for GlobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid pattern {}: {}", quote(self.arg.as_bytes()), self.reason)
    }
}

impl std::error::Error for GlobError {}

/// globset's error kinds, in our words.
fn reason(err: &globset::Error) -> String {
    use globset::ErrorKind as K;
    match err.kind() {
        K::UnclosedClass => "unclosed character class".to_string(),
        K::InvalidRange(from, to) => format!("character range '{from}-{to}' is backwards"),
        K::UnopenedAlternates => "'}' without a '{' before it".to_string(),
        K::UnclosedAlternates => "'{' without a '}' after it".to_string(),
        K::NestedAlternates => "nested '{...}' groups".to_string(),
        K::InvalidRecursive => "'**' must be a whole path component".to_string(),
        K::DanglingEscape => "'\\' at the end".to_string(),
        K::Regex(text) => text.clone(),
        other => other.to_string(),
    }
}

/// One component of a pattern after its prefix.
#[derive(Debug, Clone)]
enum Part {
    /// `**`: zero or more directories, none of them hidden.
    AnyDirs,
    /// One name. `dot`: the component begins with `.`, so it may match a hidden name.
    Name { matcher: GlobMatcher, dot: bool },
}

/// Where a walk stands: (alternative, index of the next part to match). A state whose index is
/// the alternative's length has matched it all.
type States = Vec<(usize, usize)>;

/// A compiled pattern argument.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    /// The argument as given, for messages.
    #[cfg_attr(not(test), allow(dead_code))]
    arg: String,
    /// The literal leading components (no metacharacter), normalized by `Path::components`;
    /// empty for `*.log`. Every match is spelled as this joined with names found.
    prefix: PathBuf,
    /// The directory the matches are under: `prefix`, or `.` when that is empty.
    base: PathBuf,
    /// The rest after brace expansion: one list of parts per alternative, none empty.
    alts: Vec<Vec<Part>>,
    /// Some alternative has `**`.
    #[cfg_attr(not(test), allow(dead_code))]
    recursive: bool,
    /// Relative paths are looked up under this (the process's directory when empty); only
    /// tests set it. Spellings never include it.
    cwd: PathBuf,
}

/// What a pattern matches now, and what to watch to see new matches.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// The matches, spelled as rtail prints them, sorted by their bytes.
    pub(crate) matches: Vec<PathBuf>,
    /// The directories to watch, sorted by their bytes: every directory read (the base and
    /// those that can lead to a match), or the nearest existing ancestor of a missing base.
    pub(crate) watch: Vec<PathBuf>,
    /// Directories that could not be read (skipped), each with its error: for the caller to
    /// report once.
    pub(crate) problems: Vec<(PathBuf, io::Error)>,
}

impl Pattern {
    fn compile(text: &str, cwd: &Path) -> Result<Pattern, GlobError> {
        let fail = |reason: String| GlobError { arg: text.to_string(), reason };
        let components: Vec<&str> = text.split('/').collect();
        let first =
            components.iter().position(|c| c.bytes().any(|b| META.contains(&b))).unwrap_or(components.len());
        let mut prefix_text = components[..first].join("/");
        if prefix_text.is_empty() && text.starts_with('/') {
            prefix_text.push('/');
        }
        let prefix: PathBuf = Path::new(&prefix_text).components().collect();
        let rest = components[first..].join("/");

        // globset checks the whole rest once, so that its errors speak of the pattern as
        // written; a class spanning a '/' is caught when the components are compiled.
        compile_glob(&rest).map_err(|e| fail(reason(&e)))?;
        let expanded = if rest.contains('{') {
            expand_braces(&rest).ok_or_else(|| fail(format!("more than {MAX_ALTERNATIVES} alternatives")))?
        } else {
            vec![rest]
        };
        let mut alts = Vec::new();
        for alt in &expanded {
            let mut parts = Vec::new();
            for component in alt.split('/') {
                match component {
                    "" | "." => {}
                    ".." => return Err(fail("'..' after a wildcard is not supported".into())),
                    "**" => {
                        if !matches!(parts.last(), Some(Part::AnyDirs)) {
                            parts.push(Part::AnyDirs);
                        }
                    }
                    name => parts.push(Part::Name {
                        matcher: compile_glob(name).map_err(|e| fail(reason(&e)))?,
                        dot: name.starts_with('.'),
                    }),
                }
            }
            // An empty alternative could only match the base, a directory.
            if !parts.is_empty() {
                alts.push(parts);
            }
        }
        let recursive = alts.iter().flatten().any(|p| matches!(p, Part::AnyDirs));
        let base = if prefix.as_os_str().is_empty() { PathBuf::from(".") } else { prefix.clone() };
        Ok(Pattern { arg: text.to_string(), prefix, base, alts, recursive, cwd: cwd.to_path_buf() })
    }

    /// The argument as given.
    #[cfg(test)]
    pub(crate) fn arg(&self) -> &str {
        &self.arg
    }

    /// The directory every match is under: the longest leading run of components without a
    /// metacharacter (`logs` for `logs/*.log`, `.` for `*.log`, `/var/log` for
    /// `/var/log/*/app.log`).
    #[cfg(test)]
    pub(crate) fn base(&self) -> &Path {
        &self.base
    }

    /// Whether the pattern has `**`: matches may be at any depth.
    #[cfg(test)]
    pub(crate) fn is_recursive(&self) -> bool {
        self.recursive
    }

    /// Whether `path`, spelled as rtail spells matches, matches. Looks at the name only, not at
    /// what is there.
    pub(crate) fn matches(&self, path: &Path) -> bool {
        match self.names_after_prefix(path) {
            Some(names) if !names.is_empty() => {
                let states = self.states_after(&names, true);
                self.accepts(&states)
            }
            _ => false,
        }
    }

    /// Whether a directory at `dir` (spelled as rtail spells them) could hold matches, now or
    /// deeper: the base, its ancestors (while it is missing), and directories under it that the
    /// pattern can lead through. Name only: [`Pattern::scan_dir`] says what to watch.
    pub(crate) fn wants_dir(&self, dir: &Path) -> bool {
        if self.leads_to_base(dir) {
            return true;
        }
        match self.names_after_prefix(dir) {
            Some(names) => self.goes_on(&self.states_after(&names, true)),
            None => false,
        }
    }

    /// How rtail spells the entry `name` of the directory `dir` (itself spelled so): `a.log`,
    /// not `./a.log`, in `.` unless the pattern itself begins with `./`.
    pub(crate) fn child(&self, dir: &Path, name: &OsStr) -> PathBuf {
        if dir == Path::new(".") && self.prefix.components().next() != Some(Component::CurDir) {
            PathBuf::from(name)
        } else {
            dir.join(name)
        }
    }

    /// Everything that matches now, and the directories to watch (see [`Scan`]).
    pub(crate) fn scan(&self) -> Scan {
        let mut scan = Scan::default();
        if let Err(e) = self.walk(self.base.clone(), self.start(), &mut scan) {
            if !is_absent(&e) {
                scan.problems.push((self.base.clone(), e));
            }
            scan.watch.extend(self.nearest_existing_ancestor());
        }
        finish(scan)
    }

    /// What [`Pattern::scan`] would find in and under `dir`, a directory that appeared in a
    /// watched one (spelled by [`Pattern::child`]): the whole scan again when `dir` is the base
    /// or one of its ancestors, nothing when it cannot lead to a match.
    pub(crate) fn scan_dir(&self, dir: &Path) -> Scan {
        if self.leads_to_base(dir) {
            return self.scan();
        }
        let Some((last, parents)) = self.names_after_prefix(dir).and_then(|n| {
            let (last, parents) = n.split_last()?;
            Some((*last, parents.to_vec()))
        }) else {
            return Scan::default();
        };
        let is_link = fs::symlink_metadata(self.cwd.join(dir)).is_ok_and(|m| m.is_symlink());
        let states = self.step(&self.states_after(&parents, true), last, !is_link);
        let mut scan = Scan::default();
        if self.goes_on(&states) {
            if let Err(e) = self.walk(dir.to_path_buf(), states, &mut scan) {
                if !is_absent(&e) {
                    scan.problems.push((dir.to_path_buf(), e));
                }
            }
        }
        finish(scan)
    }

    /// Read `top` and every directory under it that can lead to a match. An error reading
    /// `top` itself is returned (nothing was added); errors below are problems.
    fn walk(&self, top: PathBuf, states: States, scan: &mut Scan) -> io::Result<()> {
        let entries = fs::read_dir(self.cwd.join(&top))?;
        let mut pending = vec![(top, states, entries)];
        while let Some((dir, states, entries)) = pending.pop() {
            scan.watch.push(dir.clone());
            for entry in entries {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(e) => {
                        scan.problems.push((dir.clone(), e));
                        break;
                    }
                };
                // Gone since it was listed: nothing to match.
                let Ok(kind) = entry.file_type() else { continue };
                let name = entry.file_name();
                let next = self.step(&states, name.as_bytes(), true);
                let path = self.child(&dir, &name);
                let descend = if kind.is_dir() {
                    Some(next)
                } else if kind.is_symlink() {
                    // Only a link whose name matters costs a stat.
                    let through_name = self.step(&states, name.as_bytes(), false);
                    let matched = self.accepts(&next);
                    if !matched && !self.goes_on(&through_name) {
                        continue;
                    }
                    match fs::metadata(self.cwd.join(&path)) {
                        Ok(target) if target.is_dir() => Some(through_name),
                        _ => {
                            if matched {
                                scan.matches.push(path);
                            }
                            continue;
                        }
                    }
                } else {
                    if self.accepts(&next) {
                        scan.matches.push(path);
                    }
                    continue;
                };
                let Some(next) = descend.filter(|s| self.goes_on(s)) else { continue };
                match fs::read_dir(self.cwd.join(&path)) {
                    Ok(entries) => pending.push((path, next, entries)),
                    Err(e) if is_absent(&e) => {}
                    Err(e) => scan.problems.push((path, e)),
                }
            }
        }
        Ok(())
    }

    /// The nearest ancestor of the base that is a directory now (`.` for a relative one).
    fn nearest_existing_ancestor(&self) -> Option<PathBuf> {
        self.base
            .ancestors()
            .skip(1)
            .map(|a| if a.as_os_str().is_empty() { Path::new(".") } else { a })
            .filter(|a| *a != self.base)
            .find(|a| fs::metadata(self.cwd.join(a)).is_ok_and(|m| m.is_dir()))
            .map(Path::to_path_buf)
    }

    /// `dir` is the base or one of its ancestors, as rtail spells them.
    fn leads_to_base(&self, dir: &Path) -> bool {
        if dir.as_os_str().is_empty() {
            return false;
        }
        dir == self.base
            || (!self.prefix.as_os_str().is_empty() && self.prefix.starts_with(dir))
            || (dir == Path::new(".") && self.prefix.is_relative())
    }

    /// The names of `path` after the prefix, or `None` when it is not spelled under it (or has
    /// `.`, `..` or a root after it).
    fn names_after_prefix<'p>(&self, path: &'p Path) -> Option<Vec<&'p [u8]>> {
        let rest = path.strip_prefix(&self.prefix).ok()?;
        rest.components()
            .map(|c| match c {
                Component::Normal(name) => Some(name.as_bytes()),
                _ => None,
            })
            .collect()
    }

    /// The states at the base: every alternative at its start, through leading `**`s.
    fn start(&self) -> States {
        let mut states = Vec::new();
        for alt in 0..self.alts.len() {
            self.enter(&mut states, alt, 0);
        }
        states
    }

    /// The states after the names `names` below the base.
    fn states_after(&self, names: &[&[u8]], through_any: bool) -> States {
        let mut states = self.start();
        for name in names {
            if states.is_empty() {
                break;
            }
            states = self.step(&states, name, through_any);
        }
        states
    }

    /// Add the state (alt, at), and the ones after it that a `**` matching nothing reaches.
    fn enter(&self, states: &mut States, alt: usize, mut at: usize) {
        loop {
            if !states.contains(&(alt, at)) {
                states.push((alt, at));
            }
            match self.alts[alt].get(at) {
                Some(Part::AnyDirs) => at += 1,
                _ => break,
            }
        }
    }

    /// The states after one more name. `through_any`: a `**` may take the name (not for a
    /// symlink: `**` does not follow links).
    fn step(&self, states: &States, name: &[u8], through_any: bool) -> States {
        let mut next = Vec::new();
        if name.is_empty() {
            return next;
        }
        let hidden = name[0] == b'.';
        let candidate = Candidate::from_bytes(name);
        for &(alt, at) in states {
            match self.alts[alt].get(at) {
                Some(Part::AnyDirs) if through_any && !hidden => self.enter(&mut next, alt, at),
                Some(Part::Name { matcher, dot })
                    if (!hidden || *dot) && matcher.is_match_candidate(&candidate) =>
                {
                    self.enter(&mut next, alt, at + 1)
                }
                _ => {}
            }
        }
        next
    }

    /// Some alternative is matched whole.
    fn accepts(&self, states: &States) -> bool {
        states.iter().any(|&(alt, at)| at == self.alts[alt].len())
    }

    /// Some alternative still has parts to match: a directory here can lead to matches.
    fn goes_on(&self, states: &States) -> bool {
        states.iter().any(|&(alt, at)| at < self.alts[alt].len())
    }
}

/// Sort and deduplicate a scan's lists by their bytes.
fn finish(mut scan: Scan) -> Scan {
    let by_bytes = |a: &PathBuf, b: &PathBuf| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes());
    scan.matches.sort_unstable_by(by_bytes);
    scan.matches.dedup();
    scan.watch.sort_unstable_by(by_bytes);
    scan.watch.dedup();
    scan
}

/// One glob as we compile them all: `*` and `?` stop at `/`, a backslash is a plain character.
fn compile_glob(text: &str) -> Result<GlobMatcher, globset::Error> {
    let glob = GlobBuilder::new(text)
        .literal_separator(true)
        .backslash_escape(false)
        .empty_alternates(true)
        .build()?;
    Ok(glob.compile_matcher())
}

/// Brace expansion, as a shell does it before matching: `a{b,c}d` is `abd` and `acd`, nested
/// groups too, an empty alternative is kept. `[...]` classes are copied whole (a `{` or `,` in
/// one is a character). `None` past [`MAX_ALTERNATIVES`]. The text was accepted by globset,
/// so its groups are balanced.
fn expand_braces(text: &str) -> Option<Vec<String>> {
    let chars: Vec<char> = text.chars().collect();
    let mut at = 0;
    let mut out = sequence(&chars, &mut at, false)?;
    // A stray '}' cannot remain (globset refused it); anything left is copied as it is.
    if at < chars.len() {
        let rest: String = chars[at..].iter().collect();
        out.iter_mut().for_each(|s| s.push_str(&rest));
    }
    Some(out)
}

/// The expansions of a sequence up to the end, or, inside a group, up to its next `,` or `}`.
fn sequence(chars: &[char], at: &mut usize, in_group: bool) -> Option<Vec<String>> {
    let mut out = vec![String::new()];
    while let Some(&c) = chars.get(*at) {
        match c {
            ',' | '}' if in_group => break,
            '{' => {
                *at += 1;
                let mut choices = Vec::new();
                loop {
                    choices.extend(sequence(chars, at, true)?);
                    if choices.len() > MAX_ALTERNATIVES {
                        return None;
                    }
                    let sep = chars.get(*at).copied();
                    *at += 1;
                    if sep != Some(',') {
                        break;
                    }
                }
                if out.len() * choices.len() > MAX_ALTERNATIVES {
                    return None;
                }
                out = out
                    .iter()
                    .flat_map(|head| choices.iter().map(move |tail| format!("{head}{tail}")))
                    .collect();
            }
            '[' => {
                let end = class_end(chars, *at);
                let class: String = chars[*at..end].iter().collect();
                out.iter_mut().for_each(|s| s.push_str(&class));
                *at = end;
            }
            c => {
                out.iter_mut().for_each(|s| s.push(c));
                *at += 1;
            }
        }
    }
    Some(out)
}

/// The index just after the class that opens at `open`, read as globset reads it: after an
/// optional `!` or `^`, a first `]` is a member.
fn class_end(chars: &[char], open: usize) -> usize {
    let mut at = open + 1;
    if matches!(chars.get(at), Some('!' | '^')) {
        at += 1;
    }
    if chars.get(at) == Some(&']') {
        at += 1;
    }
    match chars[at.min(chars.len())..].iter().position(|&c| c == ']') {
        Some(offset) => at + offset + 1,
        None => chars.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;
    use std::os::unix::fs::{PermissionsExt, symlink};

    /// A temporary directory that relative patterns are resolved in.
    struct Tree {
        dir: tempfile::TempDir,
    }

    impl Tree {
        fn new(files: &[&str]) -> Tree {
            let tree = Tree { dir: tempfile::tempdir().expect("temp dir") };
            for file in files {
                tree.file(file);
            }
            tree
        }

        fn root(&self) -> &Path {
            self.dir.path()
        }

        fn file(&self, rel: &str) {
            let path = self.root().join(rel);
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            fs::write(&path, "x\n").expect("write");
        }

        fn mkdir(&self, rel: &str) {
            fs::create_dir_all(self.root().join(rel)).expect("mkdir");
        }

        /// The argument as a pattern, resolved in this tree.
        fn pattern(&self, arg: &str) -> Pattern {
            match pattern_in(OsStr::new(arg), self.root()) {
                Ok(Some(p)) => p,
                other => panic!("{arg}: not a pattern: {other:?}"),
            }
        }

        fn is_path(&self, arg: &str) -> bool {
            matches!(pattern_in(OsStr::new(arg), self.root()), Ok(None))
        }

        fn matches(&self, arg: &str) -> Vec<String> {
            let scan = self.pattern(arg).scan();
            assert!(scan.problems.is_empty(), "{arg}: {:?}", scan.problems);
            strings(&scan.matches)
        }

        fn watch(&self, arg: &str) -> Vec<String> {
            strings(&self.pattern(arg).scan().watch)
        }
    }

    fn strings(paths: &[PathBuf]) -> Vec<String> {
        paths.iter().map(|p| p.to_string_lossy().into_owned()).collect()
    }

    fn error(arg: &str) -> String {
        match pattern_in(OsStr::new(arg), Path::new("/nonexistent-rtail-test")) {
            Err(e) => e.to_string(),
            other => panic!("{arg}: no error: {other:?}"),
        }
    }

    #[test]
    fn an_argument_with_a_metacharacter_and_no_such_file_is_a_pattern() {
        let t = Tree::new(&["logs/a.log", "logs/[x].log", "star*"]);
        assert!(!t.is_path("logs/*.log"));
        assert!(!t.is_path("logs/?.log"));
        assert!(!t.is_path("logs/[ab].log"));
        assert!(!t.is_path("logs/{a,b}.log"));
        assert!(!t.is_path("nowhere/*.log"));
        assert!(t.is_path("logs/a.log"), "no metacharacter");
        assert!(t.is_path("logs/missing.log"), "no metacharacter, missing");
        assert!(t.is_path("logs/[x].log"), "the literal name exists");
        assert!(t.is_path("star*"), "the literal name exists");
        assert!(t.is_path("logs"), "a directory");
    }

    #[test]
    fn a_directory_whose_name_has_a_metacharacter_stays_a_path() {
        let t = Tree::new(&[]);
        t.mkdir("d*r");
        assert!(t.is_path("d*r"));
    }

    #[test]
    fn a_dangling_symlink_by_the_literal_name_makes_it_a_path() {
        let t = Tree::new(&[]);
        symlink("missing", t.root().join("x*")).expect("symlink");
        assert!(t.is_path("x*"));
    }

    #[test]
    fn a_non_utf8_argument_is_a_path_whatever_it_holds() {
        let arg = OsString::from_vec(b"logs/\xff*.log".to_vec());
        assert!(matches!(pattern_in(&arg, Path::new("/nonexistent-rtail-test")), Ok(None)));
    }

    #[test]
    fn star_and_question_mark_match_within_one_name() {
        let t = Tree::new(&["logs/a.log", "logs/bb.log", "logs/c.txt", "logs/sub/d.log"]);
        assert_eq!(t.matches("logs/*.log"), ["logs/a.log", "logs/bb.log"]);
        assert_eq!(t.matches("logs/?.log"), ["logs/a.log"]);
        assert_eq!(t.matches("logs/*"), ["logs/a.log", "logs/bb.log", "logs/c.txt"]);
    }

    #[test]
    fn classes_negated_classes_and_ranges() {
        let t = Tree::new(&["l/a1", "l/b2", "l/c3", "l/]"]);
        assert_eq!(t.matches("l/[ab]?"), ["l/a1", "l/b2"]);
        assert_eq!(t.matches("l/[!ab]?"), ["l/c3"]);
        assert_eq!(t.matches("l/[^ab]?"), ["l/c3"]);
        assert_eq!(t.matches("l/?[2-3]"), ["l/b2", "l/c3"]);
        assert_eq!(t.matches("l/[]]"), ["l/]"]);
    }

    #[test]
    fn braces_choose_among_alternatives_even_across_directories() {
        let t = Tree::new(&["l/app.log", "l/web.log", "l/db.log", "l/x/y.log", "l/{z}"]);
        assert_eq!(t.matches("l/{app,web}.log"), ["l/app.log", "l/web.log"]);
        assert_eq!(t.matches("l/{app,x/y}.log"), ["l/app.log", "l/x/y.log"]);
        assert_eq!(t.matches("l/{a{pp,x},d{b,c}}.log"), ["l/app.log", "l/db.log"]);
        assert_eq!(t.matches("l/{[{]z[}],app.log}"), ["l/app.log", "l/{z}"], "braces in a class");
    }

    #[test]
    fn a_backslash_is_a_plain_character() {
        let t = Tree::new(&["l/a\\b", "l/ab"]);
        assert_eq!(t.matches("l/a\\*"), ["l/a\\b"]);
    }

    #[test]
    fn double_star_matches_at_zero_one_and_several_depths() {
        let t = Tree::new(&["logs/a.log", "logs/x/b.log", "logs/x/y/z/c.log", "logs/x/n.txt", "d.log"]);
        assert_eq!(t.matches("logs/**/*.log"), ["logs/a.log", "logs/x/b.log", "logs/x/y/z/c.log"]);
        assert_eq!(t.matches("logs/**"), ["logs/a.log", "logs/x/b.log", "logs/x/n.txt", "logs/x/y/z/c.log"]);
        assert_eq!(t.matches("**/c.log"), ["logs/x/y/z/c.log"]);
        assert_eq!(t.matches("logs/**/y/**/*.log"), ["logs/x/y/z/c.log"]);
        let p = t.pattern("logs/**/*.log");
        assert!(p.is_recursive());
        assert!(!t.pattern("logs/*/*.log").is_recursive());
        assert_eq!(
            strings(&p.scan().watch),
            ["logs", "logs/x", "logs/x/y", "logs/x/y/z"],
            "every directory at any depth"
        );
    }

    #[test]
    fn a_wildcard_directory_component_watches_each_directory_it_matches() {
        let t = Tree::new(&["logs/a/app.log", "logs/b/other.log", "logs/c/deep/app.log", "logs/app.log"]);
        t.mkdir("logs/empty");
        assert_eq!(t.matches("logs/*/app.log"), ["logs/a/app.log"]);
        assert_eq!(t.watch("logs/*/app.log"), ["logs", "logs/a", "logs/b", "logs/c", "logs/empty"]);
        assert_eq!(t.watch("logs/[ab]/app.log"), ["logs", "logs/a", "logs/b"], "pruned by the component");
        assert_eq!(t.watch("logs/*.log"), ["logs"]);
    }

    #[test]
    fn a_missing_base_watches_its_nearest_existing_ancestor() {
        let t = Tree::new(&[]);
        t.mkdir("var");
        let p = t.pattern("var/log/app/*.log");
        let scan = p.scan();
        assert!(scan.matches.is_empty() && scan.problems.is_empty());
        assert_eq!(strings(&scan.watch), ["var"]);
        assert_eq!(t.watch("nothing/here/*.log"), ["."]);
        assert_eq!(t.watch("./nothing/*.log"), ["."]);

        // The ancestors lead there; once the base exists, a scan of what appeared finds it.
        assert!(p.wants_dir(Path::new("var/log")));
        assert!(p.wants_dir(Path::new("var/log/app")));
        assert!(!p.wants_dir(Path::new("var/other")));
        t.file("var/log/app/a.log");
        let appeared = p.scan_dir(&p.child(Path::new("var"), OsStr::new("log")));
        assert_eq!(strings(&appeared.matches), ["var/log/app/a.log"]);
        assert_eq!(strings(&appeared.watch), ["var/log/app"]);
    }

    #[test]
    fn a_base_that_is_a_file_is_like_a_missing_one() {
        let t = Tree::new(&["notes"]);
        let scan = t.pattern("notes/*.log").scan();
        assert!(scan.matches.is_empty() && scan.problems.is_empty());
        assert_eq!(strings(&scan.watch), ["."]);
    }

    #[test]
    fn an_absolute_missing_base_climbs_to_an_existing_directory() {
        let t = Tree::new(&[]);
        let arg = format!("{}/a/b/*.log", t.root().display());
        let scan = pattern(OsStr::new(&arg)).expect("valid").expect("pattern").scan();
        assert_eq!(scan.watch, [t.root().to_path_buf()]);
    }

    #[test]
    fn matches_are_spelled_as_the_pattern_spells_its_base() {
        let t = Tree::new(&["a.log", "logs/b.log"]);
        assert_eq!(t.matches("*.log"), ["a.log"]);
        assert_eq!(t.watch("*.log"), ["."]);
        assert_eq!(t.matches("logs/*.log"), ["logs/b.log"]);
        assert_eq!(t.matches("./logs/*.log"), ["./logs/b.log"]);
        assert_eq!(t.matches("./*.log"), ["./a.log"]);
        assert_eq!(t.matches("logs//*.log"), ["logs/b.log"]);
        assert_eq!(t.matches("*/*.log"), ["logs/b.log"]);
        assert_eq!(t.pattern("*.log").base(), Path::new("."));
        assert_eq!(t.pattern("./logs/*.log").base(), Path::new("./logs"));

        let abs = format!("{}/logs/*.log", t.root().display());
        let p = pattern(OsStr::new(&abs)).expect("valid").expect("pattern");
        assert_eq!(p.base(), t.root().join("logs"));
        assert_eq!(p.scan().matches, [t.root().join("logs/b.log")]);
        assert_eq!(p.arg(), abs);
    }

    #[test]
    fn the_base_is_the_leading_run_without_metacharacters() {
        let t = Tree::new(&[]);
        assert_eq!(t.pattern("/var/log/*/app.log").base(), Path::new("/var/log"));
        assert_eq!(t.pattern("/*.log").base(), Path::new("/"));
        assert_eq!(t.pattern("a}b/c,d/{x,y}/*.log").base(), Path::new("a}b/c,d"));
    }

    #[test]
    fn matches_takes_paths_in_rtails_spelling_only() {
        let t = Tree::new(&[]);
        let p = t.pattern("*.log");
        assert!(p.matches(Path::new("a.log")));
        assert!(!p.matches(Path::new("./a.log")));
        assert!(!p.matches(Path::new("x/a.log")));
        assert_eq!(p.child(Path::new("."), OsStr::new("a.log")), Path::new("a.log"));
        let q = t.pattern("./logs/*.log");
        assert!(q.matches(Path::new("./logs/a.log")));
        assert!(!q.matches(Path::new("logs/a.log")));
        assert!(!q.matches(Path::new("./logs")));
        assert_eq!(q.child(Path::new("."), OsStr::new("logs")), Path::new("./logs"));
        let r = t.pattern("/var/log/**/*.log");
        assert!(r.matches(Path::new("/var/log/a.log")));
        assert!(r.matches(Path::new("/var/log/x/y/a.log")));
        assert!(!r.matches(Path::new("/var/log/x/../a.log")));
        assert!(!r.matches(Path::new("/var/a.log")));
    }

    #[test]
    fn wants_dir_follows_the_pattern_through_directories() {
        let t = Tree::new(&[]);
        let p = t.pattern("logs/app-*/current/*.log");
        assert!(p.wants_dir(Path::new("logs")));
        assert!(p.wants_dir(Path::new(".")));
        assert!(p.wants_dir(Path::new("logs/app-1")));
        assert!(p.wants_dir(Path::new("logs/app-1/current")));
        assert!(!p.wants_dir(Path::new("logs/web-1")));
        assert!(!p.wants_dir(Path::new("logs/app-1/old")));
        assert!(!p.wants_dir(Path::new("logs/app-1/current/deeper")));
        let q = t.pattern("logs/**/*.log");
        assert!(q.wants_dir(Path::new("logs/a/b/c")));
        assert!(!q.wants_dir(Path::new("logs/.git")));
        assert!(!q.wants_dir(Path::new("elsewhere")));
    }

    #[test]
    fn hidden_names_need_a_leading_dot_in_the_pattern() {
        let t = Tree::new(&["l/.hidden.log", "l/shown.log", "l/.git/x.log", "l/d/.h/y.log", "l/d/z.log"]);
        assert_eq!(t.matches("l/*.log"), ["l/shown.log"]);
        assert_eq!(t.matches("l/?hidden.log"), Vec::<String>::new());
        assert_eq!(t.matches("l/.*.log"), ["l/.hidden.log"]);
        assert_eq!(t.matches("l/**/*.log"), ["l/d/z.log", "l/shown.log"]);
        assert_eq!(t.watch("l/**/*.log"), ["l", "l/d"], "`**` does not enter hidden directories");
        assert_eq!(t.matches("l/.git/*.log"), ["l/.git/x.log"]);
        assert_eq!(t.matches("l/{.git,d}/*.log"), ["l/.git/x.log", "l/d/z.log"]);
        assert_eq!(t.matches("l/**/.h/*.log"), ["l/d/.h/y.log"]);
    }

    #[test]
    fn symlinks_are_matched_by_their_own_name_and_entered_only_by_a_named_component() {
        let t = Tree::new(&["real/a.log", "data/target.txt", "logs/v1/app.log"]);
        let logs = t.root().join("logs");
        symlink("../data/target.txt", logs.join("link.log")).expect("symlink");
        symlink("nowhere", logs.join("dangling.log")).expect("symlink");
        symlink("../real", logs.join("dir.log")).expect("symlink");
        symlink("v1", logs.join("current")).expect("symlink");
        symlink("..", logs.join("v1/loop")).expect("symlink");
        assert_eq!(
            t.matches("logs/*.log"),
            ["logs/dangling.log", "logs/link.log"],
            "a link to a file or to nothing, not to a directory"
        );
        assert_eq!(t.matches("logs/*/app.log"), ["logs/current/app.log", "logs/v1/app.log"]);
        assert_eq!(t.watch("logs/*/app.log"), ["logs", "logs/current", "logs/dir.log", "logs/v1"]);
        assert_eq!(t.matches("logs/**/app.log"), ["logs/v1/app.log"], "`**` follows no link");
        assert_eq!(t.matches("logs/**/current/app.log"), ["logs/current/app.log"]);
        let p = t.pattern("logs/**/app.log");
        assert_eq!(strings(&p.scan_dir(Path::new("logs/current")).watch), Vec::<String>::new());
        assert_eq!(strings(&p.scan_dir(Path::new("logs/v1")).matches), ["logs/v1/app.log"]);
    }

    #[test]
    fn other_non_directories_match() {
        let t = Tree::new(&[]);
        t.mkdir("l");
        let fifo = t.root().join("l/pipe.log");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
        assert_eq!(t.matches("l/*.log"), ["l/pipe.log"]);
    }

    #[test]
    fn names_that_are_not_utf8_are_matched_as_bytes() {
        let t = Tree::new(&["l/ok.log"]);
        let name = OsString::from_vec(b"caf\xe9.log".to_vec());
        fs::write(t.root().join("l").join(&name), "x").expect("write");
        let scan = t.pattern("l/*.log").scan();
        assert_eq!(scan.matches, [Path::new("l").join(&name), PathBuf::from("l/ok.log")]);
        assert_eq!(t.matches("l/ok.*"), ["l/ok.log"]);
    }

    #[test]
    fn invalid_patterns_say_what_is_wrong() {
        assert_eq!(error("logs/[a.log"), "invalid pattern 'logs/[a.log': unclosed character class");
        assert_eq!(error("logs/{a,b.log"), "invalid pattern 'logs/{a,b.log': '{' without a '}' after it");
        assert_eq!(error("logs/*}.log"), "invalid pattern 'logs/*}.log': '}' without a '{' before it");
        assert_eq!(error("l/[z-a]"), "invalid pattern 'l/[z-a]': character range 'z-a' is backwards");
        assert_eq!(error("l/[a/b]"), "invalid pattern 'l/[a/b]': unclosed character class");
        assert_eq!(error("l/*/../x"), "invalid pattern 'l/*/../x': '..' after a wildcard is not supported");
        assert_eq!(
            error("{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}"),
            "invalid pattern '{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}': \
             more than 1024 alternatives"
        );
        assert_eq!(error("it's/*["), "invalid pattern \"it's/*[\": unclosed character class");
    }

    #[test]
    fn an_unreadable_directory_is_a_problem_and_is_skipped() {
        // SAFETY: geteuid(2) only returns a number.
        if unsafe { libc::geteuid() } == 0 {
            eprintln!("skipped: root reads every directory");
            return;
        }
        let t = Tree::new(&["l/ok/a.log", "l/shut/b.log"]);
        let shut = t.root().join("l/shut");
        fs::set_permissions(&shut, fs::Permissions::from_mode(0o000)).expect("chmod");
        let scan = t.pattern("l/*/*.log").scan();
        fs::set_permissions(&shut, fs::Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(strings(&scan.matches), ["l/ok/a.log"]);
        assert_eq!(strings(&scan.watch), ["l", "l/ok"]);
        assert_eq!(scan.problems.len(), 1);
        assert_eq!(scan.problems[0].0, Path::new("l/shut"));
        assert_eq!(scan.problems[0].1.kind(), io::ErrorKind::PermissionDenied);

        fs::set_permissions(t.root().join("l"), fs::Permissions::from_mode(0o000)).expect("chmod");
        let scan = t.pattern("l/*/*.log").scan();
        fs::set_permissions(t.root().join("l"), fs::Permissions::from_mode(0o755)).expect("chmod");
        assert!(scan.matches.is_empty());
        assert_eq!(strings(&scan.watch), ["."], "the parent sees a chmod");
        assert_eq!(scan.problems.len(), 1);
    }

    /// 10,000 files in 100 directories. Run with
    /// `cargo test --lib glob::tests::scan_10000_files -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn scan_10000_files() {
        let t = Tree::new(&[]);
        for d in 0..100 {
            let dir = t.root().join(format!("logs/d{d:03}"));
            fs::create_dir_all(&dir).expect("mkdir");
            for f in 0..100 {
                fs::write(dir.join(format!("f{f:03}.{}", if f % 2 == 0 { "log" } else { "txt" })), "")
                    .expect("write");
            }
        }
        for arg in ["logs/*/*.log", "logs/**/*.log", "logs/**"] {
            let p = t.pattern(arg);
            let started = std::time::Instant::now();
            let scan = p.scan();
            eprintln!(
                "{arg}: {} matches, {} dirs in {:?}",
                scan.matches.len(),
                scan.watch.len(),
                started.elapsed()
            );
        }
    }
}
