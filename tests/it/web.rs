//! The web view (`--serve`) over HTTP: the real binary, a real HTTP client (ureq), and raw TCP
//! for requests no client would send.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::util::{DEADLINE, Spawned, TestDir};

/// A running `rtail --serve`.
struct Served {
    rtail: Spawned,
    /// The URL rtail printed (with `?token=` when there is one).
    url: String,
    /// `http://HOST:PORT`.
    base: String,
    addr: SocketAddr,
    token: Option<String>,
}

fn serve(dir: &TestDir, args: &[&str]) -> Served {
    served(Spawned::start(dir.rtail().args(args)))
}

/// The URL a starting `rtail --serve` prints, once its whole line is there.
fn url_of(rtail: &Spawned) -> String {
    let line = |err: &str| {
        err.split_inclusive('\n')
            .find_map(|l| l.strip_prefix("rtail: serving ")?.strip_suffix('\n').map(str::to_owned))
    };
    rtail.wait_until("the serving line", |_, err| line(err).is_some());
    line(&rtail.stderr.text()).expect("the serving line")
}

fn served(rtail: Spawned) -> Served {
    let url = url_of(&rtail);
    let rest = url.strip_prefix("http://").expect("http URL");
    let (authority, after) = rest.split_once('/').expect("a path");
    let token = after.strip_prefix("?token=").map(str::to_owned);
    let addr: SocketAddr = authority.parse().expect("an address");
    Served { base: format!("http://{authority}"), url, addr, token, rtail }
}

impl Served {
    /// `base` + `path`, with the token when there is one.
    fn at(&self, path: &str) -> String {
        let mut url = format!("{}{path}", self.base);
        if let Some(t) = &self.token {
            url.push(if path.contains('?') { '&' } else { '?' });
            url.push_str("token=");
            url.push_str(t);
        }
        url
    }

    /// Wait until the server has the record whose line is `line` (standard output may show
    /// a record a moment before the web view has it).
    fn wait_served(&self, line: &str) {
        let mut newest = Events::open(&self.at("/events?n=1"), None);
        newest.until(|f| f.event == "message" && line_of(f) == line);
    }

    /// The loopback address to reach it on (for a wildcard bind too).
    fn local(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.addr.port()))
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(timeout)).build().into()
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn request(method: &str, url: &str, headers: &[(&str, &str)]) -> Reply {
    let agent = agent(DEADLINE);
    let mut response = match method {
        "GET" => {
            let mut r = agent.get(url);
            for (n, v) in headers {
                r = r.header(*n, *v);
            }
            r.call()
        }
        "POST" => {
            let mut r = agent.post(url);
            for (n, v) in headers {
                r = r.header(*n, *v);
            }
            r.send_empty()
        }
        _ => panic!("method {method}"),
    }
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Reply { status, headers, body }
}

fn get(url: &str) -> Reply {
    request("GET", url, &[])
}

/// Send `bytes` on a fresh connection and read the reply until the server closes or 2 s of
/// silence (a raw request may keep the connection open).
fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
    let _ = stream.write_all(bytes);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                // One reply is all we look at.
                if out.windows(4).any(|w| w == b"\r\n\r\n") && !out.starts_with(b"HTTP/1.1 200") {
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One Server-Sent Event.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Frame {
    id: Option<u64>,
    event: String,
    data: String,
}

/// An open `/events` stream, read on demand.
struct Events {
    reader: BufReader<ureq::BodyReader<'static>>,
}

impl Events {
    fn open(url: &str, last_id: Option<u64>) -> Events {
        Events::open_for(url, last_id, DEADLINE)
    }

    fn open_for(url: &str, last_id: Option<u64>, life: Duration) -> Events {
        let mut req = agent(life).get(url);
        if let Some(id) = last_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let response = req.call().expect("GET /events");
        assert_eq!(response.status().as_u16(), 200);
        let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(content_type.starts_with("text/event-stream"), "{content_type}");
        Events { reader: BufReader::new(response.into_body().into_reader()) }
    }

    /// The next event (comments skipped); `None` when the stream ended.
    fn next(&mut self) -> Option<Frame> {
        let mut frame = Frame { id: None, event: "message".into(), data: String::new() };
        let mut any = false;
        loop {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) => return None,
                // The server ending the stream mid-chunk (rtail stopping) reads as an error.
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return None,
                Err(e) => panic!("reading the event stream: {e}"),
                Ok(_) => {}
            }
            let line = line.trim_end_matches('\n');
            if line.is_empty() {
                if any {
                    return Some(frame);
                }
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(": ").unwrap_or((line, ""));
            match field {
                "id" => frame.id = value.parse().ok(),
                "event" => frame.event = value.to_owned(),
                "data" => frame.data.push_str(value),
                "retry" => {}
                other => panic!("unknown SSE field {other:?}"),
            }
            any = field != "retry";
        }
    }

    /// Events until `stop` says one is the last wanted (it is included).
    fn until(&mut self, stop: impl Fn(&Frame) -> bool) -> Vec<Frame> {
        let mut out = Vec::new();
        loop {
            let frame = self.next().unwrap_or_else(|| panic!("the stream ended after {out:#?}"));
            let last = stop(&frame);
            out.push(frame);
            if last {
                return out;
            }
        }
    }

    /// The next `n` records (message events); other events are skipped, not counted.
    fn records(&mut self, n: usize) -> Vec<Frame> {
        let mut out = Vec::new();
        while out.len() < n {
            let frame = self.next().unwrap_or_else(|| panic!("the stream ended after {} records", out.len()));
            if frame.event == "message" {
                out.push(frame);
            }
        }
        out
    }
}

/// The `line` of a record's data.
fn line_of(frame: &Frame) -> String {
    let value: serde_json::Value = serde_json::from_str(&frame.data).expect("JSON data");
    value["line"].as_str().expect("a line").to_owned()
}

fn numbered(from: usize, to: usize) -> String {
    (from..to).map(|i| format!("line {i}\n")).collect()
}

#[test]
fn prints_where_it_serves_and_serves_the_page_with_safe_headers() {
    let dir = TestDir::new();
    dir.write("app.log", "one\n");
    let s = serve(&dir, &["--serve=0", "-F", "app.log"]);
    assert!(s.url.starts_with("http://127.0.0.1:") && s.url.ends_with('/') && s.token.is_none(), "{}", s.url);
    // Standard output gets the lines as usual.
    s.rtail.wait_for_stdout("one\n");
    let page = get(&s.url);
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(page.header("content-security-policy").is_some_and(|c| c.contains("default-src 'self'")));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    for (path, kind) in [("app.js", "text/javascript"), ("app.css", "text/css")] {
        let asset = get(&s.at(&format!("/{path}")));
        assert_eq!(asset.status, 200, "{path}");
        assert!(asset.header("content-type").is_some_and(|c| c.starts_with(kind)), "{path}");
        assert!(!asset.body.is_empty());
    }
}

#[test]
fn every_url_in_the_page_is_relative() {
    // Behind a reverse proxy under a sub-path, an absolute URL would leave it.
    let dir = TestDir::new();
    let s = serve(&dir, &["--serve=0", "-n", "0", "-"]);
    let page = get(&s.url).body;
    let script = get(&s.at("/app.js")).body;
    for attr in ["src=\"", "href=\""] {
        for value in page.split(attr).skip(1) {
            assert!(!value.starts_with('/') && !value.contains("://"), "{attr}{value:.40}");
        }
    }
    for call in ["EventSource('", "fetch('"] {
        let values: Vec<&str> = script.split(call).skip(1).collect();
        assert!(!values.is_empty(), "the script calls {call}");
        for value in values {
            assert!(!value.starts_with('/') && !value.contains("://"), "{call}{value:.40}");
        }
    }
}

#[test]
fn events_carry_the_json_objects_and_new_lines_arrive() {
    let dir = TestDir::new();
    let text: &[u8] =
        b"plain\nwith \"quotes\" and \\ and \t\n<img src=x onerror=alert(1)>\nbad \xc3\xa9 \xff\n";
    dir.write("app.log", text);
    // What --json prints for the same file, object for object.
    let json = dir.rtail().args(["--json", "-n", "+1", "app.log"]).output().expect("rtail --json");
    let want: Vec<String> =
        String::from_utf8(json.stdout).expect("utf-8").lines().map(str::to_owned).collect();
    assert_eq!(want.len(), 4);
    let s = serve(&dir, &["--serve=0", "-F", "app.log"]);
    let mut events = Events::open(&s.at("/events"), None);
    let hello = events.next().expect("hello");
    assert_eq!(hello.event, "hello");
    assert_eq!(hello.data, r#"{"sources":["app.log"]}"#);
    let records = events.records(4);
    assert_eq!(records.iter().map(|f| f.data.clone()).collect::<Vec<_>>(), want);
    assert_eq!(records.iter().map(|f| f.id).collect::<Vec<_>>(), [Some(1), Some(2), Some(3), Some(4)]);
    // One appended line reaches the open stream.
    dir.append("app.log", "appended\n");
    let next = events.records(1);
    assert_eq!(line_of(&next[0]), "appended");
    assert_eq!(next[0].id, Some(5));
    // A truncation is an event of its own.
    dir.write("app.log", "");
    let notice = events.until(|f| f.event == "notice");
    let notice = notice.last().expect("notice");
    let value: serde_json::Value = serde_json::from_str(&notice.data).expect("JSON");
    assert_eq!(value["event"], "truncated");
    assert_eq!(value["path"], "app.log");
}

#[test]
fn backlog_size_and_resume_without_duplicate_or_gap() {
    let dir = TestDir::new();
    dir.write("app.log", numbered(0, 50));
    let s = serve(&dir, &["--serve=0", "-n", "+1", "-F", "app.log"]);
    s.wait_served("line 49");
    // ?n=5: the last five.
    let mut events = Events::open(&s.at("/events?n=5"), None);
    let five = events.records(5);
    assert_eq!(
        five.iter().map(line_of).collect::<Vec<_>>(),
        (45..50).map(|i| format!("line {i}")).collect::<Vec<_>>()
    );
    drop(events);
    // A client that saw up to id 20 comes back after more was written: 21 on, once each.
    dir.append("app.log", numbered(50, 60));
    let mut resumed = Events::open(&s.at("/events"), Some(20));
    resumed.next().expect("hello");
    let rest = resumed.records(40);
    assert_eq!(rest.iter().map(|f| f.id.expect("id")).collect::<Vec<_>>(), (21..=60).collect::<Vec<u64>>());
    assert_eq!(
        rest.iter().map(line_of).collect::<Vec<_>>(),
        (20..60).map(|i| format!("line {i}")).collect::<Vec<_>>()
    );
    // The page's own way to resume (a new stream after the server answered an error).
    let mut by_query = Events::open(&s.at("/events?last=58"), None);
    by_query.next().expect("hello");
    assert_eq!(by_query.records(2).iter().map(line_of).collect::<Vec<_>>(), ["line 58", "line 59"]);
}

#[test]
fn a_client_further_behind_than_the_ring_is_told_what_it_missed() {
    let dir = TestDir::new();
    dir.write("app.log", numbered(0, 10_500));
    let s = serve(&dir, &["--serve=0", "-n", "+1", "-F", "app.log"]);
    // Once a fresh viewer has the last line, the ring holds the newest 10,000.
    s.wait_served("line 10499");
    let mut events = Events::open(&s.at("/events"), Some(1));
    events.next().expect("hello");
    let skipped = events.next().expect("skipped");
    assert_eq!(skipped.event, "skipped");
    assert_eq!(skipped.data, r#"{"skipped":499}"#);
    let first = events.records(1);
    assert_eq!(first[0].id, Some(501));
    assert_eq!(line_of(&first[0]), "line 500");
}

#[test]
fn lines_is_a_plain_text_stream_that_ends_with_the_input() {
    let dir = TestDir::new();
    let mut s = Spawned::start_with_stdin(dir.rtail().arg("--serve=0"), std::process::Stdio::piped());
    // Feed standard input, then close it: the input has ended, rtail keeps serving.
    s.child.stdin.take().expect("stdin").write_all(b"a\nb\n").expect("write");
    let url = url_of(&s);
    s.wait_for_stdout("a\nb\n");
    let lines = get(&format!("{url}lines"));
    assert_eq!(lines.status, 200);
    assert_eq!(lines.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(lines.header("x-accel-buffering"), Some("no"));
    assert_eq!(lines.body, "a\nb\n");
    let mut events = Events::open(&format!("{url}events"), None);
    let frames = events.until(|f| f.event == "end");
    assert_eq!(frames.iter().filter(|f| f.event == "message").count(), 2);
    assert!(s.child.try_wait().expect("try_wait").is_none(), "rtail ended with its input");
    s.signal(libc::SIGTERM);
    assert_eq!(s.wait_exit(), Some(128 + libc::SIGTERM));
}

#[test]
fn nothing_is_served_by_path_and_wrong_methods_are_refused() {
    let dir = TestDir::new();
    dir.write("app.log", "secret\n");
    let s = serve(&dir, &["--serve=0", "-F", "app.log"]);
    for path in [
        "/app.log",
        "/etc/passwd",
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/index.html",
        "//app.js",
        "/app.js/",
        "/events/",
    ] {
        let reply = get(&format!("{}{path}", s.base));
        assert_eq!(reply.status, 404, "{path}");
        assert!(!reply.body.contains("secret"), "{path}");
    }
    let raw_traversal = raw(s.addr, b"GET ../../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert!(raw_traversal.starts_with("HTTP/1.1 4"), "{raw_traversal}");
    let post_page = request("POST", &s.url, &[]);
    assert_eq!((post_page.status, post_page.header("allow")), (405, Some("GET, HEAD")));
    let get_stop = get(&s.at("/stop"));
    assert_eq!((get_stop.status, get_stop.header("allow")), (405, Some("POST")));
    // A head larger than the limit is 431, and the server goes on serving.
    let big = format!("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {}\r\n\r\n", "x".repeat(20_000));
    let reply = raw(s.addr, big.as_bytes());
    assert!(reply.starts_with("HTTP/1.1 431"), "{reply:.200}");
    let garbage = raw(s.addr, b"\x16\x03\x01 hello, not HTTP\r\n\r\n");
    assert!(garbage.starts_with("HTTP/1.1 400"), "{garbage:.200}");
    assert_eq!(get(&s.url).status, 200);
}

#[test]
fn a_name_other_than_our_address_is_refused() {
    // DNS rebinding: a page of another site, resolved to 127.0.0.1, must get nothing.
    let dir = TestDir::new();
    let s = serve(&dir, &["--serve=0", "-n", "0", "-"]);
    let port = s.addr.port();
    for host in ["evil.example".to_string(), format!("evil.example:{port}"), "127.0.0.1:1".into()] {
        let reply = raw(s.addr, format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes());
        assert!(reply.starts_with("HTTP/1.1 403"), "{host}: {reply:.200}");
    }
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}"), "localhost".into()] {
        let reply =
            raw(s.addr, format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes());
        assert!(reply.starts_with("HTTP/1.1 200"), "{host}: {reply:.200}");
    }
    let no_host = raw(s.addr, b"GET / HTTP/1.0\r\n\r\n");
    assert!(no_host.starts_with("HTTP/1.0 403") || no_host.starts_with("HTTP/1.1 403"), "{no_host:.200}");
}

#[test]
fn off_loopback_a_token_is_made_and_required() {
    let dir = TestDir::new();
    dir.write("app.log", "x\n");
    let s = serve(&dir, &["--serve=0.0.0.0:0", "-F", "app.log"]);
    let token = s.token.clone().expect("a token in the URL");
    assert_eq!(token.len(), 32);
    let local = s.local();
    let bare = format!("http://{local}/");
    for path in ["", "events", "lines", "app.js"] {
        let reply = get(&format!("{bare}{path}"));
        assert_eq!(reply.status, 401, "/{path}");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    }
    assert_eq!(get(&format!("{bare}?token={}x", token)).status, 401);
    assert_eq!(get(&format!("{bare}?token={}", &token[..31])).status, 401);
    assert_eq!(get(&format!("{bare}?token={token}")).status, 200);
    let bearer = request("GET", &bare, &[("Authorization", &format!("Bearer {token}"))]);
    assert_eq!(bearer.status, 200);
    let lines = format!("http://{local}/events?token={token}");
    let mut events = Events::open(&lines, None);
    assert_eq!(events.next().expect("hello").event, "hello");
}

#[test]
fn a_given_token_is_required_on_loopback_too() {
    let dir = TestDir::new();
    let token = "0123456789abcdef-token";
    let rtail =
        Spawned::start(dir.rtail().env("RTAIL_SERVE_TOKEN", token).args(["--serve=0", "-n", "0", "-"]));
    let url = url_of(&rtail);
    assert!(url.ends_with(&format!("/?token={token}")), "{url}");
    let bare = url.split('?').next().expect("base").to_owned();
    assert_eq!(get(&bare).status, 401);
    assert_eq!(get(&url).status, 200);
}

#[test]
fn stop_ends_the_run_only_from_the_page_itself() {
    let dir = TestDir::new();
    dir.write("app.log", "x\n");
    let mut s = serve(&dir, &["--serve=0", "-F", "app.log"]);
    let stop = s.at("/stop");
    assert_eq!(request("POST", &stop, &[]).status, 403);
    assert_eq!(request("POST", &stop, &[("Origin", "http://evil.example")]).status, 403);
    assert_eq!(request("POST", &stop, &[("Origin", "null")]).status, 403);
    assert!(s.rtail.child.try_wait().expect("try_wait").is_none(), "a refused stop ended the run");
    let origin = s.base.clone();
    assert_eq!(request("POST", &stop, &[("Origin", &origin)]).status, 200);
    assert_eq!(s.rtail.wait_exit(), Some(0));
    assert!(
        s.rtail.stderr.text().ends_with("rtail: stopped from the web page\n"),
        "{}",
        s.rtail.stderr.text()
    );
}

#[test]
fn stop_ends_a_child_command_too() {
    let dir = TestDir::new();
    dir.write("app.log", "x\n");
    let mut s = serve(&dir, &["--serve=0", "app.log", "--", "sleep", "1000"]);
    let mut child = None;
    let started = crate::util::poll_until(DEADLINE, || {
        child = crate::util::live_descendants(s.rtail.pid()).first().map(|p| p.pid);
        child.is_some()
    });
    assert!(started, "the command did not start");
    let child = child.expect("started");
    let origin = s.base.clone();
    assert_eq!(request("POST", &s.at("/stop"), &[("Origin", &origin)]).status, 200);
    assert_eq!(s.rtail.wait_exit(), Some(0));
    assert!(crate::util::proc_info(child).is_none_or(|p| !p.is_live()), "the command outlived rtail");
}

#[test]
fn serve_once_ends_after_the_last_viewer_left_and_not_on_a_reload() {
    let dir = TestDir::new();
    dir.write("app.log", "x\n");
    let mut s = serve(&dir, &["--serve-once", "--serve=0", "-F", "app.log"]);
    // No viewer yet: it waits for one however long that takes (here, long enough to tell).
    assert!(!s.rtail.wait_within(Duration::from_millis(3500), |_, err| err.contains("viewer")));
    let mut first = Events::open(&s.at("/events"), None);
    first.next().expect("hello");
    drop(first);
    // A reload: a new viewer within the grace keeps it going.
    let mut second = Events::open(&s.at("/events"), None);
    second.next().expect("hello");
    assert!(!s.rtail.wait_within(Duration::from_millis(3500), |_, err| err.contains("viewer")));
    let left = Instant::now();
    drop(second);
    assert_eq!(s.rtail.wait_exit(), Some(0));
    assert!(left.elapsed() >= Duration::from_secs(3), "ended before the grace passed");
    assert!(s.rtail.stderr.text().ends_with("rtail: the last viewer left\n"), "{}", s.rtail.stderr.text());
}

#[test]
fn a_stalled_client_slows_neither_the_terminal_nor_another_client() {
    const LINES: usize = 200_000;
    const STEP: usize = 2_000;
    let dir = TestDir::new();
    dir.write("app.log", "");
    let s = serve(&dir, &["--serve=0", "-n", "0", "-F", "app.log"]);
    // A client that asks for the stream and never reads a byte of it.
    let mut stalled = TcpStream::connect(s.addr).expect("connect");
    write!(stalled, "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").expect("request");
    let mut live = Events::open_for(&s.at("/events"), None, Duration::from_secs(60));
    live.next().expect("hello");
    let mut seen = 0usize;
    let mut skipped = Vec::new();
    for start in (0..LINES).step_by(STEP) {
        dir.append("app.log", numbered(start, start + STEP));
        while seen < start + STEP {
            let frame = live.next().unwrap_or_else(|| panic!("the live stream ended at {seen}"));
            match frame.event.as_str() {
                "message" => {
                    assert_eq!(line_of(&frame), format!("line {seen}"));
                    seen += 1;
                }
                "skipped" => skipped.push(frame.data),
                other => panic!("unexpected {other} event"),
            }
        }
    }
    assert!(skipped.is_empty(), "the live client missed lines: {skipped:?}");
    s.rtail.wait_until("stdout to hold every line", |out, _| out.len() >= numbered(0, LINES).len());
    assert_eq!(s.rtail.stdout.text(), numbered(0, LINES));
    drop(stalled);
}

#[test]
fn more_viewers_than_the_limit_get_503() {
    let dir = TestDir::new();
    let s = serve(&dir, &["--serve=0", "-n", "0", "-"]);
    let mut open = Vec::new();
    for _ in 0..32 {
        let mut e = Events::open(&s.at("/events"), None);
        e.next().expect("hello");
        open.push(e);
    }
    assert_eq!(get(&s.at("/events")).status, 503);
    assert_eq!(get(&s.at("/lines")).status, 503);
    // The page itself still loads; a place frees when a viewer leaves.
    assert_eq!(get(&s.url).status, 200);
    drop(open.pop());
    let deadline = Instant::now() + DEADLINE;
    loop {
        let reply = agent(Duration::from_secs(2)).get(&s.at("/events")).call().expect("GET");
        if reply.status().as_u16() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "no place came free");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn signals_end_a_serving_run_as_they_end_any_other() {
    for (sig, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let dir = TestDir::new();
        dir.write("app.log", "x\n");
        let mut s = serve(&dir, &["--serve=0", "-F", "app.log"]);
        let mut events = Events::open(&s.at("/events"), None);
        events.next().expect("hello");
        s.rtail.signal(sig);
        assert_eq!(s.rtail.wait_exit(), Some(code));
        // The stream ends with the run, saying so: the page stops reconnecting.
        let mut last = None;
        while let Some(frame) = events.next() {
            last = Some(frame);
        }
        assert_eq!(last.map(|f| f.event).as_deref(), Some("bye"));
    }
}

#[test]
fn ctrl_c_with_a_child_command_ends_a_serving_run_with_the_childs_status() {
    // The signal goes to the command; its end ends the run (the page need not be closed).
    let dir = TestDir::new();
    dir.write("app.log", "x\n");
    let mut s = serve(&dir, &["--serve=0", "app.log", "--", "sleep", "1000"]);
    let pid = s.rtail.pid();
    crate::util::wait_for_condition("the command to start", || {
        !crate::util::live_descendants(pid).is_empty()
    });
    s.rtail.signal(libc::SIGINT);
    assert_eq!(s.rtail.wait_exit(), Some(128 + libc::SIGINT));
}

#[test]
fn a_busy_port_fails_the_run_before_anything_is_read() {
    let dir = TestDir::new();
    dir.write("app.log", "x\n");
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let out = dir.rtail().args([&format!("--serve={addr}"), "-F", "app.log"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("rtail: cannot serve on {addr}: Address already in use\n")
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_serve_options_are_refused() {
    let dir = TestDir::new();
    dir.write("app.log", "x\n");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--serve=nowhere:80", "app.log"],
            "rtail: invalid --serve address 'nowhere:80': give PORT, HOST:PORT or [IPV6]:PORT, HOST being an IP address or localhost\n",
        ),
        (
            &["--serve=70000", "app.log"],
            "rtail: invalid --serve address '70000': give PORT, HOST:PORT or [IPV6]:PORT, HOST being an IP address or localhost\n",
        ),
        (
            &["--serve-token=short", "app.log"],
            "rtail: invalid --serve-token: use 16 to 256 letters, digits or -._~ characters\n",
        ),
        (
            &["--serve", "-c", "5", "app.log"],
            "rtail: --serve shows lines, not bytes: it cannot be used with -c/--bytes\n",
        ),
    ];
    for (args, want) in cases {
        let out = dir.rtail().args(*args).output().expect("run");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), *want, "{args:?}");
    }
}

#[test]
fn a_separate_word_after_serve_is_an_address_only_when_it_looks_like_one() {
    let dir = TestDir::new();
    dir.write("app.log", "x\n");
    // A port number after --serve is its address (a file name would stay an operand: see the
    // unit tests of the rewriting).
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let port = port.to_string();
    let s = serve(&dir, &["--serve", &port, "-F", "app.log"]);
    assert_eq!(s.addr.port().to_string(), port);
    s.rtail.wait_for_stdout("x\n");
}

#[test]
fn a_commands_unflushed_output_reaches_the_page_and_its_exit_shows_there() {
    let dir = TestDir::new();
    // Prints without flushing, then waits for the test's word: through a pipe, Python would
    // keep "ready" in its buffer until it exits.
    let program = "import os, time\nprint('ready')\nwhile not os.path.exists('go'):\n    time.sleep(0.01)\n\
                   print('bye')\nraise SystemExit(3)\n";
    let mut s = serve(&dir, &["--serve=0", "--", "python3", "-c", program]);
    let mut events = Events::open(&s.at("/events"), None);
    let hello = events.next().expect("hello");
    let sources: serde_json::Value = serde_json::from_str(&hello.data).expect("JSON");
    assert_eq!(sources["sources"][1].as_str().map(|p| p.ends_with(" (stderr)")), Some(true), "{sources}");
    events.until(|f| f.event == "message" && line_of(f) == "ready");
    dir.write("go", "");
    events.until(|f| f.event == "message" && line_of(f) == "bye");
    let exit = events.until(|f| f.event == "notice");
    let notice: serde_json::Value = serde_json::from_str(&exit[exit.len() - 1].data).expect("JSON");
    assert_eq!(notice["event"], "exited");
    assert_eq!(notice["status"], 3);
    assert_eq!(notice["message"], "command exited with status 3");
    // The page stays to show it; stopping it then ends the run with the command's status.
    assert_eq!(get(&s.at("/")).status, 200);
    let origin = s.base.clone();
    assert_eq!(request("POST", &s.at("/stop"), &[("Origin", &origin)]).status, 200);
    assert_eq!(s.rtail.wait_exit(), Some(3));
}

#[test]
fn stop_ends_a_followed_command_and_its_group() {
    let dir = TestDir::new();
    let mut s = serve(&dir, &["--serve=0", "--", "sh", "-c", "sleep 600 & echo \"group $$\"; wait"]);
    let mut events = Events::open(&s.at("/events"), None);
    let frames = events.until(|f| f.event == "message" && line_of(f).starts_with("group "));
    let group: i32 = line_of(&frames[frames.len() - 1])["group ".len()..].parse().expect("a group");
    let origin = s.base.clone();
    assert_eq!(request("POST", &s.at("/stop"), &[("Origin", &origin)]).status, 200);
    assert_eq!(s.rtail.wait_exit(), Some(0));
    let left = crate::util::live_in_group(group);
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_pipe_on_standard_input_is_served_as_it_comes() {
    let dir = TestDir::new();
    // `ssh host tail -F x | rtail --serve`: the pipe never ends, so its last lines never come;
    // the page shows it line by line.
    let mut rtail = Spawned::start_with_stdin(dir.rtail().arg("--serve=0"), std::process::Stdio::piped());
    let mut stdin = rtail.child.stdin.take().expect("stdin");
    let s = served(rtail);
    stdin.write_all(b"first\nsecond\n").expect("write");
    let mut events = Events::open(&s.at("/events"), None);
    let got: Vec<_> = events.records(2).iter().map(line_of).collect();
    assert_eq!(got, ["first", "second"]);
    stdin.write_all(b"third\n").expect("write");
    assert_eq!(line_of(&events.records(1)[0]), "third");
    s.rtail.wait_for_stdout("first\nsecond\nthird\n");
}

#[test]
fn ctrl_c_ends_a_serving_run_of_a_followed_command_with_its_status() {
    // The signal goes to the command; once it has gone, so does the run: the page does not
    // stay for a command the user stopped.
    let dir = TestDir::new();
    let script = "trap 'echo bye; exit 7' INT; echo ready; while :; do sleep 0.05; done";
    let mut s = serve(&dir, &["--serve=0", "--", "sh", "-c", script]);
    s.rtail.wait_for_stdout("ready\n");
    s.rtail.signal(libc::SIGINT);
    assert_eq!(s.rtail.wait_exit(), Some(7), "{}", s.rtail.stderr.text());
    assert_eq!(s.rtail.stdout.text(), "ready\nbye\n");
}
