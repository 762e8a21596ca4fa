# Alarms to one SNS topic (encrypted): the balancer's 5xx (also the instance refresh's
# rollback trigger), latency and unhealthy nodes; the database's CPU, free storage and
# replica lag; Redis CPU and memory; NATS instance status checks.

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.logs.arn
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count     = var.alarm_email == "" ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

locals {
  alarm_actions = [aws_sns_topic.alarms.arn]
  alb_dimensions = {
    LoadBalancer = aws_lb.web.arn_suffix
  }
  tg_dimensions = {
    LoadBalancer = aws_lb.web.arn_suffix
    TargetGroup  = aws_lb_target_group.app.arn_suffix
  }
}

# --- Balancer ----------------------------------------------------------------------------------

# 5xx answered to clients: from the nodes and from the balancer itself (no healthy node).
resource "aws_cloudwatch_metric_alarm" "alb_5xx" {
  alarm_name          = "${var.name}-alb-5xx"
  alarm_description   = "More than ${var.alarm_5xx_per_minute} 5xx answers a minute for 3 minutes (nodes or balancer). Also rolls back an instance refresh."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_5xx_per_minute
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "errors"
    expression  = "target + elb"
    label       = "5xx answers"
    return_data = true
  }

  metric_query {
    id = "target"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      dimensions  = local.alb_dimensions
      period      = 60
      stat        = "Sum"
    }
  }

  metric_query {
    id = "elb"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_ELB_5XX_Count"
      dimensions  = local.alb_dimensions
      period      = 60
      stat        = "Sum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "alb_latency" {
  alarm_name          = "${var.name}-alb-latency-p95"
  alarm_description   = "95th percentile response time of the nodes above ${var.alarm_latency_p95_secs}s for 5 minutes."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  dimensions          = local.tg_dimensions
  extended_statistic  = "p95"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  threshold           = var.alarm_latency_p95_secs
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "alb_unhealthy" {
  alarm_name          = "${var.name}-alb-unhealthy-hosts"
  alarm_description   = "A node has failed /readyz for 5 minutes (draining nodes leave within drain_secs)."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = local.tg_dimensions
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "alb_no_healthy" {
  alarm_name          = "${var.name}-alb-no-healthy-hosts"
  alarm_description   = "No node passes /readyz: the site is down."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HealthyHostCount"
  dimensions          = local.tg_dimensions
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 2
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# --- Database ------------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "db_cpu" {
  for_each            = toset(concat([aws_db_instance.primary.identifier], aws_db_instance.replica[*].identifier))
  alarm_name          = "${each.value}-cpu"
  alarm_description   = "${each.value}: CPU above 80% for 15 minutes."
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  dimensions          = { DBInstanceIdentifier = each.value }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  threshold           = 80
  comparison_operator = "GreaterThanThreshold"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "db_free_storage" {
  for_each            = toset(concat([aws_db_instance.primary.identifier], aws_db_instance.replica[*].identifier))
  alarm_name          = "${each.value}-free-storage"
  alarm_description   = "${each.value}: less than 10% of the allocated storage free (autoscaling may be at its ceiling)."
  namespace           = "AWS/RDS"
  metric_name         = "FreeStorageSpace"
  dimensions          = { DBInstanceIdentifier = each.value }
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 2
  threshold           = var.db_allocated_storage_gb * 1024 * 1024 * 1024 * 0.1
  comparison_operator = "LessThanThreshold"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "db_replica_lag" {
  count               = var.db_replica_count
  alarm_name          = "${aws_db_instance.replica[count.index].identifier}-lag"
  alarm_description   = "Replica ${count.index + 1} more than 30 s behind for 5 minutes (the nodes read from the primary past database.replica_max_lag_ms)."
  namespace           = "AWS/RDS"
  metric_name         = "ReplicaLag"
  dimensions          = { DBInstanceIdentifier = aws_db_instance.replica[count.index].identifier }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  threshold           = 30
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# --- Redis -------------------------------------------------------------------------------------

locals {
  # ElastiCache names the members of a replication group <id>-001, <id>-002, ...
  redis_members = [for i in range(var.redis_node_count) : format("%s-%03d", aws_elasticache_replication_group.cache.replication_group_id, i + 1)]
}

resource "aws_cloudwatch_metric_alarm" "redis_cpu" {
  count               = var.redis_node_count
  alarm_name          = "${local.redis_members[count.index]}-engine-cpu"
  alarm_description   = "Redis ${local.redis_members[count.index]}: engine CPU above 80% for 15 minutes."
  namespace           = "AWS/ElastiCache"
  metric_name         = "EngineCPUUtilization"
  dimensions          = { CacheClusterId = local.redis_members[count.index] }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  threshold           = 80
  comparison_operator = "GreaterThanThreshold"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "redis_memory" {
  count               = var.redis_node_count
  alarm_name          = "${local.redis_members[count.index]}-memory"
  alarm_description   = "Redis ${local.redis_members[count.index]}: more than 85% of its memory used for 15 minutes (evictions follow)."
  namespace           = "AWS/ElastiCache"
  metric_name         = "DatabaseMemoryUsagePercentage"
  dimensions          = { CacheClusterId = local.redis_members[count.index] }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  threshold           = 85
  comparison_operator = "GreaterThanThreshold"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# --- NATS --------------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "nats_status" {
  count               = 3
  alarm_name          = "${var.name}-nats-${count.index}-status"
  alarm_description   = "NATS server nats-${count.index} fails its EC2 status checks."
  namespace           = "AWS/EC2"
  metric_name         = "StatusCheckFailed"
  dimensions          = { InstanceId = aws_instance.nats[count.index].id }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}
