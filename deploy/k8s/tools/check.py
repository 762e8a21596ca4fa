#!/usr/bin/env python3
"""Offline checks of deploy/k8s (Kustomize base and overlays), deploy/container/Containerfile
and .dockerignore; run by deploy/k8s/validate inside its venv.

  check.py REPO             render, validate and assert; then the self-test
  check.py REPO --no-self-test

Every overlay is rendered by the Kustomize subset of kustomize_subset.py and, where kubectl
(with Kustomize v5) is installed, by `kubectl kustomize` as well: both must give the same
objects. Every rendered object must pass kubernetes-validate's strict schemas of each
Kubernetes version in K8S_VERSIONS, then the assertions below. The self-test breaks copies
of the files one way at a time and requires each break to be caught.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import kubernetes_validate
import yaml
from dockerfile_parse import DockerfileParser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kustomize_subset

K8S_VERSIONS = ("1.30.0", "1.37.0")  # the oldest supported cluster and the newest schemas
OVERLAYS = ("staging", "production")
SECRET_NAME = "innkeep-secrets"
REQUIRED_SECRET_ENV = {"INNKEEP_DATABASE__URL", "INNKEEP_WEB__CSRF_KEY"}
# Settings that hold credentials: only ever from a Secret.
SECRET_SETTINGS = re.compile(
    r"^INNKEEP_(DATABASE__URL|DATABASE__REPLICAS|WEB__CSRF_KEY|STORAGE__ACCESS_KEY_ID|"
    r"STORAGE__SECRET_ACCESS_KEY|PAYMENTS__STRIPE__SECRET_KEY|PAYMENTS__STRIPE__WEBHOOK_SECRET)$"
)
EGRESS_PORTS = {53, 5432, 6379, 4222, 443}  # DNS, PostgreSQL, Redis, NATS, HTTPS
INGRESS_FROM_NAMESPACES = {"ingress-nginx", "monitoring"}  # the controller; Prometheus
CLUSTER_SCOPED = kustomize_subset.CLUSTER_SCOPED


def read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def write(path: str, text: str, mode: str = "w") -> None:
    with open(path, mode, encoding="utf-8") as f:
        f.write(text)


class Problems(list):
    def add(self, where: str, message: str) -> None:
        self.append(f"{where}: {message}")


# ---- rendering ---------------------------------------------------------------------------


def kubectl_kustomize_version() -> str | None:
    if os.environ.get("INNKEEP_K8S_RENDERER") == "subset" or not shutil.which("kubectl"):
        return None
    try:
        out = subprocess.run(
            ["kubectl", "version", "--client", "-o", "json"], capture_output=True, text=True, check=False, timeout=60
        )
        version = json.loads(out.stdout).get("kustomizeVersion", "")
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    m = re.match(r"v(\d+)\.", version)
    return version if m and int(m.group(1)) >= 5 else None


def _key(r: dict) -> tuple:
    m = r.get("metadata", {})
    return (r.get("apiVersion"), r.get("kind"), m.get("namespace", ""), m.get("name"))


def render(overlay: str, kubectl: str | None, problems: Problems, where: str) -> list[dict]:
    try:
        docs = kustomize_subset.build(overlay)
    except (kustomize_subset.KustomizeError, OSError, yaml.YAMLError) as e:
        problems.add(where, f"does not render: {e}")
        return []
    if kubectl:
        out = subprocess.run(
            ["kubectl", "kustomize", overlay], capture_output=True, text=True, check=False, timeout=120
        )
        if out.returncode != 0:
            problems.add(where, f"kubectl kustomize failed: {out.stderr.strip()}")
            return docs
        real = {_key(r): r for r in yaml.load_all(out.stdout, Loader=kustomize_subset.LOADER) if r}
        mine = {_key(r): r for r in docs}
        if real != mine:
            only = sorted(set(real) ^ set(mine), key=str)
            differ = sorted((k for k in set(real) & set(mine) if real[k] != mine[k]), key=str)
            problems.add(
                where,
                f"the subset renderer and kubectl kustomize ({kubectl}) disagree: "
                f"objects in one only {only}, objects that differ {differ}",
            )
            return list(real.values())
    return docs


# ---- schemas -----------------------------------------------------------------------------


@functools.cache
def _schema_problem(doc_json: str, version: str) -> str | None:
    doc = json.loads(doc_json)
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as e:
        path = ".".join(str(p) for p in e.path)
        return f"schema (Kubernetes {version}, strict): {path}: {e.message}"
    except kubernetes_validate.SchemaNotFoundError:
        return f"schema (Kubernetes {version}): no schema for {doc.get('apiVersion')} {doc.get('kind')}"
    return None


def check_schemas(docs: list[dict], where: str, problems: Problems) -> int:
    n = 0
    for doc in docs:
        for version in K8S_VERSIONS:
            p = _schema_problem(json.dumps(doc, sort_keys=True), version)
            if p:
                problems.add(f"{where} {doc.get('kind')}/{doc.get('metadata', {}).get('name')}", p)
            n += 1
    return n


# ---- the settings Innkeep knows (crates/innkeep/src/config.rs) ---------------------------


def config_tree(repo: str) -> dict:
    """{field: subtree or None} from the serde structs of the configuration."""
    src = read(os.path.join(repo, "crates/innkeep/src/config.rs"))
    structs = {
        m.group(1): re.findall(r"^\s*pub (\w+): ([\w:<>]+),", m.group(2), re.MULTILINE)
        for m in re.finditer(r"pub struct (\w+) \{(.*?)\n\}", src, re.DOTALL)
    }

    def tree(name: str, depth: int = 0) -> dict:
        out = {}
        for field, ty in structs.get(name, []):
            inner = ty.rsplit("::", 1)[-1]
            out[field] = tree(inner, depth + 1) if inner in structs and depth < 5 else None
        return out

    if "Config" not in structs:
        raise SystemExit("crates/innkeep/src/config.rs: struct Config not found (the settings check needs it)")
    return tree("Config")


def unknown_setting(name: str, tree: dict) -> bool:
    if not name.startswith("INNKEEP_"):
        return True
    node: Any = tree
    for part in name[len("INNKEEP_") :].lower().split("__"):
        if not isinstance(node, dict) or part not in node:
            return True
        node = node[part]
    return isinstance(node, dict)  # a section, not a setting


# ---- the rendered objects ----------------------------------------------------------------


def _selects(selector: dict | None, labels: dict) -> bool:
    if not selector or set(selector) - {"matchLabels"} or not selector.get("matchLabels"):
        return False
    return all(labels.get(k) == v for k, v in selector["matchLabels"].items())


def _port(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def check_objects(docs: list[dict], where: str, tree: dict, problems: Problems) -> dict:
    by_kind: dict[str, list[dict]] = {}
    for d in docs:
        by_kind.setdefault(d.get("kind", ""), []).append(d)

    def one(kind: str) -> dict | None:
        found = by_kind.get(kind, [])
        if len(found) != 1:
            problems.add(where, f"one {kind} expected, found {len(found)}")
            return None
        return found[0]

    # Secrets: referenced, never committed.
    for s in by_kind.get("Secret", []):
        if s.get("data") or s.get("stringData"):
            problems.add(where, f"Secret/{s['metadata']['name']} with data is committed (create it outside Git)")
        else:
            problems.add(where, f"Secret/{s['metadata']['name']} is rendered (secrets are created outside Git)")

    namespaces = by_kind.get("Namespace", [])
    ns = namespaces[0]["metadata"]["name"] if len(namespaces) == 1 else None
    if ns is None:
        problems.add(where, "one Namespace expected")
    else:
        labels = namespaces[0]["metadata"].get("labels", {})
        if labels.get("pod-security.kubernetes.io/enforce") != "restricted":
            problems.add(where, "the Namespace does not enforce the Pod Security Standard restricted")
    for d in docs:
        if d.get("kind") not in CLUSTER_SCOPED and d.get("metadata", {}).get("namespace") != ns:
            problems.add(where, f"{d.get('kind')}/{d['metadata'].get('name')} is not in namespace {ns}")

    configmaps = {c["metadata"]["name"]: c.get("data", {}) for c in by_kind.get("ConfigMap", [])}
    dep = one("Deployment")
    hpa = one("HorizontalPodAutoscaler")
    summary: dict = {}
    if dep is None:
        return summary
    dname = dep["metadata"]["name"]
    spec = dep.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    pod_labels = spec.get("template", {}).get("metadata", {}).get("labels", {})
    if not _selects(spec.get("selector"), pod_labels):
        problems.add(where, "the Deployment's selector does not select its own pods")
    replicas = spec.get("replicas", 1)
    summary["replicas"] = replicas
    if replicas < 2:
        problems.add(where, f"Deployment replicas {replicas}: at least 2")
    strategy = spec.get("strategy", {})
    if strategy.get("type") != "RollingUpdate" or str(strategy.get("rollingUpdate", {}).get("maxUnavailable")) != "0":
        problems.add(where, "the Deployment must roll with maxUnavailable 0")

    # The pod.
    if pod.get("automountServiceAccountToken") is not False:
        problems.add(where, "pod: automountServiceAccountToken must be false")
    if pod.get("enableServiceLinks") is not False:
        problems.add(
            where, "pod: enableServiceLinks must be false (Service env vars INNKEEP_* are unknown settings to Innkeep)"
        )
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(flag):
            problems.add(where, f"pod: {flag} is on")
    psc = pod.get("securityContext", {})
    sa_name = pod.get("serviceAccountName")
    sas = [s for s in by_kind.get("ServiceAccount", []) if s["metadata"]["name"] == sa_name]
    if not sas:
        problems.add(where, f"pod: serviceAccountName {sa_name!r} is not among the objects")
    elif sas[0].get("automountServiceAccountToken") is not False:
        problems.add(where, f"ServiceAccount/{sa_name}: automountServiceAccountToken must be false")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for v in volumes.values():
        if "hostPath" in v:
            problems.add(where, f"pod: hostPath volume {v['name']}")
    containers = pod.get("containers", [])
    if len(containers) != 1:
        problems.add(where, "one container expected")
        return summary
    c = containers[0]
    cname = f"container {c.get('name')}"

    # Settings: the ConfigMap's and the env's names are settings Innkeep has; credentials
    # only from the Secret.
    env_settings: dict[str, str] = {}
    for ef in c.get("envFrom", []):
        ref = ef.get("configMapRef", {}).get("name")
        if ref is None or ref not in configmaps:
            problems.add(where, f"{cname}: envFrom {ef} names no ConfigMap among the objects")
            continue
        env_settings.update(configmaps[ref])
    secret_env = {}
    for e in c.get("env", []):
        name = e.get("name", "")
        vf = e.get("valueFrom", {})
        if "secretKeyRef" in vf:
            ref = vf["secretKeyRef"]
            if ref.get("name") != SECRET_NAME:
                problems.add(where, f"{cname}: {name} from Secret {ref.get('name')!r}, not {SECRET_NAME}")
            secret_env[name] = ref
        elif "value" in e:
            env_settings[name] = e["value"]
        if name in env_settings and name in secret_env:
            problems.add(where, f"{cname}: {name} set twice")
    for name in list(env_settings) + list(secret_env):
        if unknown_setting(name, tree):
            problems.add(where, f"{cname}: {name} is an unknown setting (not in crates/innkeep/src/config.rs)")
    for name, value in env_settings.items():
        if SECRET_SETTINGS.match(name):
            problems.add(where, f"{cname}: {name} is a credential: from the Secret {SECRET_NAME}, not plain")
        if re.search(r"://[^/@\s]+:[^/@\s]+@", str(value)):
            problems.add(where, f"{cname}: {name} carries a password in plain configuration")
    for name in REQUIRED_SECRET_ENV:
        if name not in secret_env or secret_env[name].get("optional"):
            problems.add(where, f"{cname}: {name} must come from the Secret {SECRET_NAME} (not optional)")

    # Ports, probes, shutdown.
    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
    listen = env_settings.get("INNKEEP_SERVER__LISTEN", "")
    listen_port = _port(listen.rsplit(":", 1)[-1]) if ":" in listen else None
    if not listen.startswith("0.0.0.0:") and not listen.startswith("[::]:"):
        problems.add(where, f"INNKEEP_SERVER__LISTEN {listen!r}: must listen on all addresses in a pod")
    if listen_port is None or listen_port not in ports.values():
        problems.add(where, f"INNKEEP_SERVER__LISTEN {listen!r} is not a containerPort {sorted(ports.values())}")

    def probe(kind: str, path: str | None) -> dict:
        p = c.get(kind)
        if not p:
            problems.add(where, f"{cname}: no {kind}")
            return {}
        get = p.get("httpGet", {})
        port = ports.get(get.get("port"), get.get("port"))
        if path and get.get("path") != path:
            problems.add(where, f"{cname}: {kind} must GET {path}, not {get.get('path')}")
        if port != listen_port:
            problems.add(where, f"{cname}: {kind} port {get.get('port')} is not the port served on")
        return p

    readiness = probe("readinessProbe", "/readyz")
    probe("livenessProbe", "/healthz")
    startup = probe("startupProbe", None)
    if startup and startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3) < 60:
        problems.add(where, f"{cname}: startupProbe allows less than 60 s for migrations and the index")
    pre_stop = c.get("lifecycle", {}).get("preStop", {})
    sleep = None
    if "sleep" in pre_stop:
        sleep = _port(pre_stop["sleep"].get("seconds"))
    elif pre_stop.get("exec", {}).get("command", [])[:1] == ["sleep"]:
        sleep = _port(pre_stop["exec"]["command"][1])
    if sleep is None or sleep < 1:
        problems.add(where, f"{cname}: no preStop sleep (endpoints take a moment to drop the pod)")
        sleep = 0
    drain = _port(env_settings.get("INNKEEP_SERVER__DRAIN_SECS"))
    grace = _port(env_settings.get("INNKEEP_SERVER__SHUTDOWN_GRACE_SECS", 30))
    if drain is None or (
        readiness and drain < readiness.get("periodSeconds", 10) * readiness.get("failureThreshold", 3)
    ):
        problems.add(where, "INNKEEP_SERVER__DRAIN_SECS must be at least readiness periodSeconds x failureThreshold")
        drain = drain or 0
    tgps = pod.get("terminationGracePeriodSeconds", 30)
    if tgps <= sleep + drain + (grace or 0):
        problems.add(
            where,
            f"terminationGracePeriodSeconds {tgps} must exceed preStop {sleep} + drain {drain} + shutdown grace {grace}",
        )

    # Security.
    csc = c.get("securityContext", {})

    def sc(field: str) -> Any:
        return csc.get(field, psc.get(field))

    if sc("runAsNonRoot") is not True:
        problems.add(where, f"{cname}: runAsNonRoot must be true")
    uid = sc("runAsUser")
    if not isinstance(uid, int) or uid == 0:
        problems.add(where, f"{cname}: runAsUser must be a numeric non-root UID")
    summary["uid"] = uid
    if (sc("seccompProfile") or {}).get("type") != "RuntimeDefault":
        problems.add(where, f"{cname}: seccompProfile must be RuntimeDefault")
    if csc.get("readOnlyRootFilesystem") is not True:
        problems.add(where, f"{cname}: readOnlyRootFilesystem must be true")
    if csc.get("allowPrivilegeEscalation") is not False:
        problems.add(where, f"{cname}: allowPrivilegeEscalation must be false")
    if csc.get("privileged"):
        problems.add(where, f"{cname}: privileged")
    caps = csc.get("capabilities", {})
    if "ALL" not in caps.get("drop", []) or caps.get("add"):
        problems.add(where, f"{cname}: capabilities must drop ALL and add none")

    # Writable places on the read-only root: the data directory and /tmp.
    mounts = {m.get("mountPath"): m.get("name") for m in c.get("volumeMounts", [])}
    data_dir = env_settings.get("INNKEEP_DATA_DIR")
    for path in (data_dir, "/tmp"):
        v = volumes.get(mounts.get(path)) if path else None
        if not v or not ("emptyDir" in v or "persistentVolumeClaim" in v or "ephemeral" in v):
            problems.add(where, f"{cname}: {path} must be a mounted volume (the root file system is read-only)")

    # Resources and image.
    res = c.get("resources", {})
    for part in ("requests", "limits"):
        for r in ("cpu", "memory"):
            if r not in res.get(part, {}):
                problems.add(where, f"{cname}: resources.{part}.{r} missing")
    summary["resources"] = f"{res.get('requests', {}).get('cpu')}/{res.get('requests', {}).get('memory')}"
    image = c.get("image", "")
    tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else None
    if "@sha256:" not in image and (tag is None or tag == "latest"):
        problems.add(where, f"{cname}: image {image!r} must have a version tag or digest (not latest)")
    if "/" not in image:
        problems.add(where, f"{cname}: image {image!r} names no registry (images: not applied?)")
    summary["image"] = image

    # Spread over zones.
    tsc = pod.get("topologySpreadConstraints", [])
    if not any(
        t.get("topologyKey") == "topology.kubernetes.io/zone" and _selects(t.get("labelSelector"), pod_labels)
        for t in tsc
    ):
        problems.add(where, "pod: no topologySpreadConstraint over topology.kubernetes.io/zone selecting the pods")

    # Service.
    svc_ports: dict = {}
    for svc in by_kind.get("Service", []):
        if not _selects({"matchLabels": svc.get("spec", {}).get("selector")}, pod_labels):
            problems.add(where, f"Service/{svc['metadata']['name']}: selector does not select the pods")
        for p in svc.get("spec", {}).get("ports", []):
            target = p.get("targetPort")
            if ports.get(target, target) not in ports.values():
                problems.add(where, f"Service/{svc['metadata']['name']}: targetPort {target} is no container port")
            svc_ports[(svc["metadata"]["name"], p.get("name"))] = p.get("port")
            svc_ports[(svc["metadata"]["name"], p.get("port"))] = p.get("port")
    if not by_kind.get("Service"):
        problems.add(where, "no Service")

    # HPA.
    if hpa:
        hs = hpa.get("spec", {})
        ref = hs.get("scaleTargetRef", {})
        if (ref.get("apiVersion"), ref.get("kind"), ref.get("name")) != ("apps/v1", "Deployment", dname):
            problems.add(where, f"HorizontalPodAutoscaler targets {ref}, not Deployment {dname}")
        lo, hi = hs.get("minReplicas", 1), hs.get("maxReplicas", 0)
        summary["hpa"] = f"{lo}-{hi}"
        if not 2 <= lo <= replicas <= hi:
            problems.add(where, f"HPA {lo}-{hi} and Deployment replicas {replicas}: need 2 <= min <= replicas <= max")
        metrics = hs.get("metrics", [])
        if not any(
            m.get("type") == "Resource"
            and m.get("resource", {}).get("name") == "cpu"
            and m["resource"].get("target", {}).get("type") == "Utilization"
            for m in metrics
        ):
            problems.add(where, "HPA: no CPU utilisation metric")
        if not any(
            m.get("type") == "Pods" and "requests_per_second" in m.get("pods", {}).get("metric", {}).get("name", "")
            for m in metrics
        ):
            problems.add(where, "HPA: no Pods metric of requests per second")
        behavior = hs.get("behavior", {})
        for way in ("scaleUp", "scaleDown"):
            if "stabilizationWindowSeconds" not in behavior.get(way, {}):
                problems.add(where, f"HPA: behavior.{way}.stabilizationWindowSeconds not set")
        if behavior.get("scaleDown", {}).get("stabilizationWindowSeconds", 0) < 60:
            problems.add(where, "HPA: scaleDown stabilization window under 60 s")

    # PDB.
    pdb = one("PodDisruptionBudget")
    if pdb:
        ps = pdb.get("spec", {})
        if not _selects(ps.get("selector"), pod_labels):
            problems.add(where, "PodDisruptionBudget: selector does not match the pod labels")
        lo = hpa.get("spec", {}).get("minReplicas", replicas) if hpa else replicas
        if "maxUnavailable" in ps:
            if _port(ps["maxUnavailable"]) == 0 or str(ps["maxUnavailable"]) in ("0", "0%"):
                problems.add(where, "PodDisruptionBudget: maxUnavailable 0 blocks every node drain")
        elif _port(ps.get("minAvailable")) is None or _port(ps.get("minAvailable")) >= lo:
            problems.add(where, "PodDisruptionBudget: minAvailable leaves no disruption allowed")

    # NetworkPolicy.
    nps = [n for n in by_kind.get("NetworkPolicy", []) if _selects(n.get("spec", {}).get("podSelector"), pod_labels)]
    if not nps:
        problems.add(where, "NetworkPolicy: none selects the pods")
    for n in nps:
        ns_ = n["spec"]
        if set(ns_.get("policyTypes", [])) != {"Ingress", "Egress"}:
            problems.add(where, "NetworkPolicy: policyTypes must be Ingress and Egress")
        for rule in ns_.get("ingress", []):
            sources = rule.get("from", [])
            if not sources:
                problems.add(where, "NetworkPolicy: an ingress rule from anywhere")
            for s in sources:
                names = s.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
                if set(s) != {"namespaceSelector"} or names not in INGRESS_FROM_NAMESPACES:
                    problems.add(where, f"NetworkPolicy: ingress from {s}, not the ingress controller's namespace")
            rule_ports = {
                (p.get("protocol", "TCP"), ports.get(p.get("port"), p.get("port"))) for p in rule.get("ports", [])
            }
            if rule_ports != {("TCP", listen_port)}:
                problems.add(where, f"NetworkPolicy: ingress on {sorted(rule_ports, key=str)}, only TCP {listen_port}")
        egress_ports = set()
        for rule in ns_.get("egress", []):
            if not rule.get("ports"):
                problems.add(where, "NetworkPolicy: an egress rule on every port")
            egress_ports |= {_port(p.get("port")) for p in rule.get("ports", [])}
        if not egress_ports <= EGRESS_PORTS or 53 not in egress_ports:
            problems.add(
                where,
                f"NetworkPolicy: egress ports {sorted(egress_ports, key=str)}, allowed {sorted(EGRESS_PORTS)} with 53",
            )

    # Ingress: TLS for every host, to the Service, at server.public_url.
    ing = one("Ingress")
    if ing:
        ispec = ing.get("spec", {})
        tls_hosts = {h for t in ispec.get("tls", []) if t.get("secretName") for h in t.get("hosts", [])}
        hosts = [r.get("host") for r in ispec.get("rules", [])]
        summary["hosts"] = hosts
        if not ispec.get("tls"):
            problems.add(where, "Ingress: no tls")
        if not ispec.get("ingressClassName"):
            problems.add(where, "Ingress: no ingressClassName")
        for h in hosts:
            if not h or h not in tls_hosts:
                problems.add(where, f"Ingress: host {h!r} is not covered by tls")
        for r in ispec.get("rules", []):
            for p in r.get("http", {}).get("paths", []):
                b = p.get("backend", {}).get("service", {})
                port = b.get("port", {})
                if (b.get("name"), port.get("name", port.get("number"))) not in svc_ports:
                    problems.add(where, f"Ingress: backend {b} is no Service port")
        public = urlparse(env_settings.get("INNKEEP_SERVER__PUBLIC_URL", ""))
        if public.scheme != "https" or public.hostname not in hosts:
            problems.add(
                where, f"INNKEEP_SERVER__PUBLIC_URL {public.geturl()!r} must be https on a host of the Ingress {hosts}"
            )
    summary["namespace"] = ns
    return summary


def check_committed_secrets(k8s: str, problems: Problems) -> None:
    for top, _, files in os.walk(k8s):
        for f in files:
            if not f.endswith((".yaml", ".yml")):
                continue
            path = os.path.join(top, f)
            try:
                docs = kustomize_subset.load_docs(path)
            except yaml.YAMLError as e:
                problems.add(path, f"not YAML: {e}")
                continue
            for d in docs:
                if isinstance(d, dict) and d.get("kind") == "Secret" and (d.get("data") or d.get("stringData")):
                    problems.add(path, "a Secret with data is committed")


# ---- Containerfile and build context ------------------------------------------------------


def check_containerfile(path: str, hadolint: str | None, uid: Any, problems: Problems) -> int:
    where = os.path.basename(path)
    asserts = 0

    def need(ok: bool, message: str) -> None:
        nonlocal asserts
        asserts += 1
        if not ok:
            problems.add(where, message)

    if hadolint:
        out = subprocess.run([hadolint, "--no-color", path], capture_output=True, text=True, check=False, timeout=120)
        need(out.returncode == 0 and not out.stdout.strip(), f"hadolint: {out.stdout.strip() or out.stderr.strip()}")
    with open(path, "rb") as f:
        dfp = DockerfileParser(fileobj=io.BytesIO(f.read()))
    stages: list[dict] = []
    for ins in dfp.structure:
        kind, value = ins["instruction"], ins["value"]
        if kind == "FROM":
            words = [w for w in value.split() if not w.startswith("--")]
            stages.append({"image": words[0], "name": words[2] if len(words) > 2 else None, "ins": []})
        elif stages:
            stages[-1]["ins"].append((kind, value))
        if kind == "ADD":
            need(not re.search(r"(^|\s)(https?|ftp|git)://", value), f"ADD of a URL: {value}")
    need(len(stages) >= 2, "a multi-stage build expected (build, then runtime)")
    if not stages:
        return asserts
    releases = []
    for st in stages:
        image = st["image"]
        last = image.rsplit("/", 1)[-1]
        tag = last.split(":", 1)[1] if ":" in last and "@" not in last else None
        need(
            ("@sha256:" in image) or (tag is not None and tag != "latest"),
            f"FROM {image}: pin a tag (not latest) or digest",
        )
        releases += re.findall(r"(bookworm|trixie|bullseye)", image)
    need(len(set(releases)) == 1, f"build and runtime on one Debian release (glibc): {releases}")
    build, final = stages[0], stages[-1]
    runs = " ".join(v for k, v in build["ins"] if k == "RUN")
    need(
        all(s in runs for s in ("cargo build", "--release", "--locked", "-p innkeep")),
        "the build stage must run cargo build --release --locked -p innkeep",
    )
    need("--mount=type=cache" in runs, "the build stage must use cache mounts")
    fin = final["ins"]

    def values(kind: str) -> list[str]:
        return [v for k, v in fin if k == kind]

    users = values("USER")
    need(bool(users), "the runtime stage sets no USER")
    if users:
        m = re.fullmatch(r"(\d+)(?::(\d+))?", users[-1].strip())
        need(bool(m) and int(m.group(1)) != 0, f"USER {users[-1]}: a numeric non-root UID[:GID]")
        if m and uid is not None:
            need(int(m.group(1)) == uid, f"USER {users[-1]} is not the runAsUser {uid} of deploy/k8s")
    hc = values("HEALTHCHECK")
    need(bool(hc) and not hc[-1].strip().upper().startswith("NONE"), "the runtime stage has no HEALTHCHECK")
    if hc:
        need("/healthz" in hc[-1], "HEALTHCHECK must ask /healthz")
    need(any("8080" in v.split() for v in values("EXPOSE")), "EXPOSE 8080 missing")
    need(values("ENTRYPOINT")[-1:] == ['["innkeep"]'], 'ENTRYPOINT ["innkeep"] expected')
    need(values("CMD")[-1:] == ['["serve"]'], 'CMD ["serve"] expected')
    need(
        any(v.startswith(f"--from={build['name']} ") for v in values("COPY")),
        "the runtime stage must copy the binary from the build stage",
    )
    labels = " ".join(values("LABEL"))
    for label in ("title", "version", "revision", "licenses", "description"):
        need(f"org.opencontainers.image.{label}=" in labels, f"LABEL org.opencontainers.image.{label} missing")
    env = dfp.envs  # the final stage's
    need(env.get("INNKEEP_SERVER__LISTEN", "").endswith(":8080"), "ENV INNKEEP_SERVER__LISTEN=0.0.0.0:8080 expected")
    data_dir = env.get("INNKEEP_DATA_DIR")
    need(
        bool(data_dir) and any(data_dir in v for v in values("VOLUME")),
        "ENV INNKEEP_DATA_DIR must be a VOLUME (the root file system is read-only)",
    )
    return asserts


def _ignore_regex(pattern: str) -> re.Pattern:
    out, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            if i < len(pattern) and pattern[i] == "/":
                out = out[:-2] + "(?:.*/)?"
                i += 1
            continue
        out += {"*": "[^/]*", "?": "[^/]"}.get(ch, re.escape(ch))
        i += 1
    return re.compile(out + r"\Z")


def dockerignore_excludes(path: str) -> Callable[[str], bool]:
    rules = []
    for line in read(path).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pat = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        rules.append((negate, _ignore_regex(pat)))

    def excluded(rel: str) -> bool:
        parts = rel.split("/")
        result = False
        for negate, rx in rules:
            # A pattern matches the path or any of its parent directories.
            if any(rx.match("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
                result = not negate
        return result

    return excluded


def check_build_context(repo: str, dockerignore: str, problems: Problems) -> int:
    """Every file of the workspace, and every file it compiles in, is in the context."""
    excluded = dockerignore_excludes(dockerignore)
    for must_go in (".git/HEAD", "target/release/innkeep", "crates/web/target/x"):
        if not excluded(must_go):
            problems.add(".dockerignore", f"{must_go.split('/')[0]}/ must be excluded from the build context")
    needed = {"Cargo.toml", "Cargo.lock"}
    include = re.compile(r"include_(?:str|bytes)!\(\s*\"([^\"]+)\"")
    for top, dirs, files in os.walk(os.path.join(repo, "crates")):
        dirs[:] = [d for d in dirs if d != "target"]
        for f in files:
            path = os.path.join(top, f)
            needed.add(os.path.relpath(path, repo))
            if f.endswith(".rs"):
                for target in include.findall(read(path)):
                    needed.add(os.path.relpath(os.path.normpath(os.path.join(top, target)), repo))
    missing = sorted(p for p in needed if excluded(p))
    if missing:
        problems.add(
            ".dockerignore",
            f"excludes {len(missing)} file(s) the build needs (compiled in or part of the workspace): {missing[:5]}",
        )
    return len(needed)


# ---- all checks, and the self-test --------------------------------------------------------


def run_checks(
    k8s: str, container: str, dockerignore: str, repo: str, kubectl: str | None, hadolint: str | None
) -> tuple[Problems, dict]:
    problems = Problems()
    tree = config_tree(repo)
    stats: dict = {"objects": 0, "schema_checks": 0, "overlays": {}}
    uid = None
    for name in OVERLAYS:
        overlay = os.path.join(k8s, "overlays", name)
        docs = render(overlay, kubectl, problems, f"overlays/{name}")
        stats["objects"] += len(docs)
        stats["schema_checks"] += check_schemas(docs, f"overlays/{name}", problems)
        summary = check_objects(docs, f"overlays/{name}", tree, problems)
        # An images entry whose name matches no container is ignored by Kustomize, silently.
        try:
            wanted = kustomize_subset.load_docs(os.path.join(overlay, "kustomization.yaml"))[0].get("images", [])
        except (OSError, yaml.YAMLError, IndexError):
            wanted = []
        for img in wanted:
            suffix = f"@{img['digest']}" if "digest" in img else f":{img.get('newTag', '')}"
            if not summary.get("image", "").endswith(suffix):
                problems.add(
                    f"overlays/{name}",
                    f"images entry {img.get('name')} -> {suffix} does not take effect (image {summary.get('image')!r})",
                )
        stats["overlays"][name] = summary
        uid = summary.get("uid", uid)
    s, p = stats["overlays"].get("staging", {}), stats["overlays"].get("production", {})
    if s and p:
        for field in ("namespace", "hosts"):
            if s.get(field) == p.get(field):
                problems.add("overlays", f"staging and production share {field} {s.get(field)}")
        if p.get("replicas", 0) < 3:
            problems.add("overlays/production", "at least 3 replicas (one per zone)")
    check_committed_secrets(k8s, problems)
    stats["containerfile_asserts"] = check_containerfile(
        os.path.join(container, "Containerfile"), hadolint, uid, problems
    )
    stats["context_files"] = check_build_context(repo, dockerignore, problems)
    return problems, stats


def _edit_yaml(path: str, change: Callable[[list[dict]], None]) -> None:
    docs = kustomize_subset.load_docs(path)
    change(docs)
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump_all(docs, f, sort_keys=False)


def _container(docs: list[dict]) -> dict:
    return docs[0]["spec"]["template"]["spec"]["containers"][0]


def _edit_text(path: str, old: str, new: str) -> None:
    text = read(path)
    if old not in text:
        raise SystemExit(f"self-test: {path} no longer contains {old!r}; update the self-test")
    write(path, text.replace(old, new, 1))


def _add_secret(k8s: str) -> None:
    write(
        os.path.join(k8s, "base/secret.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: innkeep-secrets\nstringData:\n  csrf-key: x\n",
    )
    _edit_yaml(os.path.join(k8s, "base/kustomization.yaml"), lambda d: d[0]["resources"].append("secret.yaml"))


# (what is broken, how, what the failure must say)
MUTATIONS: list[tuple[str, Callable[[str, str, str], None], str]] = [
    (
        "readiness probe removed",
        lambda k, c, i: _edit_yaml(f"{k}/base/deployment.yaml", lambda d: _container(d).pop("readinessProbe")),
        "no readinessProbe",
    ),
    (
        "readiness probe on /healthz",
        lambda k, c, i: _edit_yaml(
            f"{k}/base/deployment.yaml", lambda d: _container(d)["readinessProbe"]["httpGet"].update(path="/healthz")
        ),
        "readinessProbe must GET /readyz",
    ),
    (
        "liveness probe removed",
        lambda k, c, i: _edit_yaml(f"{k}/base/deployment.yaml", lambda d: _container(d).pop("livenessProbe")),
        "no livenessProbe",
    ),
    (
        "writable root file system",
        lambda k, c, i: _edit_yaml(
            f"{k}/base/deployment.yaml",
            lambda d: _container(d)["securityContext"].update(readOnlyRootFilesystem=False),
        ),
        "readOnlyRootFilesystem",
    ),
    (
        "capabilities kept",
        lambda k, c, i: _edit_yaml(
            f"{k}/base/deployment.yaml", lambda d: _container(d)["securityContext"].pop("capabilities")
        ),
        "drop ALL",
    ),
    (
        "runs as root",
        lambda k, c, i: _edit_yaml(
            f"{k}/base/deployment.yaml",
            lambda d: [
                d[0]["spec"]["template"]["spec"]["securityContext"].update(runAsNonRoot=False, runAsUser=0),
                _container(d)["securityContext"].update(runAsNonRoot=False, runAsUser=0),
            ],
        ),
        "runAsNonRoot",
    ),
    (
        "no memory limit",
        lambda k, c, i: [
            _edit_yaml(f"{k}/base/deployment.yaml", lambda d: _container(d)["resources"]["limits"].pop("memory")),
            _edit_yaml(
                f"{k}/overlays/production/patches/deployment.yaml",
                lambda d: _container(d)["resources"]["limits"].pop("memory"),
            ),
        ],
        "resources.limits.memory missing",
    ),
    (
        "service links on",
        lambda k, c, i: _edit_yaml(
            f"{k}/base/deployment.yaml", lambda d: d[0]["spec"]["template"]["spec"].pop("enableServiceLinks")
        ),
        "enableServiceLinks",
    ),
    (
        "grace period shorter than the drain",
        lambda k, c, i: _edit_text(
            f"{k}/base/deployment.yaml", "terminationGracePeriodSeconds: 60", "terminationGracePeriodSeconds: 30"
        ),
        "terminationGracePeriodSeconds 30 must exceed",
    ),
    (
        "misspelt probe field (schema)",
        lambda k, c, i: _edit_yaml(
            f"{k}/base/deployment.yaml", lambda d: _container(d)["livenessProbe"]["httpGet"].update(paht="/x")
        ),
        "schema (Kubernetes",
    ),
    (
        "unknown setting in the ConfigMap",
        lambda k, c, i: _edit_text(
            f"{k}/base/kustomization.yaml", "- INNKEEP_LOG__LEVEL=info", "- INNKEEP_LOG__LEVL=info"
        ),
        "INNKEEP_LOG__LEVL is an unknown setting",
    ),
    (
        "database URL in the ConfigMap",
        lambda k, c, i: _edit_text(
            f"{k}/base/kustomization.yaml",
            "- INNKEEP_LOG__LEVEL=info",
            "- INNKEEP_LOG__LEVEL=info\n      - INNKEEP_DATABASE__REPLICAS=postgres://innkeep:pw@db/innkeep",
        ),
        "INNKEEP_DATABASE__REPLICAS is a credential",
    ),
    ("a Secret with data committed", lambda k, c, i: _add_secret(k), "a Secret with data is committed"),
    (
        "PDB selects other pods",
        lambda k, c, i: _edit_yaml(
            f"{k}/base/pdb.yaml",
            lambda d: d[0]["spec"]["selector"]["matchLabels"].update({"app.kubernetes.io/component": "worker"}),
        ),
        "PodDisruptionBudget: selector does not match",
    ),
    (
        "HPA targets another Deployment",
        lambda k, c, i: _edit_yaml(f"{k}/base/hpa.yaml", lambda d: d[0]["spec"]["scaleTargetRef"].update(name="web")),
        "HorizontalPodAutoscaler targets",
    ),
    (
        "HPA without the requests-per-second metric",
        lambda k, c, i: _edit_yaml(f"{k}/base/hpa.yaml", lambda d: d[0]["spec"]["metrics"].pop(1)),
        "no Pods metric of requests per second",
    ),
    (
        "NetworkPolicy lets SMTP out",
        lambda k, c, i: _edit_yaml(
            f"{k}/base/networkpolicy.yaml",
            lambda d: d[0]["spec"]["egress"].append({"ports": [{"protocol": "TCP", "port": 25}]}),
        ),
        "NetworkPolicy: egress ports",
    ),
    (
        "NetworkPolicy open to every namespace",
        lambda k, c, i: _edit_yaml(
            f"{k}/base/networkpolicy.yaml",
            lambda d: d[0]["spec"]["ingress"][0].update({"from": [{"namespaceSelector": {}}]}),
        ),
        "not the ingress controller's namespace",
    ),
    (
        "Ingress without TLS",
        lambda k, c, i: _edit_yaml(f"{k}/overlays/production/patches/ingress.yaml", lambda d: d[0]["spec"].pop("tls")),
        "is not covered by tls",
    ),
    (
        "public URL not on the Ingress",
        lambda k, c, i: _edit_text(
            f"{k}/overlays/staging/kustomization.yaml", "https://staging.stays.example", "https://stage.stays.example"
        ),
        "INNKEEP_SERVER__PUBLIC_URL",
    ),
    (
        "image tag latest",
        lambda k, c, i: _edit_text(f"{k}/overlays/production/kustomization.yaml", "newTag: 0.1.0", "newTag: latest"),
        "not latest",
    ),
    (
        "overlay image entry that matches no container",
        lambda k, c, i: _edit_text(
            f"{k}/overlays/staging/kustomization.yaml",
            "- name: registry.example.com/innkeep/innkeep",
            "- name: innkeep",
        ),
        "does not take effect",
    ),
    (
        "no zone spread",
        lambda k, c, i: _edit_yaml(
            f"{k}/base/deployment.yaml", lambda d: d[0]["spec"]["template"]["spec"]["topologySpreadConstraints"].pop(0)
        ),
        "topology.kubernetes.io/zone",
    ),
    (
        "Containerfile runs as root",
        lambda k, c, i: _edit_text(f"{c}/Containerfile", "USER 10001:10001", "USER root"),
        "USER root",
    ),
    (
        "Containerfile without HEALTHCHECK",
        lambda k, c, i: _edit_text(f"{c}/Containerfile", "HEALTHCHECK --interval", "# HEALTHCHECK --interval"),
        "no HEALTHCHECK",
    ),
    (
        "Containerfile ADDs a URL",
        lambda k, c, i: _edit_text(
            f"{c}/Containerfile", "STOPSIGNAL SIGTERM", "ADD https://example.com/x /x\nSTOPSIGNAL SIGTERM"
        ),
        "ADD of a URL",
    ),
    (
        "Containerfile base image untagged",
        lambda k, c, i: _edit_text(f"{c}/Containerfile", "debian:bookworm-slim AS runtime", "debian AS runtime"),
        "pin a tag",
    ),
    (
        "single-stage Containerfile",
        lambda k, c, i: _edit_text(
            f"{c}/Containerfile", "FROM docker.io/library/rust:1.95-bookworm AS build", "# no build stage"
        ),
        "multi-stage",
    ),
    (
        ".dockerignore drops the compiled-in web assets",
        lambda k, c, i: write(i, "crates/web/static\n", mode="a"),
        "excludes",
    ),
]


def self_test(root: str, repo: str, hadolint: str | None) -> int:
    baseline: Problems | None = None
    with tempfile.TemporaryDirectory(prefix="innkeep-k8s-selftest-") as scratch:

        def fresh() -> tuple[str, str, str]:
            for d in ("k8s", "container"):
                shutil.rmtree(os.path.join(scratch, d), ignore_errors=True)
            k = shutil.copytree(os.path.join(root, "deploy/k8s"), os.path.join(scratch, "k8s"))
            c = shutil.copytree(os.path.join(root, "deploy/container"), os.path.join(scratch, "container"))
            i = shutil.copy(os.path.join(root, ".dockerignore"), os.path.join(scratch, "dockerignore"))
            return k, c, i

        baseline, _ = run_checks(*fresh(), repo, None, hadolint)
        if baseline:
            print("self-test: the unchanged copy fails:\n  " + "\n  ".join(baseline))
            return -1
        missed = []
        for what, mutate, expect in MUTATIONS:
            k, c, i = fresh()
            mutate(k, c, i)
            problems, _ = run_checks(k, c, i, repo, None, hadolint)
            if not any(expect in p for p in problems):
                missed.append(f"{what}: expected a problem with {expect!r}, got {list(problems) or 'none'}")
        if missed:
            print("self-test: breaks that were not caught:\n  " + "\n  ".join(missed))
            return -1
    return len(MUTATIONS)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("repo")
    ap.add_argument("--no-self-test", action="store_true")
    ap.add_argument("--hadolint", default=shutil.which("hadolint"))
    args = ap.parse_args()
    repo = os.path.abspath(args.repo)
    kubectl = kubectl_kustomize_version()
    problems, stats = run_checks(
        os.path.join(repo, "deploy/k8s"),
        os.path.join(repo, "deploy/container"),
        os.path.join(repo, ".dockerignore"),
        repo,
        kubectl,
        args.hadolint,
    )
    if problems:
        print("\n".join(problems))
        print(f"deploy/k8s: {len(problems)} problem(s)")
        return 1
    caught = 0
    if not args.no_self_test:
        caught = self_test(repo, repo, args.hadolint)
        if caught < 0:
            return 1
    renderer = f"kubectl kustomize {kubectl} = subset renderer" if kubectl else "subset renderer (no kubectl)"
    o = stats["overlays"]
    print(
        f"k8s: ok ({len(OVERLAYS)} overlays, {stats['objects']} objects rendered by {renderer}; "
        f"strict schemas of Kubernetes {' and '.join(v.rsplit('.', 1)[0] for v in K8S_VERSIONS)}; "
        + "; ".join(
            f"{n} {s.get('replicas')} pods (HPA {s.get('hpa')}) {s.get('image', '').rsplit('/', 1)[-1]}"
            for n, s in o.items()
        )
        + f"; Containerfile: {'hadolint clean, ' if args.hadolint else ''}{stats['containerfile_asserts']} assertions; "
        f"build context keeps {stats['context_files']} needed files; "
        + (f"self-test: {caught} breaks caught)" if caught else "self-test skipped)")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
