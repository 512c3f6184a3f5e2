//! The benchmark programs' shared parts: the sample protocol, the
//! databases under test, the load, the statistics and the report of
//! `kapchart-bench`, used by `kapchart-bench-http` and `kapchart-bench-pages` too.

pub mod breakdown;
pub mod load;
pub mod protocol;
pub mod report;
pub mod serve;
pub mod stats;
pub mod stores;
