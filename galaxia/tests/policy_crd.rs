//! Our CiliumNetworkPolicy model against Cilium 1.15.10's own CRD (`../shared/cilium` from the
//! repository root): every field the CRD defines under `spec` is known to the model (emulated, or
//! refused by name), never rejected as an unknown field; and the testdata policies only use fields
//! the CRD defines. Skipped, with a message, when the CRD is absent.

#![allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report

use std::path::{Path, PathBuf};

use galaxia::manifest::load_str;
use serde_norway::{Mapping, Value};

fn crd_spec_schema() -> Option<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/cilium/ciliumnetworkpolicies-v1.15.10.yaml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        testkit::skip::skip_optional(
            "policy_crd",
            &format!(
                "{} is absent (Cilium 1.15.10's CNP CRD lives in ../shared/ beside a developer's checkout, not in the repository)",
                path.display()
            ),
        );
        return None;
    };
    let crd: Value = serde_norway::from_str(&text).unwrap();
    let versions = crd["spec"]["versions"].as_sequence().unwrap();
    let v2 = versions.iter().find(|v| v["name"] == "v2").unwrap();
    Some(v2["schema"]["openAPIV3Schema"]["properties"]["spec"].clone())
}

/// Every property path under a schema node, with the node's type.
fn walk(node: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
    let node = if node["type"] == "array" {
        &node["items"]
    } else {
        node
    };
    let Some(props) = node["properties"].as_mapping() else {
        return;
    };
    for (k, child) in props {
        let k = k.as_str().unwrap().to_string();
        path.push(k.clone());
        out.push((
            path.clone(),
            child["type"].as_str().unwrap_or("object").to_string(),
        ));
        // Egress is refused as a whole; its inside does not matter to galaxia.
        if k != "egress" && k != "egressDeny" {
            walk(child, path, out);
        }
        path.pop();
    }
}

/// A minimal document with the field at `path` set to a value of its type, inside lists where
/// the schema has lists (one-element lists, so that `[0]` paths exist).
fn document_with(schema: &Value, path: &[String], ty: &str) -> Value {
    fn build(node: &Value, path: &[String], ty: &str) -> Value {
        let (is_array, node) = if node["type"] == "array" {
            (true, &node["items"])
        } else {
            (false, node)
        };
        let value = match path.split_first() {
            None => match ty {
                "string" => Value::String("x".into()),
                "integer" => Value::Number(0.into()),
                "boolean" => Value::Bool(false),
                "array" => Value::Sequence(Vec::new()),
                _ => Value::Mapping(Mapping::new()),
            },
            Some((first, rest)) => {
                let child = &node["properties"][first.as_str()];
                let mut m = Mapping::new();
                m.insert(Value::String(first.clone()), build(child, rest, ty));
                Value::Mapping(m)
            }
        };
        if is_array && !path.is_empty() {
            Value::Sequence(vec![value])
        } else {
            value
        }
    }
    build(schema, path, ty)
}

#[test]
fn every_crd_field_is_known_to_the_model() {
    let Some(schema) = crd_spec_schema() else {
        return;
    };
    let mut fields = Vec::new();
    walk(&schema, &mut Vec::new(), &mut fields);
    assert!(
        fields.len() > 50,
        "the CRD walk found only {} fields",
        fields.len()
    );
    for (path, ty) in &fields {
        let spec = document_with(&schema, path, ty);
        let mut doc = Mapping::new();
        doc.insert("apiVersion".into(), "cilium.io/v2".into());
        doc.insert("kind".into(), "CiliumNetworkPolicy".into());
        doc.insert(
            "metadata".into(),
            serde_norway::from_str("{name: campo}").unwrap(),
        );
        doc.insert("spec".into(), spec);
        let text = serde_norway::to_string(&Value::Mapping(doc)).unwrap();
        if let Err(e) = load_str(&text, "crd") {
            let msg = e.to_string();
            assert!(
                !msg.contains("unknown field"),
                "spec.{}: {msg}\n{text}",
                path.join(".")
            );
        }
    }
}

#[test]
fn testdata_policies_use_only_crd_fields() {
    let Some(schema) = crd_spec_schema() else {
        return;
    };
    fn check(node: &Value, schema: &Value, at: &str) {
        let schema = if schema["type"] == "array" {
            &schema["items"]
        } else {
            schema
        };
        match node {
            Value::Sequence(items) => items.iter().for_each(|i| check(i, schema, at)),
            Value::Mapping(m) => {
                let props = schema["properties"].as_mapping();
                let free = schema["additionalProperties"].is_mapping() || props.is_none();
                for (k, v) in m {
                    let k = k.as_str().unwrap();
                    match props.and_then(|p| p.get(k)) {
                        Some(child) => check(v, child, &format!("{at}.{k}")),
                        None => assert!(free, "{at}.{k} is not in the CRD"),
                    }
                }
            }
            _ => {}
        }
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut checked = 0;
    for sub in ["livro", "cilium"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for doc in serde_norway::Deserializer::from_str(&text) {
                let value = <Value as serde::Deserialize>::deserialize(doc).unwrap();
                if value["kind"] == "CiliumNetworkPolicy" {
                    check(
                        &value["spec"],
                        &schema,
                        &format!("{}: spec", path.display()),
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 6, "only {checked} policies checked");
}
