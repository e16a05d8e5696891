output "cloud_config" {
  description = "The rendered #cloud-config document (plain text): agent configuration, systemd units and the first-boot script (and, with drain, the drain script and units). Contains no secrets."
  value       = local.cloud_config

  precondition {
    condition     = var.drain == null || var.role == "client"
    error_message = "drain is for workers (role client) only."
  }
}

output "user_data_base64" {
  description = "The cloud-config gzip-compressed and base64-encoded, for a launch template's user_data (EC2 allows 16 KiB)."
  value       = base64gzip(local.cloud_config)

  precondition {
    condition     = length(base64gzip(local.cloud_config)) <= 16384
    error_message = "The compressed user data exceeds EC2's 16 KiB limit."
  }
}

output "secret_names" {
  description = "Names (relative to secrets.prefix) of the secrets this role fetches at boot; the instance role needs read access to exactly these."
  value       = local.secret_names
}

output "secret_paths" {
  description = "Full names (secrets.prefix/name) of the secrets this role fetches at boot."
  value       = [for n in local.secret_names : "${var.secrets.prefix}/${n}"]
}

output "params" {
  description = "The template parameters, for comparison with `hashiship agent-config` output."
  value       = local.params
}
