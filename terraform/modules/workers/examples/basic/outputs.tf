output "target_group_arn" {
  description = "Fabio's target group."
  value       = module.workers.target_group_arn
}
