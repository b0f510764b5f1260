//! `pvelxc_node_config`: the Proxmox VE node itself configured by `pvelxc-agent` over SSH,
//! for the host half of the runbook.

mod presets;

use pvelxc_cty::{Path, Value};
use pvelxc_schema::{Attribute, Block, Diagnostic, Schema, Validator};

use crate::agent::{AgentBinary, RunMode, Target};
use crate::framework::{Ctx, Resource, ResourceError, ResourceResult, StateWithPrivate};
use crate::node::ssh_diagnostic;
use crate::provider::PvelxcClient;
use crate::resources::container_config::converge::{
    agent_diagnostic, failures, install_and_run, reflect_check, Prepared,
};
use crate::resources::container_config::items_build::{self, Items};
use crate::resources::container_config::removal;
use crate::resources::container_config::values::{set, string};
use crate::resources::container_config::{converge, items_schema};

/// The resource type.
#[derive(Debug, Default, Clone, Copy)]
pub struct NodeConfigResource;

const EXAMPLE: &str = r#"resource "pvelxc_node_config" "host" {
  media_user {}   # media:media 1000:1000, as inside the containers

  storage {
    path            = "/mnt/storage"
    owner           = "media"
    group           = "media"
    mode            = "2775"
    recursive_owner = true
  }

  mergerfs {}     # /mnt/disk* /mnt/storage fuse.mergerfs defaults,allow_other,...

  subid {         # root:1000:1 in /etc/subuid and /etc/subgid (idmap passthrough)
    start = 1000
  }
}
"#;

fn schema() -> Schema {
    let mut block = Block::new()
        .description(
            "Configures the Proxmox VE node with `pvelxc-agent` over SSH: the host half of the \
             media runbook (media user and groups, storage ownership and modes, the mergerfs \
             fstab line with `allow_other`, /etc/subuid and /etc/subgid). Idempotent; `terraform \
             plan` runs the agent in check mode and shows drift.",
        )
        .attr(
            Attribute::string("id")
                .computed()
                .use_state_for_unknown()
                .description("The node name."),
        )
        .attr(
            Attribute::string("node")
                .optional()
                .computed()
                .use_state_for_unknown()
                .requires_replace()
                .description("Node to configure; default: the provider's `node`.")
                .validator(Validator::regex(
                    r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$",
                    "a node host name",
                )),
        )
        .attr(
            Attribute::string("root")
                .optional()
                .computed()
                .default("/")
                .requires_replace()
                .description(
                    "Directory the agent treats as `/`. Leave at `/` on a real node; a scratch \
                     directory lets a configuration be tried without touching the host.",
                )
                .validator(Validator::regex(r"^/[^\x00-\x1f]*$", "an absolute path")),
        );
    block = crate::resources::container_config::schema::common_attributes(block);
    for b in items_schema::all()
        .into_iter()
        .chain(presets::blocks_schema())
    {
        block = block.block(b);
    }
    Schema::new(0, block)
}

fn build(value: &Value) -> Result<Prepared, Vec<Diagnostic>> {
    let mut items = Items::default();
    let mut diags = Vec::new();
    if let Err(d) = items_build::from_blocks(value, &mut items) {
        diags.extend(d);
    }
    if let Err(d) = presets::expand(value, &mut items) {
        diags.extend(d);
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    converge::finish_spec(value, items)
}

struct Session {
    ssh: std::sync::Arc<pvelxc_pve::ssh::NodeSsh>,
    target: Target,
    binary: std::sync::Arc<AgentBinary>,
    root: Option<String>,
}

async fn session(ctx: &Ctx<PvelxcClient>, value: &Value) -> Result<(Session, String), Diagnostic> {
    let client = ctx.client()?;
    let explicit = string(value, "node");
    let node = client
        .node
        .node_name(explicit.as_deref(), Path::root().attr("node"))?
        .to_string();
    let binary = AgentBinary::load(client.config.agent_binary.as_deref())
        .map_err(|e| Diagnostic::error(Path::root(), "Agent binary unavailable", e.to_string()))?;
    let ssh = client.node.ssh().await?;
    let root = string(value, "root").filter(|r| r != "/");
    Ok((
        Session {
            ssh,
            target: Target::Node { node: node.clone() },
            binary,
            root,
        },
        node,
    ))
}

impl NodeConfigResource {
    async fn converge(
        &self,
        ctx: &Ctx<PvelxcClient>,
        planned: &Value,
    ) -> ResourceResult<StateWithPrivate> {
        let (s, node) = session(ctx, planned).await?;
        let prepared = build(planned)?;
        let (report, sha) = install_and_run(
            &s.ssh,
            &s.target,
            &s.binary,
            &prepared.spec,
            RunMode::Apply,
            s.root.as_deref(),
        )
        .await?;
        let mut state = planned.clone();
        set(&mut state, "id", Value::string(node.clone()));
        set(&mut state, "node", Value::string(node));
        converge::apply_outcome(state, &s.target, &report, &sha)
    }
}

#[tonic::async_trait]
impl Resource<PvelxcClient> for NodeConfigResource {
    fn type_name(&self) -> &'static str {
        "pvelxc_node_config"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn examples(&self) -> Vec<(&'static str, &'static str)> {
        vec![("The runbook's host half", EXAMPLE)]
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        if !config.is_wholly_known() {
            return Vec::new();
        }
        let mut diags = Vec::new();
        if crate::resources::container_config::values::boolean(config, "converged") == Some(false) {
            diags.push(Diagnostic::error(
                Path::root().attr("converged"),
                "converged is reported, not set",
                "Remove converged from the configuration.",
            ));
        }
        if let Err(d) = build(config) {
            diags.extend(d);
        }
        diags
    }

    async fn create(
        &self,
        ctx: &Ctx<PvelxcClient>,
        planned: &Value,
        _private: &[u8],
    ) -> ResourceResult<StateWithPrivate> {
        self.converge(ctx, planned).await
    }

    async fn read(
        &self,
        ctx: &Ctx<PvelxcClient>,
        state: &Value,
        _private: &[u8],
    ) -> ResourceResult<Option<StateWithPrivate>> {
        let (s, _) = session(ctx, state).await?;
        if let Some(root) = &s.root {
            let out = s
                .ssh
                .run(&["test", "-d", root.as_str()], None)
                .await
                .map_err(ssh_diagnostic)?;
            if out.status != 0 {
                return Ok(None);
            }
        }
        let prepared = build(state)?;
        let (report, sha) = install_and_run(
            &s.ssh,
            &s.target,
            &s.binary,
            &prepared.spec,
            RunMode::Check,
            s.root.as_deref(),
        )
        .await?;
        let mut new = state.clone();
        reflect_check(&mut new, &prepared, &report, &sha);
        Ok(Some(StateWithPrivate {
            state: new,
            private: Vec::new(),
        }))
    }

    async fn update(
        &self,
        ctx: &Ctx<PvelxcClient>,
        _prior: &Value,
        planned: &Value,
        _private: &[u8],
    ) -> ResourceResult<StateWithPrivate> {
        self.converge(ctx, planned).await
    }

    async fn delete(
        &self,
        ctx: &Ctx<PvelxcClient>,
        prior: &Value,
        _private: &[u8],
    ) -> ResourceResult<()> {
        let (s, _) = session(ctx, prior).await?;
        let prepared = build(prior)?;
        let plan = removal::plan(prior, &prepared.spec, &prepared.origins);
        if !plan.undo.items.is_empty() {
            let (report, _) = install_and_run(
                &s.ssh,
                &s.target,
                &s.binary,
                &plan.undo,
                RunMode::Apply,
                s.root.as_deref(),
            )
            .await
            .map_err(ResourceError::from)?;
            let failed = failures(&s.target, &report);
            if !failed.is_empty() {
                return Err(failed.into());
            }
        }
        let problems = removal::remove_leftovers(&s.ssh, &s.target, &plan, s.root.as_deref())
            .await
            .map_err(|e| agent_diagnostic(&s.target, e.into()))?;
        if !problems.is_empty() {
            return Err(Diagnostic::error(
                Path::root(),
                format!("Some owned items on {} could not be removed", s.target),
                problems.join("\n"),
            )
            .into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn schema_is_internally_valid() {
        if let Err(errors) = super::schema().internal_validate() {
            panic!("{errors:?}");
        }
    }
}
