terraform {
  required_version = ">= 1.11"
  required_providers {
    pvelxc = {
      source = "pvelxc/pvelxc"
    }
  }
}

# Endpoint, credentials and SSH come from the environment (PVELXC_ENDPOINT,
# PVELXC_API_TOKEN, PVELXC_USERNAME/PVELXC_PASSWORD for root@pam,
# PVELXC_SSH_PRIVATE_KEY, PVELXC_SSH_KNOWN_HOSTS), so no secret lives in git.
provider "pvelxc" {
  node = var.node
}
