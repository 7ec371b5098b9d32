//! The pages other than the overview, as lazy routes: with `cargo leptos build --split`
//! each one's code is a WebAssembly chunk the browser fetches the first time the page is
//! shown, so the overview (the page most people open first) loads only its own code.
//!
//! A page served by the server still hydrates: `hydrate_lazy` (in `lib.rs`) waits for the
//! chunk of the route being hydrated before walking its HTML.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// Declares `$route` as a lazy route that renders the page component `$page`. The pages
/// load their own data, so a route carries none.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:path) => {
        $(#[$doc])*
        pub(super) struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                $page().into_any()
            }
        }
    };
}

lazy_page!(
    /// `/tasks`: the filtered task list and its bulk actions.
    TasksRoute => super::tasks_page::TasksPage
);
lazy_page!(
    /// `/tasks/:id`: one task, its log, attempts and history.
    TaskDetailRoute => super::task_detail::TaskDetailPage
);
lazy_page!(
    /// `/queues`: every queue's counts, limits and pause switch.
    QueuesRoute => super::queues_page::QueuesPage
);
lazy_page!(
    /// `/processes`: the live and recently gone processes.
    ProcessesRoute => super::processes_page::ProcessesPage
);
lazy_page!(
    /// `/charts`: finished tasks and latencies per minute or hour.
    ChartsRoute => super::charts_page::ChartsPage
);
lazy_page!(
    /// `/schedules`: the recurring schedules and their form.
    SchedulesRoute => super::schedules_page::SchedulesPage
);
lazy_page!(
    /// `/audit`: the record of operators' actions.
    AuditRoute => super::audit_page::AuditPage
);
