output "join_tag" {
  description = "The EC2 tag (key and value) every master carries; workers and Vault nodes auto-join Consul and Nomad through it."
  value       = local.join_tag
}

output "public_ips" {
  description = "Elastic IPs of the masters, in index order."
  value       = aws_eip.master[*].public_ip
}

output "private_ips" {
  description = "Private addresses of the masters, in index order."
  value       = aws_instance.master[*].private_ip
}

output "instance_ids" {
  description = "Instance IDs of the masters, in index order."
  value       = aws_instance.master[*].id
}

output "security_group_id" {
  description = "Security group of the masters."
  value       = aws_security_group.master.id
}

output "secret_paths" {
  description = "SSM parameters the masters read at boot; create them before the first apply (see docs/cluster.md)."
  value       = module.userdata.secret_paths
}
