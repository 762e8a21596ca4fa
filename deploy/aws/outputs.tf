# Endpoints and names, for DNS, operators and other stacks.

output "alb_dns_name" {
  description = "Point the site's DNS name (public_url) here, as an alias or CNAME."
  value       = aws_lb.web.dns_name
}

output "alb_zone_id" {
  description = "Route 53 hosted zone of the balancer, for an alias record."
  value       = aws_lb.web.zone_id
}

output "photos_cdn_domain" {
  description = "CloudFront domain serving the photos bucket."
  value       = aws_cloudfront_distribution.photos.domain_name
}

output "db_primary_endpoint" {
  description = "PostgreSQL primary (host:port); TLS required."
  value       = aws_db_instance.primary.endpoint
}

output "db_replica_endpoints" {
  description = "PostgreSQL read replicas (host:port)."
  value       = aws_db_instance.replica[*].endpoint
}

output "redis_primary_endpoint" {
  description = "Redis primary endpoint (TLS, AUTH token in Secrets Manager)."
  value       = "${aws_elasticache_replication_group.cache.primary_endpoint_address}:${aws_elasticache_replication_group.cache.port}"
}

output "redis_reader_endpoint" {
  description = "Redis reader endpoint."
  value       = aws_elasticache_replication_group.cache.reader_endpoint_address
}

output "nats_url" {
  description = "bus.url of the nodes."
  value       = local.nats_url
}

output "buckets" {
  description = "Bucket names: photos (storage.url), lake, backups, logs."
  value = merge(
    { for k, b in aws_s3_bucket.data : k => b.id },
    { logs = aws_s3_bucket.logs.id },
  )
}

output "secrets" {
  description = "Secrets Manager ARNs the nodes read; put the Stripe keys into the stripe ones."
  value       = { for k, s in aws_secretsmanager_secret.app : k => s.arn }
}

output "autoscaling_group_name" {
  description = "For aws autoscaling start-instance-refresh / describe-instance-refreshes."
  value       = aws_autoscaling_group.app.name
}

output "alarm_topic_arn" {
  description = "SNS topic of all alarms."
  value       = aws_sns_topic.alarms.arn
}
