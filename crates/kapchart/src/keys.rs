//! The checkpoint signing key: an Ed25519 secret kept in a file outside the
//! database (so that whoever can rewrite the database cannot re-sign it).
//!
//! The file holds the 32-byte secret as 64 lowercase hex digits and a
//! newline. It is created on first use, readable by its owner only.
//! The file's handling is kapchart-store's `signing_keys`, shared with
//! the admin's pages; rotation is `kapchart checkpoint --rotate-key`.

use std::path::Path;

use anyhow::Context as _;

/// Reads the secret key, or `None` if the file does not exist. A key file
/// that others may read or write is made the owner's alone (with a
/// warning): the key must never be readable by anyone else.
pub fn load(path: &Path) -> anyhow::Result<Option<[u8; 32]>> {
    kapchart_store::signing_keys::load_key_file(path)
        .with_context(|| format!("reading the key file {}", path.display()))
}

/// Reads the secret key, creating the file with a new random key when it
/// does not exist.
pub fn load_or_create(path: &Path) -> anyhow::Result<[u8; 32]> {
    kapchart_store::signing_keys::load_or_create_key_file(path)
        .with_context(|| format!("the key file {}", path.display()))
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
