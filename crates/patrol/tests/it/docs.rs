//! Keeps the docs honest: every error code is in README's table, every source file says what it
//! is for.

use std::path::{Path, PathBuf};

use patrol_wire::ErrCode;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn every_error_code_is_in_the_readme_table() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for code in ErrCode::ALL {
        let row = format!("| {} | {} |", code.code(), code.message());
        assert!(readme.contains(&row), "README.md lacks the row {row:?}");
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_opens_with_a_doc_line() {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    assert!(files.len() > 10);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with("//!"),
            "{} does not open with a //! line",
            file.display()
        );
    }
}
