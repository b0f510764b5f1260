//! `pct push`, `pct exec` and `pct status` through `NodeSsh` against the pve-testhost node:
//! bytes arrive intact with the asked mode, argv reaches the program unchanged (no shell),
//! stdin is passed through, and a missing container is reported as such.

use std::time::Duration;

use pvelxc_pve::ssh::{ContainerState, HostKeyCheck, NodeSsh, SshAuth, SshOptions};
use secrecy::SecretString;

const VMID: u32 = 640;

fn env(name: &str) -> String {
    let text = std::fs::read_to_string("/run/pve-testhost/testhost.env")
        .expect("pve-testhost is up (/run/pve-testhost/testhost.env)");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .map(|v| v.trim_matches('\'').to_string())
        .unwrap_or_else(|| panic!("{name} missing from testhost.env"))
}

async fn connect() -> NodeSsh {
    let key = std::fs::read_to_string(env("PVE_TESTHOST_SSH_KEY")).expect("ssh key");
    let mut o = SshOptions::new(
        &env("PVE_TESTHOST_SSH_HOST"),
        SshAuth::PrivateKey {
            key: SecretString::from(key),
            passphrase: None,
        },
        HostKeyCheck::KnownHosts(env("PVE_TESTHOST_SSH_KNOWN_HOSTS").into()),
    );
    o.port = env("PVE_TESTHOST_SSH_PORT").parse().expect("port");
    o.command_timeout = Duration::from_secs(120);
    NodeSsh::connect(&o)
        .await
        .expect("connect to the test host")
}

async fn destroy(ssh: &NodeSsh) {
    let id = VMID.to_string();
    let _ = ssh.run(&["pct", "stop", &id], None).await;
    let _ = ssh.run(&["pct", "destroy", &id], None).await;
}

#[tokio::test]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
async fn push_exec_and_status_in_a_real_container() {
    let ssh = connect().await;
    destroy(&ssh).await;
    assert_eq!(
        ssh.container_state(VMID).await.unwrap(),
        ContainerState::Missing
    );
    let id = VMID.to_string();
    ssh.run_checked(
        &[
            "pct",
            "create",
            &id,
            "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
            "--rootfs",
            "local:2",
            "--hostname",
            "pcttest",
        ],
        None,
    )
    .await
    .expect("pct create");
    assert_eq!(
        ssh.container_state(VMID).await.unwrap(),
        ContainerState::Stopped
    );
    assert!(!ssh.container_running(VMID).await.unwrap());
    ssh.run_checked(&["pct", "start", &id], None)
        .await
        .expect("pct start");
    assert!(ssh.container_running(VMID).await.unwrap());

    // Every byte value, pushed with a mode, read back with sha256sum inside.
    let payload: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    ssh.pct_push(VMID, &payload, "/root/payload.bin", 0o640)
        .await
        .expect("push");
    let out = ssh
        .pct_exec(VMID, &["stat", "-c", "%a %s", "/root/payload.bin"], None)
        .await
        .unwrap();
    assert_eq!(out.stdout_text().trim(), "640 300000");
    let back = ssh
        .pct_exec(VMID, &["cat", "/root/payload.bin"], None)
        .await
        .unwrap();
    assert_eq!(back.stdout, payload);

    // argv with shell metacharacters reaches the program as one argument each.
    let hostile = "$(touch /tmp/pwned); `id` 'quoted' \"dq\" ; | &";
    let out = ssh
        .pct_exec(VMID, &["printf", "%s", hostile], None)
        .await
        .unwrap();
    assert_eq!(out.stdout_text(), hostile);
    let pwned = ssh
        .pct_exec(VMID, &["test", "-e", "/tmp/pwned"], None)
        .await
        .unwrap();
    assert_ne!(
        pwned.status, 0,
        "a metacharacter was interpreted by a shell"
    );

    // stdin passes through; the program's exit status is returned, not an error.
    let out = ssh
        .pct_exec(VMID, &["cat"], Some(b"from stdin"))
        .await
        .unwrap();
    assert_eq!(out.stdout_text(), "from stdin");
    let out = ssh
        .pct_exec(VMID, &["sh", "-c", "exit 7"], None)
        .await
        .unwrap();
    assert_eq!(out.status, 7);

    // Nothing is left in the node's staging directory.
    let left = ssh
        .run(
            &[
                "sh",
                "-c",
                "ls -A /var/lib/pvelxc/staging 2>/dev/null | wc -l",
            ],
            None,
        )
        .await
        .unwrap();
    assert_eq!(left.stdout_text().trim(), "0");

    destroy(&ssh).await;
}
