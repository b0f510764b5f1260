//! Terraform Registry documentation rendered from the schema, in the layout
//! `tfplugindocs` produces (frontmatter, Example Usage, Schema with
//! Required / Optional / Read-Only, nested schemas, Import). Output is
//! deterministic so generated docs can be checked for staleness.

use crate::attribute::Attribute;
use crate::block::{Block, NestedBlock, Nesting, Schema};
use pvelxc_cty::Type;
use std::fmt::Write;

/// What a page documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A managed resource (`docs/resources/`).
    Resource,
    /// A data source (`docs/data-sources/`).
    DataSource,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Resource => "Resource",
            Kind::DataSource => "Data Source",
        }
    }
}

/// One parameter of a provider function.
#[derive(Clone, Debug)]
pub struct FunctionParam {
    /// Parameter name.
    pub name: String,
    /// Parameter type.
    pub ty: Type,
    /// Markdown description.
    pub description: String,
}

/// A provider function's documentation.
#[derive(Clone, Debug)]
pub struct FunctionDoc {
    /// Function name (without `provider::pvelxc::`).
    pub name: String,
    /// One-line summary.
    pub summary: String,
    /// Markdown description.
    pub description: String,
    /// Positional parameters.
    pub parameters: Vec<FunctionParam>,
    /// Variadic trailing parameter, if any.
    pub variadic: Option<FunctionParam>,
    /// Result type.
    pub return_type: Type,
}

fn provider_of(name: &str) -> &str {
    name.split('_').next().unwrap_or(name)
}

fn frontmatter(out: &mut String, page_title: &str, subcategory: bool, description: &str) {
    out.push_str("---\n");
    let _ = writeln!(out, "page_title: {:?}", page_title);
    if subcategory {
        out.push_str("subcategory: \"\"\n");
    }
    out.push_str("description: |-\n");
    let first = first_paragraph(description);
    for line in first.lines() {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "  {line}");
        }
    }
    if first.is_empty() {
        out.push_str("  \n");
    }
    out.push_str("---\n\n");
}

fn first_paragraph(text: &str) -> String {
    text.trim().split("\n\n").next().unwrap_or("").to_string()
}

fn examples_section(out: &mut String, examples: &[(&str, &str)]) {
    if examples.is_empty() {
        return;
    }
    out.push_str("## Example Usage\n\n");
    for (title, hcl) in examples {
        if !title.trim().is_empty() {
            let _ = writeln!(out, "### {}\n", title.trim());
        }
        let _ = writeln!(out, "```terraform\n{}\n```\n", hcl.trim_end());
    }
}

/// Renders the page for a resource or data source called `name`
/// (e.g. `pvelxc_container`).
pub fn render_resource(
    name: &str,
    kind: Kind,
    schema: &Schema,
    examples: &[(&str, &str)],
    import: Option<&str>,
) -> String {
    let mut out = String::new();
    let title = format!("{name} {} - {}", kind.label(), provider_of(name));
    frontmatter(&mut out, &title, true, &schema.block.description);
    let _ = writeln!(out, "# {name} ({})\n", kind.label());
    if !schema.block.description.trim().is_empty() {
        let _ = writeln!(out, "{}\n", schema.block.description.trim());
    }
    examples_section(&mut out, examples);
    out.push_str("## Schema\n\n");
    render_block(&mut out, &schema.block, "", true);
    if let Some(import) = import {
        out.push_str("## Import\n\nImport is supported using the following syntax:\n\n");
        let _ = writeln!(out, "```shell\n{}\n```", import.trim_end());
    }
    trim_trailing_blank(out)
}

/// Renders the provider index page (`docs/index.md`).
pub fn render_index(
    provider: &str,
    description: &str,
    schema: &Schema,
    examples: &[(&str, &str)],
) -> String {
    let mut out = String::new();
    frontmatter(
        &mut out,
        &format!("{provider} Provider"),
        false,
        description,
    );
    let _ = writeln!(out, "# {provider} Provider\n");
    if !description.trim().is_empty() {
        let _ = writeln!(out, "{}\n", description.trim());
    }
    examples_section(&mut out, examples);
    if !schema.block.attributes.is_empty() || !schema.block.blocks.is_empty() {
        out.push_str("## Schema\n\n");
        render_block(&mut out, &schema.block, "", true);
    }
    trim_trailing_blank(out)
}

/// Renders a provider function page (`docs/functions/NAME.md`).
pub fn render_function(provider: &str, f: &FunctionDoc, examples: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let summary = if f.summary.trim().is_empty() {
        &f.description
    } else {
        &f.summary
    };
    frontmatter(
        &mut out,
        &format!("{} function - {provider}", f.name),
        true,
        summary,
    );
    let _ = writeln!(out, "# function: {}\n", f.name);
    if !f.description.trim().is_empty() {
        let _ = writeln!(out, "{}\n", f.description.trim());
    }
    examples_section(&mut out, examples);
    out.push_str("## Signature\n\n```text\n");
    let mut params: Vec<String> = f
        .parameters
        .iter()
        .map(|p| format!("{} {}", p.name, p.ty))
        .collect();
    if let Some(v) = &f.variadic {
        params.push(format!("{} ...{}", v.name, v.ty));
    }
    let _ = writeln!(
        out,
        "{}({}) {}\n```\n",
        f.name,
        params.join(", "),
        f.return_type
    );
    if !f.parameters.is_empty() || f.variadic.is_some() {
        out.push_str("## Arguments\n\n");
        for (i, p) in f.parameters.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}. `{}` ({}) {}",
                i + 1,
                p.name,
                type_label(&p.ty),
                p.description.trim()
            );
        }
        if let Some(v) = &f.variadic {
            let _ = writeln!(
                out,
                "{}. `{}` (Variadic, {}) {}",
                f.parameters.len() + 1,
                v.name,
                type_label(&v.ty),
                v.description.trim()
            );
        }
        out.push('\n');
    }
    trim_trailing_blank(out)
}

fn trim_trailing_blank(mut s: String) -> String {
    while s.ends_with("\n\n") {
        s.pop();
    }
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// Type names as the Registry shows them: `String`, `List of String`, ...
pub fn type_label(ty: &Type) -> String {
    match ty {
        Type::Bool => "Boolean".into(),
        Type::Number => "Number".into(),
        Type::String => "String".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(e) => format!("List of {}", type_label(e)),
        Type::Set(e) => format!("Set of {}", type_label(e)),
        Type::Map(e) => format!("Map of {}", type_label(e)),
        Type::Object(_) => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}

fn anchor(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        format!("nestedblock--{name}")
    } else {
        format!("nestedblock--{}--{name}", prefix.replace('.', "--"))
    }
}

enum Entry<'a> {
    Attr(&'a Attribute),
    Block(&'a NestedBlock),
}

impl Entry<'_> {
    fn name(&self) -> &str {
        match self {
            Entry::Attr(a) => &a.name,
            Entry::Block(b) => &b.type_name,
        }
    }
}

fn render_block(out: &mut String, block: &Block, prefix: &str, top: bool) {
    let mut required: Vec<Entry> = Vec::new();
    let mut optional: Vec<Entry> = Vec::new();
    let mut read_only: Vec<Entry> = Vec::new();
    for a in &block.attributes {
        if a.required {
            required.push(Entry::Attr(a));
        } else if a.optional {
            optional.push(Entry::Attr(a));
        } else {
            read_only.push(Entry::Attr(a));
        }
    }
    for b in &block.blocks {
        if b.min_items > 0 {
            required.push(Entry::Block(b));
        } else {
            optional.push(Entry::Block(b));
        }
    }
    for list in [&mut required, &mut optional, &mut read_only] {
        list.sort_by(|a, b| a.name().cmp(b.name()));
    }
    for (title, list) in [
        ("Required", &required),
        ("Optional", &optional),
        ("Read-Only", &read_only),
    ] {
        if list.is_empty() {
            continue;
        }
        if top {
            let _ = writeln!(out, "### {title}\n");
        } else {
            let _ = writeln!(out, "{title}:\n");
        }
        for e in list.iter() {
            match e {
                Entry::Attr(a) => render_attr(out, a),
                Entry::Block(b) => render_nested_ref(out, b, prefix),
            }
        }
        out.push('\n');
    }
    let mut nested: Vec<&NestedBlock> = block.blocks.iter().collect();
    nested.sort_by(|a, b| a.type_name.cmp(&b.type_name));
    for b in nested {
        let path = if prefix.is_empty() {
            b.type_name.clone()
        } else {
            format!("{prefix}.{}", b.type_name)
        };
        let _ = writeln!(out, "<a id=\"{}\"></a>", anchor(prefix, &b.type_name));
        let _ = writeln!(out, "### Nested Schema for `{path}`\n");
        render_block(out, &b.block, &path, false);
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn render_attr(out: &mut String, a: &Attribute) {
    let mut tags = vec![type_label(&a.ty)];
    if a.sensitive {
        tags.push("Sensitive".into());
    }
    if a.write_only {
        tags.push("Write-only".into());
    }
    if a.deprecated {
        tags.push("Deprecated".into());
    }
    let mut text = one_line(&a.description);
    let mut add = |s: String| {
        if !text.is_empty() && !text.ends_with(' ') {
            text.push(' ');
        }
        text.push_str(&s);
    };
    for v in &a.validators {
        if let crate::validator::Validator::IntRange {
            min: None,
            max: None,
        } = v
        {
            continue;
        }
        add(format!("Must be {}.", v.describe()));
    }
    if let Some(d) = &a.default {
        add(format!("Defaults to `{d}`."));
    }
    if a.requires_replace {
        add("Changing this replaces the resource.".into());
    }
    if let Some(msg) = &a.deprecation_message {
        add(format!("Deprecated: {}", one_line(msg)));
    }
    let _ = writeln!(out, "- `{}` ({}) {}", a.name, tags.join(", "), text).map(|_| ());
    if out.ends_with(" \n") {
        out.truncate(out.len() - 2);
        out.push('\n');
    }
}

fn render_nested_ref(out: &mut String, b: &NestedBlock, prefix: &str) {
    let mut tag = match b.nesting {
        Nesting::Single | Nesting::Group => "Block".to_string(),
        Nesting::List => "Block List".to_string(),
        Nesting::Set => "Block Set".to_string(),
        Nesting::Map => "Block Map".to_string(),
    };
    if matches!(b.nesting, Nesting::List | Nesting::Set) {
        if b.min_items > 0 {
            let _ = write!(tag, ", Min: {}", b.min_items);
        }
        if b.max_items > 0 {
            let _ = write!(tag, ", Max: {}", b.max_items);
        }
    }
    if b.block.deprecated {
        tag.push_str(", Deprecated");
    }
    let desc = one_line(&b.block.description);
    let sep = if desc.is_empty() { "" } else { " " };
    let _ = writeln!(
        out,
        "- `{}` ({tag}){sep}{desc} (see [below for nested schema](#{}))",
        b.type_name,
        anchor(prefix, &b.type_name)
    );
}
