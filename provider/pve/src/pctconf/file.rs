//! Parsing and writing pct.conf files, byte-for-byte.
//!
//! The parser classifies every line the way `parse_pct_config` does but keeps its original
//! bytes, so [`PctConf::write`] reproduces the input exactly and an edit touches only the lines
//! it means to.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::encoding::{decode_text, encode_text};
use super::rawkeys::{check_raw_key, check_raw_line, RawLineError};
use crate::text::check_single_line;

static PENDING_RE: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)^\[pve:pending\][ \t\r\x0b\x0c]*$"));
static SNAPSHOT_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\[([a-z][a-z0-9_\-]+)\][ \t\r\x0b\x0c]*$"));
static RAW_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^(lxc\.[a-z0-9_\-\.]+)(?::|[ \t\r\x0b\x0c]*=)[ \t\r\x0b\x0c]*(.*?)[ \t\r\x0b\x0c]*$")
});
static DESCRIPTION_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^description:[ \t\r\x0b\x0c]*(.*[^ \t\r\x0b\x0c])[ \t\r\x0b\x0c]*$"));
static OPTION_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^([a-z][a-z_]*[0-9]*):[ \t\r\x0b\x0c]*(.+?)[ \t\r\x0b\x0c]*$"));

fn re(pattern: &str) -> Regex {
    // The patterns are constants checked by the unit tests; a failure here is a build defect.
    Regex::new(pattern).unwrap_or_else(|e| panic!("invalid built-in pattern {pattern}: {e}"))
}

/// Which section a line belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionKind {
    /// The current configuration (before any header).
    Main,
    /// `[pve:pending]`: changes waiting for a restart.
    Pending,
    /// `[name]`: a snapshot.
    Snapshot(String),
}

/// What one line is, as PVE reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    /// Empty or whitespace only.
    Blank,
    /// `#...`: one line of the description (decoded).
    Comment(String),
    /// `key: value`.
    Option { key: String, value: String },
    /// `lxc.key: value` or `lxc.key = value` with a whitelisted key.
    Raw { key: String, value: String },
    /// A line PVE would warn about and ignore; kept as it is.
    Invalid { reason: String },
}

/// One line with its original bytes (including the line terminator, if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub raw: String,
    pub kind: LineKind,
}

/// A section: its header line (none for the main section) and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub kind: SectionKind,
    pub header: Option<String>,
    pub lines: Vec<Line>,
}

/// The meaning of a section, as PVE's parser builds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SectionData {
    /// Concatenated description (each comment line plus `\n`).
    pub description: Option<String>,
    /// Options; a repeated key keeps its last value, as in PVE's hash.
    pub options: BTreeMap<String, String>,
    /// Raw `lxc.*` entries in order.
    pub lxc: Vec<(String, String)>,
}

/// A parsed pct.conf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PctConf {
    pub sections: Vec<Section>,
}

impl PctConf {
    /// Parses a file. Never fails: lines PVE would ignore are kept as [`LineKind::Invalid`].
    pub fn parse(text: &str) -> Self {
        let mut sections = vec![Section {
            kind: SectionKind::Main,
            header: None,
            lines: Vec::new(),
        }];
        for raw in text.split_inclusive('\n') {
            let line = raw.strip_suffix('\n').unwrap_or(raw);
            if PENDING_RE.is_match(line) {
                sections.push(Section {
                    kind: SectionKind::Pending,
                    header: Some(raw.to_string()),
                    lines: Vec::new(),
                });
                continue;
            }
            if let Some(c) = SNAPSHOT_RE.captures(line) {
                sections.push(Section {
                    kind: SectionKind::Snapshot(c[1].to_string()),
                    header: Some(raw.to_string()),
                    lines: Vec::new(),
                });
                continue;
            }
            let kind = classify(line);
            if let Some(last) = sections.last_mut() {
                last.lines.push(Line {
                    raw: raw.to_string(),
                    kind,
                });
            }
        }
        Self { sections }
    }

    /// The file bytes: exactly the input for an unmodified parse.
    pub fn write(&self) -> String {
        let mut out = String::new();
        for s in &self.sections {
            if let Some(h) = &s.header {
                out.push_str(h);
            }
            for l in &s.lines {
                out.push_str(&l.raw);
            }
        }
        out
    }

    /// The main section (an empty one if a caller removed it).
    pub fn main(&self) -> &Section {
        static EMPTY: Section = Section {
            kind: SectionKind::Main,
            header: None,
            lines: Vec::new(),
        };
        self.sections
            .first()
            .filter(|s| s.kind == SectionKind::Main)
            .unwrap_or(&EMPTY)
    }

    /// The raw `lxc.*` lines of the main section, in order.
    pub fn main_raw_lines(&self) -> Vec<(String, String)> {
        self.main().data().lxc
    }

    /// Replaces the raw `lxc.*` lines of the main section with `lines`, leaving every other
    /// line and section untouched. New lines go where PVE writes raw lines: after the last
    /// option or comment of the main section.
    pub fn replace_main_raw_lines(
        &mut self,
        lines: &[(String, String)],
    ) -> Result<(), RawLineError> {
        for (k, v) in lines {
            check_raw_line(k, v)?;
        }
        if self
            .sections
            .first()
            .is_none_or(|s| s.kind != SectionKind::Main)
        {
            self.sections.insert(
                0,
                Section {
                    kind: SectionKind::Main,
                    header: None,
                    lines: Vec::new(),
                },
            );
        }
        let main = &mut self.sections[0];
        main.lines
            .retain(|l| !matches!(l.kind, LineKind::Raw { .. }));
        let at = main
            .lines
            .iter()
            .rposition(|l| !matches!(l.kind, LineKind::Blank))
            .map_or(0, |i| i + 1);
        if at > 0 && !main.lines[at - 1].raw.ends_with('\n') {
            main.lines[at - 1].raw.push('\n');
        }
        let new_lines = lines.iter().map(|(k, v)| Line {
            raw: format!("{k}: {v}\n"),
            kind: LineKind::Raw {
                key: k.clone(),
                value: v.clone(),
            },
        });
        main.lines.splice(at..at, new_lines);
        // A header following a main section that ended without a newline needs one now.
        if self.sections.len() > 1 {
            let main = &mut self.sections[0];
            if let Some(last) = main.lines.last_mut() {
                if !last.raw.ends_with('\n') {
                    last.raw.push('\n');
                }
            }
        }
        Ok(())
    }

    /// Renders the file the way PVE's `write_pct_config` would write this content: description
    /// comments, sorted options, raw lines, then `[pve:pending]` and snapshots sorted by name.
    pub fn to_canonical_string(&self) -> Result<String, crate::text::LineError> {
        let mut out = String::new();
        let mut pending = None;
        let mut snapshots = BTreeMap::new();
        for s in &self.sections {
            match &s.kind {
                SectionKind::Main => out.push_str(&render_section(&s.data())?),
                SectionKind::Pending => pending = Some(s.data()),
                SectionKind::Snapshot(name) => {
                    snapshots.insert(name.clone(), s.data());
                }
            }
        }
        if let Some(p) = pending {
            let body = render_section(&p)?;
            if !body.is_empty() {
                out.push_str("\n[pve:pending]\n");
                out.push_str(&body);
            }
        }
        for (name, data) in snapshots {
            out.push_str(&format!("\n[{name}]\n"));
            out.push_str(&render_section(&data)?);
        }
        Ok(out)
    }
}

impl Section {
    /// The section's meaning, as PVE's parser builds it.
    pub fn data(&self) -> SectionData {
        let mut d = SectionData::default();
        let mut descr = String::new();
        for l in &self.lines {
            match &l.kind {
                LineKind::Comment(c) => {
                    descr.push_str(c);
                    descr.push('\n');
                }
                LineKind::Option { key, value } if key == "description" => {
                    descr.push_str(&decode_text(value))
                }
                LineKind::Option { key, value } => {
                    d.options.insert(key.clone(), value.clone());
                }
                LineKind::Raw { key, value } => d.lxc.push((key.clone(), value.clone())),
                LineKind::Blank | LineKind::Invalid { .. } => {}
            }
        }
        if !descr.is_empty() {
            d.description = Some(descr);
        }
        d
    }
}

impl SectionData {
    /// The section as a typed config (description and raw `lxc.*` lines included), the same
    /// model the API's GET config produces.
    pub fn to_config(&self) -> Result<crate::config::ContainerConfig, crate::config::ConfigError> {
        let mut c = crate::config::ContainerConfig::from_pairs(
            self.options.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )?;
        c.description = self.description.clone();
        c.lxc = self.lxc.clone();
        Ok(c)
    }
}

fn classify(line: &str) -> LineKind {
    if line.bytes().all(|b| b.is_ascii_whitespace()) {
        return LineKind::Blank;
    }
    if let Some(c) = line.strip_prefix('#') {
        return LineKind::Comment(decode_text(c));
    }
    if let Some(c) = RAW_RE.captures(line) {
        let key = c[1].to_string();
        return match check_raw_key(&key) {
            Ok(()) => LineKind::Raw {
                key,
                value: c[2].to_string(),
            },
            Err(e) => LineKind::Invalid {
                reason: e.to_string(),
            },
        };
    }
    if let Some(c) = DESCRIPTION_RE.captures(line) {
        return LineKind::Option {
            key: "description".to_string(),
            value: c[1].to_string(),
        };
    }
    if let Some(c) = OPTION_RE.captures(line) {
        return LineKind::Option {
            key: c[1].to_string(),
            value: c[2].to_string(),
        };
    }
    LineKind::Invalid {
        reason: "unable to parse config line".to_string(),
    }
}

fn render_section(d: &SectionData) -> Result<String, crate::text::LineError> {
    let mut out = String::new();
    if let Some(descr) = &d.description {
        // Perl's split drops trailing empty fields.
        let trimmed = descr.trim_end_matches('\n');
        if !trimmed.is_empty() {
            for l in trimmed.split('\n') {
                out.push('#');
                out.push_str(&encode_text(l));
                out.push('\n');
            }
        }
    }
    for (k, v) in &d.options {
        check_single_line(k, v)?;
        out.push_str(&format!("{k}: {v}\n"));
    }
    for (k, v) in &d.lxc {
        check_single_line(k, v)?;
        out.push_str(&format!("{k}: {v}\n"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRANSCODER: &str = "#Transcoder%3A Intel Arc\n#second line\narch: amd64\ncores: 8\nfeatures: nesting=1\nhostname: transcoder\nmemory: 8192\nmp0: /mnt/storage,mp=/mnt/storage\nnet0: bridge=vmbr0,firewall=0,hwaddr=BC:24:11:5E:2A:01,ip=dhcp,name=eth0,type=veth\nostype: debian\nparent: before-gpu\nrootfs: local-lvm:vm-201-disk-0,size=20G\nswap: 2048\nlxc.cgroup2.devices.allow: c 226:0 rwm\nlxc.cgroup2.devices.allow: c 226:128 rwm\nlxc.mount.entry: /dev/dri dev/dri none bind,optional,create=dir\n\n[pve:pending]\nmemory: 4096\ndelete: swap\n\n[before-gpu]\narch: amd64\nhostname: transcoder\nmemory: 8192\nsnaptime: 1700000000\nlxc.cgroup2.devices.allow: c 1:1 rwm\n";

    #[test]
    fn write_reproduces_input_exactly() {
        for text in [
            TRANSCODER,
            "",
            "\n\n",
            "arch: amd64",
            "garbage line\r\nlxc.rootfs.path = /x\n# c\n",
            "[snap]\nx: 1\n",
        ] {
            assert_eq!(PctConf::parse(text).write(), text);
        }
    }

    #[test]
    fn sections_and_data() {
        let c = PctConf::parse(TRANSCODER);
        assert_eq!(c.sections.len(), 3);
        assert_eq!(c.sections[1].kind, SectionKind::Pending);
        assert_eq!(
            c.sections[2].kind,
            SectionKind::Snapshot("before-gpu".into())
        );
        let d = c.main().data();
        assert_eq!(
            d.description.as_deref(),
            Some("Transcoder: Intel Arc\nsecond line\n")
        );
        assert_eq!(d.options["cores"], "8");
        assert_eq!(d.lxc.len(), 3);
        assert_eq!(c.sections[1].data().options["delete"], "swap");
        assert_eq!(
            c.sections[2].data().lxc,
            vec![("lxc.cgroup2.devices.allow".into(), "c 1:1 rwm".into())]
        );
    }

    #[test]
    fn replacing_raw_lines_touches_nothing_else() {
        let mut c = PctConf::parse(TRANSCODER);
        let new = vec![
            (
                "lxc.cgroup2.devices.allow".to_string(),
                "c 226:128 rwm".to_string(),
            ),
            (
                "lxc.mount.entry".to_string(),
                "/dev/dri/renderD128 dev/dri/renderD128 none bind,optional,create=file".to_string(),
            ),
        ];
        c.replace_main_raw_lines(&new).unwrap();
        let out = c.write();
        let expected = TRANSCODER.replace(
            "lxc.cgroup2.devices.allow: c 226:0 rwm\nlxc.cgroup2.devices.allow: c 226:128 rwm\nlxc.mount.entry: /dev/dri dev/dri none bind,optional,create=dir\n",
            "lxc.cgroup2.devices.allow: c 226:128 rwm\nlxc.mount.entry: /dev/dri/renderD128 dev/dri/renderD128 none bind,optional,create=file\n",
        );
        assert_eq!(out, expected);
        let again = PctConf::parse(&out);
        assert_eq!(again.main_raw_lines(), new);
        // The snapshot's own raw line is untouched.
        assert_eq!(again.sections[2].data().lxc.len(), 1);

        // Removing all raw lines.
        c.replace_main_raw_lines(&[]).unwrap();
        assert!(!c.write().contains("226:128"));
        assert!(c.write().contains("[before-gpu]\n"));
    }

    #[test]
    fn raw_lines_are_added_after_options_even_without_trailing_newline() {
        let mut c = PctConf::parse("arch: amd64\nhostname: x");
        c.replace_main_raw_lines(&[("lxc.idmap".into(), "u 0 100000 65536".into())])
            .unwrap();
        assert_eq!(
            c.write(),
            "arch: amd64\nhostname: x\nlxc.idmap: u 0 100000 65536\n"
        );
        let mut c = PctConf::parse("");
        c.replace_main_raw_lines(&[("lxc.idmap".into(), "u 0 100000 65536".into())])
            .unwrap();
        assert_eq!(c.write(), "lxc.idmap: u 0 100000 65536\n");
        let mut c = PctConf::parse("arch: amd64\n\n[snap]\nx: 1\n");
        c.replace_main_raw_lines(&[("lxc.idmap".into(), "u 0 100000 65536".into())])
            .unwrap();
        assert_eq!(
            c.write(),
            "arch: amd64\nlxc.idmap: u 0 100000 65536\n\n[snap]\nx: 1\n"
        );
    }

    #[test]
    fn replacement_is_validated() {
        let mut c = PctConf::parse(TRANSCODER);
        let before = c.clone();
        for (k, v) in [
            ("lxc.rootfs.path", "/tmp"),
            ("lxc.cgroup2.devices.allow", "c 1:1 rwm\nmp1: /etc,mp=/x"),
            ("lxc.cgroup2.devices.allow", "c 1:1 rwm\0"),
            ("memory", "1"),
        ] {
            assert!(
                c.replace_main_raw_lines(&[(k.into(), v.into())]).is_err(),
                "{k} {v:?}"
            );
        }
        assert_eq!(c, before, "a refused edit changes nothing");
    }

    #[test]
    fn pve_line_forms() {
        let c = PctConf::parse("lxc.mount.entry = /a b none bind 0 0  \nlxc.rootfs.path: /x\ndescription: hello%20world\nKey: x\n");
        let kinds: Vec<&LineKind> = c.main().lines.iter().map(|l| &l.kind).collect();
        assert_eq!(
            kinds[0],
            &LineKind::Raw {
                key: "lxc.mount.entry".into(),
                value: "/a b none bind 0 0".into()
            }
        );
        assert!(
            matches!(kinds[1], LineKind::Invalid { reason } if reason.contains("auto generated"))
        );
        assert_eq!(c.main().data().description.as_deref(), Some("hello world"));
        assert!(matches!(kinds[3], LineKind::Invalid { .. }));
    }

    #[test]
    fn sections_become_typed_configs() {
        let c = PctConf::parse(TRANSCODER)
            .main()
            .data()
            .to_config()
            .unwrap();
        assert_eq!(c.cores, Some(8));
        assert_eq!(c.mount_points[&0].volume, "/mnt/storage");
        assert_eq!(c.lxc.len(), 3);
        assert_eq!(
            c.description.as_deref(),
            Some("Transcoder: Intel Arc\nsecond line\n")
        );
        assert_eq!(
            c.extra.get("parent").map(String::as_str),
            Some("before-gpu")
        );
    }

    #[test]
    fn canonical_form_is_stable() {
        let c = PctConf::parse(TRANSCODER);
        let once = c.to_canonical_string().unwrap();
        let twice = PctConf::parse(&once).to_canonical_string().unwrap();
        assert_eq!(once, twice);
        assert!(once.starts_with("#Transcoder%3A Intel Arc\n#second line\narch: amd64\n"));
        assert!(once.contains("\n[pve:pending]\ndelete: swap\nmemory: 4096\n\n[before-gpu]\n"));
    }
}
