//! pvelxc-jobs: the media job runner of `pvelxc-agent`.
//!
//! Disc → rip → transcode → verify → publish, with a persistent SQLite queue so a
//! crash or `kill -9` never loses a rip and never leaves a partial file in the
//! library. The daemon and the CLI share this library; the `pvelxc-agent` binary
//! calls [`cli::run`] for `pvelxc-agent jobs ...`.

pub mod cli;
pub mod config;
pub mod daemon;
pub mod db;
pub mod disc;
pub mod error;
pub mod ffmpeg;
pub mod fsutil;
pub mod makemkv;
pub mod naming;
pub mod notify;
pub mod privilege;
pub mod process;
pub mod rip;
pub mod stages;
pub mod status;
pub mod verify;
pub mod watch;
