//! Who makes a request, for the audit log: the proof of access the access check found
//! (it stores it in the request as it lets the request through) and the client's
//! address.

use crate::server::queue::{Actor, Proof};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::net::SocketAddr;

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(actor_of(parts))
    }
}

/// The actor of a request whose parts are `parts`.
pub fn actor_of(parts: &Parts) -> Actor {
    Actor {
        // Every request that gets this far passed the access check, which says how.
        proof: parts
            .extensions
            .get::<Proof>()
            .copied()
            .unwrap_or(Proof::Local),
        address: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip()),
    }
}
