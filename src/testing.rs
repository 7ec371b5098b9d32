//! The internals that Spool's integration tests and benchmark drive directly: the store,
//! the queue, the engine and the built-in kinds. Not a stable API, and not built unless
//! the `testing` feature is on.

pub mod config {
    pub use crate::server::config::*;
}
pub mod engine {
    pub use crate::server::engine::*;
}
pub mod queue {
    pub use crate::server::queue::*;
}
pub mod store {
    pub use crate::server::store::*;
}
pub mod tasks {
    pub use crate::server::tasks::*;
}
