resource "aws_security_group" "vault" {
  name_prefix = "${var.name}-vault-"
  description = "Vault servers of ${var.name}"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-vault" })

  lifecycle {
    create_before_destroy = true
  }
}

locals {
  vault_ingress = {
    vault_api           = { port = 8200, protocol = "tcp", from = "cluster", description = "Vault API (Nomad, tasks, metrics)" }
    vault_cluster       = { port = 8201, protocol = "tcp", from = "vault", description = "Vault raft and request forwarding" }
    consul_serf_lan_tcp = { port = 8301, protocol = "tcp", from = "cluster", description = "Consul LAN gossip" }
    consul_serf_lan_udp = { port = 8301, protocol = "udp", from = "cluster", description = "Consul LAN gossip" }
    consul_http         = { port = 8500, protocol = "tcp", from = "cluster", description = "Consul HTTP API (metrics; loopback only with TLS)" }
    consul_https        = { port = 8501, protocol = "tcp", from = "cluster", description = "Consul HTTPS API (metrics)" }
  }
}

resource "aws_vpc_security_group_ingress_rule" "vault" {
  for_each = local.vault_ingress

  security_group_id            = aws_security_group.vault.id
  description                  = each.value.description
  ip_protocol                  = each.value.protocol
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = each.value.from == "vault" ? aws_security_group.vault.id : var.cluster_security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "admin" {
  for_each = toset(var.admin_cidrs)

  security_group_id = aws_security_group.vault.id
  description       = "Operators: Vault API and UI"
  ip_protocol       = "tcp"
  from_port         = 8200
  to_port           = 8200
  cidr_ipv4         = each.value
}
