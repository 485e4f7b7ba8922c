//! `--generate KIND`: the man page and the shell completions, made from the one clap definition
//! (clap_mangen, clap_complete). The committed copies under man/ and completions/ are checked
//! against these byte for byte by the tests.

use std::io::{self, Write};

use clap_mangen::roff::{Roff, bold, italic, roman};

use super::command;
use super::help::{ENVIRONMENT, EXAMPLES, EXIT_STATUS, SIGNALS};

/// `--generate KIND`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Generate {
    Man,
    CompleteBash,
    CompleteZsh,
    CompleteFish,
    CompletePowershell,
    CompleteElvish,
}

/// Write what `--generate KIND` asks for.
pub(super) fn generate(kind: Generate, out: &mut dyn Write) -> io::Result<()> {
    use clap_complete::Shell;
    let shell = match kind {
        Generate::Man => return man_page(out),
        Generate::CompleteBash => Shell::Bash,
        Generate::CompleteZsh => Shell::Zsh,
        Generate::CompleteFish => Shell::Fish,
        Generate::CompletePowershell => Shell::PowerShell,
        Generate::CompleteElvish => Shell::Elvish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command(), "rtail", &mut script);
    out.write_all(&script)
}

/// The man page: clap_mangen renders the title, NAME, SYNOPSIS, DESCRIPTION and the options
/// (one OPTIONS section with a subsection per help heading); EXIT STATUS, SIGNALS, ENVIRONMENT,
/// EXAMPLES and SEE ALSO are written here. No date, so the output only changes with the text.
fn man_page(out: &mut dyn Write) -> io::Result<()> {
    let mut cmd = command().override_usage(
        "rtail [OPTION]... [FILE]...\n\
         rtail [OPTION]... FILE... -- COMMAND [ARG]...\n\
         rtail --generate KIND",
    );
    // clap_mangen leaves out visible aliases (--silent, --colour); name them in the text.
    let aliased: Vec<(String, Vec<String>)> = cmd
        .get_arguments()
        .filter_map(|a| {
            let aliases = a.get_visible_aliases()?;
            Some((a.get_id().to_string(), aliases.iter().map(|s| format!("--{s}")).collect()))
        })
        .collect();
    for (id, aliases) in aliased {
        cmd = cmd.mut_arg(id, |arg| {
            let help = arg.get_long_help().or(arg.get_help()).map(ToString::to_string).unwrap_or_default();
            // At the end of the first paragraph, before any example.
            let (first, rest) = help.split_once("\n\n").unwrap_or((&help, ""));
            let mut text = format!("{}. Also spelled {}.", first.trim_end_matches('.'), aliases.join(", "));
            if !rest.is_empty() {
                text = format!("{text}\n\n{rest}");
            }
            arg.long_help(text)
        });
    }
    let headings: Vec<String> =
        cmd.get_arguments().filter_map(|a| a.get_help_heading()).map(str::to_owned).collect();
    let version = cmd.get_version().unwrap_or_default().to_owned();
    let man = clap_mangen::Man::new(cmd);
    // Every piece the roff crate renders starts with the same preamble (it defines the apostrophe
    // string): the page has it once.
    let preamble = Roff::new().render();
    // The title line by hand: clap_mangen writes an empty date as nothing at all, which shifts
    // the source and manual into the wrong fields. No date keeps the output reproducible.
    let mut page = format!("{preamble}.TH RTAIL 1 \"\" \"rtail {version}\" \"User Commands\"\n");
    type Render = fn(&clap_mangen::Man, &mut dyn Write) -> io::Result<()>;
    let sections: [Render; 4] = [
        clap_mangen::Man::render_name_section,
        clap_mangen::Man::render_synopsis_section,
        clap_mangen::Man::render_description_section,
        clap_mangen::Man::render_options_section,
    ];
    for (i, render) in sections.into_iter().enumerate() {
        let mut buf = Vec::new();
        render(&man, &mut buf)?;
        let text = String::from_utf8(buf).map_err(io::Error::other)?;
        let text = text.strip_prefix(&preamble).unwrap_or(&text);
        if i == sections.len() - 1 {
            page.push_str(&options_as_subsections(text, &headings));
        } else {
            page.push_str(text);
        }
    }
    let extra = extra_sections().render();
    page.push_str(extra.strip_prefix(&preamble).unwrap_or(&extra));
    out.write_all(page.as_bytes())
}

/// clap_mangen makes each help heading a section of its own (`.SH FOLLOWING`); make them
/// subsections of one OPTIONS section, titled as in `--help`.
fn options_as_subsections(roff: &str, headings: &[String]) -> String {
    let mut out = String::new();
    if !roff.starts_with(".SH OPTIONS\n") {
        out.push_str(".SH OPTIONS\n");
    }
    for line in roff.lines() {
        let title = line.strip_prefix(".SH ").map(|t| t.trim_matches('"'));
        match title.and_then(|t| headings.iter().find(|h| h.to_uppercase() == t)) {
            Some(heading) if heading.contains(' ') => out.push_str(&format!(".SS \"{heading}\"\n")),
            Some(heading) => out.push_str(&format!(".SS {heading}\n")),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// The sections after the options, in man-pages(7)'s order, with SIGNALS beside EXIT STATUS
/// (signals decide statuses).
fn extra_sections() -> Roff {
    let mut roff = Roff::new();
    let table = |roff: &mut Roff, rows: &[(&str, &str)]| {
        for (key, meaning) in rows {
            roff.control("TP", []).text([bold(*key)]).text([roman(*meaning)]);
        }
    };
    roff.control("SH", ["EXIT STATUS"]);
    table(&mut roff, EXIT_STATUS);
    roff.control("SH", ["SIGNALS"]);
    table(&mut roff, SIGNALS);
    roff.control("SH", ["ENVIRONMENT"]);
    table(&mut roff, ENVIRONMENT);
    roff.control("SH", ["EXAMPLES"]);
    for (what, command) in EXAMPLES {
        roff.control("PP", []).text([roman(*what)]);
        roff.control("RS", ["4"]).control("nf", []);
        for line in command.lines() {
            roff.text([bold(line)]);
        }
        roff.control("fi", []).control("RE", []);
    }
    roff.control("SH", ["SEE ALSO"]);
    roff.text([
        bold("tail"),
        roman("(1), "),
        bold("timeout"),
        roman("(1), "),
        bold("inotify"),
        roman("(7); the regular expression syntax: "),
        italic("https://docs.rs/regex/latest/regex/#syntax"),
    ]);
    roff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn man_page_options_become_subsections() {
        let headings = vec!["Output".to_string(), "Watching and exit".to_string()];
        let roff = ".SH OPTIONS\n.TP\nx\n.SH OUTPUT\n.TP\ny\n.SH \"WATCHING AND EXIT\"\n";
        assert_eq!(
            options_as_subsections(roff, &headings),
            ".SH OPTIONS\n.TP\nx\n.SS Output\n.TP\ny\n.SS \"Watching and exit\"\n"
        );
        assert_eq!(options_as_subsections(".SH OUTPUT\n", &headings), ".SH OPTIONS\n.SS Output\n");
    }
}
