resource "aws_security_group" "worker" {
  name_prefix = "${var.name}-worker-"
  description = "Nomad and Consul clients with Fabio of ${var.name}"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-worker" })

  lifecycle {
    create_before_destroy = true
  }
}

locals {
  # What a worker listens on, and who may reach it.
  worker_ingress = {
    consul_serf_lan_tcp = { from_port = 8301, to_port = 8301, protocol = "tcp", from = "cluster", description = "Consul LAN gossip" }
    consul_serf_lan_udp = { from_port = 8301, to_port = 8301, protocol = "udp", from = "cluster", description = "Consul LAN gossip" }
    consul_https        = { from_port = 8501, to_port = 8501, protocol = "tcp", from = "cluster", description = "Consul HTTPS API (metrics)" }
    consul_http         = { from_port = 8500, to_port = 8500, protocol = "tcp", from = "cluster", description = "Consul HTTP API (metrics; loopback only with TLS)" }
    nomad_http          = { from_port = 4646, to_port = 4646, protocol = "tcp", from = "cluster", description = "Nomad client HTTP API (metrics, alloc logs)" }
    fabio_metrics       = { from_port = 9102, to_port = 9102, protocol = "tcp", from = "cluster", description = "Fabio Prometheus metrics" }
    task_ports          = { from_port = 20000, to_port = 32000, protocol = "tcp", from = "workers", description = "Nomad dynamic task ports (Fabio to services)" }
    fabio_proxy         = { from_port = 9999, to_port = 9999, protocol = "tcp", from = "lb", description = "Fabio proxy" }
    fabio_health        = { from_port = 9998, to_port = 9998, protocol = "tcp", from = "lb", description = "Fabio health check" }
  }
  worker_sources = {
    cluster = var.cluster_security_group_id
    workers = aws_security_group.worker.id
    lb      = var.load_balancer_security_group_id
  }
}

resource "aws_vpc_security_group_ingress_rule" "worker" {
  for_each = local.worker_ingress

  security_group_id            = aws_security_group.worker.id
  description                  = each.value.description
  ip_protocol                  = each.value.protocol
  from_port                    = each.value.from_port
  to_port                      = each.value.to_port
  referenced_security_group_id = local.worker_sources[each.value.from]
}

resource "aws_vpc_security_group_ingress_rule" "admin" {
  for_each = toset(var.admin_cidrs)

  security_group_id = aws_security_group.worker.id
  description       = "Operators: Nomad client API"
  ip_protocol       = "tcp"
  from_port         = 4646
  to_port           = 4646
  cidr_ipv4         = each.value
}
