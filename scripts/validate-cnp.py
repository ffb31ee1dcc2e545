#!/usr/bin/env python3
"""Validates CiliumNetworkPolicy documents against the openAPIV3Schema of Cilium's CRD.

Usage: validate-cnp.py CRD.yaml POLICY.yml...

A CRD schema does not forbid unknown fields (the API server prunes them), so every object schema
that lists properties and does not preserve unknown fields is closed here, like `kubectl apply
--validate=strict` would report them. Needs python3 with PyYAML and jsonschema.
"""

import sys

import jsonschema
import yaml


def close(schema):
    """Returns the schema with unknown fields rejected, mapping Kubernetes extensions to JSON Schema."""
    if isinstance(schema, list):
        return [close(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: close(v) for k, v in schema.items()}
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}] + out.get("anyOf", [])
    preserve = out.pop("x-kubernetes-preserve-unknown-fields", False)
    # Only typed object schemas: the oneOf branches (`required: [endpointSelector]`) list properties
    # too, but only to name one alternative.
    closable = out.get("type") == "object" and "properties" in out
    if closable and not preserve and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        crds = [d for d in yaml.safe_load_all(f) if d]
    versions = {v["name"]: v for crd in crds for v in crd["spec"]["versions"]}
    schema = close(versions["v2"]["schema"]["openAPIV3Schema"])
    validator = jsonschema.Draft7Validator(schema)
    failed = False
    for path in argv[2:]:
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        for doc in docs:
            if doc.get("kind") != "CiliumNetworkPolicy":
                continue
            name = doc.get("metadata", {}).get("name", "?")
            errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
            for e in errors:
                where = ".".join(str(p) for p in e.path) or "(document)"
                print(f"FAIL {path} {name}: {where}: {e.message}")
            if errors:
                failed = True
            else:
                print(f"ok   {path} {name}: valid against Cilium's CRD schema")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
