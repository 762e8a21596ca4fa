//! The test corpus (tests/corpus/ical, copied from the project's shared corpus; see
//! tests/corpus/SOURCES.md) and small helpers.

// Each test file uses a part of this.
#![allow(dead_code)]

use innkeep_channels::{Block, Window, nights, runs};
use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use std::path::PathBuf;

/// The corpus folder; a missing corpus fails the test rather than skipping it.
pub fn corpus_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/ical");
    assert!(dir.is_dir(), "the iCalendar corpus is missing at {}", dir.display());
    dir
}

/// The text of `corpus/ical/<name>`.
pub fn corpus_file(name: &str) -> String {
    let path = corpus_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Every `*.ics` file of the corpus, sorted by name.
pub fn corpus_files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "ics"))
        .map(|path| (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&path).unwrap()))
        .collect();
    files.sort();
    files
}

/// 2011-01-01 to 2028-01-01 in `zone`: wide enough for every corpus file.
pub fn wide_window(zone: &str) -> Window {
    Window { zone: TimeZone::get(zone).unwrap(), from: date(2011, 1, 1), until: date(2028, 1, 1) }
}

/// The nights of `blocks` as `[start, end)` runs written `YYYY-MM-DD..YYYY-MM-DD`.
pub fn night_runs(blocks: &[Block]) -> Vec<String> {
    runs(nights(blocks)).into_iter().map(|(start, end)| format!("{start}..{end}")).collect()
}

/// Every night in `[start, end)`.
pub fn every_night(start: Date, end: Date) -> Vec<Date> {
    start.series(jiff::Span::new().days(1)).take_while(|d| *d < end).collect()
}
