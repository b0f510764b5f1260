//! Terraform's InternalValidate rules and the implied type.

mod common;

use pvelxc_schema::{Attribute, Block, NestedBlock, Schema, Type, Validator, Value};

fn problems(schema: Schema) -> Vec<String> {
    match schema.internal_validate() {
        Ok(()) => Vec::new(),
        Err(errs) => errs.iter().map(ToString::to_string).collect(),
    }
}

fn doc(a: Attribute) -> Attribute {
    a.description("documented")
}

fn one(a: Attribute) -> Vec<String> {
    problems(Schema::new(0, Block::new().description("r").attr(a)))
}

#[test]
fn the_reference_schema_is_valid() {
    assert_eq!(problems(common::container()), Vec::<String>::new());
}

#[test]
fn attribute_flag_rules() {
    let cases = [
        (
            doc(Attribute::string("a")),
            "must set Optional, Required or Computed",
        ),
        (
            doc(Attribute::string("a").optional().required()),
            "cannot set both Optional and Required",
        ),
        (
            doc(Attribute::string("a").computed().required()),
            "cannot set both Computed and Required",
        ),
        (
            doc(Attribute::string("Bad-Name").optional()),
            "lowercase letters, digits and underscores",
        ),
        (Attribute::string("a").optional(), "no description"),
        (
            doc(Attribute::string("a").optional().default("x")),
            "a default needs Optional and Computed",
        ),
        (
            doc(Attribute::string("a").optional().computed().default(1)),
            "default does not match the attribute type",
        ),
        (
            doc(Attribute::string("a").optional().use_state_for_unknown()),
            "only applies to Computed",
        ),
        (
            doc(Attribute::string("a").computed().write_only()),
            "write-only attribute cannot be Computed",
        ),
        (
            doc(Attribute::string("a")
                .optional()
                .validator(Validator::regex("(", "x"))),
            "invalid regular expression",
        ),
        (
            doc(Attribute::bool("a")
                .optional()
                .validator(Validator::one_of(["x"]))),
            "checks strings",
        ),
        (
            doc(Attribute::string("a")
                .optional()
                .validator(Validator::int_range(1, 2))),
            "checks numbers",
        ),
    ];
    for (attr, expected) in cases {
        let name = format!("{attr:?}");
        let found = one(attr);
        assert!(
            found.iter().any(|p| p.contains(expected)),
            "{name}: expected {expected:?}, got {found:?}"
        );
    }
}

#[test]
fn block_rules() {
    let body = || {
        Block::new()
            .description("b")
            .attr(doc(Attribute::string("x").optional()))
    };
    let with = |nb: NestedBlock| problems(Schema::new(0, Block::new().description("r").block(nb)));
    let cases = [
        (
            with(NestedBlock::single("s", body()).min_items(1)),
            "must match in NestingSingle",
        ),
        (
            with(NestedBlock::single("s", body()).min_items(2).max_items(2)),
            "either 0 or 1",
        ),
        (
            with(NestedBlock::group("g", body()).max_items(1)),
            "cannot be used in NestingGroup",
        ),
        (
            with(NestedBlock::list("l", body()).min_items(3).max_items(2)),
            "MinItems must be less than or equal to MaxItems",
        ),
        (
            with(NestedBlock::map("m", body()).min_items(1)),
            "must both be 0 in NestingMap",
        ),
        (
            with(NestedBlock::set(
                "s",
                Block::new()
                    .description("b")
                    .attr(doc(Attribute::dynamic("d").optional())),
            )),
            "may not contain attributes of cty.DynamicPseudoType",
        ),
        (
            with(NestedBlock::set(
                "s",
                Block::new()
                    .description("b")
                    .attr(doc(Attribute::string("w").optional().write_only())),
            )),
            "may not contain write-only attributes",
        ),
        (
            with(NestedBlock::list(
                "l",
                Block::new().attr(doc(Attribute::string("x").optional())),
            )),
            "block has no description",
        ),
        (
            problems(Schema::new(
                0,
                Block::new()
                    .description("r")
                    .attr(doc(Attribute::string("x").optional()))
                    .block(NestedBlock::list("x", body())),
            )),
            "name used by both an attribute and a block",
        ),
        (
            problems(Schema::new(-1, Block::new().description("r"))),
            "negative",
        ),
    ];
    for (found, expected) in cases {
        assert!(
            found.iter().any(|p| p.contains(expected)),
            "expected {expected:?}, got {found:?}"
        );
    }
}

#[test]
fn errors_name_the_nested_attribute() {
    let schema = Schema::new(
        0,
        Block::new().description("r").block(NestedBlock::list(
            "mount_point",
            Block::new()
                .description("b")
                .attr(Attribute::string("path").description("p")),
        )),
    );
    let errs = schema.internal_validate().unwrap_err();
    assert_eq!(errs[0].path.to_string(), "mount_point.path");
    assert_eq!(
        errs[0].to_string(),
        "`mount_point.path`: must set Optional, Required or Computed"
    );
}

#[test]
fn implied_type_of_the_reference_schema() {
    let t = common::container().block.implied_type();
    let Type::Object(attrs) = &t else {
        panic!("object expected")
    };
    assert_eq!(
        attrs["rootfs"],
        Type::object([
            ("size", Type::String),
            ("storage", Type::String),
            ("volume", Type::String)
        ])
    );
    assert_eq!(
        attrs["mount_point"],
        Type::list(Type::object([
            ("path", Type::String),
            ("read_only", Type::Bool),
            ("source", Type::String),
            ("volume", Type::String)
        ]))
    );
    assert!(matches!(attrs["network"], Type::Set(_)));
    assert!(matches!(attrs["hook"], Type::Map(_)));
    assert!(matches!(attrs["features"], Type::Object(_)));
    assert_eq!(attrs["tags"], Type::set(Type::String));
    assert_eq!(attrs.len(), 14);
    // The empty value conforms to it, with group blocks present and repeatable blocks empty.
    let empty = common::container().block.empty_value();
    empty.check_type(&t).unwrap();
    assert_eq!(
        empty.get_attr("features"),
        Some(&Value::object([("nesting", Value::Null)]))
    );
    assert_eq!(empty.get_attr("network"), Some(&Value::Set(vec![])));
}
