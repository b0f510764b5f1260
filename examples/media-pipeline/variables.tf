variable "node" {
  description = "Proxmox VE node with the GPU, the optical drive and the storage pool."
  type        = string
  default     = "pve"
}

variable "template" {
  description = "Container template volume (the runbook uses Debian 12)."
  type        = string
  default     = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
}

variable "storage" {
  description = "Storage for the containers' root disks."
  type        = string
  default     = "local-lvm"
}

variable "bridge" {
  description = "Bridge both containers attach to (DHCP)."
  type        = string
  default     = "vmbr0"
}

variable "storage_path" {
  description = "The host's shared media pool (mergerfs in the runbook), mounted at the same path in both containers."
  type        = string
  default     = "/mnt/storage"
}

variable "transcoder_vmid" {
  description = "Container ID of the transcoder."
  type        = number
  default     = 201
}

variable "ripper_vmid" {
  description = "Container ID of the ripper."
  type        = number
  default     = 202
}

variable "gpu_vendor" {
  description = "GPU passed to the transcoder: intel, amd, nvidia or auto."
  type        = string
  default     = "intel"
}

variable "optical_drive" {
  description = "The node's optical drive; its SCSI-generic twin (/dev/sgN) is found and passed through too."
  type        = string
  default     = "/dev/sr0"
}

variable "ssh_public_keys" {
  description = "authorized_keys for root in both containers."
  type        = string
  default     = null
}

variable "node_root" {
  description = "Directory the node-side agent treats as `/`. Keep `/` on a real node."
  type        = string
  default     = "/"
}

variable "verify_gpu" {
  description = "Run the vainfo check in the transcoder (needs a real GPU)."
  type        = bool
  default     = true
}
