//! Schedules: periodic tasks that fire exactly once per slot, however many processes
//! run. A timing ([`When`]) gives the slots; [`due`] says which to fire now; the store
//! keeps one task per slot (see `store::schedules`); the queue's scheduler fires them.
//! Timings are explained and their next run times computed here, on the server, so no
//! cron or time-zone code enters the dashboard's WebAssembly.

mod definition;
mod due;
mod when;

pub use definition::{read_file, timing};
pub use due::due;
pub use when::When;
