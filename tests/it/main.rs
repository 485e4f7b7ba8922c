//! Integration tests: every behaviour through the real `rtail` binary.

mod browser;
mod command;
mod follow;
mod generated;
mod glob;
mod history;
mod json;
mod json_cli;
mod library;
mod lifecycle;
mod merge;
mod model;
mod multiline;
mod numbers;
mod python;
mod since;
mod static_mode;
mod stress;
mod stress_glob;
mod stress_merge;
mod util;
mod watching;
mod web;
