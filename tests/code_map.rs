//! The README's code map names every module of both crates, so that a newcomer finds
//! each file there (issue 21). A file is named by its file name; a `mod.rs` by its
//! folder. No PostgreSQL needed.

use std::fs;
use std::path::{Path, PathBuf};

fn code_map() -> String {
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("read README.md");
    let start = readme.find("## Code map").expect("a Code map section");
    let block = &readme[start..];
    let open = block.find("```").expect("the code map block opens");
    let close = block[open + 3..]
        .find("```")
        .expect("the code map block closes");
    block[open + 3..open + 3 + close].to_string()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_code_map_names_every_module() {
    let map = code_map();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("actors/src"), &mut files);
    assert!(files.len() > 50, "found only {} files", files.len());
    let missing: Vec<String> = files
        .iter()
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let wanted = if name == "mod.rs" {
                let folder = path.parent().unwrap().file_name().unwrap();
                format!("{}/", folder.to_string_lossy())
            } else {
                name
            };
            !map.contains(&wanted)
        })
        .map(|path| path.strip_prefix(root).unwrap().display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "the README code map does not name: {missing:?}"
    );
}
