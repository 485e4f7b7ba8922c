//! The reading side: what turns inputs into records. [`initial`] prints the start of every
//! input (the last N lines, or from line N), [`read`] holds the reads and the one rule for
//! cutting bytes into records that the follow engine shares.

pub(crate) mod glob;
pub(crate) mod history;
pub(crate) mod initial;
pub(crate) mod merge;
pub(crate) mod read;
pub(crate) mod since;
