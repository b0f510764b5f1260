//! MakeMKV robot-mode (`makemkvcon -r`) output parsing.
//!
//! Lines are `TYPE:field,field,...`; strings are quoted with backslash escapes.
//! Success is judged from the "N titles saved, M failed" messages, never from the
//! exit code (makemkvcon exits 0 when titles fail), and an expired key or version
//! is reported as such.

use std::collections::BTreeMap;

/// MSG codes the runner acts on.
pub mod code {
    /// "Failed to save title %1 to file %2".
    pub const TITLE_SAVE_FAILED: u32 = 5003;
    /// "%1 titles saved, %2 failed".
    pub const DONE_PARTIAL: u32 = 5004;
    /// "%1 titles saved".
    pub const DONE: u32 = 5005;
    /// "Failed to open disc".
    pub const OPEN_FAILED: u32 = 5010;
    /// "This application version is too old" (demo key expired).
    pub const VERSION_TOO_OLD: u32 = 5021;
    /// "Copy complete. %1 titles saved."
    pub const COPY_DONE: u32 = 5036;
    /// "Copy complete. %1 titles saved, %2 failed."
    pub const COPY_DONE_PARTIAL: u32 = 5037;
    /// Evaluation period expired.
    pub const EVAL_EXPIRED: u32 = 5052;
    /// Shareware/registration unavailable.
    pub const KEY_UNAVAILABLE: u32 = 5055;
}

/// TINFO/SINFO/CINFO attribute ids (apdefs.h `AP_ItemAttributeId`).
pub mod attr {
    pub const TYPE: u32 = 1;
    pub const NAME: u32 = 2;
    pub const LANG_CODE: u32 = 3;
    pub const CHAPTER_COUNT: u32 = 8;
    pub const DURATION: u32 = 9;
    pub const DISK_SIZE_BYTES: u32 = 11;
    pub const OUTPUT_FILE_NAME: u32 = 27;
    pub const VOLUME_NAME: u32 = 32;
}

/// One parsed robot line.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Msg {
        code: u32,
        flags: u32,
        text: String,
        params: Vec<String>,
    },
    Drv {
        index: u32,
        state: u32,
        flags: u32,
        drive: String,
        disc: String,
        device: String,
    },
    Tcount(u32),
    Cinfo {
        id: u32,
        value: String,
    },
    Tinfo {
        title: u32,
        id: u32,
        value: String,
    },
    Sinfo {
        title: u32,
        stream: u32,
        id: u32,
        value: String,
    },
    /// Current sub-operation title.
    Prgc {
        name: String,
    },
    /// Total operation title.
    Prgt {
        name: String,
    },
    /// Progress: `current/max` of the sub-operation, `total/max` of the operation.
    Prgv {
        current: u64,
        total: u64,
        max: u64,
    },
    /// A prefix this parser does not know; kept, never an error.
    Other(String),
}

/// Splits the fields after `TYPE:` honouring quotes and backslash escapes.
fn fields(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn num<T: std::str::FromStr + Default>(f: &[String], i: usize) -> Option<T> {
    f.get(i)?.trim().parse().ok()
}

fn text(f: &[String], i: usize) -> String {
    f.get(i).cloned().unwrap_or_default()
}

/// Parses one line; `None` for an empty or malformed line of a known type.
pub fn parse_line(line: &str) -> Option<Line> {
    let line = line.trim_end_matches(['\r', '\n']);
    let (kind, rest) = line.split_once(':')?;
    let f = fields(rest);
    Some(match kind {
        "MSG" => Line::Msg {
            code: num(&f, 0)?,
            flags: num(&f, 1).unwrap_or(0),
            text: text(&f, 3),
            params: f.iter().skip(5).cloned().collect(),
        },
        "DRV" => Line::Drv {
            index: num(&f, 0)?,
            state: num(&f, 1)?,
            flags: num(&f, 3).unwrap_or(0),
            drive: text(&f, 4),
            disc: text(&f, 5),
            device: text(&f, 6),
        },
        "TCOUNT" | "TCOUT" => Line::Tcount(num(&f, 0)?),
        "CINFO" => Line::Cinfo {
            id: num(&f, 0)?,
            value: text(&f, 2),
        },
        "TINFO" => Line::Tinfo {
            title: num(&f, 0)?,
            id: num(&f, 1)?,
            value: text(&f, 3),
        },
        "SINFO" => Line::Sinfo {
            title: num(&f, 0)?,
            stream: num(&f, 1)?,
            id: num(&f, 2)?,
            value: text(&f, 4),
        },
        "PRGC" => Line::Prgc { name: text(&f, 2) },
        "PRGT" => Line::Prgt { name: text(&f, 2) },
        "PRGV" => Line::Prgv {
            current: num(&f, 0)?,
            total: num(&f, 1)?,
            max: num(&f, 2)?,
        },
        _ => Line::Other(line.to_string()),
    })
}

/// A drive as listed by `DRV` lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Drive {
    pub index: u32,
    /// 0 empty, 1 open, 2 media inserted, 3 loading, 256 no drive.
    pub state: u32,
    pub flags: u32,
    pub drive: String,
    pub disc: String,
    pub device: String,
}

/// A title from `TINFO` lines.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Title {
    pub index: u32,
    pub seconds: u64,
    pub chapters: u32,
    pub bytes: u64,
    pub output_file: String,
    /// Stream languages from `SINFO` attribute 3.
    pub languages: Vec<String>,
}

/// Everything one makemkvcon run said.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub drives: Vec<Drive>,
    pub disc_name: Option<String>,
    pub volume_name: Option<String>,
    pub titles: BTreeMap<u32, Title>,
    pub messages: Vec<(u32, String)>,
    /// (saved, failed) from the last completion message.
    pub result: Option<(u32, u32)>,
    /// Text of the key/version expiry message, if any.
    pub key_expired: Option<String>,
    /// Fraction done of the whole operation.
    pub progress: f64,
}

/// `H:MM:SS` to seconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    let parts: Vec<u64> = s
        .split(':')
        .map(|p| p.trim().parse().ok())
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        [h, m, s] => Some(h * 3600 + m * 60 + s),
        [m, s] => Some(m * 60 + s),
        [s] => Some(*s),
        _ => None,
    }
}

impl Report {
    /// Folds one line into the report.
    pub fn feed(&mut self, line: &Line) {
        match line {
            Line::Drv {
                index,
                state,
                flags,
                drive,
                disc,
                device,
            } => self.drives.push(Drive {
                index: *index,
                state: *state,
                flags: *flags,
                drive: drive.clone(),
                disc: disc.clone(),
                device: device.clone(),
            }),
            Line::Cinfo { id, value } => match *id {
                attr::NAME => self.disc_name = Some(value.clone()),
                attr::VOLUME_NAME => self.volume_name = Some(value.clone()),
                _ => {}
            },
            Line::Tinfo { title, id, value } => {
                let t = self.titles.entry(*title).or_insert_with(|| Title {
                    index: *title,
                    ..Default::default()
                });
                match *id {
                    attr::DURATION => t.seconds = parse_duration(value).unwrap_or(0),
                    attr::CHAPTER_COUNT => t.chapters = value.parse().unwrap_or(0),
                    attr::DISK_SIZE_BYTES => t.bytes = value.parse().unwrap_or(0),
                    attr::OUTPUT_FILE_NAME => t.output_file = value.clone(),
                    _ => {}
                }
            }
            Line::Sinfo {
                title, id, value, ..
            } if *id == attr::LANG_CODE => {
                let t = self.titles.entry(*title).or_insert_with(|| Title {
                    index: *title,
                    ..Default::default()
                });
                t.languages.push(value.clone());
            }
            Line::Msg {
                code, text, params, ..
            } => {
                self.messages.push((*code, text.clone()));
                let p = |i: usize| params.get(i).and_then(|v| v.parse::<u32>().ok());
                match *code {
                    code::DONE | code::COPY_DONE => self.result = Some((p(0).unwrap_or(0), 0)),
                    code::DONE_PARTIAL | code::COPY_DONE_PARTIAL => {
                        self.result = Some((p(0).unwrap_or(0), p(1).unwrap_or(0)))
                    }
                    code::VERSION_TOO_OLD | code::EVAL_EXPIRED | code::KEY_UNAVAILABLE => {
                        self.key_expired = Some(text.clone())
                    }
                    _ => {}
                }
            }
            Line::Prgv { total, max, .. } if *max > 0 => {
                self.progress = (*total as f64 / *max as f64).clamp(0.0, 1.0)
            }
            _ => {}
        }
    }

    /// Parses a whole transcript.
    pub fn from_text(text: &str) -> Self {
        let mut r = Report::default();
        for l in text.lines().filter_map(parse_line) {
            r.feed(&l);
        }
        r
    }

    /// MakeMKV's own index of the drive whose device is `device` (`disc:N`).
    /// Index order is not `/dev/srN` order, so it is looked up every time.
    pub fn drive_index(&self, device: &str) -> Option<u32> {
        self.drives
            .iter()
            .find(|d| d.device == device)
            .map(|d| d.index)
    }

    /// The main feature: the longest title at least `min_seconds` long; ties go
    /// to more chapters, then more bytes, then the lower index.
    pub fn main_feature(&self, min_seconds: u64) -> Option<&Title> {
        self.titles
            .values()
            .filter(|t| t.seconds >= min_seconds)
            .max_by(|a, b| {
                (a.seconds, a.chapters, a.bytes, std::cmp::Reverse(a.index)).cmp(&(
                    b.seconds,
                    b.chapters,
                    b.bytes,
                    std::cmp::Reverse(b.index),
                ))
            })
    }

    /// Whether a `mkv` run saved everything: an explicit completion message with
    /// at least one title saved and none failed, and no key expiry.
    pub fn outcome(&self) -> Result<u32, RipFailure> {
        if let Some(m) = &self.key_expired {
            return Err(RipFailure::KeyExpired(m.clone()));
        }
        match self.result {
            Some((saved, 0)) if saved > 0 => Ok(saved),
            Some((saved, failed)) => Err(RipFailure::Titles { saved, failed }),
            None => {
                let last = self
                    .messages
                    .last()
                    .map(|(_, t)| t.clone())
                    .unwrap_or_default();
                Err(RipFailure::NoResult(last))
            }
        }
    }
}

/// Why a MakeMKV rip is not a success.
#[derive(Debug, Clone, PartialEq)]
pub enum RipFailure {
    KeyExpired(String),
    Titles { saved: u32, failed: u32 },
    NoResult(String),
}

impl std::fmt::Display for RipFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RipFailure::KeyExpired(m) => write!(f, "key expired: {m}"),
            RipFailure::Titles { saved, failed } => {
                write!(f, "{saved} titles saved, {failed} failed")
            }
            RipFailure::NoResult(last) => write!(
                f,
                "makemkvcon ended without a completion message (last message: {last:?})"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_keep_commas_and_escaped_quotes() {
        let l = parse_line(r#"MSG:5014,131072,2,"Saving 4 titles into directory file:///a, \"b\"","Saving %1 titles into directory %2","4","file:///a, \"b\"""#).unwrap();
        match l {
            Line::Msg {
                code, text, params, ..
            } => {
                assert_eq!(code, 5014);
                assert_eq!(text, r#"Saving 4 titles into directory file:///a, "b""#);
                assert_eq!(
                    params,
                    vec!["4".to_string(), r#"file:///a, "b""#.to_string()]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_prefixes_are_kept() {
        assert!(matches!(
            parse_line("HSH:0,00005.m2ts,x,1"),
            Some(Line::Other(_))
        ));
    }

    #[test]
    fn durations_are_h_mm_ss() {
        assert_eq!(parse_duration("0:58:06"), Some(3486));
        assert_eq!(parse_duration("1:02:03"), Some(3723));
    }
}
