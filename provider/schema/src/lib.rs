//! Declare a Terraform resource once; derive its wire type, validation,
//! planning rules and documentation from that one declaration.
//!
//! ```
//! use pvelxc_schema::{Attribute, Block, NestedBlock, Schema, Validator};
//! let schema = Schema::new(0, Block::new()
//!     .description("An LXC container.")
//!     .attr(Attribute::string("hostname").required().description("Host name.").requires_replace())
//!     .attr(Attribute::int("cores").optional().computed().default(1).description("CPU cores.")
//!         .validator(Validator::int_range(1, 128)))
//!     .block(NestedBlock::list("mount_point", Block::new().description("A mount point.")
//!         .attr(Attribute::string("path").required().description("Path in the container.")))));
//! schema.internal_validate().unwrap();
//! ```

pub mod attribute;
pub mod block;
pub mod config;
pub mod diagnostic;
pub mod docs;
pub mod internal_validate;
pub mod plan;
pub mod validator;

pub use attribute::Attribute;
pub use block::{Block, NestedBlock, Nesting, Schema};
pub use config::validate_config;
pub use diagnostic::{has_errors, Diagnostic, Severity};
pub use internal_validate::SchemaError;
pub use pvelxc_cty::{Path, PathStep, Type, Value};
pub use validator::Validator;
