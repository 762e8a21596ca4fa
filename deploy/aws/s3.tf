# Buckets: photos (storage.url, served through CloudFront), the analytics lake, backups,
# and one bucket for the access logs of everything else. All private, versioned, TLS-only,
# with a lifecycle; the data buckets are encrypted with customer managed KMS keys.

locals {
  data_bucket_names = toset(["photos", "lake", "backups"])
  data_bucket_keys = {
    photos  = aws_kms_key.photos.arn
    lake    = aws_kms_key.data.arn
    backups = aws_kms_key.data.arn
  }
}

resource "aws_s3_bucket" "data" {
  #checkov:skip=CKV_AWS_144:Single-region deployment; cross-region replication (a second region, its keys and buckets) is out of scope. Versioning keeps 30 days of overwritten and deleted objects.
  for_each = local.data_bucket_names
  bucket   = "${var.name}-${each.key}-${local.bucket_suffix}"

  tags = { Name = "${var.name}-${each.key}" }
}

resource "aws_s3_bucket_ownership_controls" "data" {
  for_each = local.data_bucket_names
  bucket   = aws_s3_bucket.data[each.key].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "data" {
  for_each                = local.data_bucket_names
  bucket                  = aws_s3_bucket.data[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "data" {
  for_each = local.data_bucket_names
  bucket   = aws_s3_bucket.data[each.key].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  for_each = local.data_bucket_names
  bucket   = aws_s3_bucket.data[each.key].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = local.data_bucket_keys[each.key]
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "data" {
  for_each      = local.data_bucket_names
  bucket        = aws_s3_bucket.data[each.key].id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "s3/${each.key}/"
}

resource "aws_s3_bucket_notification" "data" {
  for_each    = local.data_bucket_names
  bucket      = aws_s3_bucket.data[each.key].id
  eventbridge = true
}

# Every bucket: failed multipart uploads go after 7 days, overwritten or deleted versions
# after var.noncurrent_version_days. The lake's Parquet files (written once, read by
# analytics now and then) move to Standard-IA; backups move to Glacier Instant Retrieval
# after 30 days and expire after var.backup_retention_days.
locals {
  data_bucket_transitions = {
    photos  = []
    lake    = [{ days = var.lake_infrequent_access_days, storage_class = "STANDARD_IA" }]
    backups = [{ days = 30, storage_class = "GLACIER_IR" }]
  }
  data_bucket_expiry_days = {
    photos  = null
    lake    = null
    backups = var.backup_retention_days
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  for_each = local.data_bucket_names
  bucket   = aws_s3_bucket.data[each.key].id

  rule {
    id     = "lifecycle"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }

    dynamic "transition" {
      for_each = local.data_bucket_transitions[each.key]
      content {
        days          = transition.value.days
        storage_class = transition.value.storage_class
      }
    }

    expiration {
      days                         = local.data_bucket_expiry_days[each.key]
      expired_object_delete_marker = local.data_bucket_expiry_days[each.key] == null ? true : null
    }
  }

  depends_on = [aws_s3_bucket_versioning.data]
}

data "aws_iam_policy_document" "data_bucket" {
  for_each = local.data_bucket_names

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.data[each.key].arn,
      "${aws_s3_bucket.data[each.key].arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    for_each = each.key == "photos" ? [aws_cloudfront_distribution.photos.arn] : []
    content {
      sid       = "CloudFrontReadsPhotos"
      actions   = ["s3:GetObject"]
      resources = ["${aws_s3_bucket.data[each.key].arn}/*"]

      principals {
        type        = "Service"
        identifiers = ["cloudfront.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "AWS:SourceArn"
        values   = [statement.value]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "data" {
  for_each = local.data_bucket_names
  bucket   = aws_s3_bucket.data[each.key].id
  policy   = data.aws_iam_policy_document.data_bucket[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.data]
}

# --- Logs bucket ---------------------------------------------------------------------------
# Load balancer access logs and S3 server access logs can only be delivered to a bucket
# encrypted with S3-managed keys, and CloudFront standard logs need ACLs enabled.

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_145:ALB access logs and S3 server access logs are only delivered to SSE-S3 (AES256) buckets, not SSE-KMS.
  #checkov:skip=CKV_AWS_18:This is the access-log bucket; logging it into itself would loop.
  #checkov:skip=CKV_AWS_144:Single-region deployment; logs are not replicated.
  bucket = "${var.name}-logs-${local.bucket_suffix}"

  tags = { Name = "${var.name}-logs" }
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  #checkov:skip=CKV2_AWS_65:CloudFront standard logging writes with ACLs (awslogsdelivery grant), so ACLs stay enabled (BucketOwnerPreferred) on the logs bucket only.
  bucket = aws_s3_bucket.logs.id

  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_notification" "logs" {
  bucket      = aws_s3_bucket.logs.id
  eventbridge = true
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "retention"
    status = "Enabled"

    filter {}

    expiration {
      days = var.log_retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 7
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.logs]
}

# Regions opened before August 2022 deliver ALB logs from a per-region ELB account; newer
# regions from the log delivery service. Both are admitted, to the alb/ prefix only.
data "aws_elb_service_account" "current" {}

data "aws_iam_policy_document" "logs_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.logs.arn,
      "${aws_s3_bucket.logs.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "AlbAccessLogsLegacyRegions"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/alb/AWSLogs/${local.account_id}/*"]

    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.current.arn]
    }
  }

  statement {
    sid       = "AlbAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/alb/AWSLogs/${local.account_id}/*"]

    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }

  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/s3/*"]

    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "FlowLogsWrite"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/vpc-flow-logs/AWSLogs/${local.account_id}/*"]

    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "StringEquals"
      variable = "s3:x-amz-acl"
      values   = ["bucket-owner-full-control"]
    }
  }

  statement {
    sid       = "FlowLogsCheckBucket"
    actions   = ["s3:GetBucketAcl", "s3:ListBucket"]
    resources = [aws_s3_bucket.logs.arn]

    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.logs]
}

# --- Photos CDN ----------------------------------------------------------------------------

resource "aws_cloudfront_origin_access_control" "photos" {
  name                              = "${var.name}-photos"
  description                       = "CloudFront reads the private photos bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

data "aws_cloudfront_cache_policy" "optimized" {
  name = "Managed-CachingOptimized"
}

resource "aws_cloudfront_response_headers_policy" "photos" {
  name    = "${var.name}-photos"
  comment = "Security headers for Innkeep photos"

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }

    content_type_options {
      override = true
    }

    frame_options {
      frame_option = "DENY"
      override     = true
    }

    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }
  }
}

locals {
  photos_custom_domain = var.photos_domain_name != "" && var.photos_certificate_arn != ""
}

resource "aws_cloudfront_distribution" "photos" {
  #checkov:skip=CKV_AWS_68:Photos are public, read-only, cached images with no application behind them; the WAF guards the application's balancer (alb.tf).
  #checkov:skip=CKV2_AWS_47:As CKV_AWS_68: no web ACL on the photos CDN, so no Log4j rule there either.
  #checkov:skip=CKV_AWS_310:One origin (the photos bucket); no replica bucket to fail over to in a single-region deployment.
  #checkov:skip=CKV_AWS_374:Guests book from anywhere: no geo restriction.
  #checkov:skip=CKV_AWS_305:No default root object: the distribution serves photo keys only, and the bucket policy allows GetObject alone, so "/" is a 403.
  #checkov:skip=CKV2_AWS_42:A custom domain and certificate are optional (photos_domain_name, photos_certificate_arn); without them CloudFront's own certificate serves *.cloudfront.net.
  #checkov:skip=CKV_AWS_174:TLSv1.2_2021 is enforced with a custom certificate; CloudFront's default certificate cannot set a minimum protocol.
  enabled         = true
  is_ipv6_enabled = true
  comment         = "${var.name} photos"
  price_class     = var.cloudfront_price_class
  aliases         = local.photos_custom_domain ? [var.photos_domain_name] : []
  http_version    = "http2and3"

  origin {
    origin_id                = "photos"
    domain_name              = aws_s3_bucket.data["photos"].bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.photos.id
  }

  default_cache_behavior {
    target_origin_id           = "photos"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.optimized.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.photos.id
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = !local.photos_custom_domain
    acm_certificate_arn            = local.photos_custom_domain ? var.photos_certificate_arn : null
    ssl_support_method             = local.photos_custom_domain ? "sni-only" : null
    minimum_protocol_version       = local.photos_custom_domain ? "TLSv1.2_2021" : "TLSv1"
  }

  logging_config {
    bucket          = aws_s3_bucket.logs.bucket_domain_name
    prefix          = "cloudfront/photos/"
    include_cookies = false
  }

  depends_on = [aws_s3_bucket_ownership_controls.logs]
}
