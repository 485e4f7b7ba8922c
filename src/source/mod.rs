//! The reading side: what turns inputs into records. [`initial`] prints the start of every
//! input (the last N lines, or from line N), [`read`] holds the reads and the one rule for
//! cutting bytes into records that the follow engine shares.

#[allow(dead_code)] // Not wired yet: the engine and the CLI will use it.
pub(crate) mod glob;
#[allow(dead_code)] // Not wired yet: the CLI's --history and the initial output will use it.
pub(crate) mod history;
pub(crate) mod initial;
pub(crate) mod read;
