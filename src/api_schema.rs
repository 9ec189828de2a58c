//! Small schema builders for what utoipa's derives cannot say (a constant, a closed
//! string set). A leaf: it imports neither the HTTP layer nor the document, so the
//! types that describe themselves (`ErrorBody`, `Introspection`, ...) and the document
//! assembled from them do not depend on each other.

use utoipa::openapi::{Object, ObjectBuilder, Type};

/// A schema with exactly one value. utoipa 6 has no `const`; its extensions are written
/// flat into the object, so `const` goes there.
pub fn constant(schema_type: Type, value: serde_json::Value) -> Object {
    let mut object = ObjectBuilder::new().schema_type(schema_type).build();
    object
        .extensions
        .get_or_insert_with(Default::default)
        .insert("const".to_owned(), value);
    object
}

/// A string with a closed set of values.
pub fn string_enum(values: &[&str]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}
