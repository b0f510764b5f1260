//! Blocks, nested blocks and whole schemas, and the types Terraform derives
//! from them.

use crate::attribute::Attribute;
use pvelxc_cty::{Type, Value};
use std::collections::BTreeMap;

/// How a nested block type may appear in its parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Nesting {
    /// At most one; absent = null.
    Single,
    /// Exactly one, never null: absent = all attributes null.
    Group,
    /// Ordered, repeatable.
    List,
    /// Unordered, repeatable, no duplicates.
    Set,
    /// Repeatable with one label each.
    Map,
}

/// A schema: a version (for state upgrades) and the root block.
#[derive(Clone, Debug)]
pub struct Schema {
    /// Bumped whenever the stored state shape changes.
    pub version: i64,
    /// The root block.
    pub block: Block,
}

impl Schema {
    /// A schema at `version`.
    pub fn new(version: i64, block: Block) -> Self {
        Schema { version, block }
    }
}

/// A block: attributes and nested block types.
#[derive(Clone, Debug, Default)]
pub struct Block {
    /// Attributes in declaration order.
    pub attributes: Vec<Attribute>,
    /// Nested block types in declaration order.
    pub blocks: Vec<NestedBlock>,
    /// Markdown description.
    pub description: String,
    /// Deprecated block.
    pub deprecated: bool,
}

/// A nested block type.
#[derive(Clone, Debug)]
pub struct NestedBlock {
    /// Block type name as written in configuration.
    pub type_name: String,
    /// The block's contents.
    pub block: Block,
    /// How it may repeat.
    pub nesting: Nesting,
    /// Fewest occurrences (List/Set; 0/1 for Single).
    pub min_items: u32,
    /// Most occurrences; 0 = unlimited (List/Set; 0/1 for Single).
    pub max_items: u32,
}

impl Block {
    /// An empty block.
    pub fn new() -> Self {
        Block::default()
    }

    /// Markdown description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// Adds an attribute.
    pub fn attr(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }

    /// Adds several attributes.
    pub fn attrs(mut self, attrs: impl IntoIterator<Item = Attribute>) -> Self {
        self.attributes.extend(attrs);
        self
    }

    /// Adds a nested block type.
    pub fn block(mut self, b: NestedBlock) -> Self {
        self.blocks.push(b);
        self
    }

    /// Marks as deprecated.
    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }

    /// The attribute called `name`.
    pub fn find_attr(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The nested block type called `name`.
    pub fn find_block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.type_name == name)
    }

    /// The object type Terraform derives from this block, exactly as
    /// `configschema.Block.ImpliedType`: attributes keep their types, nested
    /// blocks become object / list / set / map of object; a List or Map block
    /// whose contents involve `dynamic` becomes `dynamic` (its values are a
    /// tuple or object whose type travels with the value).
    pub fn implied_type(&self) -> Type {
        let mut attrs: BTreeMap<String, Type> = BTreeMap::new();
        for a in &self.attributes {
            attrs.insert(a.name.clone(), a.ty.clone());
        }
        for b in &self.blocks {
            attrs.insert(b.type_name.clone(), b.implied_type());
        }
        Type::Object(attrs)
    }

    /// The value of this block with nothing configured (Terraform's
    /// `EmptyValue`): attributes null, Single blocks null, Group blocks
    /// empty, List/Set/Map blocks empty.
    pub fn empty_value(&self) -> Value {
        let mut attrs = BTreeMap::new();
        for a in &self.attributes {
            attrs.insert(a.name.clone(), Value::Null);
        }
        for b in &self.blocks {
            attrs.insert(b.type_name.clone(), b.empty_value());
        }
        Value::Object(attrs)
    }
}

impl NestedBlock {
    fn new(type_name: impl Into<String>, nesting: Nesting, block: Block) -> Self {
        NestedBlock {
            type_name: type_name.into(),
            block,
            nesting,
            min_items: 0,
            max_items: 0,
        }
    }

    /// A block that may appear at most once.
    pub fn single(type_name: impl Into<String>, block: Block) -> Self {
        Self::new(type_name, Nesting::Single, block)
    }

    /// A block that is always present (missing = all attributes null).
    pub fn group(type_name: impl Into<String>, block: Block) -> Self {
        Self::new(type_name, Nesting::Group, block)
    }

    /// An ordered, repeatable block.
    pub fn list(type_name: impl Into<String>, block: Block) -> Self {
        Self::new(type_name, Nesting::List, block)
    }

    /// An unordered, repeatable block.
    pub fn set(type_name: impl Into<String>, block: Block) -> Self {
        Self::new(type_name, Nesting::Set, block)
    }

    /// A labelled, repeatable block.
    pub fn map(type_name: impl Into<String>, block: Block) -> Self {
        Self::new(type_name, Nesting::Map, block)
    }

    /// At least `n` occurrences.
    pub fn min_items(mut self, n: u32) -> Self {
        self.min_items = n;
        self
    }

    /// At most `n` occurrences (0 = unlimited).
    pub fn max_items(mut self, n: u32) -> Self {
        self.max_items = n;
        self
    }

    /// True if the block's body involves `dynamic`, which changes the
    /// implied type of List and Map blocks.
    pub fn has_dynamic(&self) -> bool {
        self.block.implied_type().has_dynamic()
    }

    /// The type of this block's value inside its parent's object.
    pub fn implied_type(&self) -> Type {
        let inner = self.block.implied_type();
        match self.nesting {
            Nesting::Single | Nesting::Group => inner,
            Nesting::List if inner.has_dynamic() => Type::Dynamic,
            Nesting::List => Type::list(inner),
            Nesting::Set => Type::set(inner),
            Nesting::Map if inner.has_dynamic() => Type::Dynamic,
            Nesting::Map => Type::map(inner),
        }
    }

    /// The value of this block type when no block is configured.
    pub fn empty_value(&self) -> Value {
        let dynamic = self.has_dynamic();
        match self.nesting {
            Nesting::Single => Value::Null,
            Nesting::Group => self.block.empty_value(),
            Nesting::List if dynamic => Value::dynamic(Type::Tuple(vec![]), Value::Tuple(vec![])),
            Nesting::List => Value::List(vec![]),
            Nesting::Set => Value::Set(vec![]),
            Nesting::Map if dynamic => Value::dynamic(
                Type::Object(BTreeMap::new()),
                Value::Object(BTreeMap::new()),
            ),
            Nesting::Map => Value::Map(BTreeMap::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implied_type_follows_terraform() {
        let b = Block::new()
            .attr(Attribute::string("hostname").required())
            .block(NestedBlock::list(
                "mp",
                Block::new().attr(Attribute::string("path").required()),
            ))
            .block(NestedBlock::set(
                "dev",
                Block::new().attr(Attribute::number("gid").optional()),
            ))
            .block(NestedBlock::single(
                "features",
                Block::new().attr(Attribute::bool("nesting").optional()),
            ))
            .block(NestedBlock::map(
                "labels",
                Block::new().attr(Attribute::string("v").optional()),
            ))
            .block(NestedBlock::list(
                "dyn",
                Block::new().attr(Attribute::dynamic("v").optional()),
            ));
        let t = b.implied_type();
        assert_eq!(
            t.to_json(),
            r#"["object",{"dev":["set",["object",{"gid":"number"}]],"dyn":"dynamic","features":["object",{"nesting":"bool"}],"hostname":"string","labels":["map",["object",{"v":"string"}]],"mp":["list",["object",{"path":"string"}]]}]"#
        );
        let empty = b.empty_value();
        empty.check_type(&t).unwrap();
        assert_eq!(empty.get_attr("mp"), Some(&Value::List(vec![])));
        assert_eq!(empty.get_attr("features"), Some(&Value::Null));
    }
}
