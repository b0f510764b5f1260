# The runbook's in-container and on-node steps, done by pvelxc-agent: the provider pushes
# the agent through the node (no network needed inside), converges, and `terraform plan`
# shows drift inside the containers (a user dropped from `render`, a unit disabled).

resource "pvelxc_node_config" "host" {
  # The host half of the runbook: the media user, the pool's ownership and the
  # subordinate IDs unprivileged containers need for the media user.
  root = var.node_root

  media_user {}

  storage {
    path  = "${var.storage_path}/staging"
    owner = "media"
    group = "media"
    mode  = "2775"
  }
  storage {
    path  = "${var.storage_path}/media"
    owner = "media"
    group = "media"
    mode  = "2775"
  }

  subid {
    start = 1000
  }
}

resource "pvelxc_container_config" "transcoder" {
  container_id = pvelxc_container.transcoder.id

  media_user {} # media 1000:1000, in the groups of the GPU actually passed through
  network_dhcp_fix {}
  transcoder {} # ffmpeg, HandBrakeCLI, mediainfo, mkvtoolnix + the job runner

  intel_gpu_drivers {
    verify = var.verify_gpu
  }

  jobs {
    staging_dir = "${var.storage_path}/staging"
    library_dir = "${var.storage_path}/media"
  }

  depends_on = [pvelxc_node_config.host]
}

resource "pvelxc_container_config" "ripper" {
  container_id = pvelxc_container.ripper.id

  media_user {}
  network_dhcp_fix {}
  ripper {
    drives = [var.optical_drive]
  }

  jobs {
    staging_dir = "${var.storage_path}/staging"
    library_dir = "${var.storage_path}/media"
  }

  depends_on = [pvelxc_node_config.host]
}
