//! ffmpeg and ffprobe: probing, the profile-to-argv mapping, progress parsing,
//! and hardware encoder selection.

pub mod args;
pub mod hwaccel;
pub mod probe;
pub mod progress;
