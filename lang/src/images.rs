//! A folder of PNG/JPEG images as a data set, as far as `rrae check` reads it: the
//! image files (sorted by name), their split by a CelebA-style partition file, and
//! an image's size from its header. Decoding is the runtime's; both read the folder
//! through these functions, so what `check` counted is what the run loads.

use std::path::{Path, PathBuf};

/// The image files of `folder`, sorted by name. Hidden entries (`.name`) are skipped;
/// anything else that is not a `.png`, `.jpg` or `.jpeg` file is an error naming it,
/// so a stray file is not silently trained on or silently dropped.
pub fn list(folder: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(folder).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "no such folder".to_string(),
        _ => e.to_string(),
    })?;
    let mut out = vec![];
    for e in entries {
        let e = e.map_err(|e| e.to_string())?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let path = e.path();
        if path.is_dir() {
            return Err(format!(
                "`{name}` is a folder: `images` reads one flat folder of image files"
            ));
        }
        if !is_image_name(&name) {
            return Err(format!(
                "`{name}` is not a .png, .jpg or .jpeg file: the folder must hold only images \
                 (move other files out; names starting with `.` are skipped)"
            ));
        }
        out.push(path);
    }
    out.sort();
    Ok(out)
}

fn is_image_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".png", ".jpg", ".jpeg"].iter().any(|e| lower.ends_with(e))
}

/// CelebA's `list_eval_partition.txt`: `name split` per line, split 0 (train),
/// 1 (validation) or 2 (test).
pub const TRAIN_SPLIT: u8 = 0;
pub const TEST_SPLIT: u8 = 2;

/// Splits `files` by a partition file into (training, test) lists, each in file-name
/// order; validation images (split 1) are left out. Every image must be listed once
/// and every listed name must be in the folder.
pub fn partition(files: &[PathBuf], text: &str) -> Result<(Vec<PathBuf>, Vec<PathBuf>), String> {
    let mut split = std::collections::HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(name), Some(s), None) = (words.next(), words.next(), words.next()) else {
            return Err(format!(
                "line {}: expected `file-name split`, found `{line}`",
                i + 1
            ));
        };
        let s: u8 = match s {
            "0" => 0,
            "1" => 1,
            "2" => 2,
            other => {
                return Err(format!(
                    "line {}: split `{other}` is not 0 (train), 1 (validation) or 2 (test)",
                    i + 1
                ))
            }
        };
        if split.insert(name.to_string(), s).is_some() {
            return Err(format!("line {}: `{name}` is listed twice", i + 1));
        }
    }
    let (mut train, mut test) = (vec![], vec![]);
    for f in files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match split.remove(&name) {
            Some(TRAIN_SPLIT) => train.push(f.clone()),
            Some(TEST_SPLIT) => test.push(f.clone()),
            Some(_) => {}
            None => return Err(format!("image `{name}` is not in the partition file")),
        }
    }
    if let Some(name) = split.keys().min() {
        return Err(format!(
            "`{name}` is in the partition file but not in the folder ({} such names)",
            split.len()
        ));
    }
    Ok((train, test))
}

/// Class labels by file name, for the FID with local classifier features: either
/// `name label` lines (labels 0–255), or, with `column`, CelebA's
/// `list_attr_celeba.txt` (a count line, a line of attribute names, then a name and
/// ±1 per attribute), whose `column` attribute gives 1 for +1 and 0 for −1.
pub fn labels(
    text: &str,
    column: Option<&str>,
) -> Result<std::collections::HashMap<String, u8>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let mut at = None;
    if let Some(col) = column {
        // CelebA's first line is the image count; the names line follows.
        let mut header = lines.next();
        if header.is_some_and(|(_, l)| l.trim().parse::<usize>().is_ok()) {
            header = lines.next();
        }
        let names: Vec<&str> = header.map_or(vec![], |(_, l)| l.split_whitespace().collect());
        at = Some(names.iter().position(|n| *n == col).ok_or_else(|| {
            format!(
                "no attribute `{col}` in the header line (it has {})",
                if names.is_empty() {
                    "no names".to_string()
                } else {
                    names.join(", ")
                }
            )
        })?);
    }
    let mut out = std::collections::HashMap::new();
    for (i, line) in lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        let bad = |what: String| format!("line {}: {what}", i + 1);
        let (name, value) = match (at, words.as_slice()) {
            (Some(a), [name, values @ ..]) => {
                let v = values
                    .get(a)
                    .ok_or_else(|| bad(format!("`{name}` has {} attributes", values.len())))?;
                match *v {
                    "1" => (*name, 1),
                    "-1" => (*name, 0),
                    other => return Err(bad(format!("attribute value `{other}` is not 1 or -1"))),
                }
            }
            (None, [name, label]) => {
                let l = label
                    .parse::<u8>()
                    .map_err(|_| bad(format!("label `{label}` is not an integer 0–255")))?;
                (*name, l)
            }
            _ => {
                return Err(bad(format!(
                    "expected `file-name label`, found `{}`",
                    line.trim()
                )))
            }
        };
        if out.insert(name.to_string(), value).is_some() {
            return Err(bad(format!("`{name}` is labelled twice")));
        }
    }
    Ok(out)
}

/// The labels of `files` in their order, or the first file without one.
pub fn labels_of(
    files: &[PathBuf],
    labels: &std::collections::HashMap<String, u8>,
) -> Result<Vec<u8>, String> {
    files
        .iter()
        .map(|f| {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            labels
                .get(&name)
                .copied()
                .ok_or_else(|| format!("image `{name}` has no label"))
        })
        .collect()
}

/// An image's (width, height) from its PNG or JPEG header, reading only the header.
pub fn dims(path: &Path) -> Result<(usize, usize), String> {
    use std::io::Read;
    let mut f = crate::files::open_regular(path)?;
    let mut head = vec![0u8; 1 << 16];
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => return Err(e.to_string()),
        }
    }
    let b = &head[..n];
    let (w, h) = if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        let ihdr = b.get(12..24).filter(|h| &h[..4] == b"IHDR");
        let h = ihdr.ok_or("a PNG without its IHDR header (truncated or corrupt)")?;
        let be = |s: &[u8]| u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize;
        (be(&h[4..8]), be(&h[8..12]))
    } else if b.starts_with(&[0xff, 0xd8]) {
        jpeg_dims(b)?
    } else {
        return Err("neither a PNG nor a JPEG image (unknown signature)".into());
    };
    // A header claiming no pixels is damage, not a shape to suggest (`input [3, 0, 0]`).
    if w == 0 || h == 0 {
        return Err(format!(
            "its header says {w}×{h} pixels: an image has at least one each way (a corrupt header)"
        ));
    }
    Ok((w, h))
}

/// Walks a JPEG's marker segments to its frame header (SOF0–SOF15 but DHT, JPG, DAC).
fn jpeg_dims(b: &[u8]) -> Result<(usize, usize), String> {
    let truncated = || "a JPEG whose frame header is missing (truncated or corrupt)".to_string();
    let mut i = 2;
    loop {
        let (&ff, &marker) = (
            b.get(i).ok_or_else(truncated)?,
            b.get(i + 1).ok_or_else(truncated)?,
        );
        if ff != 0xff {
            return Err(truncated());
        }
        if marker == 0xff {
            i += 1;
            continue;
        }
        let len = u16::from_be_bytes([
            *b.get(i + 2).ok_or_else(truncated)?,
            *b.get(i + 3).ok_or_else(truncated)?,
        ]) as usize;
        if (0xc0..=0xcf).contains(&marker) && ![0xc4, 0xc8, 0xcc].contains(&marker) {
            let f = b.get(i + 4..i + 9).ok_or_else(truncated)?;
            let h = u16::from_be_bytes([f[1], f[2]]) as usize;
            let w = u16::from_be_bytes([f[3], f[4]]) as usize;
            return Ok((w, h));
        }
        if len < 2 {
            return Err(truncated());
        }
        i += 2 + len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_file_splits_by_name_and_refuses_what_does_not_match() {
        let files: Vec<PathBuf> = ["a.jpg", "b.jpg", "c.jpg", "d.jpg"]
            .iter()
            .map(|n| Path::new("/x").join(n))
            .collect();
        let (tr, te) = partition(&files, "a.jpg 0\nb.jpg 2\nc.jpg 1\n\nd.jpg 0\n").unwrap(); // ok: test
        assert_eq!(tr, [files[0].clone(), files[3].clone()]);
        assert_eq!(te, [files[1].clone()]);
        let missing = partition(&files, "a.jpg 0\nb.jpg 2\nc.jpg 1\n").unwrap_err();
        assert!(
            missing.contains("`d.jpg` is not in the partition file"),
            "{missing}"
        );
        let extra = partition(&files[..1], "a.jpg 0\nz.jpg 2\n").unwrap_err();
        assert!(
            extra.contains("`z.jpg` is in the partition file"),
            "{extra}"
        );
        let bad = partition(&files, "a.jpg 3\n").unwrap_err();
        assert!(bad.starts_with("line 1: split `3`"), "{bad}");
        let twice = partition(&files, "a.jpg 0\na.jpg 2\n").unwrap_err();
        assert!(twice.contains("listed twice"), "{twice}");
    }

    #[test]
    fn labels_come_from_name_label_lines_or_a_celeba_attribute_column() {
        let l = labels("a.png 3\nb.png 0\n", None).unwrap(); // ok: test
        assert_eq!((l["a.png"], l["b.png"]), (3, 0));
        let attr = "2\nSmiling Male\na.jpg -1 1\nb.jpg 1 -1\n";
        let smiling = labels(attr, Some("Smiling")).unwrap(); // ok: test
        assert_eq!((smiling["a.jpg"], smiling["b.jpg"]), (0, 1));
        let male = labels(attr, Some("Male")).unwrap(); // ok: test
        assert_eq!((male["a.jpg"], male["b.jpg"]), (1, 0));
        let e = labels(attr, Some("Bald")).unwrap_err();
        assert!(
            e.contains("no attribute `Bald`") && e.contains("Smiling, Male"),
            "{e}"
        );
        assert!(labels("a.png 300\n", None).unwrap_err().contains("0–255"));
        assert!(labels("a.png 1\na.png 2\n", None)
            .unwrap_err()
            .contains("twice"));
        let files = [
            Path::new("/x/a.png").to_path_buf(),
            Path::new("/x/c.png").to_path_buf(),
        ];
        let l = labels("a.png 1\n", None).unwrap(); // ok: test
        assert_eq!(
            labels_of(&files, &l).unwrap_err(),
            "image `c.png` has no label"
        );
    }

    #[test]
    fn jpeg_dims_skip_segments_to_the_frame_header() {
        // SOI, an APP0 segment of 4 bytes, then SOF0: precision 8, 20 high, 30 wide.
        let jpeg = [
            0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 20,
            0x00, 30, 0x03,
        ];
        assert_eq!(jpeg_dims(&jpeg), Ok((30, 20)));
        assert!(jpeg_dims(&jpeg[..10]).is_err());
    }
}
