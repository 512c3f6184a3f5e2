//! The checkpoint signing key: an Ed25519 secret kept in a file outside the
//! database (so that whoever can rewrite the database cannot re-sign it).
//!
//! The file holds the 32-byte secret as 64 lowercase hex digits and a
//! newline. It is created on first use, readable by its owner only.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use anyhow::{Context as _, bail};

/// Reads the secret key, or `None` if the file does not exist. A key file
/// that others may read or write is made the owner's alone (with a
/// warning): the key must never be readable by anyone else.
pub fn load(path: &Path) -> anyhow::Result<Option<[u8; 32]>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e).with_context(|| format!("reading the key file {}", path.display()));
        }
    };
    let bytes = hex::decode(text.trim()).ok().filter(|b| b.len() == 32);
    let Some(bytes) = bytes else {
        bail!(
            "the key file {} does not hold 64 hex digits",
            path.display()
        );
    };
    let mut key = [0_u8; 32];
    key.copy_from_slice(&bytes);
    // A key that others could read or write is made the owner's alone.
    if kapchart_store::private_file::restrict(path)
        .with_context(|| format!("making the key file {} private", path.display()))?
    {
        tracing::warn!(
            path = %path.display(),
            "the key file was readable or writable by others; it is now 0600"
        );
    }
    Ok(Some(key))
}

/// Reads the secret key, creating the file with a new random key when it
/// does not exist.
pub fn load_or_create(path: &Path) -> anyhow::Result<[u8; 32]> {
    if let Some(key) = load(path)? {
        return Ok(key);
    }
    let mut key = [0_u8; 32];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness for a new key: {e}"))?;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating the key file {}", path.display()))?;
    writeln!(file, "{}", hex::encode(key))
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing the key file {}", path.display()))?;
    tracing::info!(path = %path.display(), "created a new checkpoint signing key");
    Ok(key)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn a_key_file_open_to_others_is_made_private_when_read() {
        let dir = std::env::temp_dir().join(format!("kapchart-keys-open-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("open.key");
        std::fs::write(&path, format!("{}\n", "ab".repeat(32))).expect("written");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert_eq!(load(&path).expect("read"), Some([0xab; 32]));
        let mode = std::fs::metadata(&path)
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn created_once_then_read_back() {
        let dir = std::env::temp_dir().join(format!("kapchart-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("k.key");
        let _ = std::fs::remove_file(&path);
        assert_eq!(load(&path).expect("absent is fine"), None);
        let key = load_or_create(&path).expect("created");
        assert_eq!(load_or_create(&path).expect("read back"), key);
        let mode = std::fs::metadata(&path).expect("exists").permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
        std::fs::write(&path, "not hex").expect("overwrite");
        assert!(load(&path).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
