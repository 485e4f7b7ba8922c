//! Integration tests: every behaviour through the real `rtail` binary.

mod library;
mod static_mode;
mod util;
