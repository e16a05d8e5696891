data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

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

module "userdata" {
  source = "../userdata"

  role          = "client"
  datacenter    = var.datacenter
  region        = var.region
  aws_region    = data.aws_region.current.name
  join_tag      = var.server_join_tag
  tls           = var.tls
  acl           = var.acl
  raw_exec      = var.raw_exec
  java          = var.java
  host_volumes  = var.host_volumes
  vault_address = var.vault_address
  secrets       = { source = "ssm", prefix = var.secrets_prefix }
  packages      = var.packages
  fabio         = { url = var.fabio_url, sha256 = var.fabio_sha256 }

  # The on-instance half of the drain on scale-in: see aws_autoscaling_lifecycle_hook.drain.
  drain = { lifecycle_hook = local.drain_hook, deadline = var.drain_deadline }
}

locals {
  drain_hook = "drain"
}

resource "aws_launch_template" "worker" {
  name_prefix            = "${var.name}-worker-"
  description            = "Workers of ${var.name}: Nomad and Consul clients with Fabio"
  image_id               = var.ami_id != null ? var.ami_id : data.aws_ami.debian[0].id
  instance_type          = var.instance_type
  user_data              = module.userdata.user_data_base64
  vpc_security_group_ids = [aws_security_group.worker.id, var.cluster_security_group_id]
  update_default_version = true
  ebs_optimized          = true

  iam_instance_profile {
    arn = module.instance_profile.arn
  }

  # IMDSv2 only. Hop limit 2: Docker tasks sit one hop away and may need the
  # instance role (e.g. to pull from ECR); tokens still cannot leave the host.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
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
    resource_type = "instance"
    tags          = merge(var.tags, { Name = "${var.name}-worker", "hashiship-role" = "client" })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(var.tags, { Name = "${var.name}-worker" })
  }

  tags = var.tags
}

# Fabio listens on every worker; the load balancer sends traffic to its proxy port
# and asks its UI port whether it is healthy.
resource "aws_lb_target_group" "fabio" {
  name_prefix          = "fabio-"
  port                 = 9999
  protocol             = "HTTP"
  vpc_id               = var.vpc_id
  deregistration_delay = 30

  health_check {
    path                = "/health"
    port                = "9998"
    protocol            = "HTTP"
    matcher             = "200"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_autoscaling_group" "worker" {
  name_prefix               = "${var.name}-worker-"
  min_size                  = var.min_size
  max_size                  = var.max_size
  desired_capacity          = var.desired_capacity
  vpc_zone_identifier       = var.subnet_ids
  target_group_arns         = [aws_lb_target_group.fabio.arn]
  health_check_type         = "ELB"
  health_check_grace_period = var.health_check_grace_period
  termination_policies      = ["OldestLaunchTemplate", "OldestInstance"]

  # The template's latest version number, not "$Latest": a new version changes
  # this attribute, and that change starts the instance refresh below.
  launch_template {
    id      = aws_launch_template.worker.id
    version = aws_launch_template.worker.latest_version
  }

  instance_refresh {
    strategy = "Rolling"

    preferences {
      min_healthy_percentage = var.min_healthy_percentage
      instance_warmup        = var.health_check_grace_period
      auto_rollback          = true
    }
  }

  dynamic "tag" {
    for_each = merge(var.tags, { Name = "${var.name}-worker", "hashiship-role" = "client" })

    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  lifecycle {
    precondition {
      condition     = var.min_size <= var.desired_capacity && var.desired_capacity <= var.max_size
      error_message = "desired_capacity must lie between min_size and max_size."
    }
  }
}

# Scale-in and instance refresh never kill a worker with work on it: a terminating
# instance waits in Terminating:Wait while hashiship-lifecycle.service on it (from
# the userdata module) sees its target lifecycle state in the instance metadata,
# drains its Nomad node (`nomad node drain -self -enable -deadline`, allocations
# placed elsewhere first) and completes this hook. If the instance cannot, the hook
# times out and termination continues anyway.
resource "aws_autoscaling_lifecycle_hook" "drain" {
  name                   = local.drain_hook
  autoscaling_group_name = aws_autoscaling_group.worker.name
  lifecycle_transition   = "autoscaling:EC2_INSTANCE_TERMINATING"
  heartbeat_timeout      = var.drain_heartbeat_timeout
  default_result         = "CONTINUE"
}
