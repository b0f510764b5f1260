output "transcoder" {
  description = "The transcoder's ID and the lxc lines the GPU preset produced."
  value = {
    id            = pvelxc_container.transcoder.id
    generated_lxc = pvelxc_container.transcoder.generated_lxc
  }
}

output "ripper" {
  description = "The ripper's ID and the lxc lines the optical-drive preset produced."
  value = {
    id            = pvelxc_container.ripper.id
    generated_lxc = pvelxc_container.ripper.generated_lxc
  }
}

output "transcoder_checks" {
  description = "The transcoder's check results (vainfo, ffmpeg hwaccels, ...)."
  value       = pvelxc_container_config.transcoder.check_results
}
