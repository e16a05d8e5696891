# Three Vault servers (needs AWS credentials and the AWS provider).
provider "aws" {
  region = "eu-west-1"
}

module "network" {
  source = "../../../network"

  name               = "example"
  cidr_block         = "10.30.0.0/16"
  availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

module "vault" {
  source = "../.."

  name                      = "example"
  node_count                = 3
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  cluster_security_group_id = module.network.cluster_security_group_id
  server_join_tag           = { key = "hashiship-join", value = "example-server" }
  secrets_prefix            = "/hashiship/example"
}
