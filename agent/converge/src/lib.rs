//! pvelxc-converge: the engine behind `pvelxc-agent apply`.
//!
//! Each spec item is turned into a module ([`modules`]) with one shape: read the
//! current state, compare it with the spec and return a [`plan::Plan`] (the field
//! changes plus the [`plan::Action`]s that make them). The engine either executes
//! the actions or, in check mode, applies them to an in-memory overlay so later
//! items see the earlier ones as done without anything on disk changing.
//!
//! Everything is relative to a root directory (`--root`), so the engine works on a
//! container's rootfs from outside, inside the container, and on temp dirs in tests.

pub mod accounts;
pub mod atomic;
pub mod cli;
pub mod ctx;
pub mod diff;
pub mod dpkg;
pub mod engine;
pub mod error;
pub mod exec;
pub mod modules;
pub mod output;
pub mod plan;
pub mod privdrop;
pub mod reown;
pub mod runlock;
pub mod view;

pub use engine::{run, Options};
pub use error::{ItemError, RunError};
