output "jellyfin_url" {
  description = "Jellyfin's web UI."
  value       = "http://${split("/", var.jellyfin_ip)[0]}:8096"
}

output "qbittorrent_url" {
  description = "qBittorrent's web UI (its first-start admin password is in `journalctl -u qbittorrent` inside the container)."
  value       = "http://${split("/", var.qbittorrent_ip)[0]}:8080"
}

output "container_ids" {
  description = "IDs (<node>/<vmid>) of the service containers."
  value = {
    jellyfin    = pvelxc_container.jellyfin.id
    qbittorrent = pvelxc_container.qbittorrent.id
  }
}
