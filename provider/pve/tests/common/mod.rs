//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod https;
pub mod schema;
pub mod sshd;
