//! Registry documentation generated from the schema declarations, so the
//! docs can never drift from what the provider actually accepts.
//!
//! Layout (Terraform Registry): `index.md`, `resources/<name>.md`,
//! `data-sources/<name>.md`, `functions/<name>.md`, where `<name>` drops the
//! `<provider>_` prefix. `provider/tests/docs_fresh.rs` fails when the
//! committed files differ from this output.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::framework::{FunctionSignature, Parameter, ProviderDef};

/// All pages, keyed by path relative to the docs directory.
pub fn generate<P: ProviderDef>(def: &P) -> BTreeMap<PathBuf, String> {
    let mut pages = BTreeMap::new();
    let provider = def.name();
    let prefix = format!("{provider}_");
    let examples: Vec<(&str, &str)> = match def.example() {
        "" => Vec::new(),
        example => vec![("Provider configuration", example)],
    };
    let schema = def.schema();
    pages.insert(
        PathBuf::from("index.md"),
        pvelxc_schema::docs::render_index(provider, &schema.block.description, &schema, &examples),
    );
    for resource in def.resources() {
        let name = resource.type_name();
        let short = name.strip_prefix(&prefix).unwrap_or(name);
        pages.insert(
            PathBuf::from("resources").join(format!("{short}.md")),
            pvelxc_schema::docs::render_resource(
                name,
                pvelxc_schema::docs::Kind::Resource,
                &resource.schema(),
                &resource.examples(),
                resource.import_docs(),
            ),
        );
    }
    for data_source in def.data_sources() {
        let name = data_source.type_name();
        let short = name.strip_prefix(&prefix).unwrap_or(name);
        pages.insert(
            PathBuf::from("data-sources").join(format!("{short}.md")),
            pvelxc_schema::docs::render_resource(
                name,
                pvelxc_schema::docs::Kind::DataSource,
                &data_source.schema(),
                &data_source.examples(),
                None,
            ),
        );
    }
    for function in def.functions() {
        pages.insert(
            PathBuf::from("functions").join(format!("{}.md", function.name())),
            render_function(provider, function.name(), &function.signature()),
        );
    }
    pages
}

/// One function page, rendered by `pvelxc_schema::docs`.
pub fn render_function(provider: &str, name: &str, sig: &FunctionSignature) -> String {
    let param = |p: &Parameter| pvelxc_schema::docs::FunctionParam {
        name: p.name.clone(),
        ty: p.ty.clone(),
        description: p.description.clone(),
    };
    let doc = pvelxc_schema::docs::FunctionDoc {
        name: name.to_string(),
        summary: sig.summary.clone(),
        description: sig.description.clone(),
        parameters: sig.parameters.iter().map(param).collect(),
        variadic: sig.variadic.as_ref().map(param),
        return_type: sig.return_type.clone(),
    };
    let examples: Vec<(&str, &str)> = if sig.example.is_empty() {
        Vec::new()
    } else {
        vec![("Example", sig.example.as_str())]
    };
    pvelxc_schema::docs::render_function(provider, &doc, &examples)
}

/// Writes every page under `dir` (atomically, one file at a time) and
/// returns how many were written.
pub fn write_docs<P: ProviderDef>(def: &P, dir: &Path) -> std::io::Result<usize> {
    let pages = generate(def);
    for (rel, content) in &pages {
        write_atomic(&dir.join(rel), content.as_bytes())?;
    }
    Ok(pages.len())
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let parent = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(parent)?;
    let mut tmp = tempfile::NamedTempFile::new_in(parent)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(dir) = std::fs::File::open(parent) {
        let _ = dir.sync_all();
    }
    Ok(())
}
