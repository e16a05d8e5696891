output "private_ips" {
  description = "Private addresses of the Vault servers, in index order."
  value       = aws_instance.vault[*].private_ip
}

output "instance_ids" {
  description = "Instance IDs of the Vault servers, in index order."
  value       = aws_instance.vault[*].id
}

output "kms_key_arn" {
  description = "KMS key Vault auto-unseals with."
  value       = aws_kms_key.unseal.arn
}

output "security_group_id" {
  description = "Security group of the Vault servers."
  value       = aws_security_group.vault.id
}

output "join_tag" {
  description = "The EC2 tag (key and value) Vault servers find each other by."
  value       = local.join_tag
}

output "secret_paths" {
  description = "SSM parameters the Vault servers read at boot; create them before the first apply (see docs/cluster.md)."
  value       = module.userdata.secret_paths
}
