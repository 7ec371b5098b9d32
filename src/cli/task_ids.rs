//! Task ids as people type them: a full id, or a short one (its last 4 or more hex
//! digits, as the dashboard shows them) that the server resolves; when the digits fit
//! more than one task, the matches are listed and nothing is done.

use super::client::{Client, ClientError};
use crate::model::{id_suffix, TaskView, MIN_LOOKUP};
use uuid::Uuid;

/// The full id `text` names.
pub async fn resolve(client: &Client, text: &str) -> Result<String, ClientError> {
    let text = text.trim();
    if let Ok(id) = Uuid::parse_str(text) {
        return Ok(id.to_string());
    }
    let Some(digits) = id_suffix(text) else {
        return Err(ClientError::Usage(format!(
            "{text:?} is not a task id, nor its last {MIN_LOOKUP} or more hex digits"
        )));
    };
    let matches: Vec<TaskView> = client.get(&format!("/api/tasks/lookup/{digits}")).await?;
    match matches.as_slice() {
        [] => Err(ClientError::Usage(format!("no task id ends with {digits}"))),
        [one] => Ok(one.id.to_string()),
        many => {
            let listed: Vec<String> = many
                .iter()
                .map(|task| format!("  {}  {}  {}", task.id, task.task_type, task.status))
                .collect();
            Err(ClientError::Usage(format!(
                "{digits} is ambiguous: {} tasks end with it (newest first):\n{}\ngive more digits",
                many.len(),
                listed.join("\n")
            )))
        }
    }
}
