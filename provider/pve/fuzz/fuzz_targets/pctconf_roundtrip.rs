//! pct.conf parser/writer and config model under hostile input.
//!
//! Properties: parsing never panics; writing an unmodified parse reproduces the input byte for
//! byte; the canonical rendering is a fixed point (parse -> write -> parse is stable) and keeps
//! every section's meaning; replacing the main section's raw lines with themselves changes no
//! other section; typed configs that parse render to parameters that parse back to the same
//! config.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pvelxc_pve::config::ContainerConfig;
use pvelxc_pve::pctconf::{PctConf, SectionKind};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let conf = PctConf::parse(text);
    assert_eq!(conf.write(), text, "unmodified parse must write the input back");

    if let Ok(canonical) = conf.to_canonical_string() {
        let reparsed = PctConf::parse(&canonical);
        assert_eq!(reparsed.to_canonical_string().as_deref(), Ok(canonical.as_str()), "canonical form is stable");
        let main_a = conf.main().data();
        let main_b = reparsed.main().data();
        assert_eq!(main_a.options, main_b.options);
        assert_eq!(main_a.lxc, main_b.lxc);
        assert_eq!(
            main_a.description.as_deref().map(|d| d.trim_end_matches('\n')).filter(|d| !d.is_empty()),
            main_b.description.as_deref().map(|d| d.trim_end_matches('\n')).filter(|d| !d.is_empty())
        );
    }

    let raw = conf.main_raw_lines();
    let mut edited = conf.clone();
    if edited.replace_main_raw_lines(&raw).is_ok() {
        let again = PctConf::parse(&edited.write());
        assert_eq!(again.main_raw_lines(), raw, "raw lines survive a rewrite");
        assert_eq!(again.main().data().options, conf.main().data().options, "options untouched");
        let others = |c: &PctConf| -> Vec<(SectionKind, String)> {
            c.sections.iter().skip(1).map(|s| (s.kind.clone(), format!("{:?}", s.data()))).collect()
        };
        assert_eq!(others(&again), others(&conf), "other sections untouched");
    }

    let options = conf.main().data().options;
    if let Ok(cfg) = ContainerConfig::from_pairs(options) {
        if let Ok(params) = cfg.to_params() {
            let back = ContainerConfig::from_pairs(params).expect("rendered parameters parse");
            let mut expected = cfg.clone();
            expected.lock = None;
            expected.template = None;
            expected.digest = None;
            expected.unused.clear();
            assert_eq!(back.normalized(), expected.normalized(), "render -> parse is lossless");
        }
    }
});
