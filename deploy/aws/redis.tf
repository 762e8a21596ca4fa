# Redis (cache.url): a replication group with a primary and replicas over the zones,
# automatic failover, encrypted at rest (data key) and in transit (TLS required), with an
# AUTH token from Secrets Manager. The nodes connect with rediss://.

resource "aws_elasticache_subnet_group" "main" {
  name        = "${var.name}-cache"
  description = "Innkeep cache: the data subnets"
  subnet_ids  = aws_subnet.data[*].id
}

resource "aws_cloudwatch_log_group" "redis" {
  for_each          = toset(["slow-log", "engine-log"])
  name              = "/${var.name}/redis/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}

resource "aws_elasticache_replication_group" "cache" {
  replication_group_id = "${var.name}-cache"
  description          = "Innkeep cache of hot public reads"
  engine               = "redis"
  engine_version       = var.redis_engine_version
  node_type            = var.redis_node_type
  port                 = 6379
  num_cache_clusters   = var.redis_node_count

  automatic_failover_enabled = true
  multi_az_enabled           = true
  preferred_cache_cluster_azs = [
    for i in range(var.redis_node_count) : local.azs[i % 3]
  ]
  subnet_group_name  = aws_elasticache_subnet_group.main.name
  security_group_ids = [aws_security_group.redis.id]

  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.data.arn
  transit_encryption_enabled = true # created with TLS: clients must use it ("required")
  auth_token                 = aws_secretsmanager_secret_version.generated["redis_auth_token"].secret_string
  auth_token_update_strategy = "ROTATE"

  snapshot_retention_limit   = 1
  snapshot_window            = "01:00-02:00"
  maintenance_window         = "sun:04:30-sun:05:30"
  auto_minor_version_upgrade = true
  apply_immediately          = false

  dynamic "log_delivery_configuration" {
    for_each = aws_cloudwatch_log_group.redis
    content {
      destination      = log_delivery_configuration.value.name
      destination_type = "cloudwatch-logs"
      log_format       = "json"
      log_type         = log_delivery_configuration.key
    }
  }
}
