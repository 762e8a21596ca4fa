# Inputs. Only region, availability_zones, certificate_arn, public_url, innkeep_release_url and
# innkeep_release_sha256 have no default; see terraform.tfvars.example.

# --- Naming and placement ---------------------------------------------------------------

variable "name" {
  description = "Prefix of every resource name (lower case, starts with a letter)."
  type        = string
  default     = "innkeep"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,18}[a-z0-9]$", var.name))
    error_message = "name must be 3 to 20 characters of a-z, 0-9 and '-', starting with a letter."
  }
}

variable "environment" {
  description = "Environment tag (prod, staging, ...)."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,15}$", var.environment))
    error_message = "environment must be 1 to 16 characters of a-z, 0-9 and '-'."
  }
}

variable "region" {
  description = "AWS region to deploy into, e.g. eu-west-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like eu-west-1."
  }
}

variable "availability_zones" {
  description = "The three availability zones of var.region to use, e.g. [\"eu-west-1a\", \"eu-west-1b\", \"eu-west-1c\"]. Named, not looked up, so the subnets never move."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) == 3 && length(distinct(var.availability_zones)) == 3 && alltrue([for z in var.availability_zones : can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]$", z))])
    error_message = "availability_zones must name exactly three different zones, such as eu-west-1a."
  }
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

# --- Network ------------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "VPC address range, /16 to /18. Split into 3 public, 3 app and 3 data subnets."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && contains(["16", "17", "18"], try(split("/", var.vpc_cidr)[1], ""))
    error_message = "vpc_cidr must be an IPv4 CIDR block from /16 to /18."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper) instead of one per zone (survives a zone loss)."
  type        = bool
  default     = false
}

variable "alb_ingress_cidrs" {
  description = "Who may reach the load balancer (ports 80 and 443)."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.alb_ingress_cidrs) > 0 && alltrue([for c in var.alb_ingress_cidrs : can(cidrhost(c, 0))])
    error_message = "alb_ingress_cidrs must be a non-empty list of IPv4 CIDR blocks."
  }
}

variable "internal_zone_name" {
  description = "Private Route 53 zone for internal names (the NATS cluster)."
  type        = string
  default     = "innkeep.internal"

  validation {
    condition     = can(regex("^([a-z0-9-]+\\.)+[a-z]+$", var.internal_zone_name))
    error_message = "internal_zone_name must be a DNS name such as innkeep.internal."
  }
}

# --- Web tier -----------------------------------------------------------------------------

variable "certificate_arn" {
  description = "ACM certificate (in var.region) for the HTTPS listener."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "public_url" {
  description = "URL the site is reached at (server.public_url), e.g. https://stays.example."
  type        = string

  validation {
    condition     = can(regex("^https://[a-z0-9.-]+(:[0-9]+)?$", var.public_url))
    error_message = "public_url must be an https:// URL without a path."
  }
}

variable "innkeep_release_url" {
  description = "Where nodes fetch the innkeep binary (Linux, the instance architecture): https://... or s3://bucket/key."
  type        = string

  validation {
    condition     = can(regex("^(https://|s3://)[^ ]+$", var.innkeep_release_url))
    error_message = "innkeep_release_url must start with https:// or s3://."
  }
}

variable "innkeep_release_sha256" {
  description = "SHA-256 of the binary at innkeep_release_url; a node refuses any other file."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.innkeep_release_sha256))
    error_message = "innkeep_release_sha256 must be 64 lower-case hex digits."
  }
}

variable "architecture" {
  description = "CPU architecture of every instance (and so of the binary): x86_64 or arm64."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "ami_id" {
  description = "AMI for app and NATS instances (Amazon Linux 2023 or alike with systemd and the AWS CLI); empty takes the latest Amazon Linux 2023. Pin it to decide when a new AMI rolls out."
  type        = string
  default     = ""

  validation {
    condition     = var.ami_id == "" || can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must be empty or an AMI id (ami-...)."
  }
}

variable "app_instance_type" {
  description = "Instance type of the Innkeep nodes."
  type        = string
  default     = "m7i.large"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.app_instance_type))
    error_message = "app_instance_type must be an EC2 instance type such as m7i.large."
  }
}

variable "app_port" {
  description = "Port the nodes serve on (server.listen)."
  type        = number
  default     = 8080

  validation {
    condition     = var.app_port >= 1024 && var.app_port <= 65535
    error_message = "app_port must be an unprivileged port (1024-65535)."
  }
}

variable "app_min_size" {
  description = "Fewest Innkeep nodes (at least 2, so a zone or node loss leaves one serving)."
  type        = number
  default     = 3

  validation {
    condition     = var.app_min_size >= 2 && var.app_min_size <= 100 && floor(var.app_min_size) == var.app_min_size
    error_message = "app_min_size must be a whole number from 2 to 100."
  }
}

variable "app_max_size" {
  description = "Most Innkeep nodes the autoscaler may run."
  type        = number
  default     = 12

  validation {
    condition     = var.app_max_size >= 2 && var.app_max_size <= 200 && floor(var.app_max_size) == var.app_max_size
    error_message = "app_max_size must be a whole number from 2 to 200 (and at least app_min_size)."
  }
}

variable "app_cpu_target" {
  description = "Target average CPU utilisation (%) of the nodes for target tracking."
  type        = number
  default     = 50

  validation {
    condition     = var.app_cpu_target >= 10 && var.app_cpu_target <= 90
    error_message = "app_cpu_target must be from 10 to 90 (%)."
  }
}

variable "app_requests_per_target" {
  description = "Target ALB requests per node per minute (ALBRequestCountPerTarget)."
  type        = number
  default     = 3000

  validation {
    condition     = var.app_requests_per_target >= 10 && var.app_requests_per_target <= 1000000
    error_message = "app_requests_per_target must be from 10 to 1000000."
  }
}

variable "app_root_volume_gb" {
  description = "Root volume of a node (binary, search index, logs)."
  type        = number
  default     = 30

  validation {
    condition     = var.app_root_volume_gb >= 10 && var.app_root_volume_gb <= 1000
    error_message = "app_root_volume_gb must be from 10 to 1000."
  }
}

variable "app_warmup_secs" {
  description = "Seconds a new node needs before it counts (boot, install, index build)."
  type        = number
  default     = 180

  validation {
    condition     = var.app_warmup_secs >= 30 && var.app_warmup_secs <= 1800
    error_message = "app_warmup_secs must be from 30 to 1800."
  }
}

variable "drain_secs" {
  description = "server.drain_secs of the nodes and the target group's deregistration delay: how long a leaving node keeps serving while /readyz answers 503. At least health_check_interval_secs x health_check_unhealthy_threshold."
  type        = number
  default     = 30

  validation {
    condition     = var.drain_secs >= 5 && var.drain_secs <= 300
    error_message = "drain_secs must be from 5 to 300."
  }
}

variable "health_check_interval_secs" {
  description = "How often the balancer asks each node's /readyz."
  type        = number
  default     = 10

  validation {
    condition     = var.health_check_interval_secs >= 5 && var.health_check_interval_secs <= 300
    error_message = "health_check_interval_secs must be from 5 to 300."
  }
}

variable "health_check_unhealthy_threshold" {
  description = "Failed /readyz answers in a row before the balancer stops sending to a node."
  type        = number
  default     = 2

  validation {
    condition     = var.health_check_unhealthy_threshold >= 2 && var.health_check_unhealthy_threshold <= 10
    error_message = "health_check_unhealthy_threshold must be from 2 to 10."
  }
}

variable "waf_rate_limit" {
  description = "Requests per 5 minutes one client IP may make before the WAF blocks it."
  type        = number
  default     = 3000

  validation {
    condition     = var.waf_rate_limit >= 100 && var.waf_rate_limit <= 2000000000
    error_message = "waf_rate_limit must be at least 100."
  }
}

variable "deletion_protection" {
  description = "Protect the load balancer and the databases from deletion."
  type        = bool
  default     = true
}

# --- Database -----------------------------------------------------------------------------

variable "db_engine_version" {
  description = "PostgreSQL version (major, or major.minor)."
  type        = string
  default     = "16"

  validation {
    condition     = can(regex("^1[4-7](\\.[0-9]+)?$", var.db_engine_version))
    error_message = "db_engine_version must be PostgreSQL 14 to 17, e.g. 16 or 16.4."
  }
}

variable "db_instance_class" {
  description = "Instance class of the primary (and its Multi-AZ standby)."
  type        = string
  default     = "db.m7g.large"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.db_instance_class))
    error_message = "db_instance_class must look like db.m7g.large."
  }
}

variable "db_replica_instance_class" {
  description = "Instance class of the read replicas; empty: as the primary."
  type        = string
  default     = ""

  validation {
    condition     = var.db_replica_instance_class == "" || can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.db_replica_instance_class))
    error_message = "db_replica_instance_class must be empty or look like db.m7g.large."
  }
}

variable "db_replica_count" {
  description = "Read replicas (database.replicas); at least one."
  type        = number
  default     = 1

  validation {
    condition     = var.db_replica_count >= 1 && var.db_replica_count <= 5 && floor(var.db_replica_count) == var.db_replica_count
    error_message = "db_replica_count must be a whole number from 1 to 5."
  }
}

variable "db_allocated_storage_gb" {
  description = "Initial storage of the database (gp3)."
  type        = number
  default     = 100

  validation {
    condition     = var.db_allocated_storage_gb >= 20 && var.db_allocated_storage_gb <= 65536
    error_message = "db_allocated_storage_gb must be from 20 to 65536."
  }
}

variable "db_max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling of the database."
  type        = number
  default     = 1000

  validation {
    condition     = var.db_max_allocated_storage_gb >= 20 && var.db_max_allocated_storage_gb <= 65536
    error_message = "db_max_allocated_storage_gb must be from 20 to 65536 (and at least db_allocated_storage_gb)."
  }
}

variable "db_backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 7 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be from 7 to 35."
  }
}

variable "db_name" {
  description = "Database name."
  type        = string
  default     = "innkeep"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_name))
    error_message = "db_name must be a lower-case PostgreSQL identifier."
  }
}

variable "db_username" {
  description = "Database user the nodes connect as (the instance's master user)."
  type        = string
  default     = "innkeep"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_username)) && !contains(["postgres", "admin", "rdsadmin"], var.db_username)
    error_message = "db_username must be a lower-case PostgreSQL identifier other than postgres, admin or rdsadmin."
  }
}

variable "db_iam_username" {
  description = "Database role operators may log in as with IAM authentication from a node (create it with GRANT rds_iam)."
  type        = string
  default     = "innkeep_ops"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_iam_username))
    error_message = "db_iam_username must be a lower-case PostgreSQL identifier."
  }
}

# --- Cache --------------------------------------------------------------------------------

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.m7g.large"

  validation {
    condition     = can(regex("^cache\\.[a-z0-9]+\\.[a-z0-9]+$", var.redis_node_type))
    error_message = "redis_node_type must look like cache.m7g.large."
  }
}

variable "redis_engine_version" {
  description = "Redis OSS engine version."
  type        = string
  default     = "7.1"

  validation {
    condition     = can(regex("^7\\.[0-9]+$", var.redis_engine_version))
    error_message = "redis_engine_version must be 7.x."
  }
}

variable "redis_node_count" {
  description = "Cache nodes (one primary, the rest replicas), spread over the zones."
  type        = number
  default     = 3

  validation {
    condition     = var.redis_node_count >= 2 && var.redis_node_count <= 6 && floor(var.redis_node_count) == var.redis_node_count
    error_message = "redis_node_count must be a whole number from 2 to 6 (Multi-AZ needs a replica)."
  }
}

# --- Bus ----------------------------------------------------------------------------------

variable "nats_instance_type" {
  description = "Instance type of the three NATS JetStream servers."
  type        = string
  default     = "m7i.large"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.nats_instance_type))
    error_message = "nats_instance_type must be an EC2 instance type such as m7i.large."
  }
}

variable "nats_volume_gb" {
  description = "JetStream data volume of each NATS server."
  type        = number
  default     = 100

  validation {
    condition     = var.nats_volume_gb >= 20 && var.nats_volume_gb <= 16000
    error_message = "nats_volume_gb must be from 20 to 16000."
  }
}

variable "nats_server_version" {
  description = "nats-server release the NATS instances install."
  type        = string
  default     = "2.10.24"

  validation {
    condition     = can(regex("^2\\.[0-9]+\\.[0-9]+$", var.nats_server_version))
    error_message = "nats_server_version must be a 2.x.y release."
  }
}

variable "nats_server_sha256" {
  description = "SHA-256 of the nats-server release tarball for var.architecture; empty: checked against the release's SHA256SUMS file only."
  type        = string
  default     = ""

  validation {
    condition     = var.nats_server_sha256 == "" || can(regex("^[0-9a-f]{64}$", var.nats_server_sha256))
    error_message = "nats_server_sha256 must be empty or 64 lower-case hex digits."
  }
}

# --- Storage ------------------------------------------------------------------------------

variable "photos_domain_name" {
  description = "Optional custom domain for the photos CDN (needs photos_certificate_arn, an ACM certificate in us-east-1)."
  type        = string
  default     = ""

  validation {
    condition     = var.photos_domain_name == "" || can(regex("^([a-z0-9-]+\\.)+[a-z]+$", var.photos_domain_name))
    error_message = "photos_domain_name must be empty or a DNS name."
  }
}

variable "photos_certificate_arn" {
  description = "ACM certificate in us-east-1 for photos_domain_name."
  type        = string
  default     = ""

  validation {
    condition     = var.photos_certificate_arn == "" || can(regex("^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/.+$", var.photos_certificate_arn))
    error_message = "photos_certificate_arn must be empty or an ACM certificate ARN in us-east-1."
  }
}

variable "cloudfront_price_class" {
  description = "CloudFront price class of the photos CDN."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.cloudfront_price_class)
    error_message = "cloudfront_price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "lake_infrequent_access_days" {
  description = "Days after which lake objects move to S3 Standard-IA."
  type        = number
  default     = 30

  validation {
    condition     = var.lake_infrequent_access_days >= 30 && var.lake_infrequent_access_days <= 3650
    error_message = "lake_infrequent_access_days must be from 30 to 3650."
  }
}

variable "backup_retention_days" {
  description = "Days backups are kept in the backups bucket (Glacier Instant Retrieval after 30)."
  type        = number
  default     = 365

  validation {
    condition     = var.backup_retention_days >= 120 && var.backup_retention_days <= 3650
    error_message = "backup_retention_days must be from 120 to 3650 (Glacier IR bills at least 90 days)."
  }
}

variable "noncurrent_version_days" {
  description = "Days overwritten or deleted object versions are kept (undo window)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_days >= 1 && var.noncurrent_version_days <= 3650
    error_message = "noncurrent_version_days must be from 1 to 3650."
  }
}

# --- Monitoring ---------------------------------------------------------------------------

variable "log_retention_days" {
  description = "Days CloudWatch log groups and the logs bucket keep logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch retention of at least a year (365, 400, 545, 731, 1096, 1827, ...)."
  }
}

variable "alarm_email" {
  description = "Optional address subscribed to the alarm topic (confirm the mail AWS sends)."
  type        = string
  default     = ""

  validation {
    condition     = var.alarm_email == "" || can(regex("^[^@ ]+@[^@ ]+\\.[^@ ]+$", var.alarm_email))
    error_message = "alarm_email must be empty or an e-mail address."
  }
}

variable "alarm_latency_p95_secs" {
  description = "Alarm when the 95th percentile target response time stays above this."
  type        = number
  default     = 1

  validation {
    condition     = var.alarm_latency_p95_secs > 0 && var.alarm_latency_p95_secs <= 60
    error_message = "alarm_latency_p95_secs must be above 0 and at most 60."
  }
}

variable "alarm_5xx_per_minute" {
  description = "Alarm when the balancer answers more 5xx than this per minute (3 minutes running)."
  type        = number
  default     = 10

  validation {
    condition     = var.alarm_5xx_per_minute >= 1
    error_message = "alarm_5xx_per_minute must be at least 1."
  }
}

variable "create_autoscaling_service_linked_role" {
  description = "Create the account's AWSServiceRoleForAutoScaling (only in an account that never used Auto Scaling; the EBS key policy names it)."
  type        = bool
  default     = false
}
