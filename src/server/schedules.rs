//! Schedules: when periodic tasks are due. So far the timing itself ([`When`]): a cron
//! expression in a time zone or a fixed interval, explained in words and its next run
//! times computed on the server, so no cron or time-zone code enters the dashboard's
//! WebAssembly.

mod when;

pub use when::When;
