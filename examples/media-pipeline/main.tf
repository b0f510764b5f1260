# The media pipeline runbook as code: a privileged transcoder with the node's GPU and a
# privileged ripper with its optical drive, both sharing the storage pool at the same
# path. The provider discovers the devices' real types and numbers on the node and writes
# the cgroup2 allow and mount-entry lines the runbook adds by hand.

resource "pvelxc_container" "transcoder" {
  vmid         = var.transcoder_vmid
  hostname     = "transcoder"
  description  = "Media pipeline: transcoder (GPU)"
  tags         = ["media", "transcoder"]
  template     = var.template
  unprivileged = false
  cores        = 8
  memory       = 8192
  swap         = 2048
  onboot       = true

  ssh_public_keys = var.ssh_public_keys

  rootfs {
    storage = var.storage
    size    = "20G"
  }

  network {
    name     = "eth0"
    bridge   = var.bridge
    ip       = "dhcp"
    firewall = false
  }

  features {
    nesting = true
  }

  mount_point {
    slot   = 0
    volume = var.storage_path
    path   = var.storage_path
  }

  gpu {
    vendor = var.gpu_vendor
  }
}

resource "pvelxc_container" "ripper" {
  vmid         = var.ripper_vmid
  hostname     = "ripper"
  description  = "Media pipeline: ripper (optical drive)"
  tags         = ["media", "ripper"]
  template     = var.template
  unprivileged = false
  cores        = 4
  memory       = 4096
  swap         = 2048
  onboot       = true

  ssh_public_keys = var.ssh_public_keys

  rootfs {
    storage = var.storage
    size    = "20G"
  }

  network {
    name     = "eth0"
    bridge   = var.bridge
    ip       = "dhcp"
    firewall = false
  }

  features {
    nesting = true
  }

  mount_point {
    slot   = 0
    volume = var.storage_path
    path   = var.storage_path
  }

  optical_drive {
    device = var.optical_drive
  }
}
