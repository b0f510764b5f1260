//! terraform-provider-pvelxc
