//! Presets: short blocks that expand to the spec items of the media-pipeline runbook.

use std::collections::BTreeMap;
use std::path::PathBuf;

use pvelxc_cty::{Path, Type, Value};
use pvelxc_schema::{Attribute, Block, Diagnostic, NestedBlock, Validator};
use pvelxc_spec::jobs::{DriveSettings, JellyfinSettings, JobMode, JobsSettings, SourcePolicy};
use pvelxc_spec::{
    AddressMethod, AptComponentsItem, AptPackagesItem, CheckItem, CheckKind, DevicePermissionsItem,
    DirectoryItem, FileItem, FileMode, GroupItem, GroupsMode, Item, NetworkBackend,
    NetworkInterfaceItem, PackageState, SystemdUnitItem, UnitState, UserItem,
};

use super::devices::ContainerFacts;
use super::items_build::{Items, Origin, Phase};
use super::values::{boolean, int, single, string, string_list, strings, strings_or};
use crate::agent::CONTAINER_AGENT_PATH as AGENT_IN_CONTAINER;

/// The runbook's Intel VA-API driver packages (Phase 3.2).
pub const INTEL_GPU_PACKAGES: &[&str] = &[
    "intel-media-va-driver-non-free",
    "va-driver-all",
    "vainfo",
    "intel-gpu-tools",
    "mesa-va-drivers",
    "mesa-vdpau-drivers",
];
/// The runbook's transcoding tools (Phase 3.3).
pub const TRANSCODER_PACKAGES: &[&str] = &["ffmpeg", "handbrake-cli", "mediainfo", "mkvtoolnix"];
/// The ripper preset's drive when none is listed.
pub const DEFAULT_DRIVES: &[&str] = &["/dev/sr0"];
/// Where the job runner reads its settings.
pub const JOBS_CONFIG_PATH: &str = "/etc/pvelxc/jobs.json";
/// The job runner's unit.
pub const JOBS_UNIT: &str = "pvelxc-jobs.service";

/// Preset and `jobs` blocks of the schema.
pub fn blocks() -> Vec<NestedBlock> {
    vec![
        NestedBlock::single(
            "media_user",
            Block::new()
                .description(
                    "The media user (runbook 3.1): group and user with fixed IDs, member of the \
                     groups of the devices actually passed through (their GIDs are read from \
                     the container config and the node). If a membership is lost inside the \
                     container, the refreshed state shows `device_groups = false`.",
                )
                .attr(Attribute::string("name").description("Name, as in the spec item (user, group, interface or unit name).").optional().computed().default("media").validator(Validator::regex(r"^[a-z_][a-z0-9_-]*$", "a user name"))
                    .description("User and primary group name."))
                .attr(Attribute::int("uid").description("Fixed numeric user ID.").optional().computed().default(1000i64).validator(Validator::int_range(1, 4_294_967_294)))
                .attr(Attribute::int("gid").description("Fixed numeric group ID.").optional().computed().default(1000i64).validator(Validator::int_range(1, 4_294_967_294)))
                .attr(Attribute::string("shell").description("Login shell.").optional().computed().default("/bin/bash"))
                .attr(Attribute::bool("device_groups").optional().computed().default(true)
                    .description("Join the groups (video, render, cdrom) of the passed-through devices, created with the node's GIDs."))
                .attr(Attribute::list("extra_groups", Type::String).description("Further supplementary groups.").optional().description("Further supplementary groups, which must exist or be declared in `group` blocks.")),
        ),
        NestedBlock::single(
            "intel_gpu_drivers",
            Block::new()
                .description("Intel VA-API drivers (runbook 3.2, 3.4, 3.5): non-free components, driver packages, /dev/dri permissions on privileged containers and a `vainfo` check as the media user.")
                .attr(Attribute::list("packages", Type::String).description("Packages to install. A package purged in the target disappears from this list in the refreshed state.").optional().computed().default(string_list(INTEL_GPU_PACKAGES))
                    .description("Driver packages. A package purged inside the container disappears from this list in the refreshed state."))
                .attr(Attribute::bool("verify").optional().computed().default(true).description("Run the vainfo check (needs a working GPU).")),
        ),
        NestedBlock::single(
            "transcoder",
            Block::new()
                .description("Transcoding tools (runbook 3.3) and the job runner in transcode mode.")
                .attr(Attribute::list("packages", Type::String).description("Packages to install. A package purged in the target disappears from this list in the refreshed state.").optional().computed().default(string_list(TRANSCODER_PACKAGES)))
                .attr(Attribute::bool("job_runner").description("Install and start the job runner unit. A runner stopped or disabled in the container shows as `false` in the refreshed state.").optional().computed().default(true).description("Install and start the job runner unit.")),
        ),
        NestedBlock::single(
            "ripper",
            Block::new()
                .description("Optical access (runbook 5.3, 5.5) and the job runner in rip mode.")
                .attr(Attribute::list("drives", Type::String).description("Optical drives the media user must be able to open and the runner polls.").optional().computed().default(string_list(DEFAULT_DRIVES)))
                .attr(Attribute::bool("job_runner").description("Install and start the job runner unit. A runner stopped or disabled in the container shows as `false` in the refreshed state.").optional().computed().default(true)),
        ),
        NestedBlock::single(
            "network_dhcp_fix",
            Block::new()
                .description("Persistent DHCP configuration for an interface (runbook 2.5), so it comes up after a reboot.")
                .attr(Attribute::string("interface").description("Interface to configure for DHCP.").optional().computed().default("eth0")),
        ),
        NestedBlock::single("jobs", jobs_block()),
    ]
}

fn jobs_block() -> Block {
    Block::new()
        .description("Job runner settings written to /etc/pvelxc/jobs.json. Defaults are the runbook's; `transcoder`/`ripper` pick the mode.")
        .attr(Attribute::string("mode").description("Which halves of the pipeline run here: `rip`, `transcode` or `both`; default from `transcoder`/`ripper`.").optional().validator(Validator::one_of(["rip", "transcode", "both"])))
        .attr(Attribute::string("staging_dir").description("Folder the ripper writes to and the transcoder watches.").optional())
        .attr(Attribute::string("library_dir").description("Root of the Jellyfin library.").optional())
        .attr(Attribute::string("work_dir").description("Scratch space for work in progress; must not be inside library_dir.").optional())
        .attr(Attribute::string("state_dir").description("Where the queue database lives.").optional())
        .attr(Attribute::string("source_policy").description("`keep` the staging source after a verified publish, or `delete` it.").optional().validator(Validator::one_of(["keep", "delete"])))
        .attr(Attribute::int("settle_seconds").description("Seconds a staged file must stay unchanged before it is picked up.").optional().validator(Validator::int_range(0, 86_400)))
        .attr(Attribute::list("notify", Type::String).optional().description("Notification URLs (ntfy://, gotify://, discord://, json://, https://...)."))
        .attr(Attribute::string("status_listen").description("Address of the read-only status endpoint, e.g. 127.0.0.1:9187.").optional())
        .attr(Attribute::string("jellyfin_url").description("Jellyfin base URL for library scans after each publish.").optional())
        .attr(Attribute::string("jellyfin_token").description("Jellyfin API key.").optional().sensitive())
        .attr(Attribute::bool("started").optional().computed().default(true).description("Whether the runner unit runs. A unit stopped or disabled inside the container shows as `false` in the refreshed state."))
}

/// The job runner's settings from presets, `media_user` and the `jobs` block.
fn jobs_settings(
    config: &Value,
    facts: &ContainerFacts,
) -> Result<Option<JobsSettings>, Diagnostic> {
    let transcoder =
        single(config, "transcoder").filter(|t| boolean(t, "job_runner") != Some(false));
    let ripper = single(config, "ripper").filter(|r| boolean(r, "job_runner") != Some(false));
    let jobs = single(config, "jobs");
    if transcoder.is_none() && ripper.is_none() && jobs.is_none() {
        return Ok(None);
    }
    let mut s = JobsSettings {
        mode: match (transcoder.is_some(), ripper.is_some()) {
            (true, false) => JobMode::Transcode,
            (false, true) => JobMode::Rip,
            _ => JobMode::Both,
        },
        ..JobsSettings::default()
    };
    if let Some(r) = ripper {
        s.drives = strings_or(r, "drives", DEFAULT_DRIVES)
            .into_iter()
            .map(|d| DriveSettings {
                device: PathBuf::from(d),
                poll_seconds: 5,
            })
            .collect();
    }
    if let Some(m) = single(config, "media_user") {
        s.media_user.uid = int(m, "uid")
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(1000);
        s.media_user.gid = int(m, "gid")
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(1000);
        if boolean(m, "device_groups") != Some(false) {
            s.media_user.extra_gids = facts.device_groups.values().copied().collect();
        }
    }
    if let Some(j) = jobs {
        if let Some(m) = string(j, "mode") {
            s.mode = match m.as_str() {
                "rip" => JobMode::Rip,
                "transcode" => JobMode::Transcode,
                _ => JobMode::Both,
            };
        }
        for (name, slot) in [
            ("staging_dir", &mut s.staging_dir),
            ("library_dir", &mut s.library_dir),
            ("work_dir", &mut s.work_dir),
            ("state_dir", &mut s.state_dir),
        ] {
            if let Some(p) = string(j, name) {
                *slot = PathBuf::from(p);
            }
        }
        if let Some(p) = string(j, "source_policy") {
            s.source_policy = if p == "delete" {
                SourcePolicy::Delete
            } else {
                SourcePolicy::Keep
            };
        }
        if let Some(n) = int(j, "settle_seconds").and_then(|n| u64::try_from(n).ok()) {
            s.settle_seconds = n;
        }
        let notify = strings(j, "notify");
        if !notify.is_empty() {
            s.notify = notify;
        }
        if let Some(l) = string(j, "status_listen") {
            s.status_listen = l;
        }
        match (string(j, "jellyfin_url"), string(j, "jellyfin_token")) {
            (Some(url), Some(token)) => {
                s.jellyfin = Some(JellyfinSettings {
                    url,
                    token,
                    library_path: None,
                })
            }
            (None, None) => {}
            _ => {
                return Err(Diagnostic::error(
                    Path::root().attr("jobs").attr("jellyfin_token"),
                    "Incomplete Jellyfin settings",
                    "Set both jellyfin_url and jellyfin_token, or neither.",
                ))
            }
        }
    }
    s.check().map_err(|m| {
        Diagnostic::error(Path::root().attr("jobs"), "Invalid job runner settings", m)
    })?;
    Ok(Some(s))
}

/// The runner's unit, pointing at the agent where the provider installs it.
fn jobs_unit(staging: &std::path::Path) -> String {
    format!(
        "# Managed by pvelxc: the media job runner.\n[Unit]\nDescription=pvelxc media job runner\n\
         After=local-fs.target network-online.target\nWants=network-online.target\n\
         RequiresMountsFor={}\n\n[Service]\nType=simple\n\
         ExecStart={AGENT_IN_CONTAINER} jobs --config {JOBS_CONFIG_PATH} daemon\n\
         Restart=on-failure\nRestartSec=5\nKillMode=mixed\nTimeoutStopSec=30\n\
         SyslogIdentifier=pvelxc-jobs\nStateDirectory=pvelxc-jobs\n\n\
         [Install]\nWantedBy=multi-user.target\n",
        staging.display()
    )
}

/// Expands every preset present in `config`.
pub fn expand(
    config: &Value,
    facts: &ContainerFacts,
    items: &mut Items,
) -> Result<(), Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let preset = |preset: &'static str, role: &'static str| Origin::Preset { preset, role };
    let media = single(config, "media_user");
    let media_name = media
        .and_then(|m| string(m, "name"))
        .unwrap_or_else(|| "media".into());

    if let Some(m) = media {
        let gid = int(m, "gid")
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(1000);
        let uid = int(m, "uid")
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(1000);
        items.push(
            Phase::Groups,
            Item::Group(GroupItem {
                name: media_name.clone(),
                gid: Some(gid),
                match_host_device: None,
                system: false,
            }),
            preset("media_user", "gid"),
        );
        let mut groups = Vec::new();
        if boolean(m, "device_groups") != Some(false) {
            for (name, gid) in &facts.device_groups {
                if !items.has_group(name) {
                    items.push(
                        Phase::Groups,
                        Item::Group(GroupItem {
                            name: name.clone(),
                            gid: Some(*gid),
                            match_host_device: None,
                            system: true,
                        }),
                        preset("media_user", "device_groups"),
                    );
                }
                groups.push(name.clone());
            }
        }
        groups.extend(strings(m, "extra_groups"));
        items.push(
            Phase::Users,
            Item::User(UserItem {
                name: media_name.clone(),
                uid: Some(uid),
                group: Some(media_name.clone()),
                groups,
                groups_mode: GroupsMode::Append,
                home: None,
                create_home: true,
                shell: string(m, "shell"),
                comment: None,
                system: false,
            }),
            preset("media_user", "user"),
        );
    }

    if let Some(g) = single(config, "intel_gpu_drivers") {
        items.push(
            Phase::Apt,
            Item::AptComponents(AptComponentsItem {
                components: vec![
                    "contrib".into(),
                    "non-free".into(),
                    "non-free-firmware".into(),
                ],
            }),
            preset("intel_gpu_drivers", "components"),
        );
        items.push(
            Phase::Apt,
            packages(strings_or(g, "packages", INTEL_GPU_PACKAGES)),
            preset("intel_gpu_drivers", "packages"),
        );
        if !facts.unprivileged {
            items.push(
                Phase::System,
                Item::DevicePermissions(DevicePermissionsItem {
                    path: "/dev/dri".into(),
                    group: Some("video".into()),
                    mode: Some(FileMode(0o755)),
                    node_group: None,
                    node_mode: Some(FileMode(0o660)),
                    required: false,
                }),
                preset("intel_gpu_drivers", "permissions"),
            );
        }
        if boolean(g, "verify") != Some(false) {
            if media.is_none() {
                diags.push(Diagnostic::error(
                    Path::root().attr("intel_gpu_drivers").attr("verify"),
                    "vainfo check needs the media user",
                    "Add a media_user block, or set verify = false.",
                ));
            } else {
                items.push(
                    Phase::Checks,
                    Item::Check(CheckItem {
                        name: "vainfo".into(),
                        user: media_name.clone(),
                        check: CheckKind::Command {
                            argv: [
                                "vainfo",
                                "--display",
                                "drm",
                                "--device",
                                "/dev/dri/renderD128",
                            ]
                            .map(String::from)
                            .to_vec(),
                            expect: "VAProfile".into(),
                            env: BTreeMap::new(),
                            timeout_seconds: 30,
                        },
                    }),
                    preset("intel_gpu_drivers", "check"),
                );
            }
        }
    }

    if let Some(t) = single(config, "transcoder") {
        items.push(
            Phase::Apt,
            packages(strings_or(t, "packages", TRANSCODER_PACKAGES)),
            preset("transcoder", "packages"),
        );
        // The check proves ffmpeg runs as the media user; only when ffmpeg is installed here.
        if media.is_some()
            && strings_or(t, "packages", TRANSCODER_PACKAGES)
                .iter()
                .any(|p| p == "ffmpeg")
        {
            items.push(
                Phase::Checks,
                Item::Check(CheckItem {
                    name: "ffmpeg-hwaccels".into(),
                    user: media_name.clone(),
                    check: CheckKind::Command {
                        argv: ["ffmpeg", "-hide_banner", "-hwaccels"]
                            .map(String::from)
                            .to_vec(),
                        expect: "Hardware acceleration methods".into(),
                        env: BTreeMap::new(),
                        timeout_seconds: 30,
                    },
                }),
                preset("transcoder", "check"),
            );
        }
    }

    if let Some(r) = single(config, "ripper") {
        if media.is_some() {
            for (i, drive) in strings_or(r, "drives", DEFAULT_DRIVES)
                .into_iter()
                .enumerate()
            {
                let name = if i == 0 {
                    "drive".to_string()
                } else {
                    format!("drive{i}")
                };
                items.push(
                    Phase::Checks,
                    Item::Check(CheckItem {
                        name,
                        user: media_name.clone(),
                        check: CheckKind::DeviceOpens { path: drive.into() },
                    }),
                    preset("ripper", "check"),
                );
            }
        }
    }

    if let Some(n) = single(config, "network_dhcp_fix") {
        items.push(
            Phase::System,
            Item::NetworkInterface(NetworkInterfaceItem {
                name: string(n, "interface").unwrap_or_else(|| "eth0".into()),
                method: AddressMethod::Dhcp,
                backend: NetworkBackend::Auto,
            }),
            preset("network_dhcp_fix", "interface"),
        );
    }

    match jobs_settings(config, facts) {
        Err(d) => diags.push(d),
        Ok(None) => {}
        Ok(Some(settings)) => {
            let started = single(config, "jobs").and_then(|j| boolean(j, "started")) != Some(false);
            match serde_json::to_string_pretty(&settings) {
                Err(e) => diags.push(Diagnostic::error(
                    Path::root().attr("jobs"),
                    "Cannot encode job settings",
                    e.to_string(),
                )),
                Ok(json) => {
                    items.push(
                        Phase::Files,
                        Item::Directory(DirectoryItem {
                            path: "/etc/pvelxc".into(),
                            owner: Some("root".into()),
                            group: Some("root".into()),
                            mode: Some(FileMode(0o755)),
                            recursive_owner: false,
                        }),
                        preset("jobs", "config"),
                    );
                    items.push(
                        Phase::Files,
                        Item::File(FileItem {
                            path: JOBS_CONFIG_PATH.into(),
                            content: Some(format!("{json}\n")),
                            template: None,
                            vars: BTreeMap::new(),
                            owner: Some("root".into()),
                            group: Some("root".into()),
                            mode: Some(FileMode(0o600)),
                        }),
                        preset("jobs", "config"),
                    );
                    for dir in [&settings.staging_dir, &settings.library_dir] {
                        items.push(
                            Phase::Files,
                            Item::Directory(DirectoryItem {
                                path: dir.clone(),
                                owner: Some(settings.media_user.uid.to_string()),
                                group: Some(settings.media_user.gid.to_string()),
                                mode: Some(FileMode(0o2775)),
                                recursive_owner: false,
                            }),
                            preset("jobs", "directories"),
                        );
                    }
                    items.push(
                        Phase::Units,
                        Item::SystemdUnit(SystemdUnitItem {
                            name: JOBS_UNIT.into(),
                            content: Some(jobs_unit(&settings.staging_dir)),
                            enabled: Some(started),
                            state: Some(if started {
                                UnitState::Started
                            } else {
                                UnitState::Stopped
                            }),
                            restart_on: vec![JOBS_CONFIG_PATH.into(), AGENT_IN_CONTAINER.into()],
                        }),
                        preset("jobs", "unit"),
                    );
                }
            }
        }
    }
    if diags.is_empty() {
        Ok(())
    } else {
        Err(diags)
    }
}

fn packages(list: Vec<String>) -> Item {
    Item::AptPackages(AptPackagesItem {
        packages: list,
        state: PackageState::Present,
        cache_valid_seconds: 86_400,
        install_recommends: None,
        mark_manual: false,
        purge: false,
    })
}
