//! Generated documents and variables, driven by the schema, thrown at the running server:
//! every root query and mutation with arguments of odd shapes (deep nesting, long lists,
//! control characters and odd Unicode, wrong types), inline or as variables, by POST and GET.
//! Whatever arrives, the server keeps answering, never with a 5xx, and every error it
//! returns carries a code. The seed is fixed so CI runs the same cases every time.

use proptest::{
    prelude::*,
    test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner},
};
use serde_json::{Map, Value, json};

use crate::helpers::{TestApp, reply};

/// A root field and what it takes.
#[derive(Debug, Clone)]
struct Field {
    mutation: bool,
    name: String,
    /// (argument, its type as written in a document)
    args: Vec<(String, String)>,
    /// Whether the result needs a selection set.
    composite: bool,
}

const INTROSPECT: &str =
    "{ __schema { queryType { fields { ...F } } mutationType { fields { ...F } } } }
fragment F on __Field { name args { name type { ...T } } type { ...T } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

fn type_text(t: &Value) -> String {
    match t["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", type_text(&t["ofType"])),
        Some("LIST") => format!("[{}]", type_text(&t["ofType"])),
        _ => t["name"].as_str().unwrap_or("String").to_owned(),
    }
}

fn composite(t: &Value) -> bool {
    match t["kind"].as_str() {
        Some("NON_NULL" | "LIST") => composite(&t["ofType"]),
        Some(kind) => matches!(kind, "OBJECT" | "INTERFACE" | "UNION"),
        None => false,
    }
}

async fn root_fields(app: &TestApp) -> Vec<Field> {
    let r = app.gql(None, INTROSPECT, json!({})).await;
    let schema = &r.expect_data()["__schema"];
    let mut fields = Vec::new();
    for (mutation, root) in [(false, "queryType"), (true, "mutationType")] {
        for f in schema[root]["fields"].as_array().into_iter().flatten() {
            fields.push(Field {
                mutation,
                name: f["name"].as_str().unwrap_or_default().to_owned(),
                args: f["args"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| {
                        (
                            a["name"].as_str().unwrap_or_default().to_owned(),
                            type_text(&a["type"]),
                        )
                    })
                    .collect(),
                composite: composite(&f["type"]),
            });
        }
    }
    fields
}

/// Text a client might send: anything Unicode has, control characters and all.
fn odd_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z]{0,12}",
        Just("\u{0}".to_owned()),
        Just("e\u{301}\u{200b}\u{feff}\u{202e}".to_owned()),
        Just("9".repeat(40)),
        Just("ж".repeat(5_000)),
        Just("-1".to_owned()),
        Just("01234567-89ab-7def-8123-456789abcdef".to_owned()),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        (-1e300f64..1e300).prop_map(Value::from),
        odd_text().prop_map(Value::from),
    ]
}

/// Values of any shape, including lists and objects nested far deeper than any input type.
fn value() -> impl Strategy<Value = Value> {
    let nested = leaf().prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-zA-Z_]{1,10}", inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    });
    let deep = (1usize..3_000, leaf()).prop_map(|(levels, mut v)| {
        for _ in 0..levels {
            v = json!([v]);
        }
        v
    });
    let long = (0usize..2_000).prop_map(|n| Value::Array(vec![json!(1); n]));
    prop_oneof![6 => nested, 1 => deep, 1 => long]
}

/// A value as a GraphQL literal (object keys are names, so they are made into names).
fn literal(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(literal).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{k}: {}", literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[derive(Debug, Clone)]
struct Case {
    field: usize,
    values: Vec<Value>,
    as_variables: bool,
    by_get: bool,
}

fn case(fields: usize) -> impl Strategy<Value = Case> {
    (
        0..fields,
        prop::collection::vec(value(), 0..6),
        any::<bool>(),
        prop::bool::weighted(0.15),
    )
        .prop_map(|(field, values, as_variables, by_get)| Case {
            field,
            values,
            as_variables,
            by_get,
        })
}

/// The document and variables for a case.
fn request(field: &Field, case: &Case) -> (String, Value) {
    let mut args = Vec::new();
    let mut definitions = Vec::new();
    let mut variables = Map::new();
    for ((name, ty), value) in field.args.iter().zip(&case.values) {
        if case.as_variables {
            definitions.push(format!("${name}: {ty}"));
            args.push(format!("{name}: ${name}"));
            variables.insert(name.clone(), value.clone());
        } else {
            args.push(format!("{name}: {}", literal(value)));
        }
    }
    let call = if args.is_empty() {
        field.name.clone()
    } else {
        format!("{}({})", field.name, args.join(", "))
    };
    let selection = if field.composite {
        " { __typename }"
    } else {
        ""
    };
    let kind = if field.mutation { "mutation" } else { "query" };
    let definitions = if definitions.is_empty() {
        String::new()
    } else {
        format!("({})", definitions.join(", "))
    };
    (
        format!("{kind} F{definitions} {{ {call}{selection} }}"),
        Value::Object(variables),
    )
}

fn check(body: &Value, status: u16) -> Result<(), TestCaseError> {
    prop_assert!(status < 500, "status {status}: {body}");
    if let Some(errors) = body.get("errors") {
        for error in errors.as_array().into_iter().flatten() {
            let code = error["extensions"]["code"].as_str().unwrap_or("");
            prop_assert!(!code.is_empty(), "an error without a code: {body}");
            prop_assert!(code != "INTERNAL_SERVER_ERROR", "an internal error: {body}");
        }
    }
    Ok(())
}

#[test]
fn generated_requests_never_break_the_server() {
    // The client builds, prints and drops values thousands of levels deep; give it the stack
    // for that. The server's threads keep their usual size: they are what is under test.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(fuzz)
        .expect("thread")
        .join()
        .expect("fuzzing finished");
}

fn fuzz() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let app = runtime.block_on(TestApp::spawn());
    let fields = runtime.block_on(root_fields(&app));
    assert!(fields.len() > 40, "{} root fields", fields.len());

    let config = Config {
        cases: 300,
        failure_persistence: None,
        max_shrink_iters: 200,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let result = runner.run(&case(fields.len()), |case| {
        let field = &fields[case.field];
        let (query, variables) = request(field, &case);
        runtime.block_on(async {
            let sent = if case.by_get && !field.mutation {
                app.http
                    .get(app.url("/graphql"))
                    .query(&[
                        ("query", query.as_str()),
                        ("variables", &variables.to_string()),
                    ])
                    .header("accept", "application/graphql-response+json")
                    .send()
                    .await
            } else {
                app.http
                    .post(app.url("/graphql"))
                    .header("accept", "application/graphql-response+json")
                    .json(&json!({ "query": query, "variables": variables }))
                    .send()
                    .await
            };
            let response = match sent {
                Ok(response) => response,
                // The client refused to build the request (a URL past its length limit):
                // nothing reached the server.
                Err(e) if e.is_builder() => return Ok(()),
                Err(e) => {
                    let head: String = query.chars().take(300).collect();
                    return Err(TestCaseError::fail(format!("no answer ({e:?}) to {head}…")));
                }
            };
            let r = reply(response).await;
            // Not every generated URL fits a server's header limits; those are refused
            // before GraphQL and are not ours to code.
            if r.status == 414 || r.status == 431 {
                return Ok(());
            }
            check(&r.body, r.status)
        })
    });
    // Still alive and answering after all of it.
    let alive = runtime.block_on(app.gql(None, "{ __typename }", json!({})));
    assert_eq!(alive.expect_data()["__typename"], "Query");
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
