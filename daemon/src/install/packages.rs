//! The OS packages' files — the Debian package's (built by cargo-deb from `daemon/Cargo.toml`),
//! the macOS `.pkg`'s, the Windows MSI's (cargo-wix) and the Homebrew formula — generated from
//! the same facts `haul install` writes per user: the host name, the extension ids, the manifest
//! template, each browser's system-wide manifest folder ([`linux::system_manifest_dirs`],
//! [`macos::system_manifest_dirs`]) and registry key ([`windows::registry_key`]), and the
//! autostart templates. So no package can name a folder, an id or a binary the per-user install
//! does not.
//!
//! The files are committed under `installers/` (packagers read them without running haul);
//! `cargo test -p haul --lib packages` checks they are what [`files`] renders, and
//! `HAUL_REGENERATE_INSTALLERS=1 cargo test -p haul --lib packages` rewrites them.

use std::path::{Path, PathBuf};

use haul_protocol::install::{HAUL_EXE, chrome_origin};
use haul_protocol::{DEV_EXTENSION_ID, FIREFOX_ADDON_ID, HOST_NAME, VERSION};

use super::{Browser, Family, InstallError, linux, macos, manifest_file_name, windows};

/// Where a package installs the binaries.
pub const LINUX_BIN: &str = "/usr/bin";
/// Where the `.pkg` installs the binaries.
pub const MACOS_BIN: &str = "/usr/local/bin";
/// The systemd user unit of the Debian package (started at every user's login).
pub const LINUX_USER_UNIT: &str = "/usr/lib/systemd/user/haul.service";
/// The LaunchAgent of the `.pkg` (every user's login).
pub const MACOS_AGENT: &str = "/Library/LaunchAgents/haul.daemon.plist";

/// One generated file, by its path in the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFile {
    pub repo_path: String,
    pub contents: String,
}

fn host_manifest(family: Family, host: &Path) -> Result<String, InstallError> {
    let allow = match family {
        Family::Chromium => vec![chrome_origin(DEV_EXTENSION_ID)],
        Family::Firefox => vec![FIREFOX_ADDON_ID.to_string()],
    };
    super::render_host_manifest(family, host, &allow)
}

/// Every (installed path, family) a package puts a host manifest at, on `os`'s system folders
/// (`/` as the root), each browser's folders once.
pub fn system_manifests(os: super::Os) -> Vec<(PathBuf, Family)> {
    let mut out: Vec<(PathBuf, Family)> = Vec::new();
    for b in Browser::ALL {
        let dirs = match os {
            super::Os::Linux => linux::system_manifest_dirs(b, Path::new("/")),
            super::Os::Macos => macos::system_manifest_dirs(b, Path::new("/")),
            super::Os::Windows => Vec::new(),
        };
        for d in dirs {
            let file = d.join(manifest_file_name());
            if !out.iter().any(|(f, _)| *f == file) {
                out.push((file, b.family()));
            }
        }
    }
    out
}

/// The Debian package's assets besides the binaries: (source in the repo, installed path).
pub fn debian_assets() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = system_manifests(super::Os::Linux)
        .into_iter()
        .map(|(file, family)| (format!("installers/debian/{}", family_file(family)), file))
        .collect();
    out.push((
        "installers/debian/haul.service".into(),
        PathBuf::from(LINUX_USER_UNIT),
    ));
    out
}

fn family_file(family: Family) -> &'static str {
    match family {
        Family::Chromium => "host-chromium.json",
        Family::Firefox => "host-firefox.json",
    }
}

/// Every generated file.
pub fn files() -> Result<Vec<PackageFile>, InstallError> {
    let file = |repo_path: &str, contents: String| PackageFile {
        repo_path: repo_path.to_string(),
        contents,
    };
    let linux_host = Path::new(LINUX_BIN).join(haul_protocol::install::NATIVE_HOST_EXE);
    let macos_host = Path::new(MACOS_BIN).join("haul-native-host");
    let mut out = Vec::new();
    for family in [Family::Chromium, Family::Firefox] {
        out.push(file(
            &format!("installers/debian/{}", family_file(family)),
            host_manifest(family, &linux_host)?,
        ));
        out.push(file(
            &format!("installers/macos/{}", family_file(family)),
            host_manifest(family, &macos_host)?,
        ));
    }
    out.push(file(
        "installers/debian/haul.service",
        linux::render_unit_by(
            &Path::new(LINUX_BIN).join(HAUL_EXE),
            None,
            linux::WRITTEN_BY_PACKAGE,
        )?,
    ));
    out.push(file("installers/debian/postinst", debian_script(true)));
    out.push(file("installers/debian/prerm", debian_script(false)));
    out.push(file(
        "installers/macos/haul.daemon.plist",
        macos::render_plist_by(
            &Path::new(MACOS_BIN).join("haul"),
            None,
            Path::new("/dev/null"),
            linux::WRITTEN_BY_PACKAGE,
        )?,
    ));
    out.push(file("installers/macos/build-pkg.sh", macos_pkg_script()));
    out.push(file("installers/windows/main.wxs", windows_wxs()));
    out.push(file("installers/homebrew/haul.rb", homebrew_formula()));
    Ok(out)
}

const GENERATED: &str = "Generated by daemon/src/install/packages.rs: do not edit; run HAUL_REGENERATE_INSTALLERS=1 cargo test -p haul --lib packages";

/// The Debian maintainer scripts: enable (or disable) the user unit for every user, the way
/// `systemctl --global enable` does, so the daemon starts at each login; nothing else is touched
/// (each user's own `haul install` files stay theirs).
fn debian_script(install: bool) -> String {
    let link = "/etc/systemd/user/default.target.wants/haul.service";
    let body = if install {
        format!(
            "if [ \"$1\" = configure ]; then\n  mkdir -p /etc/systemd/user/default.target.wants\n  ln -sf {LINUX_USER_UNIT} {link}\nfi\n"
        )
    } else {
        format!(
            "if [ \"$1\" = remove ] || [ \"$1\" = upgrade ] || [ \"$1\" = deconfigure ]; then\n  rm -f {link}\n  rmdir --ignore-fail-on-non-empty /etc/systemd/user/default.target.wants 2>/dev/null || true\nfi\n"
        )
    };
    format!("#!/bin/sh\n# {GENERATED}\nset -e\n{body}#DEBHELPER#\nexit 0\n")
}

fn macos_pkg_script() -> String {
    let mut lay = String::new();
    for (file, family) in system_manifests(super::Os::Macos) {
        let dir = file.parent().map(Path::display).map(|d| d.to_string());
        let dir = dir.unwrap_or_default();
        lay.push_str(&format!(
            "mkdir -p \"$root{dir}\" && cp \"$here/{}\" \"$root{}\"\n",
            family_file(family),
            file.display()
        ));
    }
    format!(
        r#"#!/bin/sh
# {GENERATED}
# Builds haul.pkg on macOS: `installers/macos/build-pkg.sh TARGET_DIR` after `cargo build --release`
# (TARGET_DIR holds haul and haul-native-host). Installs the binaries in {MACOS_BIN}, the host
# manifests in each browser's system-wide folder and a LaunchAgent starting the daemon at login.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
bins="${{1:?usage: build-pkg.sh TARGET_DIR}}"
root="$(mktemp -d)"
mkdir -p "$root{MACOS_BIN}"
cp "$bins/haul" "$bins/haul-native-host" "$root{MACOS_BIN}/"
{lay}mkdir -p "$root/Library/LaunchAgents" && cp "$here/haul.daemon.plist" "$root{MACOS_AGENT}"
pkgbuild --root "$root" --identifier {id} --version {VERSION} haul.pkg
rm -rf "$root"
"#,
        id = "local.haul.pkg",
    )
}

/// WiX (cargo-wix) source: per-machine install under Program Files, one manifest per family
/// beside the binaries, and each browser's `HKLM` key (the same key names `haul install` writes
/// under `HKCU`) pointing at it.
fn windows_wxs() -> String {
    let mut keys = String::new();
    let mut seen: Vec<String> = Vec::new();
    for b in Browser::ALL {
        let key = windows::registry_key(b);
        if seen.contains(&key) {
            continue;
        }
        let id = format!("Reg{}", seen.len());
        seen.push(key.clone());
        keys.push_str(&format!(
            "          <RegistryKey Root=\"HKLM\" Key=\"{key}\">\n            <RegistryValue Id=\"{id}\" Type=\"string\" Value=\"[APPLICATIONFOLDER]{}\" KeyPath=\"{}\"/>\n          </RegistryKey>\n",
            match b.family() {
                Family::Chromium => "haul.native_host.chromium.json",
                Family::Firefox => "haul.native_host.firefox.json",
            },
            if seen.len() == 1 { "yes" } else { "no" }
        ));
    }
    format!(
        r#"<?xml version="1.0" encoding="windows-1252"?>
<!-- {GENERATED} -->
<!-- cargo wix -p haul: haul.exe and haul-native-host.exe in Program Files\haul, the host
     manifests beside them and one HKLM key per browser naming the manifest ({HOST_NAME}). -->
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="*" Name="haul" UpgradeCode="6F1B2A6E-5C3D-4B8E-9B55-7D0C2E4A9F13" Manufacturer="haul" Language="1033" Codepage="1252" Version="$(var.Version)">
    <Package Id="*" InstallerVersion="450" Compressed="yes" InstallScope="perMachine"/>
    <MajorUpgrade DowngradeErrorMessage="A newer version of haul is already installed."/>
    <Media Id="1" Cabinet="media1.cab" EmbedCab="yes"/>
    <Directory Id="TARGETDIR" Name="SourceDir">
      <Directory Id="ProgramFiles64Folder">
        <Directory Id="APPLICATIONFOLDER" Name="haul">
          <Component Id="Binaries" Guid="*" Win64="yes">
            <File Id="HaulExe" Name="haul.exe" Source="$(var.CargoTargetBinDir)\haul.exe" KeyPath="yes"/>
            <File Id="HostExe" Name="haul-native-host.exe" Source="$(var.CargoTargetBinDir)\haul-native-host.exe"/>
            <File Id="ChromiumManifest" Name="haul.native_host.chromium.json" Source="installers\windows\host-chromium.json"/>
            <File Id="FirefoxManifest" Name="haul.native_host.firefox.json" Source="installers\windows\host-firefox.json"/>
          </Component>
          <Component Id="Registry" Guid="*" Win64="yes">
{keys}          </Component>
        </Directory>
      </Directory>
    </Directory>
    <Feature Id="Main" Level="1">
      <ComponentRef Id="Binaries"/>
      <ComponentRef Id="Registry"/>
    </Feature>
  </Product>
</Wix>
"#
    )
}

fn homebrew_formula() -> String {
    format!(
        r##"# {GENERATED}
# Homebrew cannot write the browsers' system-wide folders: after `brew install`, each user runs
# `haul install` (per user, no admin rights), as the caveats say.
class Haul < Formula
  desc "Saves every photo and video of a marketplace product to your own disk"
  homepage "https://example.invalid/haul"
  version "{VERSION}"
  url "https://example.invalid/haul/haul-{VERSION}.tar.gz"
  license "MIT OR Apache-2.0"

  depends_on "rust" => :build

  def install
    system "cargo", "install", *std_cargo_args(path: "daemon")
    system "cargo", "install", *std_cargo_args(path: "native-host")
  end

  service do
    run [opt_bin/"haul", "daemon"]
    keep_alive successful_exit: false
  end

  def caveats
    <<~EOS
      Register haul's native host ({HOST_NAME}) with your browsers:
        haul install
      then add the haul extension and check with:
        haul doctor
    EOS
  end

  test do
    assert_match "haul", shell_output("#{{bin}}/haul --version")
    assert_match "haul-native-host", shell_output("#{{bin}}/haul-native-host --version")
  end
end
"##
    )
}

/// The Windows manifests (paths relative to the manifest, which Windows allows).
fn windows_manifests() -> Result<Vec<PackageFile>, InstallError> {
    let host = Path::new("haul-native-host.exe");
    Ok(vec![
        PackageFile {
            repo_path: "installers/windows/host-chromium.json".into(),
            contents: host_manifest(Family::Chromium, host)?,
        },
        PackageFile {
            repo_path: "installers/windows/host-firefox.json".into(),
            contents: host_manifest(Family::Firefox, host)?,
        },
    ])
}

/// [`files`] and the Windows manifests.
pub fn all_files() -> Result<Vec<PackageFile>, InstallError> {
    let mut out = files()?;
    out.extend(windows_manifests()?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    #[test]
    fn committed_installer_files_are_what_the_facts_render() {
        let regenerate = std::env::var_os("HAUL_REGENERATE_INSTALLERS").is_some();
        let mut stale = Vec::new();
        for f in all_files().unwrap() {
            let path = repo().join(&f.repo_path);
            if regenerate {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &f.contents).unwrap();
                #[cfg(unix)]
                if f.repo_path.ends_with(".sh")
                    || f.repo_path.ends_with("postinst")
                    || f.repo_path.ends_with("prerm")
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                        .unwrap();
                }
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(&f.contents) {
                stale.push(f.repo_path);
            }
        }
        assert!(
            stale.is_empty(),
            "out of date (run HAUL_REGENERATE_INSTALLERS=1 cargo test -p haul --lib packages): {stale:?}"
        );
    }

    /// cargo-deb's assets in daemon/Cargo.toml are the binaries and exactly [`debian_assets`].
    #[test]
    fn the_debian_package_installs_what_the_facts_say() {
        let text = std::fs::read_to_string(repo().join("daemon").join("Cargo.toml")).unwrap();
        let cargo: toml::Value = toml::from_str(&text).unwrap();
        let deb = &cargo["package"]["metadata"]["deb"];
        let assets: Vec<(String, String)> = deb["assets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let a = a.as_array().unwrap();
                (
                    a[0].as_str().unwrap().to_string(),
                    a[1].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let mut want: Vec<(String, String)> = vec![
            ("target/release/haul".into(), "usr/bin/".into()),
            ("target/release/haul-native-host".into(), "usr/bin/".into()),
        ];
        for (src, dest) in debian_assets() {
            let dest = dest.display().to_string();
            want.push((
                format!("../{src}"),
                dest.trim_start_matches('/').to_string(),
            ));
        }
        assert_eq!(assets, want);
        // Every browser with a system folder has a manifest there; the Chromium one for Chrome.
        let dests: Vec<&str> = assets.iter().map(|(_, d)| d.as_str()).collect();
        assert!(dests.contains(&"etc/chromium/native-messaging-hosts/haul.native_host.json"));
        assert!(dests.contains(&"etc/opt/chrome/native-messaging-hosts/haul.native_host.json"));
        assert!(dests.contains(&"usr/lib/mozilla/native-messaging-hosts/haul.native_host.json"));
        assert_eq!(
            deb["maintainer-scripts"].as_str(),
            Some("../installers/debian/")
        );
    }

    #[test]
    fn every_package_names_the_same_host_ids_and_binaries() {
        let files = all_files().unwrap();
        let get = |p: &str| {
            &files
                .iter()
                .find(|f| f.repo_path == p)
                .unwrap_or_else(|| panic!("{p}"))
                .contents
        };
        for p in [
            "installers/debian/host-chromium.json",
            "installers/macos/host-chromium.json",
            "installers/windows/host-chromium.json",
        ] {
            let m: haul_protocol::install::HostManifest = serde_json::from_str(get(p)).unwrap();
            assert_eq!(m.name, HOST_NAME);
            assert_eq!(
                m.allowed_origins,
                Some(vec![chrome_origin(DEV_EXTENSION_ID)])
            );
            assert!(m.path.ends_with("haul-native-host") || m.path.ends_with(".exe"));
        }
        let ff: haul_protocol::install::HostManifest =
            serde_json::from_str(get("installers/debian/host-firefox.json")).unwrap();
        assert_eq!(
            ff.allowed_extensions,
            Some(vec![FIREFOX_ADDON_ID.to_string()])
        );
        assert_eq!(ff.path, "/usr/bin/haul-native-host");
        assert!(
            get("installers/debian/haul.service").contains("ExecStart=\"/usr/bin/haul\" daemon")
        );
        let wxs = get("installers/windows/main.wxs");
        for b in Browser::ALL {
            assert!(wxs.contains(&windows::registry_key(b)), "{b}");
        }
        let pkg = get("installers/macos/build-pkg.sh");
        assert!(pkg.contains("/Library/Google/Chrome/NativeMessagingHosts/haul.native_host.json"));
        assert!(get("installers/homebrew/haul.rb").contains(&format!("version \"{VERSION}\"")));
    }
}
