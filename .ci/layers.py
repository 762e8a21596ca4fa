#!/usr/bin/env python3
"""Dependencies point inward (docs/ARCHITECTURE.md): a crate of ours may depend only on
crates of ours in a lower layer. Reads `cargo metadata`; exits 1 naming each edge that
points sideways or outward, and each crate of ours that has no layer here."""
import json
import subprocess
import sys

LAYERS = {
    "innkeep-core": 0,
    # `innkeep cost`: pure arithmetic over a load profile, measured capacity and price files
    "innkeep-cost": 0,
    "innkeep-app": 1,
    # outside formats (bank statements, the payment provider's objects): pure parsers on core
    "innkeep-payments": 1,
    # outside formats of the channels (iCalendar feeds): pure parsers and writers on core
    "innkeep-channels": 1,
    # adapters: each implements ports of app, none knows another
    "innkeep-store": 2,
    "innkeep-events": 2,
    "innkeep-search": 2,
    "innkeep-cache": 2,
    "innkeep-objects": 2,
    # the card provider adapter (Stripe's API over HTTP), on the pure formats of payments
    "innkeep-stripe": 2,
    "innkeep-http": 2,
    # outgoing messages: the notifications consumer, the dispatcher and its senders
    "innkeep-notify": 2,
    "innkeep-web": 2,
    # the Parquet lake and SQL over it (DataFusion), behind the app's analytics port
    "innkeep-analytics": 2,
    # the demo catalogue, loaded through the use cases and the store port
    "innkeep-demo": 3,
    # the benchmarks: they drive `innkeep serve` on the demo, beside the engines themselves
    "innkeep-bench": 4,
    # the binary: configuration and wiring
    "innkeep": 5,
}
NAMES = {0: "core", 1: "app", 2: "adapters", 3: "demo", 4: "benchmarks", 5: "binary"}


def main(meta):
    ours = {p["name"] for p in meta["packages"] if p["id"] in meta["workspace_members"]}
    problems = [f"{name}: no layer in .ci/layers.py" for name in sorted(ours - LAYERS.keys())]
    for p in meta["packages"]:
        if p["name"] not in ours:
            continue
        for d in p["dependencies"]:
            # Tests and benchmarks may assemble a whole node; only what ships is layered.
            if d["name"] not in ours or d.get("kind") == "dev":
                continue
            a, b = LAYERS.get(p["name"]), LAYERS.get(d["name"])
            if a is not None and b is not None and b >= a:
                problems.append(
                    f"{p['name']} ({NAMES[a]}) depends on {d['name']} ({NAMES[b]}): dependencies must point inward"
                )
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) > 1:  # a saved `cargo metadata` document (for testing this script)
        with open(sys.argv[1]) as f:
            meta = json.load(f)
    else:
        out = subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--no-deps"], check=True, capture_output=True, text=True
        ).stdout
        meta = json.loads(out)
    sys.exit(main(meta))
