"""The subset of Kustomize (v5) that deploy/k8s uses, in Python, for machines without a
kustomize binary (`kubectl kustomize`). Neither Debian's packages nor PyPI carry a current
kustomize, so deploy/k8s/validate renders with this and, where kubectl is installed,
renders with `kubectl kustomize` too and requires both to give the same objects.

Supported kustomization fields: resources (files and directories), namespace, labels
(pairs, includeTemplates; not includeSelectors), images (name, newName, newTag, digest),
replicas, patches (strategic merge, from `path`, matched by the patch's kind and name or by
`target`), configMapGenerator (literals, behavior create/merge/replace, the content hash
suffix and the rewriting of references to it). Anything else is an error, never ignored.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from typing import Any

import yaml

SUPPORTED = {
    "apiVersion",
    "kind",
    "resources",
    "namespace",
    "labels",
    "images",
    "replicas",
    "patches",
    "configMapGenerator",
}
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
    "StorageClass",
    "IngressClass",
    "PersistentVolume",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}
# Strategic merge: the lists merged item by item, by this key (the others are replaced).
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "imagePullSecrets": "name",
    "topologySpreadConstraints": "topologyKey",
}
GENERATED = "innkeep.validate/generated-configmap"


class KustomizeError(Exception):
    pass


LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where PyYAML has it


def load_docs(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.load_all(f, Loader=LOADER) if d is not None]


def _kustomization(directory: str) -> dict:
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        p = os.path.join(directory, name)
        if os.path.exists(p):
            docs = load_docs(p)
            if len(docs) != 1 or not isinstance(docs[0], dict):
                raise KustomizeError(f"{p}: one mapping expected")
            k = docs[0]
            unknown = set(k) - SUPPORTED
            if unknown:
                raise KustomizeError(f"{p}: fields not supported by the subset renderer: {sorted(unknown)}")
            return k
    raise KustomizeError(f"{directory}: no kustomization.yaml")


def _id(r: dict) -> tuple[str, str]:
    return (r.get("kind", ""), r.get("metadata", {}).get("name", ""))


def _literal(item: str) -> tuple[str, str]:
    if "=" not in item:
        raise KustomizeError(f"configMapGenerator literal without '=': {item!r}")
    key, value = item.split("=", 1)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return key, value


def _generate(k: dict, resources: list[dict], where: str) -> None:
    for g in k.get("configMapGenerator", []) or []:
        unknown = set(g) - {"name", "literals", "behavior"}
        if unknown:
            raise KustomizeError(f"{where}: configMapGenerator fields not supported: {sorted(unknown)}")
        data = dict(_literal(item) for item in g.get("literals", []) or [])
        behavior = g.get("behavior", "create")
        existing = [r for r in resources if _id(r) == ("ConfigMap", g["name"])]
        if behavior == "create":
            if existing:
                raise KustomizeError(f"{where}: ConfigMap {g['name']} already exists (use behavior: merge)")
            resources.append(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": g["name"], "annotations": {GENERATED: "true"}},
                    "data": data,
                }
            )
        elif behavior in ("merge", "replace"):
            if len(existing) != 1:
                raise KustomizeError(f"{where}: behavior {behavior} needs one ConfigMap {g['name']} from the resources")
            cm = existing[0]
            cm["data"] = {**cm.get("data", {}), **data} if behavior == "merge" else data
        else:
            raise KustomizeError(f"{where}: unknown behavior {behavior!r}")


def strategic_merge(base: Any, patch: Any, field: str = "") -> Any:
    if isinstance(patch, dict) and isinstance(base, dict):
        out = dict(base)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = strategic_merge(out[key], value, key)
            else:
                out[key] = copy.deepcopy(value)
        return out
    if isinstance(patch, list) and isinstance(base, list) and field in MERGE_KEYS:
        key = MERGE_KEYS[field]
        out = [copy.deepcopy(item) for item in base]
        for item in patch:
            if not isinstance(item, dict) or key not in item:
                raise KustomizeError(f"strategic merge: an item of {field} without {key}")
            delete = item.get("$patch") == "delete"
            for i, existing in enumerate(out):
                if isinstance(existing, dict) and existing.get(key) == item[key]:
                    if delete:
                        out.pop(i)
                    else:
                        out[i] = strategic_merge(existing, item, "")
                    break
            else:
                if not delete:
                    out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(patch)


def _patch(k: dict, resources: list[dict], directory: str) -> None:
    for p in k.get("patches", []) or []:
        unknown = set(p) - {"path", "target"}
        if unknown or "path" not in p:
            raise KustomizeError(f"{directory}: patches need `path` (and at most `target`), got {sorted(p)}")
        docs = load_docs(os.path.join(directory, p["path"]))
        if len(docs) != 1:
            raise KustomizeError(f"{p['path']}: one strategic-merge patch per file")
        body = docs[0]
        target = p.get("target") or {"kind": body.get("kind"), "name": body.get("metadata", {}).get("name")}
        hits = [
            r
            for r in resources
            if all(
                target.get(field) in (None, r.get("kind") if field == "kind" else r["metadata"].get("name"))
                for field in ("kind", "name")
            )
        ]
        if not hits:
            raise KustomizeError(f"{p['path']}: the patch matches no resource ({target})")
        for r in hits:
            merged = strategic_merge(r, {key: v for key, v in body.items() if key not in ("apiVersion", "kind")})
            merged["metadata"]["name"] = r["metadata"]["name"]
            r.clear()
            r.update(merged)


def _labels(k: dict, resources: list[dict]) -> None:
    for entry in k.get("labels", []) or []:
        unknown = set(entry) - {"pairs", "includeTemplates", "includeSelectors"}
        if unknown or entry.get("includeSelectors"):
            raise KustomizeError(f"labels: only pairs and includeTemplates are supported, got {sorted(entry)}")
        pairs = {str(key): str(v) for key, v in entry["pairs"].items()}
        for r in resources:
            r.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
            if entry.get("includeTemplates") and r.get("kind") in WORKLOADS:
                tmeta = r.setdefault("spec", {}).setdefault("template", {}).setdefault("metadata", {})
                tmeta.setdefault("labels", {}).update(pairs)


def _containers(r: dict) -> list[dict]:
    if r.get("kind") not in WORKLOADS:
        return []
    spec = r.get("spec", {}).get("template", {}).get("spec", {})
    return list(spec.get("containers", [])) + list(spec.get("initContainers", []))


def _image_name(image: str) -> str:
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def _images(k: dict, resources: list[dict]) -> None:
    for img in k.get("images", []) or []:
        unknown = set(img) - {"name", "newName", "newTag", "digest"}
        if unknown:
            raise KustomizeError(f"images: fields not supported: {sorted(unknown)}")
        for r in resources:
            for c in _containers(r):
                if _image_name(c.get("image", "")) != img["name"]:
                    continue
                current = c["image"]
                name = img.get("newName", img["name"])
                if "digest" in img:
                    c["image"] = f"{name}@{img['digest']}"
                elif "newTag" in img:
                    c["image"] = f"{name}:{img['newTag']}"
                else:
                    rest = current[len(_image_name(current)) :]
                    c["image"] = name + rest


def _replicas(k: dict, resources: list[dict]) -> None:
    for rep in k.get("replicas", []) or []:
        hits = [r for r in resources if r.get("kind") in WORKLOADS and r["metadata"]["name"] == rep["name"]]
        if not hits:
            raise KustomizeError(f"replicas: no workload named {rep['name']}")
        for r in hits:
            r.setdefault("spec", {})["replicas"] = int(rep["count"])


def _namespace(k: dict, resources: list[dict]) -> None:
    ns = k.get("namespace")
    if not ns:
        return
    for r in resources:
        if r.get("kind") not in CLUSTER_SCOPED:
            r.setdefault("metadata", {})["namespace"] = ns


def _build(directory: str, depth: int = 0) -> list[dict]:
    if depth > 10:
        raise KustomizeError("resources nest too deep")
    k = _kustomization(directory)
    resources: list[dict] = []
    for entry in k.get("resources", []) or []:
        path = os.path.normpath(os.path.join(directory, entry))
        if os.path.isdir(path):
            resources.extend(_build(path, depth + 1))
        elif os.path.isfile(path):
            resources.extend(load_docs(path))
        else:
            raise KustomizeError(f"{directory}: resource {entry} not found (remote resources are not supported)")
    _generate(k, resources, directory)
    # Kustomize's order of built-in transformers.
    _patch(k, resources, directory)
    _namespace(k, resources)
    _labels(k, resources)
    _replicas(k, resources)
    _images(k, resources)
    return resources


def _go_json(value: Any) -> str:
    """json.Marshal of Go: sorted keys, no spaces, <, > and & escaped."""
    s = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (
        s.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def configmap_hash(data: dict) -> str:
    """Kustomize's suffix: sha256 of {"data","kind","name"} as Go's JSON, whose first 10 hex
    digits have 0, 1, 3, a, e swapped for letters. The name hashed is "" in Kustomize v5
    (its lookup of "metadata/name" finds nothing), so only the data counts."""
    digest = hashlib.sha256(_go_json({"kind": "ConfigMap", "name": "", "data": data}).encode()).hexdigest()
    return digest[:10].translate(str.maketrans({"0": "g", "1": "h", "3": "k", "a": "m", "e": "t"}))


def _rename_refs(r: dict, old: str, new: str) -> None:
    spec = r.get("spec", {}).get("template", {}).get("spec", {})
    for c in _containers(r):
        for ef in c.get("envFrom", []) or []:
            ref = ef.get("configMapRef")
            if ref and ref.get("name") == old:
                ref["name"] = new
        for e in c.get("env", []) or []:
            ref = (e.get("valueFrom") or {}).get("configMapKeyRef")
            if ref and ref.get("name") == old:
                ref["name"] = new
    for v in spec.get("volumes", []) or []:
        if (v.get("configMap") or {}).get("name") == old:
            v["configMap"]["name"] = new
        for src in (v.get("projected") or {}).get("sources", []) or []:
            if (src.get("configMap") or {}).get("name") == old:
                src["configMap"]["name"] = new


def build(directory: str) -> list[dict]:
    resources = _build(directory)
    for cm in [r for r in resources if r.get("metadata", {}).get("annotations", {}).get(GENERATED)]:
        meta = cm["metadata"]
        del meta["annotations"][GENERATED]
        if not meta["annotations"]:
            del meta["annotations"]
        old = meta["name"]
        new = f"{old}-{configmap_hash(cm.get('data', {}))}"
        meta["name"] = new
        for r in resources:
            if r.get("metadata", {}).get("namespace") == meta.get("namespace"):
                _rename_refs(r, old, new)
    return resources


if __name__ == "__main__":
    import sys

    yaml.safe_dump_all(build(sys.argv[1]), sys.stdout, sort_keys=True)
