//! clap's errors as GNU tail words its usage errors (`rtail: invalid option -- 'k'`), so
//! scripts written for GNU tail see the same messages.

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};

use super::{Exit, command};

/// The exit and message for a command line clap refused.
pub(super) fn clap_exit(err: clap::Error, args: &[OsString]) -> Exit {
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            return Exit::Printed;
        }
        _ => {}
    }
    let context = |kind| match err.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.first().cloned(),
        _ => None,
    };
    let arg = context(ContextKind::InvalidArg).unwrap_or_default();
    let option = arg.split([' ', '=', '[']).next().unwrap_or_default().to_string();
    let message = match err.kind() {
        ErrorKind::UnknownArgument if arg.starts_with("--") && arg.len() > 2 => {
            let prefix = arg.split('=').next().unwrap_or(&arg).trim_start_matches('-');
            let mut longs: Vec<String> = command()
                .get_arguments()
                .flat_map(|a| a.get_long_and_visible_aliases().unwrap_or_default())
                .chain(["help", "version"])
                .filter(|l| l.starts_with(prefix))
                .map(|l| format!("'--{l}'"))
                .collect();
            longs.sort();
            longs.dedup();
            if longs.len() > 1 {
                format!("option '--{prefix}' is ambiguous; possibilities: {}", longs.join(" "))
            } else {
                format!("unrecognized option '{arg}'")
            }
        }
        ErrorKind::UnknownArgument if arg.starts_with('-') => {
            format!("invalid option -- '{}'", arg.chars().nth(1).unwrap_or('-'))
        }
        ErrorKind::ArgumentConflict if option == "--generate" => {
            "option '--generate' must be used alone".to_string()
        }
        ErrorKind::InvalidValue if context(ContextKind::InvalidValue).is_none_or(|v| v.is_empty()) => {
            // Only the last word can lack its value; name it the way the user wrote it.
            let last = args.last().and_then(|a| a.to_str()).unwrap_or_default();
            match last.strip_prefix('-').and_then(|c| c.chars().last()) {
                Some(letter) if !last.starts_with("--") => {
                    format!("option requires an argument -- '{letter}'")
                }
                _ => format!("option '{option}' requires an argument"),
            }
        }
        ErrorKind::InvalidValue => {
            let value = context(ContextKind::InvalidValue).unwrap_or_default();
            let mut text = format!("invalid argument '{value}' for '{option}'");
            if let Some(ContextValue::Strings(valid)) = err.get(ContextKind::ValidValue) {
                text.push_str("\nValid arguments are:");
                for v in valid {
                    text.push_str(&format!("\n  - '{v}'"));
                }
            }
            text
        }
        _ => {
            let rendered = err.to_string();
            let first = rendered.lines().next().unwrap_or("invalid command line");
            first.strip_prefix("error: ").unwrap_or(first).to_string()
        }
    };
    Exit::Usage(message)
}
