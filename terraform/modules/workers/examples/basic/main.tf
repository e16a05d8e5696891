# Workers joining existing masters (needs AWS credentials and the AWS provider).
provider "aws" {
  region = "eu-west-1"
}

module "network" {
  source = "../../../network"

  name               = "example"
  cidr_block         = "10.30.0.0/16"
  availability_zones = ["eu-west-1a", "eu-west-1b"]
}

resource "aws_security_group" "lb" {
  name_prefix = "example-lb-"
  description = "Example load balancer"
  vpc_id      = module.network.vpc_id
}

module "workers" {
  source = "../.."

  name                            = "example"
  vpc_id                          = module.network.vpc_id
  subnet_ids                      = module.network.private_subnet_ids
  cluster_security_group_id       = module.network.cluster_security_group_id
  load_balancer_security_group_id = aws_security_group.lb.id
  server_join_tag                 = { key = "hashiship-join", value = "example-server" }
  secrets_prefix                  = "/hashiship/example"
  fabio_sha256                    = var.fabio_sha256
}
