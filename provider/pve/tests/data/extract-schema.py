#!/usr/bin/env python3
"""Extracts the parameter schemas of the PVE API endpoints this crate calls from the official
API dump (pve-docs api-viewer apidata, as JSON) into lxc-api-schema.json.

Usage: extract-schema.py APIDATA_JSON > lxc-api-schema.json
Descriptions are dropped to keep the file small; everything a validator needs stays.
"""
import json
import sys

ENDPOINTS = [
    ("POST", "/nodes/{node}/lxc"),
    ("GET", "/nodes/{node}/lxc/{vmid}/config"),
    ("PUT", "/nodes/{node}/lxc/{vmid}/config"),
    ("DELETE", "/nodes/{node}/lxc/{vmid}"),
    ("PUT", "/nodes/{node}/lxc/{vmid}/resize"),
    ("POST", "/nodes/{node}/lxc/{vmid}/status/start"),
    ("POST", "/nodes/{node}/lxc/{vmid}/status/stop"),
    ("POST", "/nodes/{node}/lxc/{vmid}/status/shutdown"),
    ("POST", "/nodes/{node}/lxc/{vmid}/status/reboot"),
    ("GET", "/cluster/nextid"),
    ("GET", "/cluster/resources"),
    ("GET", "/nodes/{node}/storage"),
    ("GET", "/nodes/{node}/storage/{storage}/content"),
    ("GET", "/nodes/{node}/tasks/{upid}/log"),
]
DROP = {"description", "verbose_description"}


def find(node, path):
    if isinstance(node, list):
        for n in node:
            r = find(n, path)
            if r:
                return r
    elif isinstance(node, dict):
        if node.get("path") == path:
            return node
        return find(node.get("children") or [], path)
    return None


def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in sorted(value.items()) if not (k in DROP and isinstance(v, str))}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def main():
    data = json.load(open(sys.argv[1]), strict=False)
    out = {}
    for method, path in ENDPOINTS:
        node = find(data, path)
        if node is None:
            sys.exit(f"{path} not found")
        info = node["info"][method]
        out[f"{method} {path}"] = strip(info.get("parameters", {}))
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


main()
