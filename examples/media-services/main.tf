# Jellyfin and qBittorrent as the services layout has them: unprivileged Debian 13
# containers on the DMZ bridge with static addresses, nesting on, and the media tree
# bind-mounted from the host (read-only for Jellyfin, read-write downloads for
# qBittorrent). The media user's UID/GID 1000 is passed through unchanged, so files
# qBittorrent writes are owned by the same media user on the host.

locals {
  media_mounts = {
    0 = { volume = "${var.media_root}/movies", path = "/media/movies" }
    1 = { volume = "${var.media_root}/tv", path = "/media/tv" }
    2 = { volume = "${var.media_root}/music", path = "/media/music" }
    3 = { volume = "${var.media_root}/downloads/complete", path = "/media/downloads" }
  }
}

resource "pvelxc_container" "jellyfin" {
  vmid         = var.jellyfin_vmid
  hostname     = "jellyfin"
  description  = "Jellyfin media server (port 8096)"
  tags         = ["media", "jellyfin"]
  template     = var.template
  unprivileged = true
  cores        = 4
  memory       = 4096
  swap         = 1024
  onboot       = true

  password        = var.root_password
  ssh_public_keys = var.ssh_public_keys

  rootfs {
    storage = var.storage
    size    = "64G"
  }

  network {
    name    = "eth0"
    bridge  = var.bridge
    ip      = var.jellyfin_ip
    gateway = var.gateway
  }

  features {
    nesting = true
  }

  dynamic "mount_point" {
    for_each = local.media_mounts
    content {
      slot      = mount_point.key
      volume    = mount_point.value.volume
      path      = mount_point.value.path
      read_only = true
    }
  }
}

resource "pvelxc_container" "qbittorrent" {
  vmid         = var.qbittorrent_vmid
  hostname     = "qbittorrent"
  description  = "qBittorrent (web UI on port 8080)"
  tags         = ["media", "downloads"]
  template     = var.template
  unprivileged = true
  cores        = 2
  memory       = 2048
  swap         = 512
  onboot       = true

  password        = var.root_password
  ssh_public_keys = var.ssh_public_keys

  rootfs {
    storage = var.storage
    size    = "32G"
  }

  network {
    name    = "eth0"
    bridge  = var.bridge
    ip      = var.qbittorrent_ip
    gateway = var.gateway
  }

  features {
    nesting = true
  }

  mount_point {
    slot   = 0
    volume = "${var.media_root}/downloads"
    path   = "/srv/downloads"
  }

  # Writes to the downloads tree land as the host's media user (1000:1000).
  idmap {
    uids = [1000]
    gids = [1000]
  }
}
