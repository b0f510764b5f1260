//! Schema declarations (`pvelxc_schema`) in their wire form.
//!
//! Terraform's converter panics on a missing block or invalid type JSON, so
//! every block is always present and types come from `Type::to_json`.

use pvelxc_proto::tfplugin5 as pb;
use pvelxc_schema::{Attribute, Block, NestedBlock, Nesting, Schema};

use super::function::{FunctionSignature, Parameter};

/// Wire form of a whole schema.
pub fn schema(schema: &Schema) -> pb::Schema {
    pb::Schema {
        version: schema.version,
        block: Some(block(&schema.block)),
    }
}

/// Wire form of a block.
pub fn block(block: &Block) -> pb::schema::Block {
    pb::schema::Block {
        version: 0,
        attributes: block.attributes.iter().map(attribute).collect(),
        block_types: block.blocks.iter().map(nested_block).collect(),
        description: block.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: block.deprecated,
        deprecation_message: String::new(),
    }
}

fn attribute(attr: &Attribute) -> pb::schema::Attribute {
    pb::schema::Attribute {
        name: attr.name.clone(),
        r#type: attr.ty.to_json().into_bytes(),
        description: attr.description.clone(),
        required: attr.required,
        optional: attr.optional,
        computed: attr.computed,
        sensitive: attr.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: attr.deprecated,
        write_only: attr.write_only,
        deprecation_message: attr.deprecation_message.clone().unwrap_or_default(),
    }
}

fn nested_block(nested: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode;
    let nesting = match nested.nesting {
        Nesting::Single => NestingMode::Single,
        Nesting::Group => NestingMode::Group,
        Nesting::List => NestingMode::List,
        Nesting::Set => NestingMode::Set,
        Nesting::Map => NestingMode::Map,
    };
    pb::schema::NestedBlock {
        type_name: nested.type_name.clone(),
        block: Some(block(&nested.block)),
        nesting: nesting as i32,
        min_items: i64::from(nested.min_items),
        max_items: i64::from(nested.max_items),
    }
}

/// Wire form of a function signature.
pub fn function(sig: &FunctionSignature) -> pb::Function {
    pb::Function {
        parameters: sig.parameters.iter().map(parameter).collect(),
        variadic_parameter: sig.variadic.as_ref().map(parameter),
        r#return: Some(pb::function::Return {
            r#type: sig.return_type.to_json().into_bytes(),
        }),
        summary: sig.summary.clone(),
        description: sig.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecation_message: sig.deprecation_message.clone().unwrap_or_default(),
    }
}

fn parameter(param: &Parameter) -> pb::function::Parameter {
    pb::function::Parameter {
        name: param.name.clone(),
        r#type: param.ty.to_json().into_bytes(),
        allow_null_value: param.allow_null,
        allow_unknown_values: false,
        description: param.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
    }
}
