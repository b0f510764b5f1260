variable "node" {
  description = "Proxmox VE node the services run on."
  type        = string
  default     = "pve"
}

variable "template" {
  description = "Container template volume (Debian 13, as the services layout uses)."
  type        = string
  default     = "local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst"
}

variable "storage" {
  description = "Storage for the containers' root disks."
  type        = string
  default     = "local-lvm"
}

variable "bridge" {
  description = "Bridge of the services network (the DMZ, vmbr3 in the layout)."
  type        = string
  default     = "vmbr3"
}

variable "gateway" {
  description = "Default gateway of the services network."
  type        = string
  default     = "172.16.10.1"
}

variable "media_root" {
  description = "Host directory holding downloads/, movies/, tv/ and music/."
  type        = string
  default     = "/srv/media"
}

variable "jellyfin_vmid" {
  description = "Container ID of Jellyfin. PVE's lowest container ID is 100, so the layout's CT 56 becomes 156."
  type        = number
  default     = 156
}

variable "qbittorrent_vmid" {
  description = "Container ID of qBittorrent (the layout's CT 59; PVE needs 100 or more)."
  type        = number
  default     = 159
}

variable "jellyfin_ip" {
  description = "Static address of Jellyfin, CIDR."
  type        = string
  default     = "172.16.10.56/24"
}

variable "qbittorrent_ip" {
  description = "Static address of qBittorrent, CIDR."
  type        = string
  default     = "172.16.10.59/24"
}

variable "root_password" {
  description = "Root password of both containers, from your secrets store (e.g. TF_VAR_root_password from a vault); used at creation only."
  type        = string
  sensitive   = true
}

variable "ssh_public_keys" {
  description = "authorized_keys for root in both containers."
  type        = string
  default     = null
}
