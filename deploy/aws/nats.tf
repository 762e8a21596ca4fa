# NATS JetStream (bus.url, ingest.sink = nats): three servers, one per zone, in the private
# app subnets, clustered over port 6222 by name (nats-N.<internal zone>). Each keeps its
# JetStream data on its own encrypted volume, which outlives the instance. The nodes reach
# the cluster as nats.<internal zone>, a name with the three addresses; the servers tell
# clients of each other. Only the nodes' security group reaches port 4222.

locals {
  nats_names = [for i in range(3) : "nats-${i}.${var.internal_zone_name}"]
}

resource "aws_route53_zone" "internal" {
  name    = var.internal_zone_name
  comment = "Innkeep internal names"

  vpc {
    vpc_id = aws_vpc.main.id
  }
}

resource "aws_ebs_volume" "nats" {
  #checkov:skip=CKV2_AWS_9:JetStream keeps every stream on three servers (R3), so a lost volume is rebuilt from its peers; volume snapshots of a running JetStream store are not consistent backups anyway.
  count             = 3
  availability_zone = local.azs[count.index]
  size              = var.nats_volume_gb
  type              = "gp3"
  encrypted         = true
  kms_key_id        = aws_kms_key.ebs.arn

  tags = { Name = "${var.name}-nats-${count.index}" }
}

resource "aws_instance" "nats" {
  count                  = 3
  ami                    = local.ami_id
  instance_type          = var.nats_instance_type
  subnet_id              = aws_subnet.app[count.index].id
  vpc_security_group_ids = [aws_security_group.nats.id]
  iam_instance_profile   = aws_iam_instance_profile.nats.name
  ebs_optimized          = true
  monitoring             = true

  associate_public_ip_address = false

  user_data_base64 = base64encode(templatefile("${path.module}/templates/nats-user-data.sh.tftpl", {
    index        = count.index
    server_name  = "nats-${count.index}"
    cluster_name = var.name
    routes       = local.nats_names
    volume_id    = aws_ebs_volume.nats[count.index].id
    store_max_gb = floor(var.nats_volume_gb * 0.9)
    nats_version = var.nats_server_version
    nats_sha256  = var.nats_server_sha256
    nats_arch    = var.architecture == "arm64" ? "arm64" : "amd64"
  }))

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = 20
    encrypted             = true
    kms_key_id            = aws_kms_key.ebs.arn
    delete_on_termination = true
  }

  tags = { Name = "${var.name}-nats-${count.index}", Role = "nats" }

  # The server is downloaded at boot: the way out must exist first.
  depends_on = [aws_route.app_nat]

  lifecycle {
    # A newer AMI must not replace a running JetStream server behind the operator's back:
    # replace one at a time (terraform apply -replace='aws_instance.nats[0]'), see README.md.
    ignore_changes = [ami, user_data_base64]
  }
}

resource "aws_volume_attachment" "nats" {
  count       = 3
  device_name = "/dev/sdf"
  volume_id   = aws_ebs_volume.nats[count.index].id
  instance_id = aws_instance.nats[count.index].id
}

resource "aws_route53_record" "nats_server" {
  count   = 3
  zone_id = aws_route53_zone.internal.zone_id
  name    = local.nats_names[count.index]
  type    = "A"
  ttl     = 60
  records = [aws_instance.nats[count.index].private_ip]
}

resource "aws_route53_record" "nats" {
  zone_id = aws_route53_zone.internal.zone_id
  name    = "nats.${var.internal_zone_name}"
  type    = "A"
  ttl     = 60
  records = aws_instance.nats[*].private_ip
}
