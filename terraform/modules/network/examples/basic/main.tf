# A QA-sized network (needs AWS credentials and the AWS provider).
provider "aws" {
  region = "eu-west-1"
}

module "network" {
  source = "../.."

  name               = "example"
  cidr_block         = "10.30.0.0/16"
  availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}
