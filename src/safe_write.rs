//! Rewriting a user's file safely (`--in-place`, `completion --install`).
//!
//! A file is read once ([`Snapshot::read`]), and the new text replaces it only as a whole and
//! only if it is still what was read: a temporary file with a random name is created
//! exclusively (never through a planted link) in the target's own directory, given the
//! original's mode (and owner, where the process may), written, synced to disk and renamed
//! over the target, then the directory is synced. A symlinked FILE is written through
//! deliberately: the link stays a link and its target gets the new text. A read-only file is
//! refused, as is one changed by someone else since it was read (two runs on one file each
//! refuse or succeed; none loses the other's change).

use std::io::Write;
use std::path::{Path, PathBuf};

/// A file as read: where its bytes really live, its text, and what identifies this version.
pub struct Snapshot {
    /// The path given, for messages.
    pub shown: String,
    /// The file itself, links resolved.
    pub target: PathBuf,
    pub text: String,
    identity: Identity,
}

/// What changes when a file is replaced or rewritten by anyone: its inode, size and mtime.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl Identity {
    fn of(meta: &std::fs::Metadata) -> Identity {
        #[cfg(unix)]
        let (dev, ino) = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let (dev, ino) = (0, 0);
        Identity {
            dev,
            ino,
            len: meta.len(),
            modified: meta.modified().ok(),
        }
    }
}

/// Why a file was not written: said as a sentence naming the file, with what to do.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub hint: String,
}

impl Snapshot {
    /// Reads `path` (following a symlink to its target) once, for a later [`Snapshot::replace`].
    pub fn read(path: &Path) -> Result<Snapshot, Refusal> {
        let shown = path.display().to_string();
        let target = std::fs::canonicalize(path).map_err(|e| Refusal {
            message: format!("cannot read {shown}: {e}"),
            hint: "check the path given with -f".into(),
        })?;
        let mut file = std::fs::File::open(&target).map_err(|e| Refusal {
            message: format!("cannot read {shown}: {e}"),
            hint: "check the path and its permissions".into(),
        })?;
        let meta = file.metadata().map_err(|e| Refusal {
            message: format!("cannot read {shown}: {e}"),
            hint: "check the path and its permissions".into(),
        })?;
        if !meta.is_file() {
            return Err(Refusal {
                message: format!("{shown} is not a regular file"),
                hint: "give a manifest file with -f".into(),
            });
        }
        if meta.len() > crate::manifests::MAX_INPUT_BYTES {
            return Err(Refusal {
                message: format!(
                    "{shown} is larger than {} MiB, the most kubectl-feast reads from one input",
                    crate::manifests::MAX_INPUT_BYTES >> 20
                ),
                hint: "split the manifests into smaller files".into(),
            });
        }
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text).map_err(|e| Refusal {
            message: format!("cannot read {shown}: {e}"),
            hint: "the file must be UTF-8 text".into(),
        })?;
        Ok(Snapshot {
            shown,
            target,
            text,
            identity: Identity::of(&meta),
        })
    }

    /// Whether the file may be rewritten by this process, said before anything is planned.
    pub fn check_writable(&self) -> Result<(), Refusal> {
        let meta = std::fs::metadata(&self.target).map_err(|e| Refusal {
            message: format!("cannot write {}: {e}", self.shown),
            hint: "check the path".into(),
        })?;
        let read_only = meta.permissions().readonly() || !writable_by_us(&self.target);
        if read_only {
            return Err(Refusal {
                message: format!(
                    "{} is read-only: --in-place does not overwrite a file its mode protects",
                    self.shown
                ),
                hint: "make it writable first (chmod u+w), or drop --in-place and redirect the printed result".into(),
            });
        }
        Ok(())
    }

    /// Replaces the file with `text` if it is still as read; see the module's description.
    pub fn replace(&self, text: &str) -> Result<(), Refusal> {
        self.check_writable()?;
        let shown = &self.shown;
        let cannot = |e: std::io::Error| Refusal {
            message: format!("cannot write {shown}: {e}"),
            hint: "nothing was changed; check the directory's free space and permissions".into(),
        };
        let meta = std::fs::metadata(&self.target).map_err(cannot)?;
        let dir = self.target.parent().unwrap_or(Path::new("."));
        let name = self
            .target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "manifest".into());
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".kubectl-feast")
            .tempfile_in(dir)
            .map_err(cannot)?;
        keep_mode_and_owner(tmp.as_file(), &meta).map_err(cannot)?;
        tmp.write_all(text.as_bytes()).map_err(cannot)?;
        tmp.as_file().sync_all().map_err(cannot)?;
        // The last look before the rename, under an exclusive lock on the file as it is now:
        // two runs that both looked and then both renamed would lose one change. The loser
        // waits here, then finds the file changed (a new inode) and refuses.
        let _lock = lock(&self.target).map_err(cannot)?;
        let now = std::fs::metadata(&self.target).map_err(cannot)?;
        let still = std::fs::read(&self.target).map_err(cannot)?;
        if Identity::of(&now) != self.identity || still != self.text.as_bytes() {
            return Err(Refusal {
                message: format!(
                    "{shown} changed since it was read (another command or editor wrote it): not overwritten"
                ),
                hint: "run the command again on the file as it is now".into(),
            });
        }
        tmp.persist(&self.target).map_err(|e| cannot(e.error))?;
        // The rename itself reaches the disk with the directory.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// An exclusive advisory lock (flock) on the file at `path`, held until the handle drops.
fn lock(path: &Path) -> std::io::Result<std::fs::File> {
    let file = std::fs::File::open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a descriptor we own; it blocks until the lock is ours.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(file)
}

/// Writes `text` to `path`, new or replacing what is there, the same way (exclusive random
/// temporary file, fsync, rename) with `mode` on unix; a symlink at `path` is refused rather
/// than followed (an installer has no reason to write through one).
pub fn install(path: &Path, text: &str, mode: u32) -> Result<(), Refusal> {
    let shown = path.display().to_string();
    let cannot = |e: std::io::Error| Refusal {
        message: format!("cannot write {shown}: {e}"),
        hint: "pick a writable directory on PATH with --dir DIR".into(),
    };
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Refusal {
            message: format!("{shown} is a symbolic link: not written through"),
            hint: "remove the link, or pick another directory with --dir DIR".into(),
        });
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .tempfile_in(dir)
        .map_err(cannot)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(cannot)?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.write_all(text.as_bytes()).map_err(cannot)?;
    tmp.as_file().sync_all().map_err(cannot)?;
    tmp.persist(path).map_err(|e| cannot(e.error))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The original's permission bits, and its owner and group where the process may set them
/// (root, or the owner itself keeping its group).
fn keep_mode_and_owner(file: &std::fs::File, original: &std::fs::Metadata) -> std::io::Result<()> {
    file.set_permissions(original.permissions())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        use std::os::unix::io::AsRawFd;
        // SAFETY: fchown on a descriptor we own. Its refusal (EPERM: another user's file we
        // may write) is ignored: the new file is then ours, as any editor's save makes it.
        unsafe { libc::fchown(file.as_raw_fd(), original.uid(), original.gid()) };
    }
    Ok(())
}

#[cfg(unix)]
fn writable_by_us(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a valid NUL-terminated path.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

#[cfg(not(unix))]
fn writable_by_us(_: &Path) -> bool {
    true
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    }

    #[test]
    fn the_mode_is_kept_and_no_temporary_file_is_left() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("store.yaml");
        std::fs::write(&path, "a: 1\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let snap = Snapshot::read(&path).expect("read");
        snap.replace("a: 2\n").expect("replace");
        assert_eq!(
            std::fs::read_to_string(&path).ok().as_deref(),
            Some("a: 2\n")
        );
        assert_eq!(mode(&path), 0o600);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn a_symlinked_file_is_written_through_and_stays_a_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().join("real.yaml");
        let link = dir.path().join("link.yaml");
        std::fs::write(&real, "a: 1\n").expect("write");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        Snapshot::read(&link)
            .expect("read")
            .replace("a: 2\n")
            .expect("replace");
        assert!(
            std::fs::symlink_metadata(&link)
                .expect("link")
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            std::fs::read_to_string(&real).ok().as_deref(),
            Some("a: 2\n")
        );
    }

    #[test]
    fn a_file_changed_since_it_was_read_is_not_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("store.yaml");
        std::fs::write(&path, "a: 1\n").expect("write");
        let first = Snapshot::read(&path).expect("read");
        let second = Snapshot::read(&path).expect("read");
        first.replace("a: 2\n").expect("the first writer wins");
        let refused = second.replace("a: 3\n").expect_err("the second is refused");
        assert!(
            refused.message.contains("changed since it was read"),
            "{refused:?}"
        );
        assert_eq!(
            std::fs::read_to_string(&path).ok().as_deref(),
            Some("a: 2\n")
        );
    }

    #[test]
    fn a_read_only_file_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("store.yaml");
        std::fs::write(&path, "a: 1\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).expect("chmod");
        let refused = Snapshot::read(&path)
            .expect("read")
            .replace("a: 2\n")
            .expect_err("refused");
        assert!(refused.message.contains("read-only"), "{refused:?}");
        assert_eq!(
            std::fs::read_to_string(&path).ok().as_deref(),
            Some("a: 1\n")
        );
    }

    #[test]
    fn install_refuses_a_planted_link_and_sets_the_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "secret").expect("write");
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let target = dir.path().join("kubectl_complete-feast");
        std::os::unix::fs::symlink(&victim, &target).expect("symlink");
        assert!(install(&target, "#!/bin/sh\n", 0o755).is_err());
        assert_eq!(mode(&victim), 0o600);
        assert_eq!(
            std::fs::read_to_string(&victim).ok().as_deref(),
            Some("secret")
        );
        let fresh = dir.path().join("fresh");
        install(&fresh, "#!/bin/sh\n", 0o755).expect("install");
        assert_eq!(mode(&fresh), 0o755);
    }
}
