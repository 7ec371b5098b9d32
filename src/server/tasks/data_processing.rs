//! `data_processing` {rows}: generates a CSV of sensor readings, parses it back with a
//! CSV reader and computes per-column count, mean, min, max and standard deviation.

use super::{TaskContext, TaskError, TaskKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Work is done, and progress reported, in this many steps.
const STEPS: u64 = 20;
const COLUMNS: [&str; 3] = ["temperature", "humidity", "pressure"];

pub struct DataProcessing;

#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// How many CSV rows to generate and analyse.
    #[schemars(range(min = 1, max = 1_000_000))]
    rows: u64,
    /// Pause after each of the 20 steps, so progress can be watched; 0 runs at full speed.
    #[schemars(range(max = 10_000))]
    pace_ms: u64,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            rows: 1000,
            pace_ms: 250,
        }
    }
}

/// Statistics of one numeric column.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ColumnStats {
    pub count: u64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub stddev: f64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    rows: u64,
    csv_bytes: u64,
    columns: BTreeMap<String, ColumnStats>,
}

impl TaskKind for DataProcessing {
    const NAME: &'static str = "data_processing";
    const DESCRIPTION: &'static str =
        "Generates a CSV of sensor readings and computes per-column statistics.";
    type Params = Params;
    type Output = Output;

    async fn run(&self, ctx: TaskContext, params: Params) -> Result<Output, TaskError> {
        let pace = Duration::from_millis(params.pace_ms);
        let mut rng = StdRng::seed_from_u64(ctx.id().as_u64_pair().0);
        let mut csv = Vec::new();
        let mut accumulators: Vec<Accumulator> =
            COLUMNS.iter().map(|_| Accumulator::default()).collect();
        let chunk = params.rows.div_ceil(STEPS);
        ctx.info(format_args!(
            "generating and analysing {} rows in chunks of {chunk}",
            params.rows
        ));
        let mut done = 0;
        let mut step = 0;
        while done < params.rows {
            let rows = chunk.min(params.rows - done);
            let text = generate_csv(&mut rng, rows);
            csv.extend_from_slice(&text);
            accumulate(&text, &mut accumulators)?;
            done += rows;
            step += 1;
            let percent = (done * 100 / params.rows) as u8;
            ctx.progress(
                percent.min(99),
                format!("analysed {done} of {} rows", params.rows),
            );
            if step < STEPS {
                ctx.pace(pace).await?;
            }
        }
        let columns = COLUMNS
            .iter()
            .zip(accumulators)
            .map(|(name, acc)| (name.to_string(), acc.finish()))
            .collect();
        ctx.info(format_args!("analysed {} bytes of CSV", csv.len()));
        Ok(Output {
            rows: params.rows,
            csv_bytes: csv.len() as u64,
            columns,
        })
    }
}

/// `rows` lines of readings, with a header line, as CSV bytes.
fn generate_csv(rng: &mut StdRng, rows: u64) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut write = || -> Result<(), csv::Error> {
        writer.write_record(COLUMNS)?;
        for _ in 0..rows {
            writer.write_record([
                format!("{:.2}", rng.random_range(-10.0..35.0)),
                format!("{:.1}", rng.random_range(0.0..100.0)),
                format!("{:.1}", rng.random_range(980.0..1040.0)),
            ])?;
        }
        Ok(())
    };
    // Writing to memory cannot fail; an error would only leave the chunk short, which the
    // row counts in the result would show.
    let _ = write();
    writer.into_inner().unwrap_or_default()
}

/// Parses CSV text (header plus numeric rows) and feeds every column's values in.
fn accumulate(csv_text: &[u8], accumulators: &mut [Accumulator]) -> Result<(), TaskError> {
    let mut reader = csv::Reader::from_reader(csv_text);
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| TaskError::Failed(format!("CSV row {}: {e}", line + 1)))?;
        for (acc, field) in accumulators.iter_mut().zip(record.iter()) {
            let value: f64 = field.parse().map_err(|_| {
                TaskError::Failed(format!("CSV row {}: {field:?} is not a number", line + 1))
            })?;
            acc.push(value);
        }
    }
    Ok(())
}

/// Running count, mean, variance (Welford), min and max of one column.
#[derive(Debug, Default)]
struct Accumulator {
    count: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
}

impl Accumulator {
    fn push(&mut self, value: f64) {
        if self.count == 0 {
            self.min = value;
            self.max = value;
        }
        self.count += 1;
        let delta = value - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (value - self.mean);
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    /// Population standard deviation.
    fn finish(self) -> ColumnStats {
        let variance = if self.count > 0 {
            self.m2 / self.count as f64
        } else {
            0.0
        };
        ColumnStats {
            count: self.count,
            mean: self.mean,
            min: self.min,
            max: self.max,
            stddev: variance.sqrt(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_of_a_known_csv() {
        let csv = b"temperature,humidity,pressure\n1,10,1000\n2,20,1000\n3,30,1000\n4,40,1000\n";
        let mut acc: Vec<Accumulator> = COLUMNS.iter().map(|_| Accumulator::default()).collect();
        accumulate(csv, &mut acc).unwrap();
        let stats: Vec<ColumnStats> = acc.into_iter().map(Accumulator::finish).collect();
        assert_eq!(stats[0].count, 4);
        assert_eq!(stats[0].mean, 2.5);
        assert_eq!((stats[0].min, stats[0].max), (1.0, 4.0));
        assert!(
            (stats[0].stddev - 1.118_033_988_7).abs() < 1e-9,
            "{:?}",
            stats[0]
        );
        assert_eq!(stats[1].mean, 25.0);
        assert_eq!(stats[2].stddev, 0.0);
    }

    #[test]
    fn a_non_numeric_field_fails_with_its_row() {
        let csv = b"temperature,humidity,pressure\n1,2,3\nx,2,3\n";
        let mut acc: Vec<Accumulator> = COLUMNS.iter().map(|_| Accumulator::default()).collect();
        let err = accumulate(csv, &mut acc).unwrap_err();
        assert_eq!(
            err,
            TaskError::Failed("CSV row 2: \"x\" is not a number".into())
        );
    }

    #[tokio::test]
    async fn a_run_analyses_exactly_the_requested_rows() {
        let ctx = TaskContext::new(uuid::Uuid::new_v4(), 1, Default::default());
        let out = DataProcessing
            .run(
                ctx.clone(),
                Params {
                    rows: 1234,
                    pace_ms: 0,
                },
            )
            .await
            .unwrap();
        assert_eq!(out.rows, 1234);
        for stats in out.columns.values() {
            assert_eq!(stats.count, 1234);
            assert!(stats.min <= stats.mean && stats.mean <= stats.max);
        }
        let humidity = &out.columns["humidity"];
        assert!(humidity.min >= 0.0 && humidity.max <= 100.0, "{humidity:?}");
        assert_eq!(ctx.take_progress().map(|p| p.percent), Some(99));
    }
}
