//! The end-to-end suite: one test binary, one module per area.

mod extension;
