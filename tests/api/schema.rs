//! The committed `schema.graphql` matches the server, and everything in it is described.

use darkhan::{config::Settings, graphql};
use serde_json::Value;

fn schema() -> graphql::AppSchema {
    let settings = Settings::from_figment(Settings::figment("test")).expect("settings");
    graphql::build_schema(&settings.graphql, None)
}

#[test]
fn committed_schema_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let current = graphql::sdl(&schema());
    assert!(
        committed == current,
        "schema.graphql is out of date: run `cargo run -- export-schema`"
    );
}

#[tokio::test]
async fn every_type_field_argument_and_enum_value_is_described() {
    let query = r#"{ __schema { types { name kind description
        fields(includeDeprecated: true) { name description args { name description } }
        inputFields { name description }
        enumValues(includeDeprecated: true) { name description } } } }"#;
    let response = schema().execute(query).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = response.data.into_json().expect("json");
    let mut missing = Vec::new();
    let described = |v: &Value| {
        v["description"]
            .as_str()
            .is_some_and(|d| !d.trim().is_empty())
    };
    for ty in data["__schema"]["types"].as_array().expect("types") {
        let name = ty["name"].as_str().unwrap_or("");
        if name.starts_with("__") {
            continue;
        }
        if !described(ty) {
            missing.push(name.to_owned());
        }
        for list in ["fields", "inputFields", "enumValues"] {
            for item in ty[list].as_array().into_iter().flatten() {
                let item_name = item["name"].as_str().unwrap_or("");
                if !described(item) {
                    missing.push(format!("{name}.{item_name}"));
                }
                for arg in item["args"].as_array().into_iter().flatten() {
                    if !described(arg) {
                        missing.push(format!(
                            "{name}.{item_name}({})",
                            arg["name"].as_str().unwrap_or("")
                        ));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "undescribed: {missing:?}");
}
