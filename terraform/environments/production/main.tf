data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  # Nomad reaches Vault by a private DNS name (below) that AWS's resolver answers;
  # Vault's certificate must carry it besides vault.service.consul.
  vault_address = "https://vault.${local.name}.internal:8200"
  name          = "hashiship-production"
  datacenter    = "production"
  tags = {
    "hashiship-environment" = "production"
    "managed-by"            = "terraform"
  }
}

module "network" {
  source = "../../modules/network"

  name               = local.name
  cidr_block         = var.vpc_cidr
  availability_zones = slice(data.aws_availability_zones.available.names, 0, 3)
  nat_gateway_per_az = true # losing one zone must not cut the others off
  tags               = local.tags
}

module "servers" {
  source = "../../modules/servers"

  name                      = local.name
  master_count              = 5
  datacenter                = local.datacenter
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.public_subnet_ids
  cluster_security_group_id = module.network.cluster_security_group_id
  admin_cidrs               = var.admin_cidrs
  vault_address             = local.vault_address
  secrets_prefix            = var.secrets_prefix
  tags                      = local.tags
}

module "vault" {
  source = "../../modules/vault"

  name                      = local.name
  node_count                = 3
  datacenter                = local.datacenter
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  cluster_security_group_id = module.network.cluster_security_group_id
  admin_cidrs               = var.admin_cidrs
  server_join_tag           = module.servers.join_tag
  secrets_prefix            = var.secrets_prefix
  tags                      = local.tags
}

module "workers" {
  source = "../../modules/workers"

  name                            = local.name
  min_size                        = var.worker_count.min
  max_size                        = var.worker_count.max
  desired_capacity                = var.worker_count.desired
  datacenter                      = local.datacenter
  vpc_id                          = module.network.vpc_id
  subnet_ids                      = module.network.private_subnet_ids
  cluster_security_group_id       = module.network.cluster_security_group_id
  load_balancer_security_group_id = aws_security_group.lb.id
  admin_cidrs                     = var.admin_cidrs
  server_join_tag                 = module.servers.join_tag
  vault_address                   = local.vault_address
  secrets_prefix                  = var.secrets_prefix
  fabio_sha256                    = var.fabio_sha256
  tags                            = local.tags
}

# A private zone so that Nomad finds Vault without forwarding DNS to Consul: any
# Vault server answers (standbys forward to the active one).
resource "aws_route53_zone" "internal" {
  name    = "${local.name}.internal"
  comment = "Private names of ${local.name}"

  vpc {
    vpc_id = module.network.vpc_id
  }
}

resource "aws_route53_record" "vault" {
  zone_id = aws_route53_zone.internal.zone_id
  name    = "vault.${local.name}.internal"
  type    = "A"
  ttl     = 30
  records = module.vault.private_ips
}
