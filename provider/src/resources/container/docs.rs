//! Examples and import instructions for the generated documentation: the runbooks'
//! containers.

/// `(title, hcl)` pairs.
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "Transcoder with an Intel GPU (privileged, as in the runbook)",
        r#"resource "pvelxc_container" "transcoder" {
  node         = "pve"
  vmid         = 201
  hostname     = "transcoder"
  template     = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
  unprivileged = false
  cores        = 4
  memory       = 8192
  swap         = 2048
  tags         = ["media"]

  rootfs {
    storage = "local-lvm"
    size    = "20G"
  }

  network {
    name     = "eth0"
    bridge   = "vmbr0"
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

  # card0 (226:0) and renderD128 (226:128), discovered on the node:
  #   lxc.cgroup2.devices.allow: c 226:0 rwm
  #   lxc.cgroup2.devices.allow: c 226:128 rwm
  #   lxc.mount.entry: /dev/dri dev/dri none bind,optional,create=dir
  gpu {
    vendor = "intel"
  }
}
"#,
    ),
    (
        "Blu-ray ripper with an optical drive (privileged, as in the runbook)",
        r#"resource "pvelxc_container" "ripper" {
  hostname     = "ripper"
  template     = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
  unprivileged = false
  cores        = 4
  memory       = 4096

  rootfs {
    storage = "local-lvm"
    size    = "20G"
  }

  network {
    name   = "eth0"
    bridge = "vmbr0"
    ip     = "dhcp"
  }

  features {
    nesting = true
  }

  mount_point {
    slot   = 0
    volume = "/mnt/storage"
    path   = "/mnt/storage"
  }

  # /dev/sr0 is a block device (b 11:0); its SCSI-generic twin /dev/sg0 (c 21:0) comes along.
  optical_drive {
    device = "/dev/sr0"
  }
}
"#,
    ),
    (
        "Unprivileged transcoder with the media user (UID/GID 1000) passed through",
        r#"resource "pvelxc_container" "transcoder_unprivileged" {
  hostname = "transcoder"
  template = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
  memory   = 8192

  rootfs {
    storage = "local-lvm"
    size    = "20G"
  }

  network {
    name    = "eth0"
    bridge  = "vmbr0"
    ip      = "10.0.0.21/24"
    gateway = "10.0.0.1"
  }

  mount_point {
    slot   = 0
    volume = "/mnt/storage"
    path   = "/mnt/storage"
  }

  # dev entries with the node's video/render GIDs
  gpu {
    vendor = "auto"
  }

  # lxc.idmap lines + /etc/subuid and /etc/subgid entries on the node
  idmap {
    uids = [1000]
    gids = [1000]
  }
}
"#,
    ),
    (
        "Raw LXC lines",
        r#"resource "pvelxc_container" "custom" {
  template     = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
  unprivileged = false

  rootfs {
    storage = "local-lvm"
    size    = "8G"
  }

  raw_lxc {
    key   = "lxc.cgroup2.devices.allow"
    value = "c 226:0 rwm"
  }
  raw_lxc {
    key   = "lxc.mount.entry"
    value = "/dev/dri dev/dri none bind,optional,create=dir"
  }
}
"#,
    ),
];

/// Import instructions.
pub const IMPORT: &str = r#"Containers are imported by `<node>/<vmid>`, or by a bare `<vmid>` on the provider's
default node. Everything is read back, including raw `lxc.*` lines (as `raw_lxc`), so a
hand-built container plans empty against a matching configuration without `template`:

```shell
terraform import pvelxc_container.transcoder pve/201
```

```terraform
import {
  to = pvelxc_container.transcoder
  id = "pve/201"
}
```

`terraform plan -generate-config-out=generated.tf` writes a configuration that plans empty.
"#;
