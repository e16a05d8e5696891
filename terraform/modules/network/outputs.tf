output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "public_subnet_ids" {
  description = "Public subnets (load balancer, NAT, masters), one per availability zone."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnets (workers, Vault), one per availability zone."
  value       = aws_subnet.private[*].id
}

output "cluster_security_group_id" {
  description = "Security group every cluster member carries; agent port rules allow traffic from it."
  value       = aws_security_group.cluster.id
}
