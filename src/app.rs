//! The dashboard: the HTML shell, the root component, its navigation and routes. Each
//! page or component lives in a file of its own under `app/`.

mod audit_page;
mod bar_chart;
mod bulk_matching;
mod charts_page;
mod json_parameters;
mod json_view;
mod lazy_pages;
mod live;
mod local_time;
mod overview;
mod processes_page;
mod queues_page;
mod result_view;
mod schedule_form;
mod schedules_page;
mod schema_fields;
mod shortcuts;
mod submit_form;
mod task_actions;
mod task_detail;
mod task_log;
mod task_table;
mod tasks_page;

use lazy_pages::{
    AuditRoute, ChartsRoute, ProcessesRoute, QueuesRoute, SchedulesRoute, TaskDetailRoute,
    TasksRoute,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{path, Lazy, StaticSegment};
use live::{ConnectionIndicator, OfflineBanner, RefreshToggle};

/// The HTML document every page is rendered into (by the server).
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    use leptos_meta::MetaTags;
    #[cfg(feature = "ssr")]
    allow_only_nonced_scripts();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.ico"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Sends this page's Content-Security-Policy: the inline scripts Leptos writes carry the
/// request's nonce, and no other inline script runs.
#[cfg(feature = "ssr")]
fn allow_only_nonced_scripts() {
    use axum::http::{header, HeaderValue};
    let nonce = leptos::nonce::use_nonce();
    let policy = crate::server::web_security::content_security_policy(nonce.as_deref());
    if let (Some(response), Ok(policy)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        HeaderValue::from_str(&policy),
    ) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, policy);
    }
}

/// The dashboard application.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    live::provide_connection();
    view! {
        <Stylesheet id="leptos" href="/pkg/spool.css"/>
        <Title text="Spool"/>
        <Router>
            <header class="topbar">
                <a class="brand" href="/">"Spool"</a>
                <nav aria-label="Main">
                    <A href="/" exact=true>"Overview"</A>
                    <A href="/tasks">"Tasks"</A>
                    <A href="/queues">"Queues"</A>
                    <A href="/processes">"Processes"</A>
                    <A href="/charts">"Charts"</A>
                    <A href="/schedules">"Schedules"</A>
                    <A href="/audit">"Audit"</A>
                </nav>
                <ConnectionIndicator/>
                <RefreshToggle/>
                <shortcuts::Shortcuts/>
            </header>
            <OfflineBanner/>
            <main class="content">
                <Routes fallback=|| view! { <p class="empty">"There is no such page."</p> }>
                    <Route path=StaticSegment("") view=overview::OverviewPage/>
                    <Route path=path!("/tasks") view={Lazy::<TasksRoute>::new()}/>
                    <Route path=path!("/tasks/:id") view={Lazy::<TaskDetailRoute>::new()}/>
                    <Route path=path!("/queues") view={Lazy::<QueuesRoute>::new()}/>
                    <Route path=path!("/processes") view={Lazy::<ProcessesRoute>::new()}/>
                    <Route path=path!("/charts") view={Lazy::<ChartsRoute>::new()}/>
                    <Route path=path!("/schedules") view={Lazy::<SchedulesRoute>::new()}/>
                    <Route path=path!("/audit") view={Lazy::<AuditRoute>::new()}/>
                </Routes>
            </main>
        </Router>
    }
}

/// An error a view could not load its data through, shown in place of the data.
#[component]
fn LoadError(error: crate::error::AppError) -> impl IntoView {
    view! {
        <p class="alert" role="alert" data-testid="load-error">
            {error.message}
        </p>
    }
}
