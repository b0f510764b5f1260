//! Configuration/plan values ⇄ [`ContainerConfig`]: what the user asks for in PVE's terms,
//! and the state object built from what PVE reports.

use std::collections::BTreeSet;

use pvelxc_cty::{Path, Value};
use pvelxc_pve::config::{
    ContainerConfig, Device, DiskSize, Features, MountPoint, NetworkInterface, Startup,
};
use pvelxc_schema::Diagnostic;

use super::presets::PresetRequest;
use super::values::{
    attr, blocks, boolean, float, int, ints, object, opt_bool, opt_float, opt_int, opt_string,
    single, string, string_list_or_null, strings,
};

/// What a configuration (or plan, or state) asks for, in PVE's terms.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    pub node: Option<String>,
    pub vmid: Option<u32>,
    pub template: Option<String>,
    /// The API config (without preset devices and without raw lines).
    pub config: ContainerConfig,
    /// The user's `raw_lxc` lines, in order.
    pub raw_lxc: Vec<(String, String)>,
    pub presets: PresetRequest,
    pub started: bool,
    /// `reboot_policy = "reboot"`.
    pub reboot: bool,
    pub password: Option<String>,
    pub ssh_public_keys: Option<String>,
}

/// Reads a spec from a configuration, plan or state object. Unknown values read as unset.
pub fn spec_from(obj: &Value) -> Result<Spec, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut c = ContainerConfig {
        hostname: string(obj, "hostname"),
        description: string(obj, "description"),
        tags: strings(obj, "tags"),
        ostype: string(obj, "ostype"),
        arch: string(obj, "arch"),
        cores: int(obj, "cores").and_then(|n| u32::try_from(n).ok()),
        cpulimit: float(obj, "cpulimit"),
        cpuunits: int(obj, "cpuunits").and_then(|n| u32::try_from(n).ok()),
        memory: int(obj, "memory").and_then(|n| u64::try_from(n).ok()),
        swap: int(obj, "swap").and_then(|n| u64::try_from(n).ok()),
        nameserver: strings(obj, "nameservers"),
        searchdomain: string(obj, "search_domain").into_iter().collect(),
        // false is PVE's default: leaving the key out keeps a fresh config equal to PVE's.
        onboot: boolean(obj, "onboot").filter(|b| *b),
        timezone: string(obj, "timezone"),
        protection: boolean(obj, "protection").filter(|b| *b),
        unprivileged: boolean(obj, "unprivileged"),
        ..Default::default()
    };
    c.tags = pvelxc_pve::config::normalize::normalize_tags(&c.tags, false);
    let startup = Startup {
        order: int(obj, "startup_order").and_then(|n| u64::try_from(n).ok()),
        up: int(obj, "startup_up_delay").and_then(|n| u64::try_from(n).ok()),
        down: int(obj, "startup_down_delay").and_then(|n| u64::try_from(n).ok()),
    };
    if startup.order.is_some() || startup.up.is_some() || startup.down.is_some() {
        c.startup = Some(startup);
    }
    if let Some(root) = single(obj, "rootfs") {
        match rootfs_from(root) {
            Ok(m) => c.rootfs = m,
            Err(d) => diags.push(d),
        }
    }
    for (i, n) in blocks(obj, "network").iter().enumerate() {
        c.networks.insert(i as u32, network_from(n));
    }
    if let Some(f) = single(obj, "features") {
        c.features = Some(Features {
            nesting: boolean(f, "nesting"),
            keyctl: boolean(f, "keyctl"),
            fuse: boolean(f, "fuse"),
            mknod: boolean(f, "mknod"),
            force_rw_sys: boolean(f, "force_rw_sys"),
            mount: strings(f, "mount"),
        });
    }
    for (i, m) in blocks(obj, "mount_point").iter().enumerate() {
        let Some(slot) = int(m, "slot").and_then(|s| u32::try_from(s).ok()) else {
            continue;
        };
        match mount_point_from(m, i) {
            Ok(Some(mp)) => {
                if c.mount_points.insert(slot, mp).is_some() {
                    diags.push(duplicate_slot("mount_point", i, "mp", slot));
                }
            }
            Ok(None) => {}
            Err(d) => diags.push(d),
        }
    }
    let mut user_dev_slots = BTreeSet::new();
    for (i, d) in blocks(obj, "device").iter().enumerate() {
        let (Some(slot), Some(path)) = (
            int(d, "slot").and_then(|s| u32::try_from(s).ok()),
            string(d, "path"),
        ) else {
            continue;
        };
        let dev = Device {
            path,
            mode: string(d, "mode"),
            uid: int(d, "uid").and_then(|n| u32::try_from(n).ok()),
            gid: int(d, "gid").and_then(|n| u32::try_from(n).ok()),
            deny_write: boolean(d, "deny_write").filter(|b| *b),
        };
        if c.devices.insert(slot, dev).is_some() {
            diags.push(duplicate_slot("device", i, "dev", slot));
        }
        user_dev_slots.insert(slot);
    }
    let raw_lxc = blocks(obj, "raw_lxc")
        .iter()
        .filter_map(|l| Some((string(l, "key")?, string(l, "value")?)))
        .collect();
    let presets = PresetRequest {
        gpu: single(obj, "gpu").and_then(|g| string(g, "vendor")),
        optical: blocks(obj, "optical_drive")
            .iter()
            .filter_map(|o| string(o, "device"))
            .collect(),
        idmap: single(obj, "idmap").map(|m| (ints(m, "uids"), ints(m, "gids"))),
        unprivileged: boolean(obj, "unprivileged").unwrap_or(true),
        user_dev_slots,
    };
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(Spec {
        node: string(obj, "node"),
        vmid: int(obj, "vmid").and_then(|n| u32::try_from(n).ok()),
        template: string(obj, "template"),
        config: c,
        raw_lxc,
        presets,
        started: boolean(obj, "started").unwrap_or(true),
        reboot: string(obj, "reboot_policy").as_deref() != Some("never"),
        password: string(obj, "password"),
        ssh_public_keys: string(obj, "ssh_public_keys"),
    })
}

fn duplicate_slot(block: &str, index: usize, prefix: &str, slot: u32) -> Diagnostic {
    Diagnostic::error(
        Path::root().attr(block).index(index as i64).attr("slot"),
        "Duplicate slot",
        format!(
            "Another {block} block already uses slot {slot} ({prefix}{slot}); give each block its \
             own slot."
        ),
    )
}

/// A size in GiB as PVE's allocation syntax writes it (`20`, `0.5`).
fn gib_text(size: DiskSize) -> String {
    match size.as_whole_gib() {
        Some(g) => g.to_string(),
        None => {
            let g = size.bytes() as f64 / (1u64 << 30) as f64;
            let s = format!("{g:.6}");
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        }
    }
}

fn parse_size(text: &str, at: Path) -> Result<DiskSize, Diagnostic> {
    text.parse::<DiskSize>()
        .map_err(|e| Diagnostic::error(at, "Invalid size", format!("{e}; write e.g. 20G.")))
}

fn rootfs_from(root: &Value) -> Result<Option<MountPoint>, Diagnostic> {
    let (Some(storage), Some(size)) = (string(root, "storage"), string(root, "size")) else {
        return Ok(None);
    };
    let size = parse_size(&size, Path::root().attr("rootfs").attr("size"))?;
    Ok(Some(MountPoint {
        volume: format!("{storage}:{}", gib_text(size)),
        acl: boolean(root, "acl"),
        quota: boolean(root, "quota"),
        replicate: boolean(root, "replicate"),
        mountoptions: strings(root, "mount_options"),
        ..Default::default()
    }))
}

fn network_from(n: &Value) -> NetworkInterface {
    NetworkInterface {
        name: string(n, "name").unwrap_or_default(),
        bridge: string(n, "bridge"),
        firewall: boolean(n, "firewall"),
        gw: string(n, "gateway"),
        gw6: string(n, "gateway6"),
        hwaddr: string(n, "hwaddr"),
        ip: string(n, "ip"),
        ip6: string(n, "ip6"),
        link_down: boolean(n, "link_down").filter(|b| *b),
        mtu: int(n, "mtu").and_then(|v| u32::try_from(v).ok()),
        rate: float(n, "rate"),
        tag: int(n, "vlan").and_then(|v| u32::try_from(v).ok()),
        ..Default::default()
    }
}

fn mount_point_from(m: &Value, index: usize) -> Result<Option<MountPoint>, Diagnostic> {
    let (Some(volume), Some(path)) = (string(m, "volume"), string(m, "path")) else {
        return Ok(None);
    };
    let at = |name: &str| {
        Path::root()
            .attr("mount_point")
            .index(index as i64)
            .attr(name)
    };
    let size = string(m, "size")
        .map(|s| parse_size(&s, at("size")))
        .transpose()?;
    let flag = |name: &str| boolean(m, name).filter(|b| *b);
    let mut mp = MountPoint {
        volume: volume.clone(),
        mp: Some(path),
        acl: boolean(m, "acl"),
        backup: flag("backup"),
        quota: boolean(m, "quota"),
        replicate: boolean(m, "replicate"),
        ro: flag("read_only"),
        shared: flag("shared"),
        mountoptions: strings(m, "options"),
        ..Default::default()
    };
    if volume.starts_with('/') {
        // Bind mount or device: no size.
    } else if let Some((storage, rest)) = volume.split_once(':') {
        let allocation = !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        match (allocation, size) {
            (true, Some(s)) => mp.volume = format!("{storage}:{}", gib_text(s)),
            (false, s) => mp.size = s,
            (true, None) => {}
        }
    } else {
        let Some(s) = size else {
            return Err(Diagnostic::error(
                at("size"),
                "Size needed",
                format!(
                    "volume = \"{volume}\" names a storage, so a new volume is allocated there; \
                     set size (e.g. \"8G\"), or use a host path or an existing volume id."
                ),
            ));
        };
        mp.volume = format!("{volume}:{}", gib_text(s));
    }
    Ok(Some(mp))
}

/// Inputs for building a state object besides the config PVE reported.
pub struct StateInputs<'a> {
    pub node: &'a str,
    pub vmid: u32,
    pub running: bool,
    pub ipv4: Vec<(String, String)>,
    pub ipv6: Vec<(String, String)>,
    /// The lines the presets produced last time (private state or prior state).
    pub expected_generated: &'a [String],
    /// The node's device GIDs as last discovered.
    pub device_gids: Vec<(String, u32)>,
}

/// Builds the state object from what PVE reports. `prior` (state or plan, possibly null)
/// supplies what PVE cannot report (template, password, ...) and the user's spelling of
/// values PVE normalises: a part of `prior` that PVE's config matches after normalisation is
/// kept as written.
pub fn state_from(actual: &ContainerConfig, prior: &Value, inputs: &StateInputs<'_>) -> Value {
    let in_sync = InSync::new(actual, prior);
    let keep = |name: &str, keys: &[&str], fresh: Value| -> Value {
        let p = attr(prior, name);
        if p.is_known() && !p.is_null() && in_sync.all(keys) {
            p.clone()
        } else {
            fresh
        }
    };

    let (generated, raw) = split_generated(actual, inputs.expected_generated);
    let startup = actual.startup.clone().unwrap_or_default();
    let prior_or = |name: &str| attr(prior, name).clone();
    let tags: Vec<String> = actual.tags.clone();

    let mut pairs: Vec<(&str, Value)> = vec![
        (
            "id",
            Value::string(format!("{}/{}", inputs.node, inputs.vmid)),
        ),
        ("node", Value::string(inputs.node)),
        ("vmid", Value::int(i64::from(inputs.vmid))),
        (
            "hostname",
            keep(
                "hostname",
                &["hostname"],
                opt_string(actual.hostname.clone()),
            ),
        ),
        (
            "description",
            keep(
                "description",
                &["description"],
                opt_string(
                    actual
                        .description
                        .as_deref()
                        .map(pvelxc_pve::config::normalize::normalize_description)
                        .filter(|d| !d.is_empty()),
                ),
            ),
        ),
        (
            "tags",
            keep(
                "tags",
                &["tags"],
                if tags.is_empty() {
                    Value::Null
                } else {
                    Value::set(tags.iter().map(|t| Value::string(t.clone())))
                },
            ),
        ),
        ("template", null_if_unknown(prior_or("template"))),
        ("unprivileged", Value::bool(!actual.is_privileged())),
        (
            "ostype",
            keep("ostype", &["ostype"], opt_string(actual.ostype.clone())),
        ),
        (
            "arch",
            keep("arch", &["arch"], opt_string(actual.arch.clone())),
        ),
        ("cores", keep("cores", &["cores"], opt_int(actual.cores))),
        (
            "cpulimit",
            keep("cpulimit", &["cpulimit"], opt_float(actual.cpulimit)),
        ),
        (
            "cpuunits",
            keep("cpuunits", &["cpuunits"], opt_int(actual.cpuunits)),
        ),
        (
            "memory",
            Value::int(actual.memory.map_or(512, |m| m as i64)),
        ),
        ("swap", Value::int(actual.swap.map_or(512, |m| m as i64))),
        (
            "nameservers",
            keep(
                "nameservers",
                &["nameserver"],
                string_list_or_null(&actual.nameserver),
            ),
        ),
        (
            "search_domain",
            keep(
                "search_domain",
                &["searchdomain"],
                opt_string(
                    (!actual.searchdomain.is_empty()).then(|| actual.searchdomain.join(" ")),
                ),
            ),
        ),
        (
            "timezone",
            keep(
                "timezone",
                &["timezone"],
                opt_string(actual.timezone.clone()),
            ),
        ),
        ("onboot", Value::bool(actual.onboot.unwrap_or(false))),
        (
            "startup_order",
            keep(
                "startup_order",
                &["startup"],
                opt_int(startup.order.map(|v| v as i64)),
            ),
        ),
        (
            "startup_up_delay",
            keep(
                "startup_up_delay",
                &["startup"],
                opt_int(startup.up.map(|v| v as i64)),
            ),
        ),
        (
            "startup_down_delay",
            keep(
                "startup_down_delay",
                &["startup"],
                opt_int(startup.down.map(|v| v as i64)),
            ),
        ),
        ("started", Value::bool(inputs.running)),
        (
            "protection",
            Value::bool(actual.protection.unwrap_or(false)),
        ),
        (
            "reboot_policy",
            match attr(prior, "reboot_policy").as_str() {
                Some(p) => Value::string(p),
                None => Value::string("reboot"),
            },
        ),
        (
            "ssh_public_keys",
            null_if_unknown(prior_or("ssh_public_keys")),
        ),
        ("password", null_if_unknown(prior_or("password"))),
        (
            "status",
            Value::string(if inputs.running { "running" } else { "stopped" }),
        ),
        (
            "ipv4",
            Value::map(
                inputs
                    .ipv4
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::string(v.clone()))),
            ),
        ),
        (
            "ipv6",
            Value::map(
                inputs
                    .ipv6
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::string(v.clone()))),
            ),
        ),
        (
            "generated_lxc",
            Value::list(generated.iter().map(|l| Value::string(l.clone()))),
        ),
        (
            "device_gids",
            Value::map(
                inputs
                    .device_gids
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::int(i64::from(*v)))),
            ),
        ),
    ];

    let rootfs = match &actual.rootfs {
        Some(r) if in_sync.all(&["rootfs"]) && single(prior, "rootfs").is_some() => {
            let mut p = fill_unknowns(attr(prior, "rootfs"), &rootfs_state(r));
            super::values::set_attr(&mut p, "volume", Value::string(r.volume.clone()));
            p
        }
        Some(r) => rootfs_state(r),
        None => Value::Null,
    };
    pairs.push(("rootfs", rootfs));

    let prior_nets = blocks(prior, "network");
    let networks: Vec<Value> = actual
        .networks
        .iter()
        .map(|(i, n)| {
            let key = format!("net{i}");
            match prior_nets.get(*i as usize) {
                Some(p) if in_sync.all(&[&key]) => {
                    let mut p = fill_unknowns(p, &network_state(n));
                    if let Some(mac) = &n.hwaddr {
                        let same =
                            string(&p, "hwaddr").is_some_and(|m| m.eq_ignore_ascii_case(mac));
                        if !same {
                            super::values::set_attr(&mut p, "hwaddr", Value::string(mac.clone()));
                        }
                    }
                    p
                }
                _ => network_state(n),
            }
        })
        .collect();
    pairs.push(("network", Value::list(networks)));

    let features = match &actual.features {
        _ if in_sync.all(&["features"]) && !attr(prior, "features").is_null() => {
            attr(prior, "features").clone()
        }
        Some(f) if !f.is_empty() => features_state(f),
        _ => Value::Null,
    };
    pairs.push(("features", features));

    let mount_points = ordered_slots(
        blocks(prior, "mount_point"),
        actual.mount_points.keys().copied(),
        |slot| {
            let key = format!("mp{slot}");
            let m = &actual.mount_points[&slot];
            let p = blocks(prior, "mount_point")
                .iter()
                .find(|p| int(p, "slot") == Some(i64::from(slot)));
            match p {
                Some(p) if in_sync.all(&[&key]) => {
                    let mut p = fill_unknowns(p, &mount_point_state(slot, m));
                    if let Some(s) = m.size {
                        if attr(&p, "size").is_null() || !in_sync.size_matches(&key) {
                            super::values::set_attr(&mut p, "size", Value::string(s.to_string()));
                        }
                    }
                    p
                }
                _ => mount_point_state(slot, m),
            }
        },
    );
    pairs.push(("mount_point", Value::list(mount_points)));

    let generated_devs: Vec<&String> = generated.iter().filter(|l| l.starts_with("dev")).collect();
    let user_dev_slots: Vec<u32> = actual
        .devices
        .keys()
        .copied()
        .filter(|slot| {
            let prefix = format!("dev{slot}: ");
            !generated_devs.iter().any(|l| l.starts_with(&prefix))
        })
        .collect();
    let devices = ordered_slots(
        blocks(prior, "device"),
        user_dev_slots.into_iter(),
        |slot| {
            let key = format!("dev{slot}");
            let d = &actual.devices[&slot];
            let p = blocks(prior, "device")
                .iter()
                .find(|p| int(p, "slot") == Some(i64::from(slot)));
            match p {
                Some(p) if in_sync.all(&[&key]) => fill_unknowns(p, &device_state(slot, d)),
                _ => device_state(slot, d),
            }
        },
    );
    pairs.push(("device", Value::list(devices)));

    pairs.push((
        "raw_lxc",
        Value::list(raw.iter().map(|(k, v)| {
            object(vec![
                ("key", Value::string(k.clone())),
                ("value", Value::string(v.clone())),
            ])
        })),
    ));
    // The preset blocks are configuration only; PVE cannot report them.
    for name in ["idmap", "gpu"] {
        pairs.push((name, null_if_unknown(attr(prior, name).clone())));
    }
    let optical = attr(prior, "optical_drive");
    pairs.push((
        "optical_drive",
        if optical.is_known() && !optical.is_null() {
            optical.clone()
        } else {
            Value::List(vec![])
        },
    ));
    object(pairs)
}

fn null_if_unknown(v: Value) -> Value {
    if v.is_known() {
        v
    } else {
        Value::Null
    }
}

/// `prior` with its unknown attributes taken from `fresh`.
fn fill_unknowns(prior: &Value, fresh: &Value) -> Value {
    match (prior, fresh) {
        (Value::Object(p), Value::Object(f)) => Value::Object(
            p.iter()
                .map(|(k, v)| {
                    let v = if v.is_known() {
                        v.clone()
                    } else {
                        f.get(k).cloned().unwrap_or(Value::Null)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        _ => fresh.clone(),
    }
}

/// Elements in the prior's slot order first, then new slots ascending.
fn ordered_slots(
    prior: &[Value],
    present: impl Iterator<Item = u32>,
    build: impl Fn(u32) -> Value,
) -> Vec<Value> {
    let present: Vec<u32> = present.collect();
    let mut order: Vec<u32> = prior
        .iter()
        .filter_map(|p| int(p, "slot").and_then(|s| u32::try_from(s).ok()))
        .filter(|s| present.contains(s))
        .collect();
    order.dedup();
    for s in &present {
        if !order.contains(s) {
            order.push(*s);
        }
    }
    order.into_iter().map(build).collect()
}

/// Splits PVE's raw lines into the expected generated ones (those still present, in the
/// expected order) and the rest (the user's `raw_lxc`, in file order).
pub fn split_generated(
    actual: &ContainerConfig,
    expected: &[String],
) -> (Vec<String>, Vec<(String, String)>) {
    let mut remaining: Vec<Option<(String, String)>> =
        actual.lxc.iter().cloned().map(Some).collect();
    let mut found = Vec::new();
    for line in expected {
        if let Some(rest) = line.strip_prefix("dev") {
            if let Some((slot, value)) = rest.split_once(": ") {
                let present = slot
                    .parse::<u32>()
                    .ok()
                    .and_then(|s| actual.devices.get(&s));
                let key = format!("dev{slot}");
                let same = present.is_some_and(|d| {
                    Device::parse(&key, value).is_ok_and(|want| want.normalized() == d.normalized())
                });
                if same {
                    found.push(line.clone());
                }
                continue;
            }
        }
        let Some((k, v)) = line.split_once(": ") else {
            continue;
        };
        if let Some(slot) = remaining
            .iter_mut()
            .find(|r| r.as_ref().is_some_and(|(rk, rv)| rk == k && rv == v))
        {
            *slot = None;
            found.push(line.clone());
        }
    }
    (found, remaining.into_iter().flatten().collect())
}

/// Which PVE keys of the actual config already are what the prior spec asks for.
struct InSync {
    /// Keys an update from `actual` to the prior spec would touch; `None` = compare failed.
    touched: Option<BTreeSet<String>>,
    resized: BTreeSet<String>,
}

impl InSync {
    fn new(actual: &ContainerConfig, prior: &Value) -> Self {
        if prior.is_null() {
            return InSync {
                touched: None,
                resized: BTreeSet::new(),
            };
        }
        let Ok(spec) = spec_from(prior) else {
            return InSync {
                touched: None,
                resized: BTreeSet::new(),
            };
        };
        let mut desired = spec.config;
        // Keys PVE fills in by itself are compared only when the prior has them.
        desired.unprivileged = actual.unprivileged;
        if desired.hostname.is_none() {
            desired.hostname = actual.hostname.clone();
        }
        if desired.ostype.is_none() {
            desired.ostype = actual.ostype.clone();
        }
        if desired.arch.is_none() {
            desired.arch = actual.arch.clone();
        }
        for (slot, d) in &actual.devices {
            desired.devices.entry(*slot).or_insert_with(|| d.clone());
        }
        match pvelxc_pve::config::compute_update(actual, &desired) {
            Ok(u) => InSync {
                touched: Some(
                    u.set
                        .iter()
                        .map(|(k, _)| k.clone())
                        .chain(u.delete.iter().cloned())
                        .collect(),
                ),
                resized: u.resize.iter().map(|(k, _)| k.clone()).collect(),
            },
            Err(_) => InSync {
                touched: None,
                resized: BTreeSet::new(),
            },
        }
    }

    fn all(&self, keys: &[&str]) -> bool {
        match &self.touched {
            Some(t) => keys
                .iter()
                .all(|k| !t.contains(*k) && !self.resized.contains(*k)),
            None => false,
        }
    }

    fn size_matches(&self, key: &str) -> bool {
        !self.resized.contains(key)
    }
}

fn rootfs_state(r: &MountPoint) -> Value {
    object(vec![
        (
            "storage",
            opt_string(
                r.storage()
                    .map(str::to_string)
                    .or_else(|| Some(r.volume.clone())),
            ),
        ),
        ("size", opt_string(r.size.map(|s| s.to_string()))),
        ("volume", Value::string(r.volume.clone())),
        ("acl", opt_bool(r.acl)),
        ("quota", opt_bool(r.quota)),
        ("replicate", opt_bool(r.replicate)),
        ("mount_options", string_list_or_null(&r.mountoptions)),
    ])
}

fn network_state(n: &NetworkInterface) -> Value {
    object(vec![
        ("name", Value::string(n.name.clone())),
        ("bridge", opt_string(n.bridge.clone())),
        ("ip", opt_string(n.ip.clone())),
        ("gateway", opt_string(n.gw.clone())),
        ("ip6", opt_string(n.ip6.clone())),
        ("gateway6", opt_string(n.gw6.clone())),
        ("hwaddr", opt_string(n.hwaddr.clone())),
        ("firewall", Value::bool(n.firewall.unwrap_or(false))),
        ("vlan", opt_int(n.tag)),
        ("mtu", opt_int(n.mtu)),
        ("rate", opt_float(n.rate)),
        ("link_down", Value::bool(n.link_down.unwrap_or(false))),
    ])
}

fn features_state(f: &Features) -> Value {
    object(vec![
        ("nesting", opt_bool(f.nesting)),
        ("keyctl", opt_bool(f.keyctl)),
        ("fuse", opt_bool(f.fuse)),
        ("mknod", opt_bool(f.mknod)),
        ("force_rw_sys", opt_bool(f.force_rw_sys)),
        ("mount", string_list_or_null(&f.mount)),
    ])
}

fn mount_point_state(slot: u32, m: &MountPoint) -> Value {
    object(vec![
        ("slot", Value::int(i64::from(slot))),
        ("volume", Value::string(m.volume.clone())),
        ("path", opt_string(m.mp.clone())),
        ("size", opt_string(m.size.map(|s| s.to_string()))),
        ("read_only", Value::bool(m.ro.unwrap_or(false))),
        ("backup", Value::bool(m.backup.unwrap_or(false))),
        ("shared", Value::bool(m.shared.unwrap_or(false))),
        ("acl", opt_bool(m.acl)),
        ("quota", opt_bool(m.quota)),
        ("replicate", opt_bool(m.replicate)),
        ("options", string_list_or_null(&m.mountoptions)),
    ])
}

fn device_state(slot: u32, d: &Device) -> Value {
    object(vec![
        ("slot", Value::int(i64::from(slot))),
        ("path", Value::string(d.path.clone())),
        ("uid", opt_int(d.uid.map(i64::from))),
        ("gid", opt_int(d.gid.map(i64::from))),
        ("mode", opt_string(d.mode.clone())),
        ("deny_write", Value::bool(d.deny_write.unwrap_or(false))),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The runbook's hand-built transcoder as the API reports it.
    pub(crate) fn runbook_transcoder() -> ContainerConfig {
        let v = json!({
            "arch": "amd64", "cores": 4, "digest": "0123456789abcdef0123456789abcdef01234567",
            "features": "nesting=1", "hostname": "transcoder", "memory": 8192,
            "mp0": "/mnt/storage,mp=/mnt/storage",
            "net0": "name=eth0,bridge=vmbr0,firewall=0,hwaddr=BC:24:11:5E:2A:01,ip=dhcp,type=veth",
            "ostype": "debian", "rootfs": "local-lvm:vm-201-disk-0,size=20G", "swap": 2048,
            "lxc": [
                ["lxc.cgroup2.devices.allow", "c 226:0 rwm"],
                ["lxc.cgroup2.devices.allow", "c 226:128 rwm"],
                ["lxc.mount.entry", "/dev/dri dev/dri none bind,optional,create=dir"]
            ]
        });
        ContainerConfig::from_api(v.as_object().unwrap()).unwrap()
    }

    fn inputs() -> StateInputs<'static> {
        StateInputs {
            node: "pve",
            vmid: 201,
            running: true,
            ipv4: vec![("eth0".into(), "10.0.3.17".into())],
            ipv6: vec![],
            expected_generated: &[],
            device_gids: vec![],
        }
    }

    #[test]
    fn import_reads_everything_back_and_round_trips() {
        let actual = runbook_transcoder();
        let state = state_from(&actual, &Value::Null, &inputs());
        state
            .check_type(&super::super::schema::schema().block.implied_type())
            .unwrap();
        assert_eq!(attr(&state, "id").as_str(), Some("pve/201"));
        assert_eq!(attr(&state, "unprivileged").as_bool(), Some(false));
        assert_eq!(blocks(&state, "raw_lxc").len(), 3);
        let rootfs = attr(&state, "rootfs");
        assert_eq!(string(rootfs, "storage").as_deref(), Some("local-lvm"));
        assert_eq!(string(rootfs, "size").as_deref(), Some("20G"));
        let net = &blocks(&state, "network")[0];
        assert_eq!(boolean(net, "firewall"), Some(false));
        // Reading again with the state as prior changes nothing: the plan is empty.
        let again = state_from(&actual, &state, &inputs());
        assert_eq!(again, state);
        // And the spec of that state is what PVE has, so an update would be empty.
        let spec = spec_from(&state).unwrap();
        let u = pvelxc_pve::config::compute_update(&actual, &spec.config).unwrap();
        assert!(u.is_empty(), "{u:?}");
    }

    #[test]
    fn user_spelling_survives_pve_normalisation() {
        let actual = ContainerConfig::from_pairs([
            ("tags", "gpu;media"),
            ("description", "Transcoder\n"),
            ("nameserver", "1.1.1.1 9.9.9.9"),
            ("rootfs", "local-lvm:vm-201-disk-0,size=20G"),
            ("memory", "1024"),
            (
                "net0",
                "name=eth0,bridge=vmbr0,firewall=0,hwaddr=BC:24:11:5E:2A:01,ip=dhcp,type=veth",
            ),
        ])
        .unwrap();
        let prior = state_from(&actual, &Value::Null, &inputs());
        let mut user = prior.clone();
        super::super::values::set_attr(
            &mut user,
            "tags",
            Value::set([Value::string("Media"), Value::string("GPU")]),
        );
        super::super::values::set_attr(&mut user, "description", Value::string("Transcoder"));
        let mut root = attr(&user, "rootfs").clone();
        super::super::values::set_attr(&mut root, "size", Value::string("20480M"));
        super::super::values::set_attr(&mut user, "rootfs", root);
        let read = state_from(&actual, &user, &inputs());
        assert_eq!(attr(&read, "tags"), attr(&user, "tags"));
        assert_eq!(attr(&read, "description").as_str(), Some("Transcoder"));
        assert_eq!(
            string(attr(&read, "rootfs"), "size").as_deref(),
            Some("20480M")
        );
        // A real change is reported with PVE's value.
        let changed = ContainerConfig {
            memory: Some(2048),
            ..actual.clone()
        };
        let read = state_from(&changed, &user, &inputs());
        assert_eq!(int(&read, "memory"), Some(2048));
    }

    #[test]
    fn apply_result_keeps_the_plan_and_fills_its_unknowns() {
        // The plan of a fresh create: allocation syntax, unknown volume, unknown MAC and size.
        let planned = object(vec![
            ("memory", Value::int(1024)),
            ("tags", Value::set([Value::string("Media")])),
            (
                "rootfs",
                object(vec![
                    ("storage", Value::string("local")),
                    ("size", Value::string("2048M")),
                    ("volume", Value::unknown()),
                ]),
            ),
            (
                "network",
                Value::list([object(vec![
                    ("name", Value::string("eth0")),
                    ("bridge", Value::string("vmbr0")),
                    ("ip", Value::string("dhcp")),
                    ("hwaddr", Value::unknown()),
                    ("firewall", Value::bool(false)),
                ])]),
            ),
            (
                "mount_point",
                Value::list([object(vec![
                    ("slot", Value::int(1)),
                    ("volume", Value::string("local:8")),
                    ("path", Value::string("/data/")),
                    ("size", Value::unknown()),
                ])]),
            ),
        ]);
        let actual = ContainerConfig::from_pairs([
            ("memory", "1024"),
            ("tags", "media"),
            ("rootfs", "local:401/vm-401-disk-0.raw,size=2G"),
            ("mp1", "local:401/vm-401-disk-1.raw,mp=/data,size=8G"),
            (
                "net0",
                "name=eth0,bridge=vmbr0,firewall=0,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth",
            ),
        ])
        .unwrap();
        let s = state_from(&actual, &planned, &inputs());
        assert_eq!(attr(&s, "tags"), attr(&planned, "tags"));
        let root = attr(&s, "rootfs");
        assert_eq!(string(root, "size").as_deref(), Some("2048M"));
        assert_eq!(
            string(root, "volume").as_deref(),
            Some("local:401/vm-401-disk-0.raw")
        );
        let net = &blocks(&s, "network")[0];
        assert_eq!(string(net, "hwaddr").as_deref(), Some("BC:24:11:00:00:01"));
        // The allocation request and the user's path spelling stay; the size is filled in.
        let mp = &blocks(&s, "mount_point")[0];
        assert_eq!(string(mp, "volume").as_deref(), Some("local:8"));
        assert_eq!(string(mp, "path").as_deref(), Some("/data/"));
        assert_eq!(string(mp, "size").as_deref(), Some("8G"));
        assert!(s.is_wholly_known());
    }

    #[test]
    fn generated_lines_are_split_from_user_lines() {
        let actual = runbook_transcoder();
        let expected = vec![
            "lxc.cgroup2.devices.allow: c 226:128 rwm".to_string(),
            "lxc.mount.entry: /dev/dri dev/dri none bind,optional,create=dir".to_string(),
            "lxc.idmap: u 0 100000 65536".to_string(),
        ];
        let (found, raw) = split_generated(&actual, &expected);
        assert_eq!(found.len(), 2, "the idmap line is missing from the file");
        assert_eq!(
            raw,
            vec![(
                "lxc.cgroup2.devices.allow".to_string(),
                "c 226:0 rwm".to_string()
            )]
        );
    }

    #[test]
    fn duplicate_slots_are_errors_with_paths() {
        let mp = |slot: i64| {
            object(vec![
                ("slot", Value::int(slot)),
                ("volume", Value::string("/mnt/a")),
                ("path", Value::string("/a")),
            ])
        };
        let cfg = object(vec![("mount_point", Value::list([mp(0), mp(0)]))]);
        let errs = spec_from(&cfg).unwrap_err();
        assert_eq!(
            errs[0].path,
            Path::root().attr("mount_point").index(1).attr("slot")
        );
    }

    #[test]
    fn storage_name_with_size_allocates() {
        let m = object(vec![
            ("slot", Value::int(1)),
            ("volume", Value::string("local-lvm")),
            ("path", Value::string("/data")),
            ("size", Value::string("8G")),
        ]);
        let mp = mount_point_from(&m, 0).unwrap().unwrap();
        assert_eq!(mp.volume, "local-lvm:8");
        let m = object(vec![
            ("slot", Value::int(1)),
            ("volume", Value::string("local-lvm")),
            ("path", Value::string("/data")),
        ]);
        assert!(mount_point_from(&m, 0).is_err());
    }
}
