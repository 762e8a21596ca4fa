# Secrets the nodes read at boot (templates/app-user-data.sh.tftpl writes them into
# /etc/innkeep/innkeep.env). The generated ones are made once and then left alone
# (ignore_changes): to rotate one, put a new value and roll the nodes (README.md).
# The card provider's keys are not generated: put them after the first apply.

locals {
  secrets = {
    csrf_key              = "web.csrf_key: signs the forms' CSRF tokens, the same on every node"
    db_password           = "database password of the nodes' user"
    redis_auth_token      = "Redis AUTH token"
    stripe_secret_key     = "payments.stripe.secret_key (put it yourself; empty: no card payments)"
    stripe_webhook_secret = "payments.stripe.webhook_secret (put it yourself)"
  }
  generated_secrets = toset(["csrf_key", "db_password", "redis_auth_token"])
}

resource "aws_secretsmanager_secret" "app" {
  #checkov:skip=CKV2_AWS_57:No rotation Lambda: each of these values must change on every node at once (the CSRF key, the Stripe keys) or together with the database or cache; rotate by putting a new value and an instance refresh (README.md).
  for_each                = local.secrets
  name                    = "${var.name}/${replace(each.key, "_", "-")}"
  description             = "Innkeep ${each.value}"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = 7
}

# Letters and digits only: they go into URLs (postgres://, rediss://) unescaped.
data "aws_secretsmanager_random_password" "generated" {
  for_each            = local.generated_secrets
  password_length     = 64
  exclude_punctuation = true
  include_space       = false
}

resource "aws_secretsmanager_secret_version" "generated" {
  for_each      = local.generated_secrets
  secret_id     = aws_secretsmanager_secret.app[each.key].id
  secret_string = data.aws_secretsmanager_random_password.generated[each.key].random_password

  lifecycle {
    ignore_changes = [secret_string]
  }
}
