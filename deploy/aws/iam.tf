# Instance roles with least privilege: the nodes read their own secrets and the buckets they
# use; the NATS servers only talk to Systems Manager. No SSH anywhere: operators use
# Session Manager (aws ssm start-session).

locals {
  release_from_s3    = startswith(var.innkeep_release_url, "s3://")
  release_object_arn = "arn:${local.partition}:s3:::${trimprefix(var.innkeep_release_url, "s3://")}"
}

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_service_linked_role" "autoscaling" {
  count            = var.create_autoscaling_service_linked_role ? 1 : 0
  aws_service_name = "autoscaling.amazonaws.com"
}

# --- Innkeep nodes ---------------------------------------------------------------------------

resource "aws_iam_role" "app" {
  name               = "${var.name}-app"
  description        = "Innkeep nodes"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

resource "aws_iam_instance_profile" "app" {
  name = "${var.name}-app"
  role = aws_iam_role.app.name
}

resource "aws_iam_role_policy_attachment" "app_ssm" {
  role       = aws_iam_role.app.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

data "aws_iam_policy_document" "app" {
  statement {
    sid       = "ReadOwnSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [for s in aws_secretsmanager_secret.app : s.arn]
  }

  statement {
    sid       = "DecryptOwnSecrets"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.secrets.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${var.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "ListBuckets"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.data["photos"].arn, aws_s3_bucket.data["lake"].arn]
  }

  statement {
    sid     = "PhotosAndLakeObjects"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [
      "${aws_s3_bucket.data["photos"].arn}/*",
      "${aws_s3_bucket.data["lake"].arn}/*",
    ]
  }

  # Backups are written, never read or deleted, by the nodes (restores are an operator's job).
  statement {
    sid       = "WriteBackups"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${aws_s3_bucket.data["backups"].arn}/*"]
  }

  statement {
    sid       = "BucketKeys"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.photos.arn, aws_kms_key.data.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.region}.amazonaws.com"]
    }
  }

  # The CloudWatch agent ships the node's log lines into its log group.
  statement {
    sid       = "ShipLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.app.arn}:*"]
  }

  # IAM database authentication for operators on a node (psql with a token, no password).
  statement {
    sid       = "DatabaseIamLogin"
    actions   = ["rds-db:connect"]
    resources = ["arn:${local.partition}:rds-db:${var.region}:${local.account_id}:dbuser:${aws_db_instance.primary.resource_id}/${var.db_iam_username}"]
  }

  dynamic "statement" {
    for_each = local.release_from_s3 ? [local.release_object_arn] : []
    content {
      sid       = "FetchRelease"
      actions   = ["s3:GetObject"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "app" {
  name   = "innkeep-node"
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.app.json
}

# --- NATS servers ------------------------------------------------------------------------------

resource "aws_iam_role" "nats" {
  name               = "${var.name}-nats"
  description        = "NATS JetStream servers"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

resource "aws_iam_instance_profile" "nats" {
  name = "${var.name}-nats"
  role = aws_iam_role.nats.name
}

resource "aws_iam_role_policy_attachment" "nats_ssm" {
  role       = aws_iam_role.nats.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

# --- RDS enhanced monitoring ----------------------------------------------------------------

data "aws_iam_policy_document" "rds_monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "rds_monitoring" {
  name               = "${var.name}-rds-monitoring"
  description        = "RDS enhanced monitoring of the Innkeep database"
  assume_role_policy = data.aws_iam_policy_document.rds_monitoring_assume.json
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  role       = aws_iam_role.rds_monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}
