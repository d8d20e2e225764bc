//! Reading the headers of data files at check time, so a model can be checked against
//! its data's shape before any data loads (a few bytes are read, never the samples).

use flate2::read::GzDecoder;
use std::io::Read;
use std::path::Path;

/// What a data file's header says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Number of samples (the first axis).
    pub count: usize,
    /// The shape of one sample.
    pub sample: Vec<usize>,
    /// Element type, e.g. `u8`, `f32`.
    pub dtype: String,
}

impl Header {
    /// A header whose data could exist: its size in bytes fits the address space (a
    /// forged header's `2^62` rows must not wrap a size check around to zero).
    fn sized(self) -> Result<Header, String> {
        let elements = self
            .sample
            .iter()
            .try_fold(self.count, |n, &d| n.checked_mul(d));
        match elements.and_then(|n| n.checked_mul(self.element_size())) {
            Some(bytes) if bytes <= isize::MAX as usize => Ok(self),
            _ => Err(format!(
                "the header claims {} samples of {:?} {}: more data than any file can hold (a damaged or forged header)",
                self.count, self.sample, self.dtype
            )),
        }
    }

    /// Bytes per element.
    pub fn element_size(&self) -> usize {
        match self.dtype.as_str() {
            "u8" | "i8" => 1,
            "i16" => 2,
            "i32" | "f32" => 4,
            _ => 8,
        }
    }

    /// Elements in the file: `count × Π sample` (checked when the header was read).
    pub fn elements(&self) -> usize {
        self.count * self.sample.iter().product::<usize>()
    }
}

fn open(path: &Path) -> Result<Box<dyn Read>, String> {
    let f = crate::files::open_regular(path)?;
    if path.extension().is_some_and(|e| e == "gz") {
        Ok(Box::new(GzDecoder::new(f)))
    } else {
        Ok(Box::new(f))
    }
}

/// Parse an IDX header (`0x00 0x00 type ndims`, then `ndims` big-endian u32 sizes).
pub fn idx_header(bytes: &[u8]) -> Result<Header, String> {
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err("not an IDX file (bad magic number)".into());
    }
    let dtype = match bytes[2] {
        0x08 => "u8",
        0x09 => "i8",
        0x0B => "i16",
        0x0C => "i32",
        0x0D => "f32",
        0x0E => "f64",
        t => return Err(format!("unknown IDX element type 0x{t:02x}")),
    };
    let nd = bytes[3] as usize;
    if nd == 0 || nd > 4 {
        return Err(format!("IDX files with {nd} dimensions are not images"));
    }
    if bytes.len() < 4 + 4 * nd {
        return Err("truncated IDX header".into());
    }
    let dims: Vec<usize> = (0..nd)
        .map(|k| {
            u32::from_be_bytes([
                bytes[4 + 4 * k],
                bytes[5 + 4 * k],
                bytes[6 + 4 * k],
                bytes[7 + 4 * k],
            ]) as usize
        })
        .collect();
    Header {
        count: dims[0],
        sample: dims[1..].to_vec(),
        dtype: dtype.into(),
    }
    .sized()
}

/// Read an IDX (or IDX.gz) file's header.
pub fn idx_file(path: &Path) -> Result<Header, String> {
    let mut r = open(path)?;
    let mut buf = vec![0u8; 4 + 16];
    let n = read_up_to(&mut r, &mut buf)?;
    let h = idx_header(&buf[..n])?;
    if path.extension().is_none_or(|e| e != "gz") {
        let want = (4 + 4 * (h.sample.len() + 1)) as u64 + (h.elements() * h.element_size()) as u64;
        let have = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
        if have < want {
            return Err(format!(
                "truncated: the header promises {want} bytes, the file has {have}"
            ));
        }
    }
    Ok(h)
}

fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> Result<usize, String> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => return Err(format!("cannot read: {e}")),
        }
    }
    Ok(n)
}

/// Parse a `.npy` header: magic, version, header length, then a Python dict literal.
pub fn npy_header(bytes: &[u8]) -> Result<(Header, usize), String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a .npy file (bad magic)".into());
    }
    let (len, start): (usize, usize) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!("unsupported .npy version {v}")),
    };
    let end = start.checked_add(len).ok_or("bad .npy header length")?;
    let text = bytes.get(start..end).ok_or("truncated .npy header")?;
    let text = std::str::from_utf8(text).map_err(|_| ".npy header is not text")?;
    let field = |key: &str| -> Option<&str> {
        let at = text.find(&format!("'{key}'"))?;
        let rest = text[at + key.len() + 2..]
            .trim_start()
            .strip_prefix(':')?
            .trim_start();
        Some(rest)
    };
    let descr = field("descr")
        .and_then(|r| r.strip_prefix('\''))
        .and_then(|r| r.split('\'').next())
        .ok_or("no 'descr' in .npy header")?;
    let dtype = match descr.trim_start_matches(['<', '|', '=']) {
        "f4" => "f32",
        "f8" => "f64",
        "u1" => "u8",
        "i4" => "i32",
        "i8" => "i64",
        other => return Err(format!("unsupported .npy dtype '{other}' (use float32, float64, uint8, int32 or int64, little-endian)")),
    };
    if descr.starts_with('>') {
        return Err("big-endian .npy arrays are not supported".into());
    }
    if field("fortran_order").is_some_and(|r| r.starts_with("True")) {
        return Err(
            "Fortran-ordered .npy arrays are not supported; save with np.ascontiguousarray".into(),
        );
    }
    let shape = field("shape")
        .and_then(|r| r.strip_prefix('('))
        .and_then(|r| r.split(')').next())
        .ok_or("no 'shape' in .npy header")?;
    let dims: Vec<usize> = shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("bad .npy shape ({shape})"))
        })
        .collect::<Result<_, _>>()?;
    if dims.is_empty() {
        return Err("a 0-d .npy array holds no samples along a first axis".into());
    }
    let h = Header {
        count: dims[0],
        sample: dims[1..].to_vec(),
        dtype: dtype.into(),
    };
    Ok((h.sized()?, end))
}

pub fn npy_file(path: &Path) -> Result<Header, String> {
    let mut r = open(path)?;
    let mut buf = vec![0u8; 4096];
    let n = read_up_to(&mut r, &mut buf)?;
    let (h, data_start) = npy_header(&buf[..n])?;
    let want = data_start as u64 + (h.elements() * h.element_size()) as u64;
    let have = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if path.extension().is_none_or(|e| e != "gz") && have < want {
        return Err(format!(
            "truncated: the header promises {want} bytes, the file has {have}"
        ));
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idx_header_reads_mnist_layout() {
        let mut b = vec![0, 0, 8, 3];
        for d in [60000u32, 28, 28] {
            b.extend(d.to_be_bytes());
        }
        let h = idx_header(&b).unwrap(); // ok: test
        assert_eq!(
            h,
            Header {
                count: 60000,
                sample: vec![28, 28],
                dtype: "u8".into()
            }
        );
        assert!(idx_header(&b[..9]).is_err());
        assert!(idx_header(&[1, 2, 3, 4]).is_err());
    }

    #[test]
    fn npy_header_reads_shape_and_dtype() {
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (10, 1, 64), }";
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend((dict.len() as u16).to_le_bytes());
        b.extend(dict.as_bytes());
        let (h, _) = npy_header(&b).unwrap(); // ok: test
        assert_eq!(h.sample, vec![1, 64]);
        assert_eq!(h.count, 10);
        assert_eq!(h.dtype, "f32");
        assert!(npy_header(&b[..20]).is_err());
    }
}
