//! `--serve[=ADDR]`, `--serve-token`, `--serve-once`: the web view's options.

use std::ffi::OsString;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use clap::{Arg, ArgAction};

use super::Exit;
use rtail::Serve;

/// The environment variable that gives the token when `--serve-token` does not.
pub(super) const TOKEN_VARIABLE: &str = "RTAIL_SERVE_TOKEN";

pub(super) fn args() -> [Arg; 3] {
    [
        Arg::new("serve")
            .long("serve")
            .value_name("ADDR")
            .action(ArgAction::Set)
            .num_args(0..=1)
            .require_equals(true)
            .default_missing_value("")
            .help("Also show the lines live in a browser, on ADDR (default 127.0.0.1:7117)")
            .long_help(
                "Also show the lines live on a web page: the records and notices of this run, with \
                 auto-scroll, a filter, level and source toggles. ADDR is PORT or HOST:PORT (HOST an \
                 IP address or localhost; [::1]:PORT for IPv6); the default is 127.0.0.1:7117, port 0 \
                 picks a free one. rtail says where on standard error (rtail: serving \
                 http://127.0.0.1:7117/) and still prints to standard output as usual (redirect it \
                 to /dev/null for the page alone). Implies -F (-f for standard input) unless -f is \
                 given; a pipe on standard input is shown as it comes (as -n +1) unless -n/-c say, \
                 and `rtail --serve -- COMMAND` shows a command's output. When every input has \
                 ended (or the command exited), the page stays until Ctrl-C, its Stop button or \
                 --serve-once ends the run. On an address other than loopback every request needs \
                 a token (one is made up and printed in the URL unless --serve-token gives it). \
                 Endpoints: / (the page), /events (Server-Sent Events: the --json objects), /lines \
                 (plain text, for curl). A separate word after --serve is taken as ADDR only when \
                 it looks like one (a number, or ends in :PORT).\n\n\
                 Example: rtail --serve -F app.log    (then open http://127.0.0.1:7117/)",
            ),
        Arg::new("serve_token")
            .long("serve-token")
            .value_name("TOKEN")
            .action(ArgAction::Set)
            .help("The token the web view requires (also RTAIL_SERVE_TOKEN)")
            .long_help(
                "The token every request to the web view must carry (?token=TOKEN in the URL, or \
                 Authorization: Bearer TOKEN), instead of a random one; also read from \
                 RTAIL_SERVE_TOKEN. Letters, digits and -._~ only, 16 to 256 of them. Given, it is \
                 required on loopback too. Implies --serve.\n\n\
                 Example: RTAIL_SERVE_TOKEN=$(cat ~/.rtail-token) rtail --serve=0.0.0.0:7117 -F app.log",
            ),
        Arg::new("serve_once")
            .long("serve-once")
            .action(ArgAction::SetTrue)
            .help("End when the last viewer has left (after one came); implies --serve")
            .long_help(
                "End the run (stopping the child command) once the last viewer of the web page has \
                 been gone for 3 seconds, after at least one connected; a reload does not end it. \
                 Implies --serve.\n\n\
                 Example: rtail --serve-once -- ./server   (closing the tab stops the server)",
            ),
    ]
}

/// `--serve PORT` as `--serve=PORT`: the value of `--serve` is optional, so only a word that
/// looks like an address (digits, or ending in `:digits`) is taken as one; anything else stays
/// an operand. Words after `--` are left alone.
pub(super) fn join_value(args: Vec<OsString>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut words = args.into_iter().peekable();
    while let Some(word) = words.next() {
        if word == "--" {
            out.push(word);
            out.extend(words);
            break;
        }
        if word == "--serve"
            && let Some(next) = words.peek().and_then(|w| w.to_str())
            && looks_like_addr(next)
        {
            let joined = format!("--serve={next}");
            words.next();
            out.push(joined.into());
            continue;
        }
        out.push(word);
    }
    out
}

fn looks_like_addr(word: &str) -> bool {
    let port = word.rsplit_once(':').map_or(word, |(_, port)| port);
    !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
}

/// The web view's settings, from the options (`None` when none of them was given).
pub(super) fn settings(
    addr: Option<String>,
    token: Option<String>,
    once: bool,
) -> Result<Option<Serve>, Exit> {
    let token = token.or_else(|| {
        std::env::var(TOKEN_VARIABLE).ok().filter(|t| !t.is_empty()).filter(|_| addr.is_some() || once)
    });
    if addr.is_none() && token.is_none() && !once {
        return Ok(None);
    }
    let addr = parse_addr(addr.as_deref().unwrap_or(""))?;
    if let Some(token) = &token {
        check_token(token)?;
    }
    let token = match token {
        Some(token) => Some(token),
        None if addr.ip().is_loopback() => None,
        None => Some(random_token().map_err(|e| {
            Exit::Invalid(format!("cannot make a token for --serve: {}", rtail::Error::Write(e)))
        })?),
    };
    Ok(Some(Serve { addr, token, once }))
}

/// `PORT`, `HOST:PORT`, `[IPV6]:PORT`; empty for the default.
fn parse_addr(text: &str) -> Result<SocketAddr, Exit> {
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    if text.is_empty() {
        return Ok(SocketAddr::new(loopback, Serve::DEFAULT_PORT));
    }
    let bad = || {
        Exit::Invalid(format!(
            "invalid --serve address '{text}': give PORT, HOST:PORT or [IPV6]:PORT, HOST being an IP \
             address or localhost"
        ))
    };
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::new(loopback, port));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    match text.rsplit_once(':') {
        Some((host, port)) if host.eq_ignore_ascii_case("localhost") => {
            Ok(SocketAddr::new(loopback, port.parse().map_err(|_| bad())?))
        }
        _ => Err(bad()),
    }
}

fn check_token(token: &str) -> Result<(), Exit> {
    let fine = (16..=256).contains(&token.len())
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if fine {
        Ok(())
    } else {
        Err(Exit::Invalid("invalid --serve-token: use 16 to 256 letters, digits or -._~ characters".into()))
    }
}

/// 128 random bits from the system, in hex.
fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn a_following_word_is_the_address_only_when_it_looks_like_one() {
        assert_eq!(
            join_value(words(&["rtail", "--serve", "8080", "a"])),
            words(&["rtail", "--serve=8080", "a"])
        );
        assert_eq!(
            join_value(words(&["rtail", "--serve", "0.0.0.0:80"])),
            words(&["rtail", "--serve=0.0.0.0:80"])
        );
        assert_eq!(
            join_value(words(&["rtail", "--serve", "app.log"])),
            words(&["rtail", "--serve", "app.log"])
        );
        assert_eq!(join_value(words(&["rtail", "--serve", "-F"])), words(&["rtail", "--serve", "-F"]));
        assert_eq!(
            join_value(words(&["rtail", "--", "--serve", "80"])),
            words(&["rtail", "--", "--serve", "80"])
        );
        assert_eq!(join_value(words(&["rtail", "--serve"])), words(&["rtail", "--serve"]));
    }

    #[test]
    fn addresses() {
        let parsed = |t: &str| parse_addr(t).ok().map(|a| a.to_string());
        assert_eq!(parsed("").as_deref(), Some("127.0.0.1:7117"));
        assert_eq!(parsed("0").as_deref(), Some("127.0.0.1:0"));
        assert_eq!(parsed("8080").as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(parsed("0.0.0.0:80").as_deref(), Some("0.0.0.0:80"));
        assert_eq!(parsed("[::1]:80").as_deref(), Some("[::1]:80"));
        assert_eq!(parsed("localhost:81").as_deref(), Some("127.0.0.1:81"));
        for bad in ["host:80", "99999", "1.2.3.4", ":80x", "::1:80"] {
            assert_eq!(parsed(bad), None, "{bad}");
        }
    }

    #[test]
    fn tokens() {
        assert!(check_token("0123456789abcdef").is_ok());
        assert!(check_token("short").is_err());
        assert!(check_token("has space in it, quite long").is_err());
        let t = random_token().expect("urandom");
        assert_eq!(t.len(), 32);
        assert!(check_token(&t).is_ok());
    }
}
