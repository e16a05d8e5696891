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
  join_tag = { key = var.join_tag_key, value = "${var.name}-server" }
  ami_id   = var.ami_id != null ? var.ami_id : data.aws_ami.debian[0].id
}

module "userdata" {
  source = "../userdata"

  role             = "server"
  datacenter       = var.datacenter
  region           = var.region
  aws_region       = data.aws_region.current.name
  join_tag         = local.join_tag
  bootstrap_expect = var.master_count
  tls              = var.tls
  acl              = var.acl
  vault_address    = var.vault_address
  secrets          = { source = "ssm", prefix = var.secrets_prefix }
  packages         = var.packages
}

resource "aws_launch_template" "master" {
  name_prefix            = "${var.name}-master-"
  description            = "Masters of ${var.name}: Consul and Nomad servers"
  image_id               = local.ami_id
  instance_type          = var.instance_type
  user_data              = module.userdata.user_data_base64
  vpc_security_group_ids = [aws_security_group.master.id, var.cluster_security_group_id]
  update_default_version = true
  ebs_optimized          = true

  iam_instance_profile {
    arn = module.instance_profile.arn
  }

  # IMDSv2 only: a token is required, and it cannot leave the instance (one hop).
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
    tags          = merge(var.tags, { Name = "${var.name}-master" })
  }

  tags = var.tags
}

# Fixed masters, one per index. A new launch template version (e.g. changed user
# data) never replaces running masters: Terraform ignores it on existing ones, and
# operators roll them one at a time with
#   terraform apply -replace='module.servers.aws_instance.master[N]'
# waiting for Consul and Nomad to report a healthy raft quorum in between.
resource "aws_instance" "master" {
  count     = var.master_count
  subnet_id = var.subnet_ids[count.index % length(var.subnet_ids)]

  launch_template {
    id      = aws_launch_template.master.id
    version = aws_launch_template.master.latest_version
  }

  tags = merge(var.tags, {
    Name                   = "${var.name}-master-${count.index}"
    (local.join_tag.key)   = local.join_tag.value
    "hashiship-role"       = "server"
    "hashiship-master-idx" = tostring(count.index)
  })

  lifecycle {
    ignore_changes = [launch_template, user_data, user_data_base64, ami]
  }
}

resource "aws_eip" "master" {
  count  = var.master_count
  domain = "vpc"
  tags   = merge(var.tags, { Name = "${var.name}-master-${count.index}" })
}

resource "aws_eip_association" "master" {
  count         = var.master_count
  instance_id   = aws_instance.master[count.index].id
  allocation_id = aws_eip.master[count.index].id
}
