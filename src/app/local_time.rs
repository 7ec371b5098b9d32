//! Times in the viewer's own time zone, with the exact UTC time on hover. The browser
//! formats them with its own Intl, so no time-zone data enters the WebAssembly; the server
//! (which cannot know the viewer's zone) and the first render in the browser show UTC, so
//! hydration matches. UTC text is put together from integers: chrono's `format` would
//! bring its whole strftime machinery into the WebAssembly.

use chrono::{DateTime, Datelike, Timelike, Utc};
use leptos::prelude::*;

/// "2026-12-07 07:10:08 UTC", or with `millis` "2026-12-07 07:10:08.123 UTC".
pub fn utc_text(at: DateTime<Utc>, millis: bool) -> String {
    let date = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    );
    if millis {
        format!("{date}.{:03} UTC", at.timestamp_subsec_millis())
    } else {
        format!("{date} UTC")
    }
}

/// A time, in the viewer's zone once the page is live (UTC before), and exactly in UTC
/// on hover; to the millisecond with `millis`.
#[component]
pub fn LocalTime(at: DateTime<Utc>, #[prop(optional)] millis: bool) -> impl IntoView {
    let utc = utc_text(at, millis);
    let live = page_is_live();
    let text = {
        let utc = utc.clone();
        move || {
            if live.get() {
                in_viewers_zone(at, millis).unwrap_or_else(|| utc.clone())
            } else {
                utc.clone()
            }
        }
    };
    view! { <time datetime=at.to_rfc3339() title=utc data-testid="local-time">{text}</time> }
}

/// A log line's clock time, "07:10:08.123", in the viewer's zone once the page is live
/// (UTC before); the date and the zone are in its title.
#[component]
pub fn ClockTime(at: DateTime<Utc>) -> impl IntoView {
    let utc = utc_text(at, true);
    let live = page_is_live();
    let text = move || {
        let offset_minutes = if live.get() {
            viewers_offset_minutes(at)
        } else {
            0
        };
        let local = at + chrono::Duration::minutes(offset_minutes);
        format!(
            "{:02}:{:02}:{:02}.{:03}",
            local.hour(),
            local.minute(),
            local.second(),
            local.timestamp_subsec_millis()
        )
    };
    view! { <time datetime=at.to_rfc3339() title=utc>{text}</time> }
}

/// Whether the browser has taken over the page: changes once, where the clock it is read
/// from ticks every refresh, so a time is formatted once, not at every tick.
fn page_is_live() -> Memo<bool> {
    Memo::new(move |_| super::live::now().is_some())
}

/// The viewer's IANA time zone, as the browser reports it.
#[cfg(feature = "hydrate")]
pub fn viewers_zone() -> Option<String> {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into())
        .ok()?
        .as_string()
}

#[cfg(not(feature = "hydrate"))]
pub fn viewers_zone() -> Option<String> {
    None
}

/// How far the viewer's zone was ahead of UTC at `at`, in minutes.
#[cfg(feature = "hydrate")]
fn viewers_offset_minutes(at: DateTime<Utc>) -> i64 {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        at.timestamp_millis() as f64
    ));
    // JavaScript counts the other way: minutes to add to local time to reach UTC.
    -(date.get_timezone_offset() as i64)
}

#[cfg(not(feature = "hydrate"))]
fn viewers_offset_minutes(_at: DateTime<Utc>) -> i64 {
    0
}

#[cfg(feature = "hydrate")]
fn in_viewers_zone(at: DateTime<Utc>, millis: bool) -> Option<String> {
    use wasm_bindgen::JsValue;
    let options = js_sys::Object::new();
    let set = |key: &str, value: JsValue| js_sys::Reflect::set(&options, &key.into(), &value);
    if millis {
        // Intl refuses fractional seconds beside dateStyle and timeStyle, so the parts
        // are named one by one.
        for (key, value) in [
            ("year", "numeric"),
            ("month", "short"),
            ("day", "numeric"),
            ("hour", "2-digit"),
            ("minute", "2-digit"),
            ("second", "2-digit"),
        ] {
            set(key, value.into()).ok()?;
        }
        set("fractionalSecondDigits", JsValue::from_f64(3.0)).ok()?;
    } else {
        set("dateStyle", "medium".into()).ok()?;
        set("timeStyle", "medium".into()).ok()?;
    }
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &options);
    let date = js_sys::Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
    format
        .format()
        .call1(&JsValue::NULL, &date)
        .ok()?
        .as_string()
}

#[cfg(not(feature = "hydrate"))]
fn in_viewers_zone(_at: DateTime<Utc>, _millis: bool) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_text_is_zero_padded_with_or_without_milliseconds() {
        let at = DateTime::from_timestamp_micros(1_000_000_123_456).unwrap();
        assert_eq!(utc_text(at, false), "1970-01-12 13:46:40 UTC");
        assert_eq!(utc_text(at, true), "1970-01-12 13:46:40.123 UTC");
    }
}
