//! Integration tests: every behaviour through the real `rtail` binary.

mod util;
