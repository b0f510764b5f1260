//! The PVE REST API client.

mod auth;
mod client;
mod endpoints;
mod retry;
mod task;
mod tls;
pub mod types;

pub use auth::{ApiToken, AuthPreference, Credentials, PasswordLogin};
pub use client::{ClientOptions, Envelope, PveClient, RequestOptions, Timeouts};
pub use endpoints::{
    check_vmid, is_vmid_taken, ConfigSnapshot, CreateRequest, DestroyOptions, VMID_RANGE,
};
pub use reqwest::Method;
pub use retry::{Idempotency, RetryPolicy};
pub use task::{task_succeeded, TaskOutcome, Upid};
pub use tls::{client_config, Fingerprint, TlsTrust};
