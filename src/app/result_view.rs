//! A task's result shown for people: the data kind's statistics as a table, the image
//! kind's outputs as thumbnails, the email kind's messages as a list, the http kind's
//! answer as status, headers and body; anything else as generic JSON.

use super::json_view::JsonView;
use leptos::prelude::*;
use serde_json::Value;

#[component]
pub fn ResultView(task_type: String, result: Value) -> impl IntoView {
    match task_type.as_str() {
        "data_processing" if result["columns"].is_object() => statistics(&result).into_any(),
        "image_processing" if result["files"].is_array() => images(&result).into_any(),
        "email_simulation" if result["messages"].is_array() => messages(&result).into_any(),
        "http" if result["status"].is_u64() => http_answer(&result).into_any(),
        _ => view! { <JsonView value=result/> }.into_any(),
    }
}

fn number(value: &Value) -> String {
    value
        .as_f64()
        .map(|n| format!("{n:.2}"))
        .unwrap_or_default()
}

fn statistics(result: &Value) -> impl IntoView {
    let columns = result["columns"].as_object().cloned().unwrap_or_default();
    view! {
        <p>{format!("{} rows analysed", result["rows"])}</p>
        <div class="table-scroll">
            <table class="grid" data-testid="result-statistics">
                <thead>
                    <tr>
                        <th scope="col">"Column"</th>
                        <th scope="col">"Count"</th>
                        <th scope="col">"Mean"</th>
                        <th scope="col">"Min"</th>
                        <th scope="col">"Max"</th>
                        <th scope="col">"Std dev"</th>
                    </tr>
                </thead>
                <tbody>
                    {columns
                        .into_iter()
                        .map(|(name, stats)| {
                            view! {
                                <tr>
                                    <th scope="row">{name}</th>
                                    <td class="num">{stats["count"].to_string()}</td>
                                    <td class="num">{number(&stats["mean"])}</td>
                                    <td class="num">{number(&stats["min"])}</td>
                                    <td class="num">{number(&stats["max"])}</td>
                                    <td class="num">{number(&stats["stddev"])}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

fn images(result: &Value) -> impl IntoView {
    let files = result["files"].as_array().cloned().unwrap_or_default();
    view! {
        <ul class="thumbnails" data-testid="result-images">
            {files
                .into_iter()
                .map(|file| {
                    let path = file["file"].as_str().unwrap_or_default().to_string();
                    let caption = format!(
                        "{} × {} {}, {} bytes",
                        file["width"], file["height"], file["format"].as_str().unwrap_or(""), file["bytes"]
                    );
                    view! {
                        <li>
                            <img src=format!("/media/images/{path}") alt=caption.clone() loading="lazy"/>
                            <span>{caption}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

fn messages(result: &Value) -> impl IntoView {
    let messages = result["messages"].as_array().cloned().unwrap_or_default();
    view! {
        <p>{format!("{} messages delivered via {}", result["delivered"], result["via"].as_str().unwrap_or("?"))}</p>
        <ul class="messages" data-testid="result-messages">
            {messages
                .into_iter()
                .map(|message| {
                    view! {
                        <li>
                            <strong>{message["subject"].as_str().unwrap_or_default().to_string()}</strong>
                            " → "
                            {message["to"].as_str().unwrap_or_default().to_string()}
                            <span class="mono">{message["message_id"].as_str().unwrap_or_default().to_string()}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

fn http_answer(result: &Value) -> impl IntoView {
    let text = |name: &str| result[name].as_str().unwrap_or_default().to_string();
    let redirects = match result["redirects"].as_u64() {
        Some(0) | None => String::new(),
        Some(n) => format!(" after {n} redirects"),
    };
    let truncated = result["body_truncated"].as_bool() == Some(true);
    view! {
        <div data-testid="result-http">
            <p>
                <strong data-testid="http-status">{result["status"].to_string()}</strong>
                " from "
                <span class="mono">{text("url")}</span>
                {format!("{redirects} in {} ms", result["elapsed_ms"])}
            </p>
            <JsonView value=result["headers"].clone()/>
            <pre class="http-body">{text("body")}</pre>
            {truncated.then(|| view! { <p class="help">"(the body went on; only its start is kept)"</p> })}
        </div>
    }
}
