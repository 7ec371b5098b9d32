//! The processes running Spool, as the processes page and `GET /api/processes` show
//! them: what each is, which queues it works with how many workers, how many tasks it
//! runs now, and whether it is live, stopped or lost.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a process is.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProcessRole {
    /// `spool serve`: HTTP, the dashboard, and workers unless `--no-workers`.
    Serve,
    /// `spool worker`: workers only.
    Worker,
    /// A program embedding the engine (and the tests).
    Embedded,
}

impl ProcessRole {
    /// The word stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessRole::Serve => "serve",
            ProcessRole::Worker => "worker",
            ProcessRole::Embedded => "embedded",
        }
    }

    /// The role stored as `text`; an unknown word reads as embedded.
    pub fn from_stored(text: &str) -> ProcessRole {
        match text {
            "serve" => ProcessRole::Serve,
            "worker" => ProcessRole::Worker,
            _ => ProcessRole::Embedded,
        }
    }
}

/// Whether a process is running.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProcessState {
    /// Its heartbeat is recent.
    Live,
    /// It stopped, having drained its workers.
    Stopped,
    /// Its heartbeat stopped without a stop: killed, or cut off from the database.
    Lost,
}

impl ProcessState {
    /// The word shown.
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessState::Live => "live",
            ProcessState::Stopped => "stopped",
            ProcessState::Lost => "lost",
        }
    }
}

/// A queue a process works, and with how many workers.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessQueue {
    /// The queue's name.
    pub name: String,
    /// Its tasks this process runs at once, at most.
    pub concurrency: u32,
}

/// One process.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessView {
    /// Its id; its pools' worker ids start with it (an attempt's `worker_id` is
    /// `ID/QUEUE`).
    pub id: String,
    /// What it is.
    pub role: ProcessRole,
    /// Live, stopped or lost.
    pub state: ProcessState,
    /// The machine's host name.
    pub host: String,
    /// Its process id on its host.
    pub pid: i64,
    /// Spool's version.
    pub version: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it last said it was running.
    pub heartbeat_at: DateTime<Utc>,
    /// When it stopped, if it did.
    pub stopped_at: Option<DateTime<Utc>>,
    /// The queues it works (none for `serve --no-workers`).
    pub queues: Vec<ProcessQueue>,
    /// Tasks it runs now.
    pub running: u64,
}

/// The process an attempt's `worker_id` (`ID/QUEUE`) names.
pub fn process_of_worker(worker_id: &str) -> &str {
    worker_id
        .split_once('/')
        .map_or(worker_id, |(process, _)| process)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_id_names_its_process_and_roles_round_trip() {
        assert_eq!(
            process_of_worker("spool-12-ab12cd34/emails"),
            "spool-12-ab12cd34"
        );
        assert_eq!(process_of_worker("external:resizer"), "external:resizer");
        for role in [
            ProcessRole::Serve,
            ProcessRole::Worker,
            ProcessRole::Embedded,
        ] {
            assert_eq!(ProcessRole::from_stored(role.as_str()), role);
        }
        assert_eq!(ProcessRole::from_stored("other"), ProcessRole::Embedded);
    }
}
