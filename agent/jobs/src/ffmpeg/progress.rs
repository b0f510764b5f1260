//! `ffmpeg -progress pipe:1` parsing: blocks of `key=value` lines ending in
//! `progress=continue|end`. `out_time_us` is used (`out_time_ms` is, despite its
//! name, the same microsecond value).

/// One progress block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Update {
    /// Seconds of output written so far.
    pub out_time: f64,
    /// Encoder frames per second.
    pub fps: f64,
    /// Whether this was the final block.
    pub end: bool,
}

/// Accumulates lines into [`Update`]s.
#[derive(Debug, Default)]
pub struct Parser {
    out_time_us: Option<i64>,
    fps: f64,
}

impl Parser {
    /// Feeds one line; returns an update at the end of each block.
    pub fn feed(&mut self, line: &str) -> Option<Update> {
        let (key, value) = line.split_once('=')?;
        let value = value.trim();
        match key.trim() {
            "out_time_us" => self.out_time_us = value.parse().ok().or(self.out_time_us),
            "fps" => self.fps = value.parse().unwrap_or(self.fps),
            "progress" => {
                return Some(Update {
                    out_time: self.out_time_us.unwrap_or(0).max(0) as f64 / 1e6,
                    fps: self.fps,
                    end: value == "end",
                })
            }
            _ => {}
        }
        None
    }
}

/// Fraction done (0..=1) of an encode of `duration` seconds.
pub fn fraction(update: &Update, duration: f64) -> f64 {
    if update.end {
        return 1.0;
    }
    if duration <= 0.0 {
        return 0.0;
    }
    (update.out_time / duration).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real output of Debian's ffmpeg 5.1 (two blocks).
    const SAMPLE: &str = "frame=1\nfps=0.00\nstream_0_0_q=0.0\nbitrate=  51.3kbits/s\ntotal_size=744\nout_time_us=116000\nout_time_ms=116000\nout_time=00:00:00.116000\ndup_frames=0\ndrop_frames=0\nspeed=36.2x\nprogress=continue\nframe=120\nfps=24.50\nstream_0_0_q=-1.0\nbitrate= 799.4kbits/s\ntotal_size=503397\nout_time_us=5038000\nout_time_ms=5038000\nout_time=00:00:05.038000\ndup_frames=0\ndrop_frames=0\nspeed=31.9x\nprogress=end\n";

    #[test]
    fn parses_blocks_into_fraction_and_fps() {
        let mut p = Parser::default();
        let ups: Vec<Update> = SAMPLE.lines().filter_map(|l| p.feed(l)).collect();
        assert_eq!(ups.len(), 2);
        assert!((ups[0].out_time - 0.116).abs() < 1e-9);
        assert!(!ups[0].end);
        assert!((fraction(&ups[0], 5.0) - 0.0232).abs() < 1e-6);
        assert!(ups[1].end);
        assert_eq!(ups[1].fps, 24.5);
        assert_eq!(fraction(&ups[1], 5.0), 1.0);
    }

    #[test]
    fn na_values_do_not_reset_progress() {
        let mut p = Parser::default();
        p.feed("out_time_us=2000000");
        p.feed("progress=continue");
        p.feed("out_time_us=N/A");
        let u = p.feed("progress=continue").expect("block end");
        assert_eq!(u.out_time, 2.0);
    }
}
