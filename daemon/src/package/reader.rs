//! Reading a package back — a ZIP or a folder haul wrote — for retrying a job, checking a
//! package is still as haul wrote it (retention), thumbnails and exports. Its `manifest.json` is
//! read into the very structs that write it ([`Manifest`]), so the package format is defined in
//! one place.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Component, Path, PathBuf};

use super::Manifest;

/// Largest `manifest.json` read back from a package.
const MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// A package on disk, read back: a ZIP or a folder.
pub enum PackageReader {
    Zip(zip::ZipArchive<BufReader<File>>),
    Folder(PathBuf),
}

impl PackageReader {
    /// Opens the package at `path` (a `.zip` file or a folder).
    pub fn open(path: &Path) -> io::Result<PackageReader> {
        if std::fs::metadata(path)?.is_dir() {
            return Ok(PackageReader::Folder(path.to_path_buf()));
        }
        let file = BufReader::new(File::open(path)?);
        zip::ZipArchive::new(file)
            .map(PackageReader::Zip)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Every file's entry name (`02.jpg`, `review/01.jpg`); folders are not entries.
    pub fn names(&mut self) -> io::Result<Vec<String>> {
        match self {
            PackageReader::Zip(z) => z
                .file_names()
                .map(|n| {
                    n.map(|n| n.into_owned())
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
                })
                .filter(|n| !n.as_ref().is_ok_and(|n| n.ends_with('/')))
                .collect(),
            PackageReader::Folder(dir) => {
                let mut names = Vec::new();
                folder_names(dir, "", 0, &mut names)?;
                Ok(names)
            }
        }
    }

    /// Calls `f` with a reader of the entry `name` — a path inside the package (`02.jpg`,
    /// `review/01.jpg`), never absolute, never climbing out with `..`.
    pub fn with_entry<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut dyn Read) -> io::Result<T>,
    ) -> io::Result<T> {
        if !is_entry_name(name) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name:?} is not a file name inside the package"),
            ));
        }
        match self {
            PackageReader::Zip(z) => {
                let mut entry = z
                    .by_name(name)
                    .map_err(|e| io::Error::new(io::ErrorKind::NotFound, e))?;
                f(&mut entry)
            }
            PackageReader::Folder(dir) => {
                // Never follow a link out of the package: every folder on the way is a real
                // folder, and the entry a real file.
                let mut path = dir.clone();
                let mut parts = name.split('/').peekable();
                while let Some(part) = parts.next() {
                    path.push(part);
                    let meta = std::fs::symlink_metadata(&path)?;
                    let fits = if parts.peek().is_some() {
                        meta.is_dir()
                    } else {
                        meta.is_file()
                    };
                    if !fits {
                        return Err(io::Error::new(io::ErrorKind::InvalidData, "not a file"));
                    }
                }
                f(&mut File::open(path)?)
            }
        }
    }

    /// The package's `manifest.json`, read as the same structs that wrote it ([`Manifest`]).
    pub fn manifest(&mut self) -> io::Result<Manifest> {
        let text = self.with_entry("manifest.json", |r| {
            let mut s = String::new();
            r.take(MAX_MANIFEST_BYTES).read_to_string(&mut s)?;
            Ok(s)
        })?;
        serde_json::from_str(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
}

/// How deep a folder package's role folders are looked into (haul writes one level).
const MAX_FOLDER_DEPTH: usize = 4;

/// Appends the entry names under `dir` (its path inside the package is `prefix`) to `names`. A
/// link counts as an entry (so the package is not what haul wrote), and is never followed.
fn folder_names(dir: &Path, prefix: &str, depth: usize, names: &mut Vec<String>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type()?.is_dir() && depth < MAX_FOLDER_DEPTH {
            folder_names(&entry.path(), &format!("{name}/"), depth + 1, names)?;
        } else {
            names.push(name);
        }
    }
    Ok(())
}

/// An entry's path inside a package: plain components joined by `/`.
fn is_entry_name(name: &str) -> bool {
    name.split('/').all(is_plain_name)
}

/// One path component, no separators, no `..`, no NUL.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains(['/', '\\', '\0'])
        && matches!(
            Path::new(name).components().collect::<Vec<_>>().as_slice(),
            [Component::Normal(_)]
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_only() {
        assert!(is_plain_name("01-main.jpg"));
        for bad in ["", "..", ".", "../x", "a/b", "/etc/passwd", "a\\b", "a\0b"] {
            assert!(!is_plain_name(bad), "{bad:?}");
        }
        assert!(is_entry_name("01-main.jpg"));
        assert!(is_entry_name("review/01.jpg"));
        for bad in [
            "",
            "/x",
            "x/",
            "../x",
            "review/../../x",
            "a//b",
            "a\\b",
            "./x",
            "a/./b",
        ] {
            assert!(!is_entry_name(bad), "{bad:?}");
        }
    }

    /// A package's manifest reads back into the structs that wrote it.
    #[test]
    fn the_manifest_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let package = dir.path().join("p");
        std::fs::create_dir_all(&package).unwrap();
        let manifest = Manifest {
            generator: "haul test".into(),
            product_id: Some("B0X".into()),
            files: vec![super::super::ManifestFile {
                name: "01-main.jpg".into(),
                url: "https://a.example/1.jpg".into(),
                role: "main".into(),
                variant: None,
                variant_id: None,
                code: Some("MAIN".into()),
                bytes: 4,
                width: Some(2),
                height: Some(1),
                content_type: "image/jpeg".into(),
                sha256: "ab".into(),
                warnings: vec!["small".into()],
                converted_from: Some("image/webp".into()),
            }],
            failed: vec![super::super::ManifestFailure {
                url: "https://a.example/2.jpg".into(),
                role: "gallery".into(),
                variant: None,
                reason: "the server answered 404 Not Found".into(),
                kind: crate::failure::FailureKind::NotFound,
            }],
            ..Manifest::default()
        };
        for (name, bytes) in manifest.documents() {
            std::fs::write(package.join(name), bytes).unwrap();
        }
        let read = PackageReader::open(&package).unwrap().manifest().unwrap();
        assert_eq!(read, manifest);
    }

    #[test]
    fn a_folder_package_is_read_with_its_role_folders_and_no_links() {
        let dir = tempfile::tempdir().unwrap();
        let package = dir.path().join("p");
        std::fs::create_dir_all(package.join("review")).unwrap();
        std::fs::write(package.join("01-main.jpg"), b"main").unwrap();
        std::fs::write(package.join("review/01.jpg"), b"customer").unwrap();
        let mut reader = PackageReader::open(&package).unwrap();
        let mut names = reader.names().unwrap();
        names.sort();
        assert_eq!(names, ["01-main.jpg", "review/01.jpg"]);
        let read = |reader: &mut PackageReader, name: &str| {
            reader.with_entry(name, |r| {
                let mut v = Vec::new();
                r.read_to_end(&mut v)?;
                Ok(v)
            })
        };
        assert_eq!(read(&mut reader, "review/01.jpg").unwrap(), b"customer");
        #[cfg(unix)]
        {
            let outside = dir.path().join("outside");
            std::fs::create_dir(&outside).unwrap();
            std::fs::write(outside.join("secret.jpg"), b"secret").unwrap();
            std::os::unix::fs::symlink(&outside, package.join("video")).unwrap();
            assert!(read(&mut reader, "video/secret.jpg").is_err());
            let names = reader.names().unwrap();
            assert!(names.contains(&"video".to_string()), "{names:?}");
        }
    }
}
