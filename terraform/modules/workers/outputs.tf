output "autoscaling_group_name" {
  description = "Name of the workers' Auto Scaling Group."
  value       = aws_autoscaling_group.worker.name
}

output "target_group_arn" {
  description = "Target group of Fabio's proxy port; attach it to a load balancer listener."
  value       = aws_lb_target_group.fabio.arn
}

output "security_group_id" {
  description = "Security group of the workers."
  value       = aws_security_group.worker.id
}

output "launch_template_latest_version" {
  description = "Latest version of the workers' launch template (the one the Auto Scaling Group runs)."
  value       = aws_launch_template.worker.latest_version
}

output "secret_paths" {
  description = "SSM parameters the workers read at boot; create them before the first apply (see docs/cluster.md)."
  value       = module.userdata.secret_paths
}

output "drain_lifecycle_hook" {
  description = "Name of the lifecycle hook a terminating worker completes after draining its Nomad node."
  value       = aws_autoscaling_lifecycle_hook.drain.name
}
