output "load_balancer_dns_name" {
  description = "DNS name of the load balancer in front of Fabio."
  value       = aws_lb.fabio.dns_name
}

output "master_public_ips" {
  description = "Elastic IPs of the masters (Consul :8501, Nomad :4646 from admin_cidrs)."
  value       = module.servers.public_ips
}

output "vault_private_ips" {
  description = "Private addresses of the Vault servers."
  value       = module.vault.private_ips
}

output "secret_paths" {
  description = "Every SSM parameter the cluster reads at boot; create them before the first apply."
  value       = distinct(concat(module.servers.secret_paths, module.workers.secret_paths, module.vault.secret_paths))
}
