# Render a worker's user data offline: terraform init && terraform apply
module "worker" {
  source = "../.."

  role       = "client"
  aws_region = "eu-west-1"
  datacenter = "qa"
  join_tag   = { key = "hashiship-join", value = "hashiship-qa-server" }
  secrets    = { source = "ssm", prefix = "/hashiship/qa" }
  fabio      = { sha256 = "0000000000000000000000000000000000000000000000000000000000000000" }
}
