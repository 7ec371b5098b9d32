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
