//! Recording many successful attempts at once: one statement for a whole group commit's
//! worth of them instead of one per task. Each row still carries its own fence (RUNNING,
//! this attempt), its own finish time and result, and the triggers still fire per row
//! (counters, throughput, and closing the attempt record).

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement, Value as SqlValue};
use std::collections::HashSet;
use uuid::Uuid;

/// One successful attempt to record.
#[derive(Clone, Debug)]
pub(super) struct Success {
    pub id: Uuid,
    pub attempt: i32,
    pub now: i64,
    /// The handler's result, as JSON text.
    pub result: String,
}

/// Rows per statement, so the bound values stay far below SQLite's limit (32,766).
const CHUNK: usize = 1000;

/// Marks every task in `successes` that is still RUNNING under that attempt as SUCCESS.
/// Returns the `(id, attempt)` pairs that changed; the others were no longer their
/// attempt's and are left alone.
pub(super) async fn record_all(
    db: &impl ConnectionTrait,
    successes: &[Success],
) -> Result<HashSet<(Uuid, i32)>, DbErr> {
    let mut changed = HashSet::with_capacity(successes.len());
    for chunk in successes.chunks(CHUNK) {
        changed.extend(finish_tasks(db, chunk).await?);
    }
    Ok(changed)
}

async fn finish_tasks(
    db: &impl ConnectionTrait,
    chunk: &[Success],
) -> Result<Vec<(Uuid, i32)>, DbErr> {
    let backend = db.get_database_backend();
    let mut values = Vec::with_capacity(chunk.len() * 4);
    for success in chunk {
        values.push(SqlValue::from(success.id));
        values.push(SqlValue::from(success.attempt));
        values.push(SqlValue::from(success.now));
        values.push(SqlValue::from(success.result.clone()));
    }
    let sql = format!(
        "UPDATE tasks SET status = 'SUCCESS', completed_at = v.column3, result_data = v.column4, \
         progress = 100, error_message = NULL, lease_expires_at = NULL, worker_id = NULL \
         FROM (VALUES {}) AS v \
         WHERE tasks.id = v.column1 AND tasks.attempt = v.column2 AND tasks.status = 'RUNNING' \
         RETURNING tasks.id, tasks.attempt",
        rows(backend, chunk.len(), 4)
    );
    let returned = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    returned
        .iter()
        .map(|row| Ok((row.try_get("", "id")?, row.try_get("", "attempt")?)))
        .collect()
}

/// `(?, ?), (?, ?)…` — `count` rows of `width` placeholders in the backend's syntax.
fn rows(backend: DatabaseBackend, count: usize, width: usize) -> String {
    let mut sql = String::with_capacity(count * width * 5);
    for row in 0..count {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..width {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                DatabaseBackend::Postgres => {
                    sql.push_str(&format!("${}", row * width + column + 1))
                }
                _ => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_backend() {
        assert_eq!(rows(DatabaseBackend::Sqlite, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(
            rows(DatabaseBackend::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
    }
}
