terraform {
  required_version = ">= 1.11"
  required_providers {
    pvelxc = {
      source = "pvelxc/pvelxc"
    }
  }
}

# Endpoint, credentials and SSH come from the environment (PVELXC_*).
provider "pvelxc" {
  node = var.node
}
