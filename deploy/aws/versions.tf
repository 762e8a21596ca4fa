# Terraform and provider versions, and the provider itself.
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Checked (deploy/aws/validate) against the 5.x schema.
      version = ">= 5.40, < 6.0"
    }
  }

  # State holds the generated database password and cache token: keep it in an encrypted,
  # versioned S3 bucket with locking. Give the rest at init time, e.g.
  #   terraform init -backend-config=backend.hcl   (see README.md)
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}
