//! Checking a schedule's definition (apart from its name and task, which the queue
//! checks knowing its naming rule and task kinds), and reading the `--schedules` file.

use super::When;
use crate::model::ScheduleDefinition;
use serde::Deserialize;
use std::path::Path;

/// The `--schedules` file: `[[schedule]]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    schedule: Vec<ScheduleDefinition>,
}

/// The timing of `definition`, or what is wrong with it apart from its name and task.
pub fn timing(definition: &ScheduleDefinition) -> Result<When, String> {
    if !(1..=1000).contains(&definition.catch_up_max) {
        return Err("catch_up_max must be from 1 to 1000".into());
    }
    if definition.jitter_secs > 3600 {
        return Err("jitter_secs must be from 0 to 3600".into());
    }
    if definition.task.delay_ms.is_some() || definition.task.run_at.is_some() {
        return Err("a schedule's task takes no delay_ms or run_at: its slot is its time".into());
    }
    When::parse(
        definition.cron.as_deref(),
        definition.every_secs,
        definition.timezone.as_deref(),
    )
    .map_err(|errors| {
        let problems: Vec<String> = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        problems.join("; ")
    })
}

/// Reads the schedules of a TOML file: its syntax, each timing and that no name is
/// declared twice; every problem is named with its schedule.
pub fn read_file(path: &Path) -> Result<Vec<ScheduleDefinition>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: File = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut seen = std::collections::BTreeSet::new();
    for definition in &file.schedule {
        timing(definition)
            .map_err(|why| format!("{}: schedule {:?}: {why}", path.display(), definition.name))?;
        if !seen.insert(definition.name.as_str()) {
            return Err(format!(
                "{}: schedule {:?} is declared twice",
                path.display(),
                definition.name
            ));
        }
    }
    Ok(file.schedule)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CatchUp;

    /// The example of README's "Schedules".
    const EXAMPLE: &str = r#"
[[schedule]]
name = "nightly-report"
cron = "0 2 * * *"
timezone = "Europe/Paris"
catch_up = "once"
jitter_secs = 30

[schedule.task]
task_type = "data_processing"
parameters = { rows = 5000 }
queue = "reports"

[[schedule]]
name = "heartbeat"
every_secs = 60
catch_up = "each"
catch_up_max = 100
task = { task_type = "noop" }
"#;

    #[test]
    fn the_readme_example_reads_with_its_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schedules.toml");
        std::fs::write(&path, EXAMPLE).unwrap();
        let schedules = read_file(&path).unwrap();
        assert_eq!(schedules.len(), 2);
        let nightly = &schedules[0];
        assert_eq!(
            (nightly.catch_up, nightly.jitter_secs, nightly.enabled),
            (CatchUp::Once, 30, true)
        );
        assert_eq!(nightly.task.parameters, serde_json::json!({"rows": 5000}));
        assert_eq!(nightly.task.queue.as_deref(), Some("reports"));
        let heartbeat = &schedules[1];
        assert_eq!(
            (heartbeat.catch_up, heartbeat.catch_up_max),
            (CatchUp::Each, 100)
        );
        assert!(matches!(timing(heartbeat), Ok(When::Every(interval)) if interval.as_secs() == 60));
        assert_eq!(schedules[0].catch_up_max, 10, "the default bound");
    }

    #[test]
    fn mistakes_are_named_with_their_schedule() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        for (text, expected) in [
            ("[[schedule]]\nname = \"a\"\ntask = { task_type = \"noop\" }\n", "schedule \"a\": cron: required"),
            ("[[schedule]]\nname = \"a\"\nevery_secs = 5\ncolour = 1\ntask = { task_type = \"noop\" }\n", "unknown field `colour`"),
            ("[[schedule]]\nname = \"a\"\nevery_secs = 5\ncatch_up_max = 0\ntask = { task_type = \"noop\" }\n", "catch_up_max must be"),
        ] {
            std::fs::write(&path, text).unwrap();
            let error = read_file(&path).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
        assert!(read_file(&dir.path().join("missing.toml")).is_err());
    }
}
