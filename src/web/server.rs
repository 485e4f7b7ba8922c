//! The HTTP server of the web view: hyper's HTTP/1 connections on tokio's single-threaded
//! runtime, in one thread of its own.
//!
//! Routes (nothing is ever served by path: any other URL is 404):
//! - `GET /`, `/app.js`, `/app.css`: the page, from the binary;
//! - `GET /events`: Server-Sent Events from the hub's ring (`?n=N` backlog, `Last-Event-ID`
//!   resume, `skipped` when the ring no longer reaches back that far);
//! - `GET /lines`: the lines as plain text, for curl;
//! - `POST /stop`: end rtail (and its command), from the page's Stop button.
//!
//! Every request must name an allowed host (DNS rebinding), and carry the token when there is
//! one; `/stop` must also come from the page's own origin. Limits: at most [`MAX_CLIENTS`]
//! streams and [`MAX_CONNECTIONS`] connections at once, request heads of at most
//! [`MAX_HEAD`] bytes, read within [`HEAD_TIMEOUT`].

use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::http::uri::Authority;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{mpsc, watch};

use super::hub::{Format, Hub};
use crate::config::Serve;
use crate::error::Error;
use crate::pipeline::{Shutdown, StopReason};

/// Streams (`/events`, `/lines`) served at once; the next one gets 503.
pub(crate) const MAX_CLIENTS: usize = 32;
/// Connections open at once; more are closed at once.
const MAX_CONNECTIONS: usize = 64;
/// The most bytes of a request's head (request line and headers); more gets 431.
const MAX_HEAD: usize = 16 * 1024;
/// A client must send its request's head within this.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Entries a new `/events` client gets when it asks for no backlog size.
const DEFAULT_BACKLOG: u64 = 1000;
/// A stream with nothing to send sends a comment this often: proxies keep it open, and a
/// closed tab is noticed within two of these.
const HEARTBEAT: Duration = Duration::from_millis(900);
/// With `--serve-once`: how long no viewer may be connected before rtail ends (a reload
/// reconnects well within it).
const ONCE_GRACE: Duration = Duration::from_secs(3);
/// How long connections get to finish when the server stops.
const FAREWELL: Duration = Duration::from_millis(500);
/// About how many bytes one write to a client carries.
const CHUNK: usize = 16 * 1024;

const PAGE: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/app.js");
const STYLE: &str = include_str!("page/app.css");

/// The running server.
pub(crate) struct Server {
    thread: Option<JoinHandle<()>>,
    stop: Arc<watch::Sender<bool>>,
    url: String,
}

/// What every request handler shares.
struct Ctx {
    hub: Arc<Hub>,
    token: Option<String>,
    bound: SocketAddr,
    shutdown: Shutdown,
    stop: watch::Receiver<bool>,
    once: bool,
    clients: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
    /// A viewer has connected once (`--serve-once` only ends after one did).
    viewed: AtomicBool,
}

impl Server {
    /// Listen where `serve` says and start serving `hub`. A trigger of `shutdown` stops the
    /// server; the page's Stop button and `--serve-once` trigger it.
    pub(crate) fn start(serve: &Serve, hub: Arc<Hub>, shutdown: Shutdown) -> Result<Server, Error> {
        let cannot = |source: std::io::Error| Error::Serve { addr: serve.addr.to_string(), source };
        let listener = TcpListener::bind(serve.addr).map_err(cannot)?;
        listener.set_nonblocking(true).map_err(cannot)?;
        let bound = listener.local_addr().map_err(cannot)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(cannot)?;
        let (stop, stop_rx) = watch::channel(false);
        let stop = Arc::new(stop);
        let bell = Arc::clone(&stop);
        shutdown.on_trigger(Box::new(move || {
            bell.send_replace(true);
        }));
        let ctx = Arc::new(Ctx {
            hub,
            token: serve.token.clone(),
            bound,
            shutdown,
            stop: stop_rx,
            once: serve.once,
            clients: Arc::default(),
            connections: Arc::default(),
            viewed: AtomicBool::new(false),
        });
        let mut url = format!("http://{bound}/");
        if let Some(token) = &serve.token {
            url.push_str("?token=");
            url.push_str(token);
        }
        let thread = std::thread::Builder::new()
            .name("rtail-web".into())
            .spawn(move || runtime.block_on(serve_all(listener, ctx)))
            .map_err(cannot)?;
        Ok(Server { thread: Some(thread), stop, url })
    }

    /// The address to open, with the token when there is one.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Stop serving: streams end, connections close.
    pub(crate) fn stop(mut self) {
        self.stop.send_replace(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `fut`, unless the server stops first (`None` then).
async fn until_stopped<F: Future>(stop: &mut watch::Receiver<bool>, fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    let mut stopped = pin!(stop.wait_for(|&stop| stop));
    poll_fn(|cx| {
        if stopped.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        fut.as_mut().poll(cx).map(Some)
    })
    .await
}

/// One slot of a bounded count, given back on drop.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(count: &Arc<AtomicUsize>, max: usize) -> Option<Slot> {
        count.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < max).then_some(n + 1)).ok()?;
        Some(Slot(Arc::clone(count)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn serve_all(listener: TcpListener, ctx: Arc<Ctx>) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    if ctx.once {
        tokio::spawn(watch_viewers(Arc::clone(&ctx)));
    }
    let mut stop = ctx.stop.clone();
    while let Some(accepted) = until_stopped(&mut stop, listener.accept()).await {
        let Ok((stream, _)) = accepted else {
            // Out of descriptors, say: let the others go on, and try again shortly.
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let ctx = Arc::clone(&ctx);
        tokio::spawn(async move {
            let Some(_slot) = Slot::take(&ctx.connections, MAX_CONNECTIONS) else {
                return;
            };
            let handler = Arc::clone(&ctx);
            let service = service_fn(move |request| {
                let response = handle(&request, &handler);
                async move { Ok::<_, Infallible>(response) }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .max_buf_size(MAX_HEAD)
                .serve_connection(TokioIo::new(stream), service);
            let mut connection = pin!(connection);
            let mut stop = ctx.stop.clone();
            if until_stopped(&mut stop, connection.as_mut()).await.is_none() {
                // Stopping: the response under way ends (a stream with its `bye`), then the
                // connection closes.
                connection.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(FAREWELL, connection).await;
            }
        });
    }
    // The runtime ends with this function: give the connections their farewell first.
    let until = Instant::now() + FAREWELL;
    while ctx.connections.load(Ordering::Acquire) > 0 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `--serve-once`: end rtail when no viewer has been connected for [`ONCE_GRACE`], after one was.
async fn watch_viewers(ctx: Arc<Ctx>) {
    let mut stop = ctx.stop.clone();
    let mut empty_since: Option<Instant> = None;
    while until_stopped(&mut stop, tokio::time::sleep(Duration::from_millis(100))).await.is_some() {
        if ctx.viewed.load(Ordering::Acquire) && ctx.clients.load(Ordering::Acquire) == 0 {
            if empty_since.get_or_insert_with(Instant::now).elapsed() >= ONCE_GRACE {
                ctx.shutdown.trigger(StopReason::ViewersGone);
                return;
            }
        } else {
            empty_since = None;
        }
    }
}

/// A response body: all at once, or a stream of chunks from a client's task.
pub(crate) enum Body {
    Full(Option<Bytes>),
    Stream(mpsc::Receiver<Bytes>),
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Body::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Body::Stream(rx) => rx.poll_recv(cx).map(|chunk| chunk.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            Body::Full(None) => SizeHint::with_exact(0),
            Body::Stream(_) => SizeHint::default(),
        }
    }
}

/// The routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Page,
    Script,
    Style,
    Events,
    Lines,
    Stop,
}

impl Route {
    fn of(path: &str) -> Option<Route> {
        Some(match path {
            "/" => Route::Page,
            "/app.js" => Route::Script,
            "/app.css" => Route::Style,
            "/events" => Route::Events,
            "/lines" => Route::Lines,
            "/stop" => Route::Stop,
            _ => return None,
        })
    }

    fn allows(self, method: &Method) -> bool {
        match self {
            Route::Stop => method == Method::POST,
            Route::Events | Route::Lines => method == Method::GET,
            Route::Page | Route::Script | Route::Style => method == Method::GET || method == Method::HEAD,
        }
    }

    fn allow_header(self) -> &'static str {
        match self {
            Route::Stop => "POST",
            Route::Events | Route::Lines => "GET",
            Route::Page | Route::Script | Route::Style => "GET, HEAD",
        }
    }
}

fn handle(request: &Request<Incoming>, ctx: &Arc<Ctx>) -> Response<Body> {
    let headers = request.headers();
    if !host_allowed(headers, ctx.bound) {
        return text(StatusCode::FORBIDDEN, "this server answers to its own address and localhost only\n");
    }
    if let Some(token) = &ctx.token
        && !token_matches(request, token)
    {
        let mut response =
            text(StatusCode::UNAUTHORIZED, "a token is needed: open the address rtail printed\n");
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    let Some(route) = Route::of(request.uri().path()) else {
        return text(StatusCode::NOT_FOUND, "not found\n");
    };
    if !route.allows(request.method()) {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(route.allow_header()));
        return response;
    }
    match route {
        Route::Page => asset(PAGE, "text/html; charset=utf-8"),
        Route::Script => asset(SCRIPT, "text/javascript; charset=utf-8"),
        Route::Style => asset(STYLE, "text/css; charset=utf-8"),
        Route::Events => stream(request, ctx, Format::Sse),
        Route::Lines => stream(request, ctx, Format::Lines),
        Route::Stop => stop(headers, ctx),
    }
}

/// Headers every response carries: log text is data, never a page of its own, and nothing is
/// loaded from elsewhere.
fn secured(mut response: Response<Body>) -> Response<Body> {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn respond(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    secured(response)
}

fn text(status: StatusCode, message: &'static str) -> Response<Body> {
    respond(status, "text/plain; charset=utf-8", Body::Full(Some(Bytes::from_static(message.as_bytes()))))
}

fn asset(content: &'static str, content_type: &'static str) -> Response<Body> {
    respond(StatusCode::OK, content_type, Body::Full(Some(Bytes::from_static(content.as_bytes()))))
}

/// The Host header names the address we listen on, or localhost, with our port (or none).
/// A name another site resolved to our address (DNS rebinding) does not. On a wildcard
/// address (`0.0.0.0`, `::`) any name is accepted: a token is required there.
fn host_allowed(headers: &HeaderMap, bound: SocketAddr) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let Ok(authority) = host.parse::<Authority>() else {
        return false;
    };
    if authority.port_u16().is_some_and(|port| port != bound.port()) {
        return false;
    }
    if bound.ip().is_unspecified() {
        return true;
    }
    let name = authority.host().trim_start_matches('[').trim_end_matches(']');
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    name.parse::<IpAddr>().is_ok_and(|ip| ip == bound.ip() || (ip.is_loopback() && bound.ip().is_loopback()))
}

/// The request carries `token`: `?token=` in the URL or `Authorization: Bearer`.
fn token_matches(request: &Request<Incoming>, token: &str) -> bool {
    let from_query = query_value(request.uri().query(), "token");
    let from_header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "));
    [from_query, from_header].into_iter().flatten().any(|given| same(given.as_bytes(), token.as_bytes()))
}

/// Equal, in a time that depends on the lengths only.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// The value of `key` in a query string. Our keys' values (the token, numbers) never need
/// percent-decoding: a value that would is not one of ours.
fn query_value<'a>(query: Option<&'a str>, key: &str) -> Option<&'a str> {
    query?.split('&').find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
}

fn stream(request: &Request<Incoming>, ctx: &Arc<Ctx>, format: Format) -> Response<Body> {
    let Some(slot) = Slot::take(&ctx.clients, MAX_CLIENTS) else {
        return text(StatusCode::SERVICE_UNAVAILABLE, "too many viewers\n");
    };
    // The browser sends Last-Event-ID when it reconnects by itself; the page passes `last`
    // when it has to open a new stream.
    let resumed = request
        .headers()
        .get("last-event-id")
        .and_then(|h| h.to_str().ok())
        .or_else(|| query_value(request.uri().query(), "last"))
        .and_then(|h| h.trim().parse::<u64>().ok());
    let backlog =
        query_value(request.uri().query(), "n").and_then(|n| n.parse().ok()).unwrap_or(DEFAULT_BACKLOG);
    let from = ctx.hub.start_from(resumed, backlog);
    // One chunk waiting while hyper writes another: what a stalled viewer holds is bounded by
    // a few chunks, and the ring keeps the rest.
    let (tx, rx) = mpsc::channel(1);
    ctx.viewed.store(true, Ordering::Release);
    tokio::spawn(feed(Arc::clone(ctx), slot, from, format, tx));
    let content_type = match format {
        Format::Sse => "text/event-stream; charset=utf-8",
        Format::Lines => "text/plain; charset=utf-8",
    };
    let mut response = respond(StatusCode::OK, content_type, Body::Stream(rx));
    response.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// One client's stream: from the ring, at its own pace, until it leaves or the server stops.
async fn feed(ctx: Arc<Ctx>, _slot: Slot, mut next: u64, format: Format, tx: mpsc::Sender<Bytes>) {
    let mut bell = ctx.hub.subscribe();
    let mut stop = ctx.stop.clone();
    if format == Format::Sse {
        let mut hello = b"retry: 1000\nevent: hello\ndata: ".to_vec();
        let _ = serde_json::to_writer(&mut hello, &serde_json::json!({ "sources": ctx.hub.paths() }));
        hello.extend_from_slice(b"\n\n");
        if tx.send(Bytes::from(hello)).await.is_err() {
            return;
        }
    }
    let mut told_end = false;
    loop {
        bell.borrow_and_update();
        let mut out = Vec::new();
        let reading = ctx.hub.read(next, format, CHUNK, &mut out);
        if reading.skipped > 0 && format == Format::Sse {
            let mut skipped =
                format!("event: skipped\ndata: {{\"skipped\":{}}}\n\n", reading.skipped).into_bytes();
            skipped.append(&mut out);
            out = skipped;
        }
        next = reading.next;
        if !out.is_empty() {
            if tx.send(Bytes::from(out)).await.is_err() {
                return;
            }
            continue;
        }
        if reading.done && !told_end {
            if format == Format::Lines {
                return;
            }
            told_end = true;
            if tx.send(Bytes::from_static(b"event: end\ndata: {}\n\n")).await.is_err() {
                return;
            }
        }
        match until_stopped(&mut stop, tokio::time::timeout(HEARTBEAT, bell.changed())).await {
            None => {
                // rtail is ending: say so (if there is room; a stalled viewer gets nothing).
                if format == Format::Sse {
                    let _ = tx.try_send(Bytes::from_static(b"event: bye\ndata: {}\n\n"));
                }
                return;
            }
            Some(Ok(Err(_))) => return,
            Some(Ok(Ok(()))) => {}
            Some(Err(_)) => {
                let beat: &'static [u8] = if format == Format::Sse { b":\n\n" } else { b"" };
                if !beat.is_empty() && tx.send(Bytes::from_static(beat)).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// `POST /stop` from the page: end rtail. The Origin must be the page's own, so that no other
/// site can make a browser post it.
fn stop(headers: &HeaderMap, ctx: &Ctx) -> Response<Body> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|h| h.to_str().ok());
    let same_origin = match (host, origin) {
        (Some(host), Some(origin)) => {
            let authority = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
            authority.is_some_and(|a| a.eq_ignore_ascii_case(host))
        }
        _ => false,
    };
    if !same_origin {
        return text(StatusCode::FORBIDDEN, "stop is only accepted from the page itself\n");
    }
    ctx.shutdown.trigger(StopReason::WebStop);
    text(StatusCode::OK, "stopping\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).expect("header"));
        h
    }

    #[test]
    fn hosts() {
        let local: SocketAddr = "127.0.0.1:7117".parse().expect("addr");
        for ok in ["127.0.0.1:7117", "localhost:7117", "LOCALHOST", "[::1]:7117", "127.0.0.1"] {
            assert!(host_allowed(&headers(ok), local), "{ok}");
        }
        for bad in ["evil.example:7117", "127.0.0.1:80", "192.168.1.2:7117", "", "a b"] {
            assert!(!host_allowed(&headers(bad), local), "{bad}");
        }
        assert!(!host_allowed(&HeaderMap::new(), local));
        let lan: SocketAddr = "192.168.1.2:7117".parse().expect("addr");
        assert!(host_allowed(&headers("192.168.1.2:7117"), lan));
        assert!(!host_allowed(&headers("evil.example:7117"), lan));
        let any: SocketAddr = "0.0.0.0:7117".parse().expect("addr");
        assert!(host_allowed(&headers("logs.example:7117"), any));
        assert!(!host_allowed(&headers("logs.example:8000"), any));
    }

    #[test]
    fn query_values_and_tokens() {
        assert_eq!(query_value(Some("n=5&token=abc"), "token"), Some("abc"));
        assert_eq!(query_value(Some("tokens=x&token="), "token"), Some(""));
        assert_eq!(query_value(Some("n=5"), "token"), None);
        assert_eq!(query_value(None, "n"), None);
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
