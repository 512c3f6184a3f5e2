//! Files that hold PHI are readable and writable by their owner only
//! (mode 0600), like the signing key: the SQLite database with its `-wal`
//! and `-shm` files, and what `kapchart export --output` writes.

use std::fs::{File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use crate::error::StoreError;

/// The mode of every file that holds PHI.
pub const PRIVATE_MODE: u32 = 0o600;

/// Opens `path` for writing, emptied, created with mode 0600 when missing;
/// an existing file is set to 0600 through the open handle before anything
/// is written to it.
///
/// # Errors
/// The file cannot be opened or its mode set.
pub fn create(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(PRIVATE_MODE)
        .open(path)?;
    file.set_permissions(Permissions::from_mode(PRIVATE_MODE))?;
    Ok(file)
}

/// Makes the SQLite database at `path` private before SQLite opens it:
/// created empty with mode 0600 when missing (SQLite then writes its
/// header), set to 0600 when its mode lets anyone but its owner in. SQLite
/// creates the `-wal` and `-shm` files with the database file's mode; any
/// left from before are set to 0600 as well.
pub(crate) fn database(path: &Path) -> Result<(), StoreError> {
    let failed = |what: &str, e: io::Error| {
        StoreError::Connect(format!("cannot {what} the database file: {e}"))
    };
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE_MODE)
        .open(path)
    {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(failed("create", e)),
    }
    for file in [
        path.to_path_buf(),
        suffixed(path, "-wal"),
        suffixed(path, "-shm"),
    ] {
        restrict(&file).map_err(|e| failed("make private", e))?;
    }
    Ok(())
}

/// `path` with `suffix` appended to its file name, as SQLite names the
/// database's companions.
fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Sets `path` to 0600 when its mode lets its group or others in, and
/// says whether it did; a missing file is fine.
///
/// # Errors
/// The file's mode cannot be read or set.
pub fn restrict(path: &Path) -> io::Result<bool> {
    let mode = match std::fs::metadata(path) {
        Ok(m) => m.permissions().mode(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    if mode & 0o077 == 0 {
        return Ok(false);
    }
    std::fs::set_permissions(path, Permissions::from_mode(PRIVATE_MODE))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("exists")
            .permissions()
            .mode()
            & 0o777
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kapchart-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn a_database_file_is_created_private_and_a_loose_one_tightened() {
        let dir = temp_dir("private-db");
        let db = dir.join("p.db");
        database(&db).expect("created");
        assert_eq!(mode(&db), 0o600);
        for file in [&db, &suffixed(&db, "-wal"), &suffixed(&db, "-shm")] {
            std::fs::write(file, b"").expect("write");
            std::fs::set_permissions(file, Permissions::from_mode(0o644)).expect("chmod");
        }
        database(&db).expect("tightened");
        for name in ["p.db", "p.db-wal", "p.db-shm"] {
            assert_eq!(mode(&dir.join(name)), 0o600, "{name}");
        }
        let missing_dir = dir.join("no/such/dir/p.db");
        let e = database(&missing_dir).expect_err("no directory");
        assert!(
            e.to_string()
                .starts_with("cannot connect to the database: cannot create the database file"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_output_file_ends_private_whether_new_or_not() {
        let dir = temp_dir("private-out");
        let new = dir.join("new.json");
        drop(create(&new).expect("created"));
        assert_eq!(mode(&new), 0o600);
        let old = dir.join("old.json");
        std::fs::write(&old, b"older and longer").expect("write");
        std::fs::set_permissions(&old, Permissions::from_mode(0o644)).expect("chmod");
        io::Write::write_all(&mut create(&old).expect("opened"), b"new").expect("write");
        assert_eq!(mode(&old), 0o600);
        assert_eq!(std::fs::read(&old).expect("read"), b"new");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
