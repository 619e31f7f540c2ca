//! Checks every GraphQL request passes before anything recursive touches it, the same for
//! POST, GET and WebSocket: the nesting of the document and its variables is bounded (a
//! literal nested a few thousand levels deep would overflow a worker's stack and abort the
//! process), text may not carry control characters (PostgreSQL refuses NUL, and neither
//! belongs in names, emails or keys), and all text is normalised to Unicode NFC so
//! look-alike spellings of one name are one name.

use async_graphql::{
    Name, Request, ServerError, Value as ConstValue,
    parser::{
        parse_query,
        types::{
            DocumentOperations, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
        },
    },
};
use async_graphql_value::Value;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use super::errors::{BAD_USER_INPUT, NESTING_TOO_DEEP, PARSE_FAILED, VALIDATION_FAILED};

/// Deepest nesting of braces, brackets and parentheses a document may have, and of objects
/// and lists in its variables. The standard introspection query needs about 20; a stack
/// overflow needs thousands.
pub const MAX_NESTING: usize = 64;

/// Documents that passed the checks, by their text: clients send the same few documents again
/// and again, and parsing one costs more than copying it.
#[derive(Default)]
pub struct Documents(std::sync::Mutex<std::collections::HashMap<String, ExecutableDocument>>);

/// Documents kept; beyond this the store empties rather than grows.
const MAX_DOCUMENTS: usize = 1_000;
/// Longer documents are parsed every time rather than kept.
const MAX_KEPT_LENGTH: usize = 16 * 1024;

impl Documents {
    /// The checked document of `query`, parsed now or found.
    fn parsed(&self, query: &str) -> Result<ExecutableDocument, ServerError> {
        if let Some(document) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(query) {
            return Ok(document.clone());
        }
        if let Some(depth) = exceeds_nesting(query, MAX_NESTING) {
            return Err(coded(
                format!("the document nests deeper than {MAX_NESTING} levels (at least {depth})"),
                NESTING_TOO_DEEP,
            ));
        }
        let mut document = parse_query(query).map_err(|err| {
            let mut error = ServerError::new(err.to_string(), err.positions().next());
            set(&mut error, "code", PARSE_FAILED);
            error
        })?;
        clean_document(&mut document)?;
        if query.len() <= MAX_KEPT_LENGTH {
            let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if kept.len() >= MAX_DOCUMENTS {
                kept.clear();
            }
            kept.insert(query.to_owned(), document.clone());
        }
        Ok(document)
    }
}

/// Runs every check and returns the parsed document (variables normalised in place). The
/// error is a request error: nothing ran.
pub fn check(
    documents: &Documents,
    request: &mut Request,
) -> Result<ExecutableDocument, ServerError> {
    let document = documents.parsed(&request.query)?;
    let operation = selected(&document, request.operation_name.as_deref())?;
    for definition in &operation.variable_definitions {
        let definition = &definition.node;
        let name = definition.name.node.as_str();
        let given = request.variables.get(name);
        let missing = given.is_none() && definition.default_value().is_none();
        let null = given == Some(&ConstValue::Null) && !definition.var_type.node.nullable;
        if missing || null {
            let mut error = coded(
                format!("variable ${name} is required and must not be null"),
                BAD_USER_INPUT,
            );
            set(&mut error, "field", name);
            return Err(error);
        }
    }
    for (name, value) in request.variables.iter_mut() {
        clean_const(value, name.as_str(), 0)?;
    }
    Ok(document)
}

/// The operation the request runs, or a coded request error naming why there is none.
fn selected<'d>(
    document: &'d ExecutableDocument,
    name: Option<&str>,
) -> Result<&'d OperationDefinition, ServerError> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), None) => Ok(&op.node),
        (DocumentOperations::Single(_), Some(name)) => Err(no_operation(name)),
        (DocumentOperations::Multiple(ops), Some(name)) => ops
            .get(name)
            .map(|op| &op.node)
            .ok_or_else(|| no_operation(name)),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops
            .values()
            .next()
            .map(|op| &op.node)
            .ok_or_else(|| no_operation("")),
        (DocumentOperations::Multiple(_), None) => Err(coded(
            "the document has several operations; name one in operationName".into(),
            VALIDATION_FAILED,
        )),
    }
}

fn no_operation(name: &str) -> ServerError {
    coded(
        format!("the document has no operation named \"{name}\""),
        VALIDATION_FAILED,
    )
}

/// Mutations that leave the response cache to their services: either no anonymous reader can
/// see their effects (sessions, profiles, addresses, carts and their codes, promotion codes,
/// payment sessions, payouts and reviews, shipping marks, notifications, photos not yet
/// attached, analytics), or they move stock and the service forgets just the answers that
/// showed those products (`AppState::stock_changed`: placing, cancelling, refunding and
/// reinstating orders). Every other mutation may change the catalogue or its rates, and
/// empties the cache.
const PRIVATE_MUTATIONS: &[&str] = &[
    "addAddress",
    "addToCart",
    "applyPromotionCode",
    "cancelOrder",
    "changePassword",
    "completeImageUpload",
    "confirmManualPayment",
    "createImageUpload",
    "createPayout",
    "createPromotionCode",
    "login",
    "logout",
    "markNotificationsRead",
    "markOrderDelivered",
    "markOrderShipped",
    "placeOrder",
    "rebuildAnalytics",
    "rebuildStatistics",
    "recordProductView",
    "refreshSession",
    "refundOrder",
    "register",
    "reinstateBankTransfer",
    "removeAddress",
    "removePromotionCode",
    "requestPasswordReset",
    "resendNotification",
    "resendVerification",
    "resetPassword",
    "resolvePaymentReview",
    "retryPayment",
    "returnBankTransfer",
    "setCartQuantity",
    "setPromotionCodeActive",
    "setResearcher",
    "startPayoutOnboarding",
    "updateNotificationPreferences",
    "updateProfile",
    "uploadImage",
    "verifyEmail",
];

/// Whether running this mutation may change what anonymous readers see, judged by its root
/// fields (`__typename` changes nothing).
pub fn changes_public_data(document: &ExecutableDocument, operation: Option<&str>) -> bool {
    let Ok(op) = selected(document, operation) else {
        return true;
    };
    if op.ty != async_graphql::parser::types::OperationType::Mutation {
        return false;
    }
    !root_fields_within(document, &op.selection_set.node, 0, &|name| {
        name == "__typename" || PRIVATE_MUTATIONS.contains(&name)
    })
}

fn root_fields_within(
    document: &ExecutableDocument,
    set: &SelectionSet,
    hops: usize,
    allowed: &dyn Fn(&str) -> bool,
) -> bool {
    if hops > MAX_NESTING {
        return false;
    }
    set.items.iter().all(|item| match &item.node {
        Selection::Field(field) => allowed(field.node.name.node.as_str()),
        Selection::InlineFragment(inline) => {
            root_fields_within(document, &inline.node.selection_set.node, hops + 1, allowed)
        }
        Selection::FragmentSpread(spread) => document
            .fragments
            .get(&spread.node.fragment_name.node)
            .is_some_and(|f| {
                root_fields_within(document, &f.node.selection_set.node, hops + 1, allowed)
            }),
    })
}

/// Whether the operation that will run asks only about the schema (`__schema`, `__type`,
/// `__typename`), which reads no data however deep it goes.
pub fn is_introspection(document: &ExecutableDocument, operation: Option<&str>) -> bool {
    selected(document, operation).is_ok_and(|op| {
        root_fields_within(document, &op.selection_set.node, 0, &|name| {
            name.starts_with("__")
        })
    })
}

/// A request error with `extensions.code`.
pub fn coded(message: String, code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    set(&mut error, "code", code);
    error
}

fn set(error: &mut ServerError, key: &str, value: &str) {
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set(key, ConstValue::String(value.to_owned()));
}

/// The nesting depth reached, if it passes `max`. Counted on the text, skipping strings and
/// comments, so it needs no recursion and runs before the parser.
fn exceeds_nesting(query: &str, max: usize) -> Option<usize> {
    let bytes = query.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > max {
                    return Some(depth);
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Mutations take one `input`; errors name fields within it, as service errors do.
fn field_name(path: &str) -> String {
    path.strip_prefix("input.").unwrap_or(path).to_owned()
}

/// Refuses control characters other than tab and line breaks; NFC-normalises the rest.
fn clean_text(text: &mut String, path: &str) -> Result<(), ServerError> {
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        let field = field_name(path);
        let mut error = coded(
            format!("{field} contains a control character; remove it"),
            BAD_USER_INPUT,
        );
        set(&mut error, "field", &field);
        return Err(error);
    }
    if is_nfc_quick(text.chars()) != IsNormalized::Yes {
        *text = text.nfc().collect();
    }
    Ok(())
}

fn too_deep(path: &str) -> ServerError {
    let mut error = coded(
        format!("variables nest deeper than {MAX_NESTING} levels"),
        NESTING_TOO_DEEP,
    );
    set(&mut error, "field", &field_name(path));
    error
}

/// Variables: already bounded by the JSON parser, bounded again here with our own limit.
fn clean_const(value: &mut ConstValue, path: &str, depth: usize) -> Result<(), ServerError> {
    if depth > MAX_NESTING {
        return Err(too_deep(path));
    }
    match value {
        ConstValue::String(text) => clean_text(text, path),
        ConstValue::List(items) => items
            .iter_mut()
            .enumerate()
            .try_for_each(|(i, v)| clean_const(v, &format!("{path}.{i}"), depth + 1)),
        ConstValue::Object(map) => map
            .iter_mut()
            .try_for_each(|(k, v)| clean_const(v, &join(path, k), depth + 1)),
        _ => Ok(()),
    }
}

/// Literals in the document; their depth is bounded by the lexical check above.
fn clean_literal(value: &mut Value, path: &str) -> Result<(), ServerError> {
    match value {
        Value::String(text) => clean_text(text, path),
        Value::List(items) => items
            .iter_mut()
            .enumerate()
            .try_for_each(|(i, v)| clean_literal(v, &format!("{path}.{i}"))),
        Value::Object(map) => map
            .iter_mut()
            .try_for_each(|(k, v)| clean_literal(v, &join(path, k))),
        _ => Ok(()),
    }
}

fn join(path: &str, key: &Name) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn clean_document(document: &mut ExecutableDocument) -> Result<(), ServerError> {
    let sets: Vec<&mut SelectionSet> = match &mut document.operations {
        DocumentOperations::Single(op) => vec![&mut op.node.selection_set.node],
        DocumentOperations::Multiple(ops) => ops
            .values_mut()
            .map(|op| &mut op.node.selection_set.node)
            .collect(),
    };
    for set in sets {
        clean_selection(set)?;
    }
    for fragment in document.fragments.values_mut() {
        clean_selection(&mut fragment.node.selection_set.node)?;
    }
    Ok(())
}

fn clean_selection(set: &mut SelectionSet) -> Result<(), ServerError> {
    for item in &mut set.items {
        match &mut item.node {
            Selection::Field(field) => {
                let field = &mut field.node;
                for (name, value) in &mut field.arguments {
                    clean_literal(&mut value.node, name.node.as_str())?;
                }
                for directive in &mut field.directives {
                    for (name, value) in &mut directive.node.arguments {
                        clean_literal(&mut value.node, name.node.as_str())?;
                    }
                }
                clean_selection(&mut field.selection_set.node)?;
            }
            Selection::InlineFragment(inline) => {
                clean_selection(&mut inline.node.selection_set.node)?;
            }
            Selection::FragmentSpread(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_counted_outside_strings_and_comments() {
        assert_eq!(exceeds_nesting("{ a { b } }", 2), None);
        assert_eq!(exceeds_nesting("{ a { b { c } } }", 2), Some(3));
        let deep = format!("{{ a(x: {}1{}) }}", "[".repeat(100), "]".repeat(100));
        assert!(exceeds_nesting(&deep, MAX_NESTING).is_some());
        assert_eq!(exceeds_nesting("{ a(x: \"[[[[\\\"[[\") }", 2), None);
        assert_eq!(
            exceeds_nesting("{ a(x: \"\"\"[[[\\\"\"\"[[\"\"\") }", 2),
            None
        );
        assert_eq!(exceeds_nesting("# [[[[[\n{ a }", 1), None);
    }

    #[test]
    fn control_characters_are_refused_and_text_normalised() {
        let mut request = Request::new("mutation { a(input: { name: \"Cafe\\u0301\" }) }")
            .variables(async_graphql::Variables::from_json(serde_json::json!({
                "input": { "email": "a\u{0}b@x.example" }
            })));
        let err = check(&Documents::default(), &mut request).expect_err("refused");
        let ext = err.extensions.expect("extensions");
        assert_eq!(ext.get("field"), Some(&ConstValue::from("email")));

        let mut request = Request::new("{ a }").variables(async_graphql::Variables::from_json(
            serde_json::json!({ "input": { "name": "Cafe\u{301}", "story": "line\nbreak\t" } }),
        ));
        assert!(check(&Documents::default(), &mut request).is_ok());
        let input = serde_json::to_value(&request.variables).expect("json");
        assert_eq!(input["input"]["name"], "Caf\u{e9}");
    }

    #[test]
    fn a_kept_document_still_has_its_variables_checked() {
        let documents = Documents::default();
        let query = "query($n: Int!) { a(n: $n) }";
        let given = |n: serde_json::Value| {
            Request::new(query).variables(async_graphql::Variables::from_json(
                serde_json::json!({ "n": n }),
            ))
        };
        assert!(check(&documents, &mut given(serde_json::json!(1))).is_ok());
        assert_eq!(documents.0.lock().map(|d| d.len()).unwrap_or(0), 1);
        let err = check(&documents, &mut given(serde_json::Value::Null)).expect_err("null");
        let ext = err.extensions.expect("extensions");
        assert_eq!(ext.get("code"), Some(&ConstValue::from(BAD_USER_INPUT)));
        // Refused documents are not kept.
        assert!(check(&documents, &mut Request::new("{ a(")).is_err());
        assert_eq!(documents.0.lock().map(|d| d.len()).unwrap_or(0), 1);
    }

    #[test]
    fn only_schema_questions_count_as_introspection() {
        let doc = parse_query("query Q { __schema { types { name } } }").expect("doc");
        assert!(is_introspection(&doc, None));
        let doc = parse_query("{ __typename products { id } }").expect("doc");
        assert!(!is_introspection(&doc, None));
        let doc = parse_query("{ ...F } fragment F on Query { __type(name: \"X\") { name } }")
            .expect("doc");
        assert!(is_introspection(&doc, None));
    }
}
