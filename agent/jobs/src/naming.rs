//! Jellyfin library naming:
//! `Movies/Title (Year)/Title (Year).mkv`, `TV/Show/Season 01/Show S01E01.mkv`,
//! extras in a named folder beside the movie (`extras/`, `featurettes/`...).

use std::path::PathBuf;

/// What a file is, as far as the library layout cares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MediaName {
    pub title: String,
    pub year: Option<i64>,
    pub season: Option<i64>,
    pub episode: Option<i64>,
    /// Extras folder (`extras`, `featurettes`, `trailers`...) for bonus material.
    pub extra: Option<String>,
}

/// Extras folder names Jellyfin recognises.
pub const EXTRA_FOLDERS: &[&str] = &[
    "extras",
    "behind the scenes",
    "deleted scenes",
    "interviews",
    "scenes",
    "samples",
    "shorts",
    "featurettes",
    "clips",
    "other",
    "trailers",
];

/// Removes what cannot appear in a file name: path separators, control
/// characters (no newline may reach a path or a log), and leading dots.
pub fn clean(s: &str) -> String {
    let mapped: String = s
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => ' ',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    let collapsed = mapped.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed
        .trim_start_matches(['.', ' '])
        .trim_end()
        .to_string()
}

/// Turns a volume label like `THE_BIG_MOVIE` into `The Big Movie`.
pub fn title_from_label(label: &str) -> String {
    let words: Vec<String> = label
        .split(['_', ' ', '.'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let lower = w.to_lowercase();
            let mut c = lower.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        })
        .collect();
    clean(&words.join(" "))
}

/// Guesses title, year, season and episode from a file stem such as
/// `Film (2010)`, `Show S01E02`, `Show.S01E02.1080p`, or `Film`.
pub fn parse_stem(stem: &str) -> MediaName {
    let s = stem.replace(['.', '_'], " ");
    // TV: "... SxxEyy ..."
    let bytes = s.as_bytes();
    for i in 0..bytes.len() {
        if (bytes[i] == b'S' || bytes[i] == b's') && (i == 0 || bytes[i - 1] == b' ') {
            let rest = &s[i + 1..];
            let season: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            let after = &rest[season.len()..];
            if !season.is_empty() && (after.starts_with('E') || after.starts_with('e')) {
                let episode: String = after[1..]
                    .chars()
                    .take_while(|c| c.is_ascii_digit())
                    .collect();
                if !episode.is_empty() {
                    return MediaName {
                        title: clean(&s[..i]),
                        year: None,
                        season: season.parse().ok(),
                        episode: episode.parse().ok(),
                        extra: None,
                    };
                }
            }
        }
    }
    // Movie: "Title (Year)"
    if let (Some(open), Some(close)) = (s.rfind('('), s.rfind(')')) {
        if close == open + 5 {
            if let Ok(y) = s[open + 1..close].parse::<i64>() {
                if (1888..=2200).contains(&y) {
                    return MediaName {
                        title: clean(&s[..open]),
                        year: Some(y),
                        ..Default::default()
                    };
                }
            }
        }
    }
    MediaName {
        title: clean(&s),
        ..Default::default()
    }
}

/// Path below the library root. Errors name what is missing.
pub fn library_path(m: &MediaName, source_stem: &str) -> Result<PathBuf, String> {
    let title = clean(&m.title);
    if title.is_empty() {
        return Err(
            "no title: pass --title to `jobs add` or name the file `Title (Year).mkv`".into(),
        );
    }
    let movie = match m.year {
        Some(y) => format!("{title} ({y})"),
        None => title.clone(),
    };
    if let Some(season) = m.season {
        let Some(ep) = m.episode else {
            return Err("a season needs an episode number (--episode)".into());
        };
        return Ok(PathBuf::from("TV")
            .join(&title)
            .join(format!("Season {season:02}"))
            .join(format!("{title} S{season:02}E{ep:02}.mkv")));
    }
    if let Some(extra) = &m.extra {
        if !EXTRA_FOLDERS.contains(&extra.as_str()) {
            return Err(format!(
                "extra {extra:?} is not a Jellyfin extras folder; use one of: {}",
                EXTRA_FOLDERS.join(", ")
            ));
        }
        let name = clean(source_stem);
        if name.is_empty() {
            return Err("the extra's file name is empty".into());
        }
        return Ok(PathBuf::from("Movies")
            .join(&movie)
            .join(extra)
            .join(format!("{name}.mkv")));
    }
    Ok(PathBuf::from("Movies")
        .join(&movie)
        .join(format!("{movie}.mkv")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn movie_show_and_extra_paths() {
        let m = parse_stem("Film (2010)");
        assert_eq!(
            library_path(&m, "x").unwrap(),
            PathBuf::from("Movies/Film (2010)/Film (2010).mkv")
        );
        let t = parse_stem("Breaking.Bad.S01E03.1080p");
        assert_eq!(
            library_path(&t, "x").unwrap(),
            PathBuf::from("TV/Breaking Bad/Season 01/Breaking Bad S01E03.mkv")
        );
        let mut e = parse_stem("Film (2010)");
        e.extra = Some("featurettes".into());
        assert_eq!(
            library_path(&e, "Making of").unwrap(),
            PathBuf::from("Movies/Film (2010)/featurettes/Making of.mkv")
        );
    }

    #[test]
    fn hostile_names_cannot_escape_or_inject_lines() {
        let m = MediaName {
            title: "../../etc/x\nevil".into(),
            ..Default::default()
        };
        let p = library_path(&m, "x").unwrap();
        assert_eq!(p, PathBuf::from("Movies/etc x evil/etc x evil.mkv"));
        assert_eq!(title_from_label("THE_BIG_MOVIE"), "The Big Movie");
    }
}
