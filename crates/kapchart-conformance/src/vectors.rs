//! Shared pieces: fatal errors, per-suite tallies, reading vector files.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// An error that stops the program with exit status 2.
#[derive(Debug)]
pub enum Fatal {
    /// The test data folder does not exist.
    MissingFolder(PathBuf),
    /// A file or folder could not be read.
    Io(PathBuf, std::io::Error),
    /// A vector file is not what the suite expects.
    Malformed(PathBuf, String),
    /// A suite folder holds no vectors.
    NoVectors(PathBuf),
}

impl fmt::Display for Fatal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fatal::MissingFolder(p) => write!(f, "test data folder {} not found", p.display()),
            Fatal::Io(p, e) => write!(f, "cannot read {}: {e}", p.display()),
            Fatal::Malformed(p, why) => write!(f, "malformed vector {}: {why}", p.display()),
            Fatal::NoVectors(p) => write!(f, "no vectors found in {}", p.display()),
        }
    }
}

/// The outcome of one suite.
#[derive(Debug)]
pub struct Tally {
    /// The suite's name, one word.
    pub name: &'static str,
    /// Vectors that behaved as expected.
    pub passed: usize,
    /// Vectors refused for holding numbers outside the integer policy, if
    /// the suite can refuse.
    pub refused: Option<usize>,
    /// Vectors that did not.
    pub failed: usize,
}

impl Tally {
    /// A tally with nothing counted yet.
    pub fn new(name: &'static str, can_refuse: bool) -> Self {
        Tally {
            name,
            passed: 0,
            refused: can_refuse.then_some(0),
            failed: 0,
        }
    }

    /// The one-line summary for stdout.
    pub fn summary(&self) -> String {
        match self.refused {
            Some(refused) => format!(
                "{}: {} passed, {} failed, {refused} refused (floats)",
                self.name, self.passed, self.failed
            ),
            None => format!(
                "{}: {} passed, {} failed",
                self.name, self.passed, self.failed
            ),
        }
    }
}

/// Reads a whole file.
pub fn read(path: &Path) -> Result<Vec<u8>, Fatal> {
    fs::read(path).map_err(|e| Fatal::Io(path.to_owned(), e))
}

/// The `*.json` files under `dir`, recursively, sorted by path.
pub fn json_files(dir: &Path) -> Result<Vec<PathBuf>, Fatal> {
    let mut out = Vec::new();
    collect(dir, &mut out)?;
    out.sort();
    if out.is_empty() {
        return Err(Fatal::NoVectors(dir.to_owned()));
    }
    Ok(out)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Fatal> {
    let entries = fs::read_dir(dir).map_err(|e| Fatal::Io(dir.to_owned(), e))?;
    for entry in entries {
        let path = entry.map_err(|e| Fatal::Io(dir.to_owned(), e))?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|x| x == "json") {
            out.push(path);
        }
    }
    Ok(())
}
