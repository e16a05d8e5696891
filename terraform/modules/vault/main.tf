data "aws_region" "current" {}

data "aws_ami" "debian" {
  count       = var.ami_id == null ? 1 : 0
  most_recent = true
  owners      = ["136693071363"] # Debian's official cloud images

  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

locals {
  join_tag = { key = var.join_tag_key, value = "${var.name}-vault" }
}

# Auto-unseal: Vault servers unseal themselves through this key after a restart.
resource "aws_kms_key" "unseal" {
  description             = "Vault auto-unseal for ${var.name}"
  deletion_window_in_days = var.kms_deletion_window_days
  enable_key_rotation     = true
  tags                    = var.tags
}

resource "aws_kms_alias" "unseal" {
  name          = "alias/${var.name}-vault-unseal"
  target_key_id = aws_kms_key.unseal.key_id
}

module "userdata" {
  source = "../userdata"

  role             = "vault"
  datacenter       = var.datacenter
  aws_region       = data.aws_region.current.name
  join_tag         = var.server_join_tag
  vault_join_tag   = local.join_tag
  tls              = var.tls
  acl              = var.acl
  vault_kms_key_id = aws_kms_key.unseal.arn
  secrets          = { source = "ssm", prefix = var.secrets_prefix }
  packages         = { consul = var.packages.consul, vault = var.packages.vault }
}

resource "aws_launch_template" "vault" {
  name_prefix            = "${var.name}-vault-"
  description            = "Vault servers of ${var.name} (integrated storage)"
  image_id               = var.ami_id != null ? var.ami_id : data.aws_ami.debian[0].id
  instance_type          = var.instance_type
  user_data              = module.userdata.user_data_base64
  vpc_security_group_ids = [aws_security_group.vault.id, var.cluster_security_group_id]
  update_default_version = true
  ebs_optimized          = true

  iam_instance_profile {
    arn = module.instance_profile.arn
  }

  # IMDSv2 only; the KMS seal and auto-join use the instance role from the host.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_type           = "gp3"
      volume_size           = var.root_volume_size
      encrypted             = true
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(var.tags, { Name = "${var.name}-vault" })
  }

  tags = var.tags
}

# Like the masters: a raft quorum, so a new template version never replaces
# running servers; roll them one at a time with terraform apply -replace.
resource "aws_instance" "vault" {
  count     = var.node_count
  subnet_id = var.subnet_ids[count.index % length(var.subnet_ids)]

  launch_template {
    id      = aws_launch_template.vault.id
    version = aws_launch_template.vault.latest_version
  }

  tags = merge(var.tags, {
    Name                 = "${var.name}-vault-${count.index}"
    (local.join_tag.key) = local.join_tag.value
    "hashiship-role"     = "vault"
  })

  lifecycle {
    ignore_changes = [launch_template, user_data, user_data_base64, ami]
  }
}
