//! Which slots of a schedule to fire now. Every process computes the same answer from
//! the same inputs (the timing, the catch-up rule, the latest slot fired and the clock),
//! and the database keeps each slot to one task, so the answer need not be agreed on.

use super::When;
use crate::model::CatchUp;
use chrono::{DateTime, Utc};

/// How long after its time a slot still counts as on time for [`CatchUp::Skip`].
pub const ON_TIME: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// The slots to fire at `now`, oldest first: those after `last` (the latest slot fired,
/// or when the schedule was made) as `catch_up` allows, at most `max` of them.
pub fn due(
    when: &When,
    catch_up: CatchUp,
    max: usize,
    last: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let Some(latest) = when.at_or_before(now).filter(|latest| *latest > last) else {
        return Vec::new();
    };
    match catch_up {
        CatchUp::Skip if now - latest > ON_TIME => Vec::new(),
        CatchUp::Skip | CatchUp::Once => vec![latest],
        CatchUp::Each => {
            let mut slots = vec![latest];
            while slots.len() < max.max(1) {
                match slots.last().and_then(|slot| when.slot_before(*slot)) {
                    Some(earlier) if earlier > last => slots.push(earlier),
                    _ => break,
                }
            }
            slots.reverse();
            slots
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    const NONE: [DateTime<Utc>; 0] = [];

    fn every_minute() -> When {
        When::parse(None, Some(60), None).unwrap()
    }

    #[test]
    fn on_time_every_rule_fires_the_slot_just_passed_once() {
        let last = at("2026-12-06T12:00:00Z");
        for catch_up in [CatchUp::Skip, CatchUp::Once, CatchUp::Each] {
            let now = at("2026-12-06T12:01:00.300Z");
            assert_eq!(
                due(&every_minute(), catch_up, 10, last, now),
                [at("2026-12-06T12:01:00Z")]
            );
            // Once that slot is the latest fired, nothing is due until the next.
            let fired = at("2026-12-06T12:01:00Z");
            assert_eq!(due(&every_minute(), catch_up, 10, fired, now), NONE);
        }
    }

    #[test]
    fn after_an_outage_each_rule_does_what_it_says() {
        // Nothing ran from 12:00 to 12:05:30.
        let (last, now) = (at("2026-12-06T12:00:00Z"), at("2026-12-06T12:05:30Z"));
        assert_eq!(
            due(&every_minute(), CatchUp::Skip, 10, last, now),
            [at("2026-12-06T12:05:00Z")]
        );
        assert_eq!(
            due(&every_minute(), CatchUp::Once, 10, last, now),
            [at("2026-12-06T12:05:00Z")]
        );
        let each: Vec<String> = due(&every_minute(), CatchUp::Each, 10, last, now)
            .iter()
            .map(|slot| slot.format("%H:%M").to_string())
            .collect();
        assert_eq!(each, ["12:01", "12:02", "12:03", "12:04", "12:05"]);
        // Bounded: the latest three only, oldest first.
        let bounded = due(&every_minute(), CatchUp::Each, 3, last, now);
        assert_eq!(bounded.first(), Some(&at("2026-12-06T12:03:00Z")));
        assert_eq!(bounded.len(), 3);
    }

    #[test]
    fn cron_catches_up_by_its_own_slots() {
        let hourly = When::parse(Some("0 * * * *"), None, Some("Europe/Paris")).unwrap();
        let (last, now) = (at("2026-12-06T09:00:00Z"), at("2026-12-06T12:10:00Z"));
        let slots = due(&hourly, CatchUp::Each, 10, last, now);
        assert_eq!(
            slots,
            [
                at("2026-12-06T10:00:00Z"),
                at("2026-12-06T11:00:00Z"),
                at("2026-12-06T12:00:00Z")
            ]
        );
        // Ten minutes after its time, the 12:00 slot is past `skip`'s minute: gone.
        assert_eq!(due(&hourly, CatchUp::Skip, 10, last, now), NONE);
    }
}
