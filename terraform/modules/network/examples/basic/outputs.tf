output "vpc_id" {
  description = "The VPC."
  value       = module.network.vpc_id
}
