//! The row schema. `schema/document.schema.json` is the single source of truth: it is
//! embedded at compile time and the Arrow schema is *built from it*, so the file that ships
//! in the repository and the columns the writer produces cannot drift apart.

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The frozen schema file, byte for byte.
pub const SCHEMA_JSON: &str = include_str!("../../schema/document.schema.json");

/// Where the schema lives in the repository; used in error messages.
pub const SCHEMA_PATH: &str = "schema/document.schema.json";

/// Deepest type nesting the grammar accepts. The real schema nests three levels
/// (`list<struct<..>>`); the bound only exists so a bad edit cannot recurse without end.
const MAX_TYPE_DEPTH: usize = 8;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaFile {
    name: String,
    version: u32,
    #[allow(dead_code)] // documentation for humans, kept so unknown-field checking stays on
    description: String,
    #[allow(dead_code)]
    grammar: String,
    columns: Vec<ColumnSpec>,
}

/// One column of `document.schema.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub nullable: bool,
    pub description: String,
}

/// The parsed schema file plus the Arrow schema derived from it.
#[derive(Debug, Clone)]
pub struct DocumentSchema {
    pub name: String,
    pub version: u32,
    /// Lowercase hex sha256 of [`SCHEMA_JSON`]; recorded in the manifest and in every shard.
    pub sha256: String,
    pub columns: Vec<ColumnSpec>,
    pub arrow: SchemaRef,
}

// Parsed once: the input is a compile-time constant, so the result can never change
// during a run. The error is kept as a string so the static can be shared.
static SCHEMA: LazyLock<std::result::Result<DocumentSchema, String>> =
    LazyLock::new(|| parse_schema_file(SCHEMA_JSON));

/// The frozen document schema. Fails only if the embedded file is malformed, which the
/// unit tests rule out.
pub fn document_schema() -> Result<&'static DocumentSchema> {
    SCHEMA.as_ref().map_err(|reason| Error::Release {
        path: SCHEMA_PATH.into(),
        reason: reason.clone(),
    })
}

/// Parse a schema file (the embedded one, or another in tests).
pub fn parse_schema_file(text: &str) -> std::result::Result<DocumentSchema, String> {
    let file: SchemaFile =
        serde_json::from_str(text).map_err(|e| format!("not a valid schema file: {e}"))?;
    let mut fields = Vec::with_capacity(file.columns.len());
    for col in &file.columns {
        if fields.iter().any(|f: &Field| f.name() == &col.name) {
            return Err(format!("column `{}` listed twice", col.name));
        }
        let dt = parse_type(&col.type_).map_err(|e| format!("column `{}`: {e}", col.name))?;
        fields.push(Field::new(&col.name, dt, col.nullable));
    }
    Ok(DocumentSchema {
        name: file.name,
        version: file.version,
        sha256: hex::encode(Sha256::digest(text.as_bytes())),
        columns: file.columns,
        arrow: Arc::new(Schema::new(fields)),
    })
}

/// Parse one type string of the grammar
/// `string | int32 | timestamp[ms] | list<T> | struct<name: T, ...>`.
/// List items and struct fields are non-null: the schema has no way to say otherwise,
/// which is the point (a null inside a list is never meaningful for this data).
pub fn parse_type(s: &str) -> std::result::Result<DataType, String> {
    let mut p = TypeParser {
        s: s.as_bytes(),
        pos: 0,
    };
    let dt = p.parse(0)?;
    p.skip_ws();
    if p.pos != p.s.len() {
        return Err(format!("unexpected `{}` after type", &s[p.pos..]));
    }
    Ok(dt)
}

struct TypeParser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl TypeParser<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, tok: &str) -> bool {
        self.skip_ws();
        if self.s[self.pos..].starts_with(tok.as_bytes()) {
            self.pos += tok.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &str) -> std::result::Result<(), String> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(format!("expected `{tok}` at byte {}", self.pos))
        }
    }

    fn ident(&mut self) -> std::result::Result<String, String> {
        self.skip_ws();
        let start = self.pos;
        while self
            .s
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(format!("expected a name at byte {start}"));
        }
        // Only ASCII bytes were consumed, so this cannot fail; map rather than unwrap.
        String::from_utf8(self.s[start..self.pos].to_vec()).map_err(|e| e.to_string())
    }

    fn parse(&mut self, depth: usize) -> std::result::Result<DataType, String> {
        if depth > MAX_TYPE_DEPTH {
            return Err("type nested too deeply".into());
        }
        // Longer keywords first so `string` is not mistaken for a prefix of something else.
        if self.eat("timestamp[ms]") {
            return Ok(DataType::Timestamp(TimeUnit::Millisecond, None));
        }
        if self.eat("list<") {
            let item = self.parse(depth + 1)?;
            self.expect(">")?;
            return Ok(DataType::List(Arc::new(Field::new_list_field(item, false))));
        }
        if self.eat("struct<") {
            let mut fields: Vec<Field> = Vec::new();
            loop {
                let name = self.ident()?;
                self.expect(":")?;
                let dt = self.parse(depth + 1)?;
                if fields.iter().any(|f| f.name() == &name) {
                    return Err(format!("struct field `{name}` listed twice"));
                }
                fields.push(Field::new(name, dt, false));
                if self.eat(">") {
                    break;
                }
                self.expect(",")?;
            }
            return Ok(DataType::Struct(Fields::from(fields)));
        }
        let word = self.ident()?;
        match word.as_str() {
            "string" => Ok(DataType::Utf8),
            "int32" => Ok(DataType::Int32),
            other => Err(format!("unknown type `{other}`")),
        }
    }
}

/// The item field of a `list<..>` column of the frozen schema, so array building uses
/// exactly the field the schema declares.
pub(crate) fn list_item(schema: &Schema, column: &str) -> Result<Arc<Field>> {
    match schema.field_with_name(column).map(|f| f.data_type()) {
        Ok(DataType::List(item)) => Ok(item.clone()),
        _ => Err(schema_mismatch(column, "a list")),
    }
}

/// The fields of a `list<struct<..>>` column's items.
pub(crate) fn list_struct_fields(schema: &Schema, column: &str) -> Result<Fields> {
    match list_item(schema, column)?.data_type() {
        DataType::Struct(fields) => Ok(fields.clone()),
        _ => Err(schema_mismatch(column, "a list of structs")),
    }
}

pub(crate) fn schema_mismatch(column: &str, what: &str) -> Error {
    Error::Release {
        path: SCHEMA_PATH.into(),
        reason: format!("column `{column}` is not {what} as the writer expects"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_schema_builds_the_v1_arrow_schema() {
        let s = document_schema().unwrap();
        assert_eq!(s.version, 1);
        assert_eq!(s.sha256.len(), 64);
        let item = |dt| Arc::new(Field::new_list_field(dt, false));
        let strct = |names: &[&str]| {
            DataType::Struct(Fields::from(
                names
                    .iter()
                    .map(|n| Field::new(*n, DataType::Utf8, false))
                    .collect::<Vec<_>>(),
            ))
        };
        let expected = Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("source", DataType::Utf8, false),
            Field::new("source_id", DataType::Utf8, true),
            Field::new("url", DataType::Utf8, true),
            Field::new("title", DataType::Utf8, true),
            Field::new("byline", DataType::Utf8, true),
            Field::new(
                "published",
                DataType::Timestamp(TimeUnit::Millisecond, None),
                true,
            ),
            Field::new("lang", DataType::Utf8, false),
            Field::new("text", DataType::Utf8, false),
            Field::new(
                "paragraph_langs",
                DataType::List(item(DataType::Utf8)),
                false,
            ),
            Field::new("captions", DataType::List(item(DataType::Utf8)), false),
            Field::new("caption_langs", DataType::List(item(DataType::Utf8)), false),
            Field::new(
                "parallel",
                DataType::List(item(strct(&["src_lang", "src", "tgt_lang", "tgt"]))),
                false,
            ),
            Field::new("credit", DataType::Utf8, true),
            Field::new("tokens", DataType::List(item(DataType::Int32)), false),
            Field::new("n_tokens", DataType::Int32, false),
            Field::new("dup_count", DataType::Int32, false),
        ]);
        assert_eq!(*s.arrow, expected);
        assert!(s.columns.iter().all(|c| !c.description.is_empty()));
    }

    #[test]
    fn type_grammar() {
        assert_eq!(parse_type(" string ").unwrap(), DataType::Utf8);
        assert_eq!(
            parse_type("list< list<int32> >").unwrap(),
            DataType::List(Arc::new(Field::new_list_field(
                DataType::List(Arc::new(Field::new_list_field(DataType::Int32, false))),
                false
            )))
        );
        for bad in [
            "",
            "uint32",
            "large_string",
            "list<string",
            "struct<>",
            "struct<a string>",
            "struct<a: string, a: int32>",
            "string string",
            "timestamp[us]",
        ] {
            assert!(parse_type(bad).is_err(), "{bad:?} should not parse");
        }
        let deep = format!("{}int32{}", "list<".repeat(50), ">".repeat(50));
        assert!(parse_type(&deep).is_err());
    }

    #[test]
    fn schema_file_errors() {
        assert!(parse_schema_file("{}").is_err());
        let dup = r#"{"name":"x","version":1,"description":"","grammar":"","columns":[
            {"name":"a","type":"string","nullable":false,"description":""},
            {"name":"a","type":"int32","nullable":false,"description":""}]}"#;
        assert!(parse_schema_file(dup).unwrap_err().contains("twice"));
    }
}
