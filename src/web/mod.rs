//! The web view (`--serve`): the records and events of the run, live in a browser.
//!
//! [`hub`] is the output the printer hands everything to, and the bounded ring the clients
//! read from; [`server`] is the HTTP server (hyper on a single-threaded tokio runtime, in a
//! thread of its own) that serves the page, the event stream and the plain-text stream. The
//! page itself (`page/`) is built into the binary.

pub(crate) mod hub;
pub(crate) mod server;
