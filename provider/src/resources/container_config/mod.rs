//! `pvelxc_container_config`: a running container configured from the inside by
//! `pvelxc-agent`, delivered through the node.

pub(crate) mod converge;
pub(crate) mod devices;
pub(crate) mod drift;
pub(crate) mod items_build;
pub(crate) mod items_schema;
pub(crate) mod presets;
pub(crate) mod removal;
pub(crate) mod schema;
pub(crate) mod values;

use pvelxc_cty::{Path, Value};
use pvelxc_pve::ssh::{ContainerState, NodeSsh};
use pvelxc_schema::{Diagnostic, Schema};

use crate::agent::{AgentBinary, RunMode, Target};
use crate::framework::{Ctx, Resource, ResourceResult, StateWithPrivate};
use crate::node::ssh_diagnostic;
use crate::provider::PvelxcClient;
use converge::{build_spec, failures, install_and_run, reflect_check, Prepared};
use devices::ContainerFacts;
use values::set;

/// The resource type.
#[derive(Debug, Default, Clone, Copy)]
pub struct ContainerConfigResource;

const EXAMPLE: &str = r#"resource "pvelxc_container_config" "transcoder" {
  container_id = pvelxc_container.transcoder.id

  media_user {}          # media:media 1000:1000, in the groups of the passed-through GPU
  intel_gpu_drivers {}   # non-free drivers, /dev/dri permissions, vainfo check
  transcoder {}          # ffmpeg, HandBrakeCLI, mediainfo, mkvtoolnix + job runner
  network_dhcp_fix {}

  jobs {
    notify = ["ntfys://ntfy.sh/my-media"]
  }
}

output "vainfo" {
  value = pvelxc_container_config.transcoder.check_results["vainfo"].passed
}
"#;

const EXAMPLE_ITEMS: &str = r#"resource "pvelxc_container_config" "tools" {
  container_id = "pve/210"

  group {
    name = "media"
    gid  = 1000
  }
  user {
    name   = "media"
    uid    = 1000
    group  = "media"
    groups = ["video"]
  }
  apt_packages {
    packages = ["mediainfo"]
    owned    = true
  }
  line {
    path  = "/etc/environment"
    line  = "LIBVA_DRIVER_NAME=iHD"
    owned = true
  }
  check {
    name     = "staging"
    user     = "media"
    writable = "/mnt/storage/staging"
  }
}
"#;

/// `<node>/<vmid>`.
pub fn parse_container_id(id: &str) -> Result<(String, u32), Diagnostic> {
    let bad = || {
        Diagnostic::error(
            Path::root().attr("container_id"),
            "Invalid container_id",
            format!(
                "{id:?} is not <node>/<vmid>; use the id of a pvelxc_container, e.g. \"pve/201\"."
            ),
        )
    };
    let (node, vmid) = id.split_once('/').ok_or_else(bad)?;
    let vmid: u32 = vmid.parse().map_err(|_| bad())?;
    if node.is_empty() || vmid < 100 {
        return Err(bad());
    }
    Ok((node.to_string(), vmid))
}

struct Session {
    ssh: std::sync::Arc<NodeSsh>,
    target: Target,
    vmid: u32,
    binary: std::sync::Arc<AgentBinary>,
}

async fn session(ctx: &Ctx<PvelxcClient>, value: &Value) -> Result<Session, Diagnostic> {
    let client = ctx.client()?;
    let id = values::string(value, "container_id").unwrap_or_default();
    let (node, vmid) = parse_container_id(&id)?;
    let binary = AgentBinary::load(client.config.agent_binary.as_deref())
        .map_err(|e| Diagnostic::error(Path::root(), "Agent binary unavailable", e.to_string()))?;
    let ssh = client.node.ssh().await?;
    Ok(Session {
        ssh,
        target: Target::Container { node, vmid },
        vmid,
        binary,
    })
}

async fn state_of(s: &Session) -> Result<ContainerState, Diagnostic> {
    s.ssh.container_state(s.vmid).await.map_err(ssh_diagnostic)
}

async fn require_running(s: &Session) -> Result<(), Diagnostic> {
    match state_of(s).await? {
        ContainerState::Running => Ok(()),
        ContainerState::Stopped => Err(Diagnostic::error(
            Path::root().attr("container_id"),
            format!("{} is not running", s.target),
            "The agent configures a container from the inside, so it must run: set started = \
             true on the pvelxc_container (or `pct start` it) and apply again.",
        )),
        ContainerState::Missing => Err(Diagnostic::error(
            Path::root().attr("container_id"),
            format!("{} does not exist", s.target),
            "Create the container first (reference pvelxc_container.<name>.id so Terraform \
             orders it), or fix container_id.",
        )),
    }
}

async fn prepare(
    ctx: &Ctx<PvelxcClient>,
    s: &Session,
    value: &Value,
) -> Result<(Prepared, ContainerFacts), Vec<Diagnostic>> {
    let client = ctx.client().map_err(|d| vec![d])?;
    let facts = devices::discover(&s.ssh, client.node.paths(), s.vmid)
        .await
        .map_err(|e| vec![ssh_diagnostic(e)])?;
    let prepared = build_spec(value, Some(&facts))?;
    Ok((prepared, facts))
}

fn set_facts(state: &mut Value, facts: &ContainerFacts) {
    set(
        state,
        "device_gids",
        Value::map(
            facts
                .device_groups
                .iter()
                .map(|(k, v)| (k.clone(), Value::int(i64::from(*v)))),
        ),
    );
}

impl ContainerConfigResource {
    async fn converge(
        &self,
        ctx: &Ctx<PvelxcClient>,
        planned: &Value,
    ) -> ResourceResult<StateWithPrivate> {
        let s = session(ctx, planned).await?;
        require_running(&s).await?;
        let (prepared, facts) = prepare(ctx, &s, planned).await?;
        let (report, sha) = install_and_run(
            &s.ssh,
            &s.target,
            &s.binary,
            &prepared.spec,
            RunMode::Apply,
            None,
        )
        .await?;
        let mut state = planned.clone();
        set(
            &mut state,
            "id",
            Value::string(values::string(planned, "container_id").unwrap_or_default()),
        );
        set_facts(&mut state, &facts);
        converge::apply_outcome(state, &s.target, &report, &sha)
    }
}

#[tonic::async_trait]
impl Resource<PvelxcClient> for ContainerConfigResource {
    fn type_name(&self) -> &'static str {
        "pvelxc_container_config"
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn examples(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("The runbook's transcoder", EXAMPLE),
            ("Explicit items", EXAMPLE_ITEMS),
        ]
    }

    fn import_docs(&self) -> Option<&'static str> {
        Some("Import with the container id; the configuration decides what is managed:\n\n```sh\nterraform import pvelxc_container_config.transcoder pve/201\n```\n")
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        if !config.is_wholly_known() {
            return Vec::new();
        }
        let mut diags = Vec::new();
        if let Some(id) = values::string(config, "container_id") {
            if let Err(d) = parse_container_id(&id) {
                diags.push(d);
            }
        }
        if values::boolean(config, "converged") == Some(false) {
            diags.push(Diagnostic::error(Path::root().attr("converged"), "converged is reported, not set", "Remove converged from the configuration; the provider sets it when it finds drift."));
        }
        // Preset expansion needs the node; check the items and presets with no devices.
        if let Err(d) = build_spec(config, Some(&ContainerFacts::default())) {
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
        let s = session(ctx, state).await?;
        match state_of(&s).await? {
            ContainerState::Missing => return Ok(None),
            ContainerState::Stopped => {
                ctx.warn(Diagnostic::warning(
                    Path::root().attr("container_id"),
                    format!("{} is stopped", s.target),
                    "Its configuration cannot be checked until it runs; the state is kept as it was.",
                ));
                return Ok(Some(StateWithPrivate {
                    state: state.clone(),
                    private: Vec::new(),
                }));
            }
            ContainerState::Running => {}
        }
        let (prepared, facts) = prepare(ctx, &s, state).await?;
        let (report, sha) = install_and_run(
            &s.ssh,
            &s.target,
            &s.binary,
            &prepared.spec,
            RunMode::Check,
            None,
        )
        .await?;
        let mut new = state.clone();
        set_facts(&mut new, &facts);
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
        let s = session(ctx, prior).await?;
        match state_of(&s).await? {
            ContainerState::Running => {}
            other => {
                ctx.warn(Diagnostic::warning(
                    Path::root(),
                    format!(
                        "{} is {}",
                        s.target,
                        if other == ContainerState::Missing {
                            "gone"
                        } else {
                            "stopped"
                        }
                    ),
                    "Nothing was removed from inside it; the resource is forgotten.",
                ));
                return Ok(());
            }
        }
        let (prepared, _) = prepare(ctx, &s, prior).await?;
        let plan = removal::plan(prior, &prepared.spec, &prepared.origins);
        if !plan.undo.items.is_empty() {
            let (report, _) = install_and_run(
                &s.ssh,
                &s.target,
                &s.binary,
                &plan.undo,
                RunMode::Apply,
                None,
            )
            .await?;
            let failed = failures(&s.target, &report);
            if !failed.is_empty() {
                return Err(failed.into());
            }
        }
        let problems = removal::remove_leftovers(&s.ssh, &s.target, &plan, None)
            .await
            .map_err(ssh_diagnostic)?;
        if !problems.is_empty() {
            return Err(Diagnostic::error(
                Path::root(),
                format!("Some owned items in {} could not be removed", s.target),
                problems.join("\n"),
            )
            .into());
        }
        Ok(())
    }

    async fn import(&self, _ctx: &Ctx<PvelxcClient>, id: &str) -> ResourceResult<StateWithPrivate> {
        parse_container_id(id)?;
        let mut state = self.schema().block.empty_value();
        set(&mut state, "id", Value::string(id));
        set(&mut state, "container_id", Value::string(id));
        Ok(StateWithPrivate {
            state,
            private: Vec::new(),
        })
    }
}
