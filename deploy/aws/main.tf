# Shared names, looked-up facts and derived values.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# Latest Amazon Linux 2023 (systemd 252, the AWS CLI) unless var.ami_id pins one.
data "aws_ssm_parameter" "al2023" {
  count = var.ami_id == "" ? 1 : 0
  name  = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${var.architecture}"
}

data "aws_ami" "base" {
  filter {
    name   = "image-id"
    values = [local.ami_id]
  }
}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  azs        = var.availability_zones
  ami_id     = var.ami_id != "" ? var.ami_id : data.aws_ssm_parameter.al2023[0].insecure_value

  # 3 public /24s, 3 app /20s and 3 data /24s of a /16 (smaller VPCs scale down).
  subnet_cidrs = cidrsubnets(var.vpc_cidr, 8, 8, 8, 4, 4, 4, 8, 8, 8)
  public_cidrs = slice(local.subnet_cidrs, 0, 3)
  app_cidrs    = slice(local.subnet_cidrs, 3, 6)
  data_cidrs   = slice(local.subnet_cidrs, 6, 9)

  # Globally unique bucket names.
  bucket_suffix = "${local.account_id}-${var.region}"

  nats_url = "nats://nats.${var.internal_zone_name}:4222"

  tags = merge(var.tags, {
    Application = "innkeep"
    Environment = var.environment
    ManagedBy   = "terraform"
  })
}
