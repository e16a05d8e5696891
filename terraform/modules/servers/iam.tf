# The machine's IAM role and instance profile: the shared ../instance-profile module
# (auto-join, exactly this role's boot secrets, Session Manager).
module "instance_profile" {
  source = "../instance-profile"

  name_prefix         = "${var.name}-master-"
  secret_paths        = module.userdata.secret_paths
  secrets_kms_key_arn = var.secrets_kms_key_arn
  session_manager     = var.session_manager
  tags                = var.tags
}

# Where these resources were before the module existed: no replacement on upgrade.

moved {
  from = aws_iam_role.master
  to   = module.instance_profile.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.master
  to   = module.instance_profile.aws_iam_role_policy.this
}

moved {
  from = aws_iam_role_policy_attachment.session_manager
  to   = module.instance_profile.aws_iam_role_policy_attachment.session_manager
}

moved {
  from = aws_iam_instance_profile.master
  to   = module.instance_profile.aws_iam_instance_profile.this
}
