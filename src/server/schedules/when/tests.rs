//! Slot arithmetic on a clock the tests choose: intervals, cron in time zones, and the
//! daylight-saving changes.

use super::*;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn cron(expression: &str, zone: &str) -> When {
    When::parse(Some(expression), None, Some(zone)).unwrap()
}

fn shown(slots: Vec<DateTime<Utc>>) -> Vec<String> {
    slots.iter().map(|slot| slot.to_rfc3339()).collect()
}

#[test]
fn intervals_are_counted_from_the_epoch_so_every_process_agrees() {
    let every = When::parse(None, Some(30), None).unwrap();
    assert_eq!(
        shown(every.upcoming(at("2026-12-06T12:00:10Z"), 3)),
        [
            "2026-12-06T12:00:30+00:00",
            "2026-12-06T12:01:00+00:00",
            "2026-12-06T12:01:30+00:00"
        ]
    );
    // Strictly after: a slot is never its own successor.
    assert_eq!(
        every.next_after(at("2026-12-06T12:00:30Z")),
        Some(at("2026-12-06T12:01:00Z"))
    );
    assert_eq!(every.describe(), "Every 30 seconds");
    assert_eq!(
        When::parse(None, Some(5400), None).unwrap().describe(),
        "Every 1 hour 30 minutes"
    );
}

#[test]
fn cron_runs_on_the_zones_wall_clock_across_a_daylight_saving_change() {
    // Paris moves from UTC+1 to UTC+2 on Sunday 29 March 2026.
    let weekdays = cron("0 9 * * MON-FRI", "Europe/Paris");
    assert_eq!(
        shown(weekdays.upcoming(at("2026-03-26T12:00:00Z"), 2)),
        ["2026-03-27T08:00:00+00:00", "2026-03-30T07:00:00+00:00"]
    );
    assert!(
        weekdays.describe().ends_with("(Europe/Paris)"),
        "{}",
        weekdays.describe()
    );
}

#[test]
fn a_time_the_autumn_change_repeats_fires_once() {
    // 02:30 happens twice in Paris on 25 October 2026 (at 00:30 and 01:30 UTC).
    let nightly = cron("30 2 * * *", "Europe/Paris");
    let slots = nightly.upcoming(at("2026-10-24T12:00:00Z"), 2);
    assert_eq!(
        shown(slots),
        ["2026-10-25T00:30:00+00:00", "2026-10-26T01:30:00+00:00"],
        "the first 02:30 (summer time), not the second"
    );
}

#[test]
fn a_time_the_spring_change_skips_still_fires_that_day() {
    // 02:30 does not exist in Paris on 29 March 2026 (02:00 becomes 03:00).
    let nightly = cron("30 2 * * *", "Europe/Paris");
    let slots = nightly.upcoming(at("2026-03-28T12:00:00Z"), 2);
    assert_eq!(
        shown(slots),
        ["2026-03-29T01:00:00+00:00", "2026-03-30T00:30:00+00:00"],
        "03:00 summer time, the first instant after the gap"
    );
}

#[test]
fn six_fields_put_seconds_first() {
    let often = cron("*/10 * * * * *", "UTC");
    assert_eq!(
        shown(often.upcoming(at("2026-12-06T12:00:05Z"), 2)),
        ["2026-12-06T12:00:10+00:00", "2026-12-06T12:00:20+00:00"]
    );
}

#[test]
fn every_mistake_names_its_field() {
    let fields = |cron: Option<&str>, every: Option<u64>, zone: Option<&str>| -> Vec<String> {
        When::parse(cron, every, zone)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect()
    };
    assert_eq!(
        fields(Some("61 * * * *"), None, Some("Mars/Olympus")),
        ["timezone", "cron"]
    );
    assert_eq!(fields(Some("not cron"), None, None), ["cron"]);
    assert_eq!(
        fields(Some("0 0 30 2 *"), None, None),
        ["cron"],
        "30 February never comes"
    );
    assert_eq!(fields(Some("* * * * *"), Some(5), None), ["cron"]);
    assert_eq!(fields(None, None, None), ["cron"]);
    assert_eq!(fields(None, Some(0), None), ["every_secs"]);
    assert_eq!(fields(None, Some(400 * 86_400), None), ["every_secs"]);
    assert_eq!(fields(None, Some(60), Some("UTC")), ["timezone"]);
}
