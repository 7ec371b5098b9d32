//! Any JSON value shown for people: objects as name/value lists, arrays as numbered
//! lists, text as text (never as markup).

use leptos::prelude::*;
use serde_json::Value;

#[component]
pub fn JsonView(value: Value) -> impl IntoView {
    render(&value)
}

fn render(value: &Value) -> AnyView {
    match value {
        Value::Object(map) if map.is_empty() => view! { <span class="empty">"(none)"</span> }.into_any(),
        Value::Object(map) => view! {
            <dl class="kv">
                {map
                    .iter()
                    .map(|(key, value)| view! { <dt>{key.clone()}</dt><dd>{render(value)}</dd> })
                    .collect_view()}
            </dl>
        }
        .into_any(),
        Value::Array(items) => view! {
            <ol class="json-list">{items.iter().map(|item| view! { <li>{render(item)}</li> }).collect_view()}</ol>
        }
        .into_any(),
        Value::String(text) => text.clone().into_any(),
        Value::Null => view! { <span class="empty">"null"</span> }.into_any(),
        other => view! { <span class="mono">{other.to_string()}</span> }.into_any(),
    }
}

/// The value as indented JSON text, folded away until asked for, with a button that
/// copies it to the clipboard.
#[component]
pub fn RawJson(value: Value, #[prop(into)] testid: String) -> impl IntoView {
    let text = serde_json::to_string_pretty(&value).unwrap_or_default();
    let copied = RwSignal::new(None::<bool>);
    let copy = {
        let text = text.clone();
        move |_| {
            let text = text.clone();
            leptos::task::spawn_local(async move {
                copied.set(Some(copy_to_clipboard(&text).await));
            });
        }
    };
    let said = move || match copied.get() {
        Some(true) => "Copied.",
        Some(false) => "Could not copy: select the text instead.",
        None => "",
    };
    view! {
        <details class="raw-json" data-testid=testid>
            <summary>"Raw JSON"</summary>
            <button type="button" on:click=copy data-testid="copy-json">"Copy"</button>
            <span role="status" class="copy-status">{said}</span>
            <pre class="mono">{text}</pre>
        </details>
    }
}

/// Writes `text` to the clipboard through the browser's asynchronous Clipboard API
/// (reached by name: web-sys offers it only behind an unstable flag); true once written.
#[cfg(feature = "hydrate")]
async fn copy_to_clipboard(text: &str) -> bool {
    use wasm_bindgen::{JsCast, JsValue};
    let write = || -> Option<js_sys::Promise> {
        let navigator = js_sys::Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
        let clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into()).ok()?;
        let write_text = js_sys::Reflect::get(&clipboard, &"writeText".into()).ok()?;
        let promise = write_text
            .dyn_into::<js_sys::Function>()
            .ok()?
            .call1(&clipboard, &JsValue::from_str(text))
            .ok()?;
        promise.dyn_into::<js_sys::Promise>().ok()
    };
    match write() {
        Some(promise) => wasm_bindgen_futures::JsFuture::from(promise).await.is_ok(),
        None => false,
    }
}

#[cfg(not(feature = "hydrate"))]
async fn copy_to_clipboard(_text: &str) -> bool {
    false
}
