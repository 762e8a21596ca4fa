# Customer managed keys, yearly rotation, one per kind of data so that a grant on one
# opens nothing else. Every policy starts with the account's administrators (IAM decides
# who of them), then names the AWS services that encrypt on our behalf.

locals {
  kms_root_statement = {
    Sid       = "AccountAdministration"
    Effect    = "Allow"
    Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
    Action    = "kms:*"
    Resource  = "*"
  }
  autoscaling_role_arn = "arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
}

# RDS storage and Performance Insights, ElastiCache, the lake and backups buckets.
resource "aws_kms_key" "data" {
  description             = "${var.name}: database, cache, lake and backups"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [local.kms_root_statement]
  })
}

resource "aws_kms_alias" "data" {
  name          = "alias/${var.name}-data"
  target_key_id = aws_kms_key.data.key_id
}

# Photos: CloudFront (the photos distribution only) may decrypt to serve them.
resource "aws_kms_key" "photos" {
  description             = "${var.name}: photos bucket"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      local.kms_root_statement,
      {
        Sid       = "CloudFrontServesPhotos"
        Effect    = "Allow"
        Principal = { Service = "cloudfront.amazonaws.com" }
        Action    = ["kms:Decrypt"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceArn" = "arn:${local.partition}:cloudfront::${local.account_id}:distribution/${aws_cloudfront_distribution.photos.id}" }
        }
      },
    ]
  })
}

resource "aws_kms_alias" "photos" {
  name          = "alias/${var.name}-photos"
  target_key_id = aws_kms_key.photos.key_id
}

# Secrets Manager.
resource "aws_kms_key" "secrets" {
  description             = "${var.name}: Secrets Manager secrets"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [local.kms_root_statement]
  })
}

resource "aws_kms_alias" "secrets" {
  name          = "alias/${var.name}-secrets"
  target_key_id = aws_kms_key.secrets.key_id
}

# EBS volumes of the nodes and the NATS servers. Auto Scaling launches the nodes with its
# service-linked role, which therefore needs the key (and grants for the attached volume).
resource "aws_kms_key" "ebs" {
  description             = "${var.name}: EBS volumes"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      local.kms_root_statement,
      {
        Sid       = "AutoScalingUsesKey"
        Effect    = "Allow"
        Principal = { AWS = local.autoscaling_role_arn }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
        Resource  = "*"
      },
      {
        Sid       = "AutoScalingAttachesVolumes"
        Effect    = "Allow"
        Principal = { AWS = local.autoscaling_role_arn }
        Action    = ["kms:CreateGrant"]
        Resource  = "*"
        Condition = { Bool = { "kms:GrantIsForAWSResource" = "true" } }
      },
    ]
  })

  depends_on = [aws_iam_service_linked_role.autoscaling]
}

resource "aws_kms_alias" "ebs" {
  name          = "alias/${var.name}-ebs"
  target_key_id = aws_kms_key.ebs.key_id
}

# CloudWatch Logs (application, database, WAF logs) and the alarm topic.
resource "aws_kms_key" "logs" {
  description             = "${var.name}: CloudWatch Logs and alarm notifications"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      local.kms_root_statement,
      {
        Sid       = "CloudWatchLogsEncrypts"
        Effect    = "Allow"
        Principal = { Service = "logs.${var.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:*" }
        }
      },
      {
        Sid       = "CloudWatchAlarmsPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
        }
      },
    ]
  })
}

resource "aws_kms_alias" "logs" {
  name          = "alias/${var.name}-logs"
  target_key_id = aws_kms_key.logs.key_id
}
