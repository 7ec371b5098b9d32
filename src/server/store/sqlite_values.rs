//! sea-query's values bound the way sqlx binds them, so the writer thread's rows and
//! sqlx's readers agree on every column; and rusqlite's errors as sea-orm's, keeping
//! SQLite's own message.

use super::conn::UNIQUE_VIOLATION;
use rusqlite::types::Value as SqliteValue;
use sea_orm::{DbErr, RuntimeErr, Value};

/// sea-query's values as SQLite's, stored as sqlx stores them (ids as 16-byte blobs,
/// JSON as text, booleans as integers), so both drivers read each other's rows.
pub(super) fn values(
    values: Option<sea_orm::sea_query::Values>,
) -> Result<Vec<SqliteValue>, DbErr> {
    let Some(values) = values else {
        return Ok(Vec::new());
    };
    values.0.into_iter().map(value).collect()
}

fn value(value: Value) -> Result<SqliteValue, DbErr> {
    fn int(n: Option<impl Into<i64>>) -> SqliteValue {
        n.map_or(SqliteValue::Null, |n| SqliteValue::Integer(n.into()))
    }
    Ok(match value {
        Value::Bool(b) => int(b),
        Value::TinyInt(n) => int(n),
        Value::SmallInt(n) => int(n),
        Value::Int(n) => int(n),
        Value::BigInt(n) => int(n),
        Value::TinyUnsigned(n) => int(n),
        Value::SmallUnsigned(n) => int(n),
        Value::Unsigned(n) => int(n),
        Value::BigUnsigned(n) => match n.map(i64::try_from) {
            None => SqliteValue::Null,
            Some(Ok(n)) => SqliteValue::Integer(n),
            Some(Err(_)) => return Err(DbErr::Custom("an integer is too large".into())),
        },
        Value::Float(x) => x.map_or(SqliteValue::Null, |x| SqliteValue::Real(x.into())),
        Value::Double(x) => x.map_or(SqliteValue::Null, SqliteValue::Real),
        Value::String(text) => text.map_or(SqliteValue::Null, SqliteValue::Text),
        Value::Char(c) => c.map_or(SqliteValue::Null, |c| SqliteValue::Text(c.to_string())),
        Value::Bytes(bytes) => bytes.map_or(SqliteValue::Null, SqliteValue::Blob),
        Value::Json(json) => json.map_or(SqliteValue::Null, |json| {
            SqliteValue::Text(json.to_string())
        }),
        Value::Uuid(id) => id.map_or(SqliteValue::Null, |id| {
            SqliteValue::Blob(id.as_bytes().to_vec())
        }),
        other => {
            return Err(DbErr::Custom(format!(
                "the SQLite writer cannot bind {other:?}"
            )))
        }
    })
}

/// rusqlite's error as sea-orm's, keeping SQLite's message (which the queue reads to tell
/// a full disk or a lock from other failures) and marking unique-constraint failures.
pub(super) fn db_err(err: rusqlite::Error) -> DbErr {
    use rusqlite::ffi;
    let text = match &err {
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
                || failure.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            format!("{UNIQUE_VIOLATION}: {err}")
        }
        _ => err.to_string(),
    };
    DbErr::Exec(RuntimeErr::Internal(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsigned_value_beyond_sqlite_integers_is_refused() {
        assert!(value(Value::BigUnsigned(Some(u64::MAX))).is_err());
        assert_eq!(
            value(Value::BigUnsigned(Some(7))).unwrap(),
            SqliteValue::Integer(7)
        );
    }
}
