# The Innkeep nodes: an Auto Scaling group over the three private app subnets, behind the
# balancer's target group. Nodes are stateless and replaced, never patched: a new release
# (innkeep_release_url/sha256), AMI or setting makes a new launch template version, and the
# group's instance refresh rolls it out node by node, launching before it terminates, and
# rolls back by itself if the balancer's 5xx alarm fires meanwhile.

locals {
  db_url_template = "postgres://%s:%s@%s/${var.db_name}?sslmode=require"

  app_user_data = templatefile("${path.module}/templates/app-user-data.sh.tftpl", {
    release_url    = var.innkeep_release_url
    release_sha256 = var.innkeep_release_sha256
    # The repository's hardened unit, as deploy/validate checks it.
    systemd_unit       = file("${path.module}/../systemd/innkeep.service")
    region             = var.region
    listen             = "0.0.0.0:${var.app_port}"
    public_url         = var.public_url
    drain_secs         = var.drain_secs
    db_user            = var.db_username
    db_name            = var.db_name
    db_primary         = aws_db_instance.primary.endpoint
    db_replicas        = join(" ", aws_db_instance.replica[*].endpoint)
    redis_primary      = "${aws_elasticache_replication_group.cache.primary_endpoint_address}:${aws_elasticache_replication_group.cache.port}"
    nats_url           = local.nats_url
    photos_bucket      = aws_s3_bucket.data["photos"].id
    secret_csrf        = aws_secretsmanager_secret.app["csrf_key"].arn
    secret_db          = aws_secretsmanager_secret.app["db_password"].arn
    secret_redis       = aws_secretsmanager_secret.app["redis_auth_token"].arn
    secret_stripe_key  = aws_secretsmanager_secret.app["stripe_secret_key"].arn
    secret_stripe_hook = aws_secretsmanager_secret.app["stripe_webhook_secret"].arn
    app_log_group      = aws_cloudwatch_log_group.app.name
  })
}

resource "aws_launch_template" "app" {
  name_prefix            = "${var.name}-app-"
  description            = "Innkeep node"
  image_id               = local.ami_id
  instance_type          = var.app_instance_type
  ebs_optimized          = true
  update_default_version = true
  user_data              = base64encode(local.app_user_data)

  iam_instance_profile {
    arn = aws_iam_instance_profile.app.arn
  }

  network_interfaces {
    associate_public_ip_address = false
    delete_on_termination       = true
    security_groups             = [aws_security_group.app.id]
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  monitoring {
    enabled = true
  }

  block_device_mappings {
    device_name = data.aws_ami.base.root_device_name

    ebs {
      volume_size           = var.app_root_volume_gb
      volume_type           = "gp3"
      encrypted             = true
      kms_key_id            = aws_kms_key.ebs.arn
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(local.tags, { Name = "${var.name}-app", Role = "innkeep" })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(local.tags, { Name = "${var.name}-app", Role = "innkeep" })
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_autoscaling_group" "app" {
  name                      = "${var.name}-app"
  vpc_zone_identifier       = aws_subnet.app[*].id
  min_size                  = var.app_min_size
  max_size                  = var.app_max_size
  target_group_arns         = [aws_lb_target_group.app.arn]
  health_check_type         = "ELB"
  health_check_grace_period = var.app_warmup_secs
  default_instance_warmup   = var.app_warmup_secs
  termination_policies      = ["OldestLaunchTemplate", "OldestInstance"]
  wait_for_capacity_timeout = "15m"
  min_elb_capacity          = var.app_min_size

  launch_template {
    id      = aws_launch_template.app.id
    version = aws_launch_template.app.latest_version
  }

  # A new launch template version starts a rolling refresh: new nodes first (up to twice
  # the capacity), old ones leave only when the new ones pass /readyz; on the 5xx alarm
  # the group rolls back to the previous version.
  instance_refresh {
    strategy = "Rolling"

    preferences {
      min_healthy_percentage = 100
      max_healthy_percentage = 200
      instance_warmup        = var.app_warmup_secs
      skip_matching          = true
      auto_rollback          = true

      alarm_specification {
        alarms = [aws_cloudwatch_metric_alarm.alb_5xx.alarm_name]
      }
    }
  }

  enabled_metrics = [
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
  ]

  dynamic "tag" {
    for_each = merge(local.tags, { Name = "${var.name}-app" })
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  # Nodes fetch their release and secrets at boot: the way out must exist first.
  depends_on = [aws_route.app_nat, aws_vpc_endpoint.s3, aws_secretsmanager_secret_version.generated]

  lifecycle {
    # Target tracking owns the desired capacity.
    ignore_changes = [desired_capacity]

    precondition {
      condition     = var.app_max_size >= var.app_min_size
      error_message = "app_max_size must be at least app_min_size."
    }
  }
}

# Target tracking: keep the average CPU and the requests per node near their targets.
resource "aws_autoscaling_policy" "cpu" {
  name                   = "${var.name}-cpu"
  autoscaling_group_name = aws_autoscaling_group.app.name
  policy_type            = "TargetTrackingScaling"

  target_tracking_configuration {
    target_value = var.app_cpu_target

    predefined_metric_specification {
      predefined_metric_type = "ASGAverageCPUUtilization"
    }
  }
}

resource "aws_autoscaling_policy" "requests" {
  name                   = "${var.name}-requests"
  autoscaling_group_name = aws_autoscaling_group.app.name
  policy_type            = "TargetTrackingScaling"

  target_tracking_configuration {
    target_value = var.app_requests_per_target

    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${aws_lb.web.arn_suffix}/${aws_lb_target_group.app.arn_suffix}"
    }
  }
}

# journald of the nodes goes here (the user data points the CloudWatch agent at it).
resource "aws_cloudwatch_log_group" "app" {
  name              = "/${var.name}/app"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}
