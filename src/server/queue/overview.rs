//! What the overview and the queues page read (exact counts, the last hour's throughput,
//! each queue with its counts, pause state, this process's concurrency and every live
//! process's together), and pausing.

use super::{valid_queue_name, Queue, QueueError, MICROS_PER_MINUTE, THROUGHPUT_MINUTES};
use crate::model::{MinuteThroughput, QueueView, Stats};

impl Queue {
    /// Pauses (`true`) or resumes a queue in every process sharing the database.
    pub async fn set_paused(&self, queue: &str, paused: bool) -> Result<(), QueueError> {
        if !valid_queue_name(queue) {
            return Err(QueueError::BadRequest(format!(
                "{queue:?} is not a queue name"
            )));
        }
        self.store
            .set_paused(queue, paused, self.now_micros())
            .await?;
        if !paused {
            self.wake_workers();
        }
        Ok(())
    }

    /// Every queue that has tasks or settings, by name, with its counts.
    pub async fn queue_views(&self) -> Result<Vec<QueueView>, QueueError> {
        let mut queues: std::collections::BTreeMap<String, QueueView> = Default::default();
        for row in self.store().counts().await? {
            let view = queues
                .entry(row.queue.clone())
                .or_insert_with(|| QueueView {
                    name: row.queue.clone(),
                    ..QueueView::default()
                });
            view.total += row.n;
            match row.status.as_str() {
                "PENDING" => view.pending += row.n,
                "RUNNING" => view.running += row.n,
                _ => {}
            }
        }
        for name in self.store().paused_queues().await? {
            queues
                .entry(name.clone())
                .or_insert_with(|| QueueView {
                    name,
                    ..QueueView::default()
                })
                .paused = true;
        }
        for (name, concurrency) in self.worked.iter() {
            queues
                .entry(name.clone())
                .or_insert_with(|| QueueView {
                    name: name.clone(),
                    ..QueueView::default()
                })
                .concurrency = Some(*concurrency);
        }
        for (name, total) in self.total_concurrency().await? {
            queues
                .entry(name.clone())
                .or_insert_with(|| QueueView {
                    name,
                    ..QueueView::default()
                })
                .total_concurrency = total;
        }
        Ok(queues.into_values().collect())
    }

    /// Exact counts per status, type and queue, from the store's counters.
    pub async fn stats(&self) -> Result<Stats, QueueError> {
        let mut stats = Stats::default();
        for row in self.store().counts().await? {
            *stats.by_status.entry(row.status).or_default() += row.n;
            *stats.by_type.entry(row.task_type).or_default() += row.n;
            *stats.by_queue.entry(row.queue).or_default() += row.n;
        }
        let this_minute = self.now_micros() / MICROS_PER_MINUTE;
        let first = this_minute - (THROUGHPUT_MINUTES - 1);
        let mut minutes: Vec<MinuteThroughput> = (first..=this_minute)
            .map(|minute| MinuteThroughput {
                minute: crate::server::store::from_micros(minute * MICROS_PER_MINUTE),
                ..MinuteThroughput::default()
            })
            .collect();
        for row in self.store().throughput(first).await? {
            let Some(slot) = minutes.get_mut((row.minute - first) as usize) else {
                continue;
            };
            match row.status.as_str() {
                "SUCCESS" => slot.succeeded += row.n,
                "FAILED" => slot.failed += row.n,
                _ => slot.cancelled += row.n,
            }
        }
        stats.throughput = minutes;
        Ok(stats)
    }
}
