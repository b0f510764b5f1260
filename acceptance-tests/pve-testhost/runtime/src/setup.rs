//! What PVE's setup code (`PVE::LXC::Setup::Debian` and `::Ubuntu`) writes into a
//! container before each start: `/etc/hostname`, the PVE block of `/etc/hosts`, the `netN`
//! interfaces (`/etc/network/interfaces` on Debian, one systemd-networkd
//! `/etc/systemd/network/<name>.network` per interface on Ubuntu since 17.10), and
//! `/etc/resolv.conf` when `nameserver`/`searchdomain` are set.
//!
//! Files are replaced by rename inside the container's directory and refused when the
//! path or its directory is a symlink, so a container cannot redirect the write to a
//! host file.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{lchown, PermissionsExt};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::conf::{ConfError, Net, Section};
use crate::idmap::IdMap;

/// Setup failures.
#[derive(Debug, Error)]
pub enum SetupError {
    /// The config cannot be interpreted.
    #[error(transparent)]
    Conf(#[from] ConfError),
    /// A path inside the container is a symlink or not a directory.
    #[error("refusing to write {0} inside the container: it or its directory is a symlink")]
    Symlink(PathBuf),
    /// I/O error.
    #[error("{}: {source}", path.display())]
    Io {
        /// Path involved.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
}

const HOSTS_BEGIN: &str = "# --- BEGIN PVE ---";
const HOSTS_END: &str = "# --- END PVE ---";

/// Writes the files; owners become the container's root as mapped by `idmap`.
pub fn apply(rootfs: &Path, vmid: u32, conf: &Section, idmap: &IdMap) -> Result<(), SetupError> {
    if conf.get("ostype") == Some("unmanaged") {
        return Ok(());
    }
    let owner = (
        idmap.to_host('u', 0).unwrap_or(0) as u32,
        idmap.to_host('g', 0).unwrap_or(0) as u32,
    );
    let hostname = conf
        .get("hostname")
        .map(str::to_string)
        .unwrap_or_else(|| format!("CT{vmid}"));
    let short = hostname.split('.').next().unwrap_or(&hostname).to_string();
    write_file(rootfs, "etc/hostname", &format!("{short}\n"), owner)?;

    let hosts_path = rootfs.join("etc/hosts");
    let old = fs::read_to_string(&hosts_path).unwrap_or_else(|_| {
        "127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n".to_string()
    });
    let mut kept = String::new();
    let mut inside = false;
    for line in old.lines() {
        if line.trim() == HOSTS_BEGIN {
            inside = true;
        } else if line.trim() == HOSTS_END {
            inside = false;
        } else if !inside {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    let fqdn = match conf.get("searchdomain") {
        Some(domain) if !hostname.contains('.') => {
            let first = domain.split([' ', ',', ';']).next().unwrap_or(domain);
            format!("{hostname}.{first}")
        }
        _ => hostname.clone(),
    };
    let names = if fqdn == short {
        short.clone()
    } else {
        format!("{fqdn} {short}")
    };
    kept.push_str(&format!("{HOSTS_BEGIN}\n127.0.1.1 {names}\n{HOSTS_END}\n"));
    write_file(rootfs, "etc/hosts", &kept, owner)?;

    if conf.get("ostype") == Some("ubuntu") {
        for (_, net) in conf.nets()? {
            write_file(
                rootfs,
                &format!("etc/systemd/network/{}.network", net.name),
                &networkd_unit(&net),
                owner,
            )?;
        }
    } else {
        write_file(
            rootfs,
            "etc/network/interfaces",
            &ifupdown_interfaces(conf)?,
            owner,
        )?;
    }

    let nameserver = conf.get("nameserver");
    let searchdomain = conf.get("searchdomain");
    if nameserver.is_some() || searchdomain.is_some() {
        let mut resolv = String::new();
        if let Some(domains) = searchdomain {
            let list: Vec<&str> = domains
                .split([' ', ',', ';'])
                .filter(|s| !s.is_empty())
                .collect();
            resolv.push_str(&format!("search {}\n", list.join(" ")));
        }
        for server in nameserver
            .unwrap_or("")
            .split([' ', ',', ';'])
            .filter(|s| !s.is_empty())
        {
            resolv.push_str(&format!("nameserver {server}\n"));
        }
        write_file(rootfs, "etc/resolv.conf", &resolv, owner)?;
    } else if let Ok(node_resolv) = fs::read_to_string("/etc/resolv.conf") {
        // PVE copies the node's DNS settings when none are configured.
        write_file(rootfs, "etc/resolv.conf", &node_resolv, owner)?;
    }
    Ok(())
}

/// Debian's `/etc/network/interfaces` for every `netN`.
fn ifupdown_interfaces(conf: &Section) -> Result<String, SetupError> {
    let mut interfaces = String::from("auto lo\niface lo inet loopback\n");
    for (_, net) in conf.nets()? {
        interfaces.push_str(&format!("\nauto {}\n", net.name));
        match net.ip.as_deref() {
            Some("dhcp") => interfaces.push_str(&format!("iface {} inet dhcp\n", net.name)),
            Some("manual") | None => {
                interfaces.push_str(&format!("iface {} inet manual\n", net.name))
            }
            Some(address) => {
                interfaces.push_str(&format!(
                    "iface {} inet static\n\taddress {address}\n",
                    net.name
                ));
                if let Some(gw) = &net.gw {
                    interfaces.push_str(&format!("\tgateway {gw}\n"));
                }
            }
        }
        match net.ip6.as_deref() {
            Some("dhcp") => interfaces.push_str(&format!("iface {} inet6 dhcp\n", net.name)),
            Some("auto") => interfaces.push_str(&format!("iface {} inet6 auto\n", net.name)),
            Some("manual") | None => {}
            Some(address) => {
                interfaces.push_str(&format!(
                    "iface {} inet6 static\n\taddress {address}\n",
                    net.name
                ));
                if let Some(gw) = &net.gw6 {
                    interfaces.push_str(&format!("\tgateway {gw}\n"));
                }
            }
        }
    }
    Ok(interfaces)
}

/// Ubuntu's systemd-networkd unit for one interface, as PVE's networkd setup writes it.
fn networkd_unit(net: &Net) -> String {
    let name = &net.name;
    let mut unit = format!(
        "[Match]\nName = {name}\n\n[Network]\nDescription = Interface {name} autoconfigured by PVE\n"
    );
    let dhcp4 = net.ip.as_deref() == Some("dhcp");
    let dhcp6 = net.ip6.as_deref() == Some("dhcp");
    match (dhcp4, dhcp6) {
        (true, true) => unit.push_str("DHCP = yes\n"),
        (true, false) => unit.push_str("DHCP = ipv4\n"),
        (false, true) => unit.push_str("DHCP = ipv6\n"),
        (false, false) => {}
    }
    for (address, gateway) in [(&net.ip, &net.gw), (&net.ip6, &net.gw6)] {
        match address.as_deref() {
            Some("dhcp" | "manual" | "auto") | None => {}
            Some(address) => {
                unit.push_str(&format!("Address = {address}\n"));
                if let Some(gw) = gateway {
                    unit.push_str(&format!("Gateway = {gw}\n"));
                }
            }
        }
    }
    unit.push_str(match net.ip6.as_deref() {
        Some("auto") => "IPv6AcceptRA = true\n",
        _ => "IPv6AcceptRA = false\n",
    });
    unit
}

/// Replaces `rootfs/rel` by rename, refusing symlinked targets or directories.
fn write_file(
    rootfs: &Path,
    rel: &str,
    content: &str,
    owner: (u32, u32),
) -> Result<(), SetupError> {
    let path = rootfs.join(rel);
    let dir = path.parent().unwrap_or(rootfs).to_path_buf();
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| SetupError::Io { path: p, source }
    };
    let mut cursor = rootfs.to_path_buf();
    for component in Path::new(rel)
        .parent()
        .into_iter()
        .flat_map(Path::components)
    {
        cursor.push(component);
        match fs::symlink_metadata(&cursor) {
            Ok(meta) if meta.file_type().is_symlink() || !meta.is_dir() => {
                return Err(SetupError::Symlink(path))
            }
            Ok(_) => {}
            Err(_) => {
                fs::create_dir(&cursor).map_err(io(&cursor))?;
                lchown(&cursor, Some(owner.0), Some(owner.1)).map_err(io(&cursor))?;
            }
        }
    }
    if let Ok(meta) = fs::symlink_metadata(&path) {
        if meta.file_type().is_symlink() {
            // Replacing the link itself is safe (rename does not follow it), and what PVE
            // does for e.g. a resolv.conf symlink is to write a regular file.
            tracing::debug!("replacing symlink {}", path.display());
        }
    }
    let tmp = dir.join(format!(".pve-testhost.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(content.as_bytes())?;
        file.set_permissions(fs::Permissions::from_mode(0o644))?;
        file.sync_all()?;
        lchown(&tmp, Some(owner.0), Some(owner.1))?;
        fs::rename(&tmp, &path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io(&path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conf::PctConf;

    #[test]
    fn writes_hostname_hosts_and_interfaces() {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir_all(root.path().join("etc")).unwrap();
        fs::write(
            root.path().join("etc/hosts"),
            "127.0.0.1 localhost\n# --- BEGIN PVE ---\nold\n# --- END PVE ---\n",
        )
        .unwrap();
        let conf = PctConf::parse(
            100,
            "hostname: ripper\nnameserver: 1.1.1.1\nnet0: name=eth0,bridge=vmbr0,ip=dhcp\nnet1: name=eth1,bridge=vmbr0,ip=10.0.0.5/24,gw=10.0.0.1\n",
        )
        .unwrap();
        let me = nix::unistd::getuid().as_raw();
        let gid = nix::unistd::getgid().as_raw();
        let map = crate::idmap::IdMap::default();
        // As root the privileged map (owner 0) works; otherwise map the CT's root to the
        // current user, the only owner a non-root run may chown files to.
        let idmap = if me == 0 {
            map
        } else {
            IdMap {
                entries: vec![
                    crate::idmap::IdMapEntry {
                        kind: 'u',
                        ct_start: 0,
                        host_start: u64::from(me),
                        count: 1,
                    },
                    crate::idmap::IdMapEntry {
                        kind: 'g',
                        ct_start: 0,
                        host_start: u64::from(gid),
                        count: 1,
                    },
                ],
                custom: true,
            }
        };
        apply(root.path(), 100, &conf.main, &idmap).unwrap();
        let read = |p: &str| fs::read_to_string(root.path().join(p)).unwrap();
        assert_eq!(read("etc/hostname"), "ripper\n");
        assert_eq!(
            read("etc/hosts"),
            "127.0.0.1 localhost\n# --- BEGIN PVE ---\n127.0.1.1 ripper\n# --- END PVE ---\n"
        );
        assert_eq!(
            read("etc/network/interfaces"),
            "auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n\nauto eth1\niface eth1 inet static\n\taddress 10.0.0.5/24\n\tgateway 10.0.0.1\n"
        );
        assert_eq!(read("etc/resolv.conf"), "nameserver 1.1.1.1\n");
    }

    #[test]
    fn ubuntu_gets_networkd_units_instead_of_interfaces() {
        let conf = PctConf::parse(
            100,
            "ostype: ubuntu\nnet0: name=eth0,bridge=vmbr0,ip=dhcp\nnet1: name=eth1,bridge=vmbr0,ip=10.0.0.5/24,gw=10.0.0.1,ip6=auto\n",
        )
        .unwrap();
        let nets: Vec<Net> = conf
            .main
            .nets()
            .unwrap()
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        assert_eq!(
            networkd_unit(&nets[0]),
            "[Match]\nName = eth0\n\n[Network]\nDescription = Interface eth0 autoconfigured by PVE\nDHCP = ipv4\nIPv6AcceptRA = false\n"
        );
        assert_eq!(
            networkd_unit(&nets[1]),
            "[Match]\nName = eth1\n\n[Network]\nDescription = Interface eth1 autoconfigured by PVE\nAddress = 10.0.0.5/24\nGateway = 10.0.0.1\nIPv6AcceptRA = true\n"
        );
        if nix::unistd::getuid().is_root() {
            let root = tempfile::tempdir().unwrap();
            apply(root.path(), 100, &conf.main, &IdMap::default()).unwrap();
            assert!(root
                .path()
                .join("etc/systemd/network/eth1.network")
                .is_file());
            assert!(!root.path().join("etc/network/interfaces").exists());
        }
    }

    #[test]
    fn refuses_symlinked_directories() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("etc")).unwrap();
        let conf = PctConf::parse(100, "hostname: x\n").unwrap();
        let err = apply(root.path(), 100, &conf.main, &IdMap::default()).unwrap_err();
        assert!(matches!(err, SetupError::Symlink(_)), "{err}");
        assert!(fs::read_dir(outside.path()).unwrap().next().is_none());
    }
}
