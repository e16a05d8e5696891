output "arn" {
  description = "ARN of the instance profile, for a launch template's iam_instance_profile."
  value       = aws_iam_instance_profile.this.arn
}

output "role_name" {
  description = "Name of the instance role, to attach further policies."
  value       = aws_iam_role.this.name
}

output "policy_json" {
  description = "The role's inline policy document."
  value       = data.aws_iam_policy_document.this.json
}
