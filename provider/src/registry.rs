//! Everything the pvelxc provider offers, in one place: adding a resource,
//! data source or function is one line here.

use std::sync::Arc;

use crate::framework::{DataSource, Function, Resource};
use crate::functions::{IdmapFunction, ParseSizeFunction};
use crate::provider::PvelxcClient;

/// Managed resource types.
pub fn resources() -> Vec<Arc<dyn Resource<PvelxcClient>>> {
    vec![
        Arc::new(crate::resources::container::ContainerResource),
        Arc::new(crate::resources::container_config::ContainerConfigResource),
        Arc::new(crate::resources::node_config::NodeConfigResource),
    ]
}

/// Data source types.
pub fn data_sources() -> Vec<Arc<dyn DataSource<PvelxcClient>>> {
    vec![
        Arc::new(crate::data_sources::container::ContainerDataSource),
        Arc::new(crate::data_sources::node::NodeDataSource),
    ]
}

/// Provider-defined functions.
pub fn functions() -> Vec<Arc<dyn Function>> {
    vec![Arc::new(IdmapFunction), Arc::new(ParseSizeFunction)]
}
