# PostgreSQL: a Multi-AZ primary (synchronous standby in another zone, automatic failover)
# and streaming read replicas (database.replicas), in the data subnets, encrypted with the
# data key, TLS forced (rds.force_ssl; the nodes connect with sslmode=require), IAM
# authentication on, backups kept var.db_backup_retention_days days.

locals {
  db_major_version        = split(".", var.db_engine_version)[0]
  db_replica_class        = var.db_replica_instance_class != "" ? var.db_replica_instance_class : var.db_instance_class
  db_cloudwatch_log_types = ["postgresql", "upgrade"]
}

resource "aws_db_subnet_group" "main" {
  name        = "${var.name}-db"
  description = "Innkeep database: the data subnets"
  subnet_ids  = aws_subnet.data[*].id
}

resource "aws_db_parameter_group" "main" {
  name_prefix = "${var.name}-pg${local.db_major_version}-"
  description = "Innkeep PostgreSQL ${local.db_major_version}: TLS only, slow statements and DDL logged"
  family      = "postgres${local.db_major_version}"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "ssl_min_protocol_version"
    value = "TLSv1.2"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "500"
  }

  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_connections"
    value = "1"
  }

  parameter {
    name  = "log_disconnections"
    value = "1"
  }

  lifecycle {
    create_before_destroy = true
  }
}

# RDS creates these groups itself, unencrypted and kept forever, unless they exist first.
resource "aws_cloudwatch_log_group" "db" {
  for_each = toset(flatten([
    for id in concat(["${var.name}-db"], [for i in range(var.db_replica_count) : "${var.name}-db-replica-${i + 1}"]) : [
      for t in local.db_cloudwatch_log_types : "/aws/rds/instance/${id}/${t}"
    ]
  ]))
  name              = each.value
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}

resource "aws_db_instance" "primary" {
  identifier     = "${var.name}-db"
  engine         = "postgres"
  engine_version = var.db_engine_version
  instance_class = var.db_instance_class
  db_name        = var.db_name
  username       = var.db_username
  password       = aws_secretsmanager_secret_version.generated["db_password"].secret_string
  port           = 5432

  allocated_storage     = var.db_allocated_storage_gb
  max_allocated_storage = var.db_max_allocated_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.data.arn

  multi_az               = true
  db_subnet_group_name   = aws_db_subnet_group.main.name
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.main.name
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  iam_database_authentication_enabled = true

  backup_retention_period   = var.db_backup_retention_days
  backup_window             = "02:00-03:00"
  maintenance_window        = "sun:03:30-sun:04:30"
  copy_tags_to_snapshot     = true
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.name}-db-final"
  delete_automated_backups  = false

  auto_minor_version_upgrade  = true
  allow_major_version_upgrade = false
  apply_immediately           = false

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.data.arn
  performance_insights_retention_period = 7
  monitoring_interval                   = 30
  monitoring_role_arn                   = aws_iam_role.rds_monitoring.arn
  enabled_cloudwatch_logs_exports       = local.db_cloudwatch_log_types

  tags = { Name = "${var.name}-db" }

  depends_on = [aws_cloudwatch_log_group.db, aws_iam_role_policy_attachment.rds_monitoring]

  lifecycle {
    precondition {
      condition     = var.db_max_allocated_storage_gb >= var.db_allocated_storage_gb
      error_message = "db_max_allocated_storage_gb must be at least db_allocated_storage_gb."
    }
  }
}

resource "aws_db_instance" "replica" {
  #checkov:skip=CKV_AWS_157:A read replica is not Multi-AZ: the nodes read from the primary when a replica is down or lags (README "PostgreSQL replicas and failover"), and the primary has its own standby.
  #checkov:skip=CKV_AWS_133:Backups are taken of the primary; a lost replica is recreated from it.
  count               = var.db_replica_count
  identifier          = "${var.name}-db-replica-${count.index + 1}"
  replicate_source_db = aws_db_instance.primary.identifier
  instance_class      = local.db_replica_class
  port                = 5432

  # Encrypted with the primary's key: a same-region replica must not name a key itself.
  storage_type          = "gp3"
  max_allocated_storage = var.db_max_allocated_storage_gb
  storage_encrypted     = true

  multi_az               = false
  availability_zone      = local.azs[(count.index + 1) % 3]
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.main.name
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  iam_database_authentication_enabled = true

  backup_retention_period = 0
  copy_tags_to_snapshot   = true
  deletion_protection     = var.deletion_protection
  skip_final_snapshot     = true

  auto_minor_version_upgrade = true
  apply_immediately          = false

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.data.arn
  performance_insights_retention_period = 7
  monitoring_interval                   = 30
  monitoring_role_arn                   = aws_iam_role.rds_monitoring.arn
  enabled_cloudwatch_logs_exports       = local.db_cloudwatch_log_types

  tags = { Name = "${var.name}-db-replica-${count.index + 1}" }

  depends_on = [aws_cloudwatch_log_group.db]
}
