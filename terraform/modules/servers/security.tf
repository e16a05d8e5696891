resource "aws_security_group" "master" {
  name_prefix = "${var.name}-master-"
  description = "Consul and Nomad servers of ${var.name}"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-master" })

  lifecycle {
    create_before_destroy = true
  }
}

locals {
  # Exactly the ports Consul and Nomad servers listen on. "cluster": every member
  # of the cluster security group; "masters": the other masters only.
  master_ingress = {
    consul_server_rpc   = { port = 8300, protocol = "tcp", from = "cluster", description = "Consul server RPC" }
    consul_serf_lan_tcp = { port = 8301, protocol = "tcp", from = "cluster", description = "Consul LAN gossip" }
    consul_serf_lan_udp = { port = 8301, protocol = "udp", from = "cluster", description = "Consul LAN gossip" }
    consul_serf_wan_tcp = { port = 8302, protocol = "tcp", from = "masters", description = "Consul WAN gossip between servers" }
    consul_serf_wan_udp = { port = 8302, protocol = "udp", from = "masters", description = "Consul WAN gossip between servers" }
    consul_http         = { port = 8500, protocol = "tcp", from = "cluster", description = "Consul HTTP API (loopback only with TLS)" }
    consul_https        = { port = 8501, protocol = "tcp", from = "cluster", description = "Consul HTTPS API" }
    consul_dns_tcp      = { port = 8600, protocol = "tcp", from = "cluster", description = "Consul DNS" }
    consul_dns_udp      = { port = 8600, protocol = "udp", from = "cluster", description = "Consul DNS" }
    nomad_http          = { port = 4646, protocol = "tcp", from = "cluster", description = "Nomad HTTP API" }
    nomad_rpc           = { port = 4647, protocol = "tcp", from = "cluster", description = "Nomad RPC" }
    nomad_serf_tcp      = { port = 4648, protocol = "tcp", from = "masters", description = "Nomad server gossip" }
    nomad_serf_udp      = { port = 4648, protocol = "udp", from = "masters", description = "Nomad server gossip" }
  }

  # The APIs operators use, from admin_cidrs.
  admin_ports = { consul_http = 8500, consul_https = 8501, nomad_http = 4646 }
  admin_rules = {
    for pair in setproduct(keys(local.admin_ports), var.admin_cidrs) :
    "${pair[0]}-${pair[1]}" => { port = local.admin_ports[pair[0]], cidr = pair[1] }
  }
}

resource "aws_vpc_security_group_ingress_rule" "master" {
  for_each = local.master_ingress

  security_group_id            = aws_security_group.master.id
  description                  = each.value.description
  ip_protocol                  = each.value.protocol
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = each.value.from == "masters" ? aws_security_group.master.id : var.cluster_security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "admin" {
  for_each = local.admin_rules

  security_group_id = aws_security_group.master.id
  description       = "Operators: ${each.key}"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.cidr
}
