//! `noop`: does nothing and succeeds at once. For benchmarks and tests.

use super::{TaskContext, TaskError, TaskKind};
use crate::model::ParamSpec;
use serde::Deserialize;

pub struct Noop;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

impl TaskKind for Noop {
    const NAME: &'static str = "noop";
    const DESCRIPTION: &'static str =
        "Does nothing and succeeds at once (for benchmarks and tests).";
    type Params = NoParams;
    type Output = serde_json::Value;

    fn params() -> Vec<ParamSpec> {
        Vec::new()
    }

    async fn run(&self, _ctx: TaskContext, _params: NoParams) -> Result<Self::Output, TaskError> {
        Ok(serde_json::Value::Null)
    }
}
