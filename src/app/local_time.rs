//! Times in the viewer's own time zone. The browser formats them with its own Intl, so no
//! time-zone data enters the WebAssembly; the server (which cannot know the viewer's
//! zone) and the first render in the browser show UTC, so hydration matches.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// A time, in the viewer's zone once the page is live (UTC before).
#[component]
pub fn LocalTime(at: DateTime<Utc>) -> impl IntoView {
    let utc = at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let text = move || {
        if super::live::now().is_some() {
            in_viewers_zone(at).unwrap_or_else(|| utc.clone())
        } else {
            utc.clone()
        }
    };
    view! { <time datetime=at.to_rfc3339()>{text}</time> }
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

#[cfg(feature = "hydrate")]
fn in_viewers_zone(at: DateTime<Utc>) -> Option<String> {
    use wasm_bindgen::JsValue;
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into()).ok()?;
    js_sys::Reflect::set(&options, &"timeStyle".into(), &"medium".into()).ok()?;
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &options);
    let date = js_sys::Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
    format
        .format()
        .call1(&JsValue::NULL, &date)
        .ok()?
        .as_string()
}

#[cfg(not(feature = "hydrate"))]
fn in_viewers_zone(_at: DateTime<Utc>) -> Option<String> {
    None
}
