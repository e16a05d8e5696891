output "vault_private_ips" {
  description = "Private addresses of the Vault servers."
  value       = module.vault.private_ips
}
