#!/usr/bin/env python3
"""Extract the subset of the official PVE API schema that pve-testhost validates against.

The full `apidata.json` (pve-docs `api-viewer/apidata.js` as JSON) is 2 MiB and lives
outside the project; the test host only needs the parameter schemas of the endpoints it
serves. This script writes them, without prose, to `data/api-schema.json` so the
server can embed the file and never needs the reference tree at run time.

Usage: extract-schema.py [APIDATA_JSON] [OUTPUT]   (OUTPUT "-" prints to stdout)
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SOURCE = os.path.join(HERE, "..", "..", "..", "..", "shared", "reference", "pve", "apidata.json")
DEFAULT_OUTPUT = os.path.join(HERE, "..", "data", "api-schema.json")

# Endpoints the test host serves, with the methods it implements.
ENDPOINTS = {
    "/version": ["GET"],
    "/nodes": ["GET"],
    "/nodes/{node}/status": ["GET"],
    "/cluster/nextid": ["GET"],
    "/cluster/resources": ["GET"],
    "/nodes/{node}/storage": ["GET"],
    "/nodes/{node}/storage/{storage}/content": ["GET"],
    "/nodes/{node}/lxc": ["GET", "POST"],
    "/nodes/{node}/lxc/{vmid}": ["GET", "DELETE"],
    "/nodes/{node}/lxc/{vmid}/config": ["GET", "PUT"],
    "/nodes/{node}/lxc/{vmid}/pending": ["GET"],
    "/nodes/{node}/lxc/{vmid}/status/current": ["GET"],
    "/nodes/{node}/lxc/{vmid}/status/start": ["POST"],
    "/nodes/{node}/lxc/{vmid}/status/stop": ["POST"],
    "/nodes/{node}/lxc/{vmid}/status/shutdown": ["POST"],
    "/nodes/{node}/lxc/{vmid}/status/reboot": ["POST"],
    "/nodes/{node}/lxc/{vmid}/interfaces": ["GET"],
    "/nodes/{node}/lxc/{vmid}/resize": ["PUT"],
    "/nodes/{node}/tasks/{upid}/status": ["GET"],
    "/nodes/{node}/tasks/{upid}/log": ["GET"],
    "/access/ticket": ["POST"],
}

# Schema attributes that only carry prose; everything else affects validation or error text.
PROSE = {"description", "verbose_description"}


def strip_schema(schema):
    """Drop prose from one property schema, recursing into property-string formats."""
    out = {}
    for key, value in schema.items():
        if key in PROSE:
            continue
        if key == "format" and isinstance(value, dict):
            value = {name: strip_schema(sub) for name, sub in value.items()}
        elif key == "items" and isinstance(value, dict):
            value = strip_schema(value)
        elif key == "properties" and isinstance(value, dict):
            value = {name: strip_schema(sub) for name, sub in value.items()}
        out[key] = value
    return out


def index_tree(nodes, into):
    for node in nodes:
        into[node["path"]] = node
        index_tree(node.get("children", []), into)
    return into


def extract(source):
    with open(source, encoding="utf-8") as handle:
        # apidata.js contains raw control characters inside strings.
        tree = json.loads(handle.read(), strict=False)
    index = index_tree(tree, {})
    endpoints = {}
    for path, methods in ENDPOINTS.items():
        info = index[path]["info"]
        endpoints[path] = {}
        for method in methods:
            entry = info[method]
            params = entry.get("parameters", {})
            endpoints[path][method] = {
                "allowtoken": entry.get("allowtoken", 0),
                "protected": entry.get("protected", 0),
                "parameters": {
                    "additionalProperties": params.get("additionalProperties", 0),
                    "properties": {
                        name: strip_schema(sub) for name, sub in params.get("properties", {}).items()
                    },
                },
            }
    return {"source": "pve-docs api-viewer apidata.js (pve-docs 9.1.3)", "endpoints": endpoints}


def main(argv):
    source = argv[1] if len(argv) > 1 else DEFAULT_SOURCE
    output = argv[2] if len(argv) > 2 else DEFAULT_OUTPUT
    text = json.dumps(extract(source), indent=1, sort_keys=True) + "\n"
    if output == "-":
        sys.stdout.write(text)
    else:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
