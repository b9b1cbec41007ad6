#!/usr/bin/env python3
"""Checks that `rust-version` in Cargo.toml is at least the newest
`rust-version` among slog-host's normal dependencies as locked, so the MSRV
the crate claims is not below what its dependency graph needs. (The crate's
own code is checked against it by clippy's `incompatible_msrv` lint.)"""

import json
import subprocess
import sys

meta = json.loads(
    subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
)
packages = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
root = next(p for p in meta["packages"] if p["name"] == "slog-host")


def version(v):
    parts = [int(x) for x in (v or "0").split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


seen, stack = set(), [root["id"]]
while stack:
    pid = stack.pop()
    if pid in seen:
        continue
    seen.add(pid)
    for dep in nodes[pid]["deps"]:
        if any(k["kind"] in (None, "normal") for k in dep["dep_kinds"]):
            stack.append(dep["pkg"])
needed, who = max(
    (version(packages[p].get("rust_version")), packages[p]["name"] + " " + packages[p]["version"])
    for p in seen
    if p != root["id"]
)
claimed = version(root["rust_version"])
print(f"rust-version {root['rust_version']}; the locked dependencies need {'.'.join(map(str, needed))} ({who})")
if claimed < needed:
    print("rust-version is below what the dependencies need: raise it")
    sys.exit(1)
