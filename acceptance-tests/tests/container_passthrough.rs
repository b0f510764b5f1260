//! The runbook's transcoder and ripper built by `terraform apply` on pve-testhost, checked
//! line by line in `/etc/pve/lxc/<vmid>.conf` and from inside the running containers: the
//! allowed devices open past the device cgroup, `/mnt/storage` is writable, and a container
//! without the allow rules gets EPERM on the same open (so the kernel really enforces it).
//!
//! vmids 500–509.

use pvelxc_acceptance::terraform;
use pvelxc_acceptance::testhost::{ContainerWorkspace, NodeRun};

const TRANSCODER: u32 = 501;
const NO_ALLOW: u32 = 502;
const RIPPER: u32 = 503;

fn config(template: &str, bridge: &str) -> String {
    format!(
        r#"
resource "pvelxc_container" "transcoder" {{
  vmid         = {TRANSCODER}
  hostname     = "transcoder"
  template     = "{template}"
  unprivileged = false
  cores        = 2
  memory       = 512
  swap         = 256
  started      = true

  rootfs {{
    storage = "local"
    size    = "1G"
  }}
  network {{
    name     = "eth0"
    bridge   = "{bridge}"
    ip       = "dhcp"
    firewall = false
  }}
  features {{
    nesting = true
  }}
  mount_point {{
    slot   = 0
    volume = "/mnt/storage"
    path   = "/mnt/storage"
  }}
  raw_lxc {{
    key   = "lxc.cgroup2.devices.allow"
    value = "c 226:0 rwm"
  }}
  raw_lxc {{
    key   = "lxc.cgroup2.devices.allow"
    value = "c 226:128 rwm"
  }}
  raw_lxc {{
    key   = "lxc.mount.entry"
    value = "/dev/dri dev/dri none bind,optional,create=dir"
  }}
}}

# The control: the same /dev/dri mount, no allow rules.
resource "pvelxc_container" "no_allow" {{
  vmid         = {NO_ALLOW}
  hostname     = "no-allow"
  template     = "{template}"
  unprivileged = false
  memory       = 256
  started      = true

  rootfs {{
    storage = "local"
    size    = "1G"
  }}
  raw_lxc {{
    key   = "lxc.mount.entry"
    value = "/dev/dri dev/dri none bind,optional,create=dir"
  }}
}}

resource "pvelxc_container" "ripper" {{
  vmid         = {RIPPER}
  hostname     = "ripper"
  template     = "{template}"
  unprivileged = false
  memory       = 512
  started      = true

  rootfs {{
    storage = "local"
    size    = "1G"
  }}
  network {{
    name     = "eth0"
    bridge   = "{bridge}"
    ip       = "dhcp"
    firewall = false
  }}
  features {{
    nesting = true
  }}
  mount_point {{
    slot   = 0
    volume = "/mnt/storage"
    path   = "/mnt/storage"
  }}
  optical_drive {{
    device = "/dev/sr0"
  }}
}}
"#
    )
}

fn lxc_lines(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.starts_with("lxc."))
        .cloned()
        .collect()
}

fn line<'a>(lines: &'a [String], key: &str) -> Option<&'a str> {
    let prefix = format!("{key}: ");
    lines
        .iter()
        .find(|l| l.starts_with(&prefix))
        .map(String::as_str)
}

/// Opens `path` for reading inside the CT; the shell prints the errno text on failure.
fn open_in_ct(ws: &ContainerWorkspace, vmid: u32, path: &str) -> NodeRun {
    ws.host
        .exec_sh(vmid, &format!("exec 3< {path} && echo opened"))
}

#[test]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
fn transcoder_and_ripper_match_the_runbook_and_the_kernel_enforces_it() {
    let cli = terraform::terraform_1_15().unwrap_or_else(|e| panic!("{e}"));
    let ws = ContainerWorkspace::new(&cli, 500..=509);
    ws.host.ok(&["mkdir", "-p", "/mnt/storage"]);
    ws.write(&config(ws.host.template(), &ws.host.bridge));
    ws.init();
    ws.apply();

    // Transcoder: exactly the runbook's lines.
    let conf = ws.host.conf_lines(TRANSCODER);
    assert_eq!(
        lxc_lines(&conf),
        vec![
            "lxc.cgroup2.devices.allow: c 226:0 rwm",
            "lxc.cgroup2.devices.allow: c 226:128 rwm",
            "lxc.mount.entry: /dev/dri dev/dri none bind,optional,create=dir",
        ],
        "transcoder conf:\n{}",
        conf.join("\n")
    );
    assert_eq!(
        line(&conf, "mp0"),
        Some("mp0: /mnt/storage,mp=/mnt/storage"),
        "{conf:#?}"
    );
    assert_eq!(
        line(&conf, "features"),
        Some("features: nesting=1"),
        "{conf:#?}"
    );
    let net0 = line(&conf, "net0").unwrap_or_else(|| panic!("no net0 in {conf:#?}"));
    assert!(
        net0.contains("bridge=") && !net0.contains("firewall=1"),
        "net0 must have the firewall off: {net0}"
    );
    assert!(
        matches!(line(&conf, "unprivileged"), None | Some("unprivileged: 0")),
        "privileged CT: {conf:#?}"
    );

    // Inside: renderD128 opens past the device cgroup. The stand-in has no driver, so the
    // open ends in ENXIO from the device itself — never EPERM from the cgroup.
    let render = open_in_ct(&ws, TRANSCODER, "/dev/dri/renderD128");
    assert!(
        !render.all().contains("Operation not permitted"),
        "the allow rule did not admit renderD128: {}",
        render.all()
    );
    assert!(
        render.all().contains("No such device or address") || render.stdout.contains("opened"),
        "renderD128 was not reached: {}",
        render.all()
    );
    let marker = format!("/mnt/storage/pvelxc-acceptance-{TRANSCODER}");
    let write = ws
        .host
        .exec_sh(TRANSCODER, &format!("echo from-ct > {marker}"));
    assert_eq!(write.code, 0, "/mnt/storage not writable: {}", write.all());
    assert_eq!(ws.host.ok(&["cat", &marker]), "from-ct\n");
    ws.host.ok(&["rm", "-f", &marker]);

    // The control: same mount, no allow rule, EPERM from the kernel.
    let denied = open_in_ct(&ws, NO_ALLOW, "/dev/dri/renderD128");
    assert!(
        denied.all().contains("Operation not permitted"),
        "without the allow rule the open must fail with EPERM: {}",
        denied.all()
    );

    // Ripper: the preset found sr0's real type and numbers and its SCSI-generic twin.
    let (maj_min, sg) = (
        &ws.host.hardware.optical_rdev,
        &ws.host.hardware.optical_generic,
    );
    let sg_name = sg.trim_start_matches("/dev/");
    let conf = ws.host.conf_lines(RIPPER);
    let mut got = lxc_lines(&conf);
    got.sort();
    let mut want = vec![
        format!("lxc.cgroup2.devices.allow: b {maj_min} rwm"),
        "lxc.cgroup2.devices.allow: c 21:0 rwm".to_string(),
        "lxc.mount.entry: /dev/sr0 dev/sr0 none bind,optional,create=file".to_string(),
        format!("lxc.mount.entry: {sg} dev/{sg_name} none bind,optional,create=file"),
    ];
    want.sort();
    assert_eq!(got, want, "ripper conf:\n{}", conf.join("\n"));
    assert_eq!(
        line(&conf, "mp0"),
        Some("mp0: /mnt/storage,mp=/mnt/storage"),
        "{conf:#?}"
    );
    let state = ws.state_values("pvelxc_container.ripper");
    let mut generated: Vec<String> = state["generated_lxc"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    generated.sort();
    assert_eq!(generated, want, "generated_lxc in state: {state:#}");
    assert_eq!(
        state["device_gids"]["cdrom"], ws.host.hardware.groups["cdrom"],
        "device_gids: {state:#}"
    );

    // Inside: the disc's ISO 9660 signature is readable through sr0, and sg0 opens past the
    // cgroup (ENXIO: no sg driver behind the stand-in).
    ws.host.ensure_disc();
    let sig = ws
        .host
        .exec_sh(RIPPER, "dd if=/dev/sr0 bs=1 skip=32769 count=5 status=none");
    assert_eq!(
        sig.stdout,
        "CD001",
        "reading sr0: {}\nnode: {}",
        sig.all(),
        ws.host
            .run(&[
                "sh",
                "-c",
                "ls -l /dev/sr0; losetup -a; blockdev --getsize64 /dev/sr0"
            ])
            .all()
    );
    let sg_open = open_in_ct(&ws, RIPPER, sg);
    assert!(
        !sg_open.all().contains("Operation not permitted"),
        "sg0 refused by the cgroup: {}",
        sg_open.all()
    );
    let ripper_write = ws.host.exec_sh(
        RIPPER,
        &format!("touch /mnt/storage/pvelxc-acceptance-{RIPPER}"),
    );
    assert_eq!(ripper_write.code, 0, "{}", ripper_write.all());
    ws.host.ok(&[
        "rm",
        "-f",
        &format!("/mnt/storage/pvelxc-acceptance-{RIPPER}"),
    ]);

    // Nothing drifts after apply.
    let plan = ws.plan_exit_code();
    assert_eq!(
        plan.code,
        0,
        "plan after apply must be empty:\n{}",
        plan.all()
    );

    ws.tf_ok(&["destroy", "-auto-approve"]);
    for vmid in [TRANSCODER, NO_ALLOW, RIPPER] {
        assert_eq!(ws.host.conf(vmid), None, "CT {vmid} still has a conf");
    }
}
