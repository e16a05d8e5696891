# The machine's IAM role and instance profile: the shared ../instance-profile module
# (auto-join, exactly this role's boot secrets, Session Manager), plus
# what the drain on scale-in needs: find its own Auto Scaling Group, complete the
# drain lifecycle hook of this cluster's worker groups, and (with ACLs) read the Nomad
# token that drains.
module "instance_profile" {
  source = "../instance-profile"

  name_prefix         = "${var.name}-worker-"
  policy_name         = "auto-join-boot-secrets-and-drain"
  secret_paths        = concat(module.userdata.secret_paths, var.acl ? ["${var.secrets_prefix}/nomad/drain-token"] : [])
  secrets_kms_key_arn = var.secrets_kms_key_arn
  session_manager     = var.session_manager
  tags                = var.tags

  statements = [
    {
      sid       = "FindOwnGroup"
      actions   = ["autoscaling:DescribeAutoScalingInstances"]
      resources = ["*"]
    },
    {
      sid       = "CompleteDrainHook"
      actions   = ["autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"]
      resources = ["arn:${data.aws_partition.current.partition}:autoscaling:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:autoScalingGroup:*:autoScalingGroupName/${var.name}-worker-*"]
    },
  ]
}

# Where these resources were before the module existed: no replacement on upgrade.

moved {
  from = aws_iam_role.worker
  to   = module.instance_profile.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.worker
  to   = module.instance_profile.aws_iam_role_policy.this
}

moved {
  from = aws_iam_role_policy_attachment.session_manager
  to   = module.instance_profile.aws_iam_role_policy_attachment.session_manager
}

moved {
  from = aws_iam_instance_profile.worker
  to   = module.instance_profile.aws_iam_instance_profile.this
}
