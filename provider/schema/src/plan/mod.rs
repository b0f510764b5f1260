//! Planning helpers for PlanResourceChange and ApplyResourceChange.
//!
//! Terraform rejects plans and apply results that break its rules with
//! "Provider produced invalid plan" / "inconsistent result after apply",
//! naming no attribute a user can act on. These helpers produce plans that
//! follow the rules by construction and re-check plans and results the same
//! way Terraform's `objchange` package does, so a provider bug is caught by
//! the provider's own tests with the attribute path in the message.

mod compatible;
mod correlate;
mod new;
mod proposed;
mod replace;
mod valid;

pub use compatible::{assert_apply_compatible, assert_plan_compatible};
pub use new::plan_new;
pub use proposed::proposed_new;
pub use replace::requires_replace;
pub use valid::assert_plan_valid;
