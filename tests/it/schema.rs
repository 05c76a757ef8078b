//! The documented change-request JSON Schema and the request type agree:
//! same fields, same required ones, and the example requests parse.

use std::collections::BTreeSet;

use rootguard::policy::gate::ChangeRequest;

fn schema() -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/change-request.schema.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn schema_fields_match_the_request_type() {
    let s = schema();
    let documented: BTreeSet<String> = s["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let full: ChangeRequest = serde_json::from_value(serde_json::json!({
        "tld": "xa", "submitted_by": "a", "on_behalf_of": "b", "manager": "m",
        "ns": ["ns1.xa."], "glue": {"ns1.xa.": ["192.0.2.1"]},
        "ds": [{"key_tag": 1, "algorithm": 13, "digest_type": 2, "digest": "AB"}],
        "admin_contact": {"name": "n", "organisation": "o", "country": "c"},
        "tech_contact": {"name": "n"},
        "confirmations": {"admin_contact": true, "tech_contact": false}
    }))
    .unwrap();
    let serialised: BTreeSet<String> = serde_json::to_value(&full)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(documented, serialised);
    let required: BTreeSet<String> = s["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let minimal: Result<ChangeRequest, _> = serde_json::from_value(
        serde_json::json!({"tld": "xa", "submitted_by": "a", "on_behalf_of": "b"}),
    );
    assert!(minimal.is_ok());
    for field in &required {
        let mut v = serde_json::json!({"tld": "xa", "submitted_by": "a", "on_behalf_of": "b"});
        v.as_object_mut().unwrap().remove(field);
        assert!(
            serde_json::from_value::<ChangeRequest>(v).is_err(),
            "{field} is required"
        );
    }
    // Unknown fields are rejected, as the schema says (additionalProperties: false).
    assert_eq!(s["additionalProperties"], false);
    assert!(
        serde_json::from_value::<ChangeRequest>(
            serde_json::json!({"tld": "xa", "submitted_by": "a", "on_behalf_of": "b", "extra": 1})
        )
        .is_err()
    );
}

fn example_requests_parse() {
    for f in ["request-redelegate-xa.json", "request-unknown-tld.json"] {
        let text =
            std::fs::read_to_string(format!("{}/tests/data/{f}", env!("CARGO_MANIFEST_DIR")))
                .unwrap();
        serde_json::from_str::<ChangeRequest>(&text).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![
        crate::support::sync(
            "schema::schema_fields_match_the_request_type",
            schema_fields_match_the_request_type,
        ),
        crate::support::sync("schema::example_requests_parse", example_requests_parse),
    ]
}
