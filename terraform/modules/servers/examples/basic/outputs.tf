output "master_public_ips" {
  description = "Elastic IPs of the masters."
  value       = module.servers.public_ips
}
