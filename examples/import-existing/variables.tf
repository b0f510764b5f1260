variable "node" {
  description = "Node the hand-built containers run on."
  type        = string
  default     = "pve"
}

variable "transcoder_vmid" {
  description = "ID of the transcoder built by hand from the runbook."
  type        = number
  default     = 201
}

variable "ripper_vmid" {
  description = "ID of the ripper built by hand from the runbook."
  type        = number
  default     = 202
}

variable "storage" {
  description = "Storage holding their root disks."
  type        = string
  default     = "local-lvm"
}

variable "bridge" {
  description = "Bridge of their eth0."
  type        = string
  default     = "vmbr0"
}

variable "optical_device" {
  description = "The cgroup rule of the optical drive as the ripper's conf has it (check `ls -l /dev/sr0` on the node: b 11:0 on real hardware)."
  type        = string
  default     = "c 11:0 rwm"
}
