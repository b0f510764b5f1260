# Adopting the transcoder and ripper that were built by hand from the runbook: the
# configuration below describes them exactly as the runbook left them (privileged,
# raw cgroup2 and mount-entry lines, the mergerfs pool as mp0, nesting, firewall off),
# so after `terraform apply` imports them the next plan is empty. No `template`: it is
# only needed to create a container, and Proxmox does not record it.
#
# To generate such a file for other containers instead of writing it:
#   terraform plan -generate-config-out=generated.tf

import {
  to = pvelxc_container.transcoder
  id = "${var.node}/${var.transcoder_vmid}"
}

import {
  to = pvelxc_container.ripper
  id = "${var.node}/${var.ripper_vmid}"
}

resource "pvelxc_container" "transcoder" {
  vmid         = var.transcoder_vmid
  hostname     = "transcoder"
  unprivileged = false
  cores        = 8
  memory       = 8192
  swap         = 2048

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
    volume = "/mnt/storage"
    path   = "/mnt/storage"
  }

  raw_lxc {
    key   = "lxc.cgroup2.devices.allow"
    value = "c 226:0 rwm"
  }
  raw_lxc {
    key   = "lxc.cgroup2.devices.allow"
    value = "c 226:128 rwm"
  }
  raw_lxc {
    key   = "lxc.mount.entry"
    value = "/dev/dri dev/dri none bind,optional,create=dir"
  }
}

resource "pvelxc_container" "ripper" {
  vmid         = var.ripper_vmid
  hostname     = "ripper"
  unprivileged = false
  cores        = 4
  memory       = 4096
  swap         = 2048

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
    volume = "/mnt/storage"
    path   = "/mnt/storage"
  }

  # The runbook's lines, kept as they are; `terraform plan` stays empty. Replacing them
  # with `optical_drive { device = "/dev/sr0" }` later fixes the sr0 rule (a block
  # device, b 11:0) and finds the right /dev/sgN.
  raw_lxc {
    key   = "lxc.cgroup2.devices.allow"
    value = var.optical_device
  }
  raw_lxc {
    key   = "lxc.cgroup2.devices.allow"
    value = "c 21:* rwm"
  }
  raw_lxc {
    key   = "lxc.mount.entry"
    value = "/dev/sr0 dev/sr0 none bind,optional,create=file"
  }
  raw_lxc {
    key   = "lxc.mount.entry"
    value = "/dev/sg0 dev/sg0 none bind,optional,create=file"
  }
}
