//! The test corpus: real statements and Stripe objects written by others (tests/corpus,
//! copied from the project's shared corpus; see tests/corpus/SOURCES.md).

// Each test file uses a part of this.
#![allow(dead_code)]

use std::path::PathBuf;

/// The corpus folder; a missing corpus fails the test rather than skipping it.
pub fn corpus_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    assert!(dir.is_dir(), "the shared corpus is missing at {}", dir.display());
    dir
}

/// The bytes of `corpus/<relative>`.
pub fn corpus_file(relative: &str) -> Vec<u8> {
    let path = corpus_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Every `*.xml` file directly in `corpus/<folder>`, sorted by name.
pub fn corpus_xml_files(folder: &str) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(corpus_dir().join(folder))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "xml"))
        .map(|path| (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap()))
        .collect();
    files.sort();
    files
}
