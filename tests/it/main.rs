//! Integration tests: every behaviour through the real `rtail` binary.

mod generated;
mod library;
mod lifecycle;
mod static_mode;
mod util;
mod watching;
