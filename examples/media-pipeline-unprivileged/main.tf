# The media pipeline without privileged containers. The runbook avoided this as "too
# complex": unprivileged containers see host UIDs shifted by 100000, so the media user
# could not write to the shared pool, and the GPU and optical drive need their device
# nodes created with the host's group IDs. Here `idmap` passes UID/GID 1000 through
# unchanged (and delegates it in the node's /etc/subuid and /etc/subgid), and the device
# presets become devN entries carrying the node's video/render/cdrom GIDs.

resource "pvelxc_container" "transcoder" {
  vmid         = var.transcoder_vmid
  hostname     = "transcoder"
  description  = "Media pipeline: transcoder (GPU, unprivileged)"
  tags         = ["media", "transcoder"]
  template     = var.template
  unprivileged = true
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

  idmap {
    uids = [1000]
    gids = [1000]
  }

  gpu {
    vendor = var.gpu_vendor
  }
}

resource "pvelxc_container" "ripper" {
  vmid         = var.ripper_vmid
  hostname     = "ripper"
  description  = "Media pipeline: ripper (optical drive, unprivileged)"
  tags         = ["media", "ripper"]
  template     = var.template
  unprivileged = true
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

  idmap {
    uids = [1000]
    gids = [1000]
  }

  optical_drive {
    device = var.optical_drive
  }
}
