//! Everything the pvelxc provider offers, in one place: adding a resource,
//! data source or function is one line here.

use std::sync::Arc;

use crate::framework::{DataSource, Function, Resource};
use crate::functions::{IdmapFunction, ParseSizeFunction};
use crate::provider::PvelxcClient;

/// Managed resource types.
pub fn resources() -> Vec<Arc<dyn Resource<PvelxcClient>>> {
    vec![]
}

/// Data source types.
pub fn data_sources() -> Vec<Arc<dyn DataSource<PvelxcClient>>> {
    vec![]
}

/// Provider-defined functions.
pub fn functions() -> Vec<Arc<dyn Function>> {
    vec![Arc::new(IdmapFunction), Arc::new(ParseSizeFunction)]
}
