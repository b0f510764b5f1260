//! The fuzz target's properties on the seed files and hand-picked hostile inputs, so plain
//! `cargo test` guards them too (the fuzzer explores further: provider/pve/fuzz/run.sh).

use pvelxc_pve::config::ContainerConfig;
use pvelxc_pve::pctconf::{PctConf, SectionKind};

fn check(text: &str) {
    let conf = PctConf::parse(text);
    assert_eq!(conf.write(), text);
    if let Ok(canonical) = conf.to_canonical_string() {
        let reparsed = PctConf::parse(&canonical);
        assert_eq!(
            reparsed.to_canonical_string().as_deref(),
            Ok(canonical.as_str())
        );
        assert_eq!(conf.main().data().options, reparsed.main().data().options);
        assert_eq!(conf.main().data().lxc, reparsed.main().data().lxc);
    }
    let raw = conf.main_raw_lines();
    let mut edited = conf.clone();
    if edited.replace_main_raw_lines(&raw).is_ok() {
        let again = PctConf::parse(&edited.write());
        assert_eq!(again.main_raw_lines(), raw);
        let others = |c: &PctConf| -> Vec<(SectionKind, String)> {
            c.sections
                .iter()
                .skip(1)
                .map(|s| (s.kind.clone(), format!("{:?}", s.data())))
                .collect()
        };
        assert_eq!(others(&again), others(&conf));
    }
    if let Ok(cfg) = ContainerConfig::from_pairs(conf.main().data().options) {
        if let Ok(params) = cfg.to_params() {
            let back = ContainerConfig::from_pairs(params).unwrap();
            let mut expected = cfg.clone();
            expected.lock = None;
            expected.template = None;
            expected.digest = None;
            expected.unused.clear();
            assert_eq!(back.normalized(), expected.normalized(), "{text:?}");
        }
    }
}

#[test]
fn seeds_and_hostile_inputs_keep_the_properties() {
    for seed in [
        include_str!("../fuzz/seeds/transcoder.conf"),
        include_str!("../fuzz/seeds/ripper.conf"),
        include_str!("../fuzz/seeds/jellyfin.conf"),
    ] {
        check(seed);
    }
    for hostile in [
        "",
        "\n",
        "\r\n\r\n",
        "[pve:pending]",
        "[PVE:PENDING]\ndelete: swap\n",
        "#%\n#%G\n#%%41\n",
        "lxc.idmap: u 0 100000 65536\r\n",
        "lxc.x=\n",
        "lxc.mount.entry:    \n",
        "memory: 512\nmemory: 1024\n",
        "mp0: /a,mp=/b,mp=/c\n",
        "mp0: ,,,\n",
        "net0: name=eth0,ip=999.1.1.1/99\n",
        "rootfs: local:1,size=99999999999999999999T\n",
        "rootfs: local:1,size=1.99999999999999999999999G\n",
        "cores: +8\ncpulimit: 1e3\n",
        "tags: ;;;\n",
        "[snap]\nlxc.rootfs.path: /\n[snap]\n",
        "description: %0Aevil: 1\n",
        "a:\u{0}b\n",
        "\u{feff}arch: amd64\n",
        "startup: order=1,order=2\n",
        "dev0: /dev/../etc/shadow\n",
    ] {
        check(hostile);
    }
}
