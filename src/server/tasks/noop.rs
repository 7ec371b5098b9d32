//! `noop`: does nothing and succeeds at once, reporting when its handler started (which
//! is how the benchmark measures pickup latency from outside the process).

use super::{TaskContext, TaskError, TaskKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub struct Noop;

#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

#[derive(Serialize, JsonSchema)]
pub struct NoopOutput {
    /// When the handler began, to the microsecond.
    pub started_at: chrono::DateTime<chrono::Utc>,
}

impl TaskKind for Noop {
    const NAME: &'static str = "noop";
    const DESCRIPTION: &'static str =
        "Does nothing and succeeds at once; its result says when it started (for benchmarks and tests).";
    type Params = NoParams;
    type Output = NoopOutput;

    async fn run(&self, _ctx: TaskContext, _params: NoParams) -> Result<Self::Output, TaskError> {
        Ok(NoopOutput {
            started_at: chrono::Utc::now(),
        })
    }
}
