# The public entry point: an application load balancer forwarding to Fabio on
# every worker.
resource "aws_security_group" "lb" {
  name_prefix = "${local.name}-lb-"
  description = "Load balancer in front of Fabio (${local.name})"
  vpc_id      = module.network.vpc_id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "lb_http" {
  for_each = toset(var.ingress_cidrs)

  security_group_id = aws_security_group.lb.id
  description       = "HTTP from clients"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "lb_to_fabio" {
  for_each = { proxy = 9999, health = 9998 }

  security_group_id            = aws_security_group.lb.id
  description                  = "Fabio ${each.key}"
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
  referenced_security_group_id = module.workers.security_group_id
}

resource "aws_lb" "fabio" {
  name                       = "${local.name}-fabio"
  load_balancer_type         = "application"
  subnets                    = module.network.public_subnet_ids
  security_groups            = [aws_security_group.lb.id]
  drop_invalid_header_fields = true
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.fabio.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = module.workers.target_group_arn
  }
}
