//! Every property-string and named format the test host validates, with PVE's error
//! texts, checked through the committed schema exactly as requests are.

use std::collections::BTreeMap;

use pve_testhost::schema::{ApiSchema, Params, KNOWN_FORMATS};
use serde_json::{json, Value};

const CREATE: &str = "/nodes/{node}/lxc";
const PUT: &str = "/nodes/{node}/lxc/{vmid}/config";

fn errors(path: &str, method: &str, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut params: Params = [("node", "pve"), ("vmid", "100")]
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    if method == "POST" {
        params.insert("ostemplate".into(), json!("local:vztmpl/t.tar.zst"));
    }
    for (k, v) in extra {
        params.insert(k.to_string(), json!(v));
    }
    match ApiSchema::get().validate(path, method, &params) {
        Ok(()) => BTreeMap::new(),
        Err(err) => {
            assert_eq!(err.status, 400);
            assert_eq!(err.message, "Parameter verification failed.\n");
            err.errors
        }
    }
}

fn error(key: &str, value: &str) -> String {
    errors(CREATE, "POST", &[(key, value)])
        .get(key)
        .cloned()
        .unwrap_or_default()
}

#[test]
fn valid_values_pass() {
    let ok = [
        ("rootfs", "local:8"),
        (
            "rootfs",
            "volume=local:100/vm-100-disk-0.raw,size=8G,mountoptions=noatime;nodev",
        ),
        ("mp0", "/srv/media,mp=/media,ro=1,backup=0"),
        ("mp255", "local:4,mp=/data"),
        ("dev0", "/dev/dri/renderD128,gid=104,mode=0660"),
        ("dev1", "path=/dev/sr0,deny-write=1"),
        (
            "net0",
            "name=eth0,bridge=vmbr0,ip=dhcp,hwaddr=BC:24:11:00:00:01,tag=10,trunks=10;20",
        ),
        (
            "net31",
            "name=eth1,ip=10.0.0.2/24,gw=10.0.0.1,ip6=auto,mtu=1500",
        ),
        ("features", "nesting=1,keyctl=yes,mount=nfs;cifs"),
        ("startup", "order=2,up=30,down=60"),
        ("tags", "media;jellyfin"),
        ("hostname", "jelly.home.arpa"),
        ("nameserver", "10.0.0.1 fe80::1%eth0"),
        ("timezone", "host"),
        ("hookscript", "local:snippets/hook.sh"),
    ];
    for (key, value) in ok {
        assert_eq!(error(key, value), "", "{key}={value}");
    }
}

#[test]
fn rootfs_errors() {
    assert_eq!(
        error("rootfs", "local:8,size=8Q"),
        "invalid format - format error\nrootfs.size: invalid format - value does not look like a valid disk size: 8Q\n\n"
    );
    assert_eq!(
        error("rootfs", "local:8,bogus=1"),
        "invalid format - invalid key in comma-separated list property: bogus\n"
    );
    assert_eq!(
        error("rootfs", "local:8,local:9"),
        "invalid format - duplicate key in comma-separated list property: volume\n"
    );
    assert_eq!(
        error("rootfs", "local:8,mountoptions=sync"),
        "invalid format - format error\nrootfs.mountoptions: value does not match the regex pattern\n"
    );
}

#[test]
fn mountpoint_errors() {
    assert_eq!(
        error("mp0", "/srv/media"),
        "invalid format - format error\nmp0.mp: property is missing and it is not optional\n"
    );
    assert_eq!(
        error("mp0", "/srv/../etc,mp=/x"),
        "invalid format - format error\nmp0.volume: invalid format - /srv/../etc contains illegal character sequences\n\n"
    );
    assert_eq!(
        error("mp0", "/srv,mp=/x,ro=maybe"),
        "invalid format - format error\nmp0.ro: type check ('boolean') failed - got 'maybe'\n"
    );
    assert_eq!(
        errors(CREATE, "POST", &[("mp256", "local:1,mp=/x")])["mp256"],
        "property is not defined in schema and the schema does not allow additional properties"
    );
}

#[test]
fn device_errors() {
    assert_eq!(
        error("dev0", "/tmp/x"),
        "invalid format - format error\ndev0.path: invalid format - /tmp/x is not a valid device path\n\n"
    );
    assert_eq!(
        error("dev0", "/dev/../etc/shadow"),
        "invalid format - format error\ndev0.path: invalid format - /dev/../etc/shadow is not a valid device path\n\n"
    );
    assert_eq!(
        error("dev0", "/dev/sr0,mode=777"),
        "invalid format - format error\ndev0.mode: value does not match the regex pattern\n"
    );
    assert_eq!(
        error("dev0", "/dev/sr0,gid=-1"),
        "invalid format - format error\ndev0.gid: value must have a minimum value of 0\n"
    );
}

#[test]
fn network_errors() {
    assert_eq!(
        error("net0", "bridge=vmbr0"),
        "invalid format - format error\nnet0.name: property is missing and it is not optional\n"
    );
    assert_eq!(
        error("net0", "name=eth0,hwaddr=01:00:00:00:00:00"),
        "invalid format - format error\nnet0.hwaddr: invalid format - value does not look like a valid unicast MAC address\n\n"
    );
    assert_eq!(
        error("net0", "name=eth0,tag=5000"),
        "invalid format - format error\nnet0.tag: value must have a maximum value of 4094\n"
    );
    assert_eq!(
        error("net0", "name=eth0,type=macvlan"),
        "invalid format - format error\nnet0.type: value 'macvlan' does not have a value in the enumeration 'veth'\n"
    );
    assert_eq!(
        error("net0", "name=eth0,ip6=fe80::1"),
        "invalid format - format error\nnet0.ip6: invalid format - value does not look like a valid ipv6 network configuration\n\n"
    );
    assert_eq!(
        error("net0", "eth0"),
        "invalid format - value without key, but schema does not define a default key\n"
    );
}

#[test]
fn feature_startup_tag_and_misc_errors() {
    assert_eq!(
        error("features", "nesting=2"),
        "invalid format - format error\nfeatures.nesting: type check ('boolean') failed - got '2'\n"
    );
    assert_eq!(
        error("features", "mount=nfs,cifs"),
        "invalid format - value without key, but schema does not define a default key\n"
    );
    assert_eq!(
        error("startup", "order=first"),
        "invalid format - unable to parse startup options\n"
    );
    assert_eq!(
        error("tags", "ok;bad tag!"),
        "invalid format - invalid characters in tag 'tag!'\n"
    );
    assert_eq!(
        error("hostname", "bad_host"),
        "invalid format - value does not look like a valid DNS name\n"
    );
    assert_eq!(
        error("nameserver", "10.0.0.300"),
        "invalid format - value does not look like a valid IP address\n"
    );
    assert_eq!(
        error("timezone", "Mars/Olympus"),
        "invalid format - invalid time zone 'Mars/Olympus'\n"
    );
    assert_eq!(
        error("hookscript", "hook.sh"),
        "invalid format - unable to parse volume ID 'hook.sh'\n"
    );
    assert_eq!(error("arch", "sparc"), "value 'sparc' does not have a value in the enumeration 'amd64, i386, arm64, armhf, riscv32, riscv64'");
    assert_eq!(error("cores", "0"), "value must have a minimum value of 1");
    assert_eq!(
        errors(CREATE, "POST", &[("vmid", "99")])["vmid"],
        "invalid format - value does not look like a valid VM ID\n"
    );
}

#[test]
fn delete_takes_a_configid_list() {
    assert!(errors(PUT, "PUT", &[("delete", "mp0,net1; dev2 swap")]).is_empty());
    assert_eq!(
        errors(PUT, "PUT", &[("delete", "mp0,2net")])["delete"],
        "invalid format - invalid configuration ID '2net'\n"
    );
    assert_eq!(
        errors(PUT, "PUT", &[("digest", &"a".repeat(41))])["digest"],
        "value may only be 40 characters long"
    );
}

/// Every named format used by the committed schema subset is implemented.
#[test]
fn every_format_in_the_schema_is_known() {
    fn collect(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    if k == "format" {
                        if let Value::String(name) = v {
                            out.push(name.clone());
                        }
                    }
                    collect(v, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
            _ => {}
        }
    }
    let data: Value = serde_json::from_str(pve_testhost::schema::SCHEMA_JSON).expect("json");
    let mut names = Vec::new();
    collect(&data, &mut names);
    names.sort();
    names.dedup();
    assert!(names.len() > 15, "{names:?}");
    for name in names {
        let base = name
            .strip_suffix("-list")
            .or_else(|| name.strip_suffix("-opt"))
            .unwrap_or(&name);
        assert!(
            KNOWN_FORMATS.contains(&base),
            "format '{name}' has no implementation"
        );
    }
}
