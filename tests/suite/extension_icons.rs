//! The extension's icons are its one SVG source (`extension-stub/icons/haul.svg`) rendered at
//! 16, 32, 48 and 128 px: each committed PNG must match a fresh rendering (resvg) pixel for
//! pixel, within a rounding step. `HAUL_REGENERATE_ICONS=1 cargo test -p haul-tests --test suite
//! extension_icons` rewrites them after the SVG changes.

use std::path::{Path, PathBuf};

const SIZES: [u32; 4] = [16, 32, 48, 128];

fn icons() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("extension-stub")
        .join("icons")
}

/// The SVG at `size` × `size`, as straight (not premultiplied) RGBA.
fn render(svg: &[u8], size: u32) -> image::RgbaImage {
    let tree = resvg::usvg::Tree::from_data(svg, &resvg::usvg::Options::default())
        .expect("the icon SVG parses");
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size, size).expect("a pixmap");
    let scale = size as f32 / tree.size().width();
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    let mut out = image::RgbaImage::new(size, size);
    for (i, p) in pixmap.pixels().iter().enumerate() {
        let c = p.demultiply();
        out.put_pixel(
            i as u32 % size,
            i as u32 / size,
            image::Rgba([c.red(), c.green(), c.blue(), c.alpha()]),
        );
    }
    out
}

#[test]
fn every_icon_is_the_svg_rendered_at_its_size() {
    let svg = std::fs::read(icons().join("haul.svg")).expect("extension-stub/icons/haul.svg");
    let regenerate = std::env::var_os("HAUL_REGENERATE_ICONS").is_some();
    for size in SIZES {
        let path = icons().join(format!("icon-{size}.png"));
        let fresh = render(&svg, size);
        if regenerate {
            fresh.save(&path).expect("write the icon");
            continue;
        }
        let committed = image::open(&path)
            .unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (HAUL_REGENERATE_ICONS=1 writes it)",
                    path.display()
                )
            })
            .to_rgba8();
        assert_eq!(committed.dimensions(), (size, size), "{}", path.display());
        let worst = committed
            .pixels()
            .zip(fresh.pixels())
            .flat_map(|(a, b)| a.0.iter().zip(b.0).map(|(x, y)| x.abs_diff(y)))
            .max()
            .unwrap_or(0);
        assert!(
            worst <= 2,
            "{} differs from haul.svg rendered at {size} px (by up to {worst}); run HAUL_REGENERATE_ICONS=1",
            path.display()
        );
    }
}

/// Both manifests name exactly these icons, for the toolbar button too.
#[test]
fn the_manifests_name_every_size() {
    for name in ["manifest.json", "manifest.firefox.json"] {
        let path = icons().join("..").join(name);
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("manifest")).expect("JSON");
        for key in ["icons", "action"] {
            let set = if key == "icons" {
                &m["icons"]
            } else {
                &m["action"]["default_icon"]
            };
            for size in SIZES {
                assert_eq!(
                    set[size.to_string()],
                    format!("icons/icon-{size}.png"),
                    "{name} {key}"
                );
            }
        }
        assert_eq!(m["action"]["default_popup"], "popup.html", "{name}");
        assert_eq!(m["options_ui"]["page"], "options.html", "{name}");
    }
}
