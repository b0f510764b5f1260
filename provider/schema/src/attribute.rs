//! Attributes: one row of a resource declaration.
//!
//! ```
//! use pvelxc_schema::Attribute;
//! let a = Attribute::string("hostname")
//!     .required()
//!     .description("DNS name of the container.")
//!     .requires_replace();
//! assert!(a.required && a.requires_replace);
//! ```

use crate::validator::Validator;
use pvelxc_cty::{Type, Value};

/// One attribute of a block.
#[derive(Clone, Debug)]
pub struct Attribute {
    /// Name (`[a-z0-9_]+`).
    pub name: String,
    /// Value type.
    pub ty: Type,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// Set by the provider (alone: read-only; with `optional`: defaulted).
    pub computed: bool,
    /// Hidden in plan output.
    pub sensitive: bool,
    /// Never stored in plan or state (always null there).
    pub write_only: bool,
    /// Markdown description for docs and language servers.
    pub description: String,
    /// Still accepted but scheduled for removal.
    pub deprecated: bool,
    /// What to use instead, shown when the attribute is used while deprecated.
    pub deprecation_message: Option<String>,
    /// Planned value when optional+computed and null in configuration.
    pub default: Option<Value>,
    /// A change forces the resource to be replaced.
    pub requires_replace: bool,
    /// On update, a computed value the configuration leaves unset keeps its
    /// prior value in the plan instead of becoming unknown.
    pub use_state_for_unknown: bool,
    /// Checks run on the configured value.
    pub validators: Vec<Validator>,
    /// Strings in this attribute may hold several lines (NUL is still
    /// refused). Off by default: no value may smuggle a newline into a
    /// config file.
    pub multiline: bool,
}

impl Attribute {
    /// An attribute of any type. Not yet required/optional/computed: pick one.
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Attribute {
            name: name.into(),
            ty,
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            description: String::new(),
            deprecated: false,
            deprecation_message: None,
            default: None,
            requires_replace: false,
            use_state_for_unknown: false,
            validators: Vec::new(),
            multiline: false,
        }
    }

    /// A `string` attribute.
    pub fn string(name: impl Into<String>) -> Self {
        Self::new(name, Type::String)
    }

    /// A `bool` attribute.
    pub fn bool(name: impl Into<String>) -> Self {
        Self::new(name, Type::Bool)
    }

    /// A `number` attribute.
    pub fn number(name: impl Into<String>) -> Self {
        Self::new(name, Type::Number)
    }

    /// A `number` attribute that must be a whole number in `i64` range.
    pub fn int(name: impl Into<String>) -> Self {
        Self::new(name, Type::Number).validator(Validator::IntRange {
            min: None,
            max: None,
        })
    }

    /// A `list(element)` attribute.
    pub fn list(name: impl Into<String>, element: Type) -> Self {
        Self::new(name, Type::list(element))
    }

    /// A `set(element)` attribute.
    pub fn set(name: impl Into<String>, element: Type) -> Self {
        Self::new(name, Type::set(element))
    }

    /// A `map(element)` attribute.
    pub fn map(name: impl Into<String>, element: Type) -> Self {
        Self::new(name, Type::map(element))
    }

    /// A `dynamic` attribute (any type; the value carries its type).
    pub fn dynamic(name: impl Into<String>) -> Self {
        Self::new(name, Type::Dynamic)
    }

    /// Must be configured.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// May be configured.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// Set by the provider.
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }

    /// Hidden in plan output.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Never persisted.
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    /// Markdown description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// Marks as deprecated with advice on what to use instead.
    pub fn deprecated(mut self, message: impl Into<String>) -> Self {
        self.deprecated = true;
        self.deprecation_message = Some(message.into());
        self
    }

    /// Plan-time default for an optional+computed attribute left unset.
    pub fn default(mut self, value: impl Into<Value>) -> Self {
        self.default = Some(value.into());
        self
    }

    /// Changing the value replaces the resource.
    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }

    /// Keep the prior state's value instead of planning unknown on update.
    pub fn use_state_for_unknown(mut self) -> Self {
        self.use_state_for_unknown = true;
        self
    }

    /// Adds a validator.
    pub fn validator(mut self, v: Validator) -> Self {
        self.validators.push(v);
        self
    }

    /// Allows newlines in strings of this attribute (NUL still refused).
    pub fn multiline(mut self) -> Self {
        self.multiline = true;
        self
    }

    /// Set only by the provider (computed, neither required nor optional).
    pub fn is_read_only(&self) -> bool {
        self.computed && !self.optional && !self.required
    }
}
