output "cloud_config" {
  description = "The worker's #cloud-config."
  value       = module.worker.cloud_config
}

output "secret_paths" {
  description = "SSM parameters the worker reads at boot."
  value       = module.worker.secret_paths
}
