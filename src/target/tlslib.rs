//! Which TLS library a daemon is linked with, read from the `DT_NEEDED`
//! entries of its ELF dynamic section.
//!
//! This is the one detection mechanism for every server whose settings differ
//! by TLS library (Courier's `couriertls` now, OpenLDAP's `slapd` next). It
//! reads the file as bytes, so it works the same on a `--root` image as on the
//! running machine, and never runs the binary.

use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TlsLibrary {
    Gnutls,
    Openssl,
}

impl std::fmt::Display for TlsLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TlsLibrary::Gnutls => "GnuTLS",
            TlsLibrary::Openssl => "OpenSSL",
        })
    }
}

/// The TLS library named by a binary's `DT_NEEDED` entries, if any.
pub fn detect(binary: &Path) -> Option<TlsLibrary> {
    let bytes = std::fs::read(binary).ok()?;
    from_needed(&needed_libraries(&bytes)?)
}

/// Directories where the dynamic linker finds libraries, on the layouts
/// tlsmend knows.
pub const LIB_DIRS: &[&str] = &[
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
];

/// The TLS library of the first of `candidates` (machine paths) that exists
/// under `root`: read from its own `DT_NEEDED`, or one level down, from the
/// libraries it needs (slapd links GnuTLS through libldap). Returns how it
/// was found, for the user.
pub fn detect_in_root(
    root: &crate::discover::Root,
    candidates: &[&Path],
) -> Option<(TlsLibrary, String)> {
    let read = |machine: &Path| -> Option<Vec<String>> {
        let host = root.host(&root.resolve(machine).ok()?);
        needed_libraries(&std::fs::read(host).ok()?)
    };
    for c in candidates {
        let Some(needed) = read(c) else { continue };
        if let Some(l) = from_needed(&needed) {
            return Some((l, format!("{} links {l}", c.display())));
        }
        for lib in needed.iter().filter(|n| !n.starts_with("libc.so")) {
            for dir in LIB_DIRS {
                let p = Path::new(dir).join(lib);
                if let Some(l) = read(&p).and_then(|n| from_needed(&n)) {
                    return Some((l, format!("{} links {l} through {lib}", c.display())));
                }
            }
        }
    }
    None
}

pub fn from_needed(needed: &[String]) -> Option<TlsLibrary> {
    if needed.iter().any(|n| n.starts_with("libgnutls")) {
        Some(TlsLibrary::Gnutls)
    } else if needed
        .iter()
        .any(|n| n.starts_with("libssl.") || n.starts_with("libssl3"))
    {
        Some(TlsLibrary::Openssl)
    } else {
        None
    }
}

struct Elf<'a> {
    b: &'a [u8],
    wide: bool,
    le: bool,
}

impl Elf<'_> {
    fn uint(&self, at: usize, size: usize) -> Option<u64> {
        let s = self.b.get(at..at.checked_add(size)?)?;
        let mut v: u64 = 0;
        for i in 0..size {
            let byte = if self.le { s[size - 1 - i] } else { s[i] };
            v = (v << 8) | u64::from(byte);
        }
        Some(v)
    }
    fn word(&self, at: usize) -> Option<u64> {
        self.uint(at, if self.wide { 8 } else { 4 })
    }
}

/// The shared libraries an ELF file asks for, or `None` when it is not a
/// dynamically linked ELF file. Every read is bounds-checked.
pub fn needed_libraries(b: &[u8]) -> Option<Vec<String>> {
    if b.len() < 52 || &b[..4] != b"\x7fELF" {
        return None;
    }
    let elf = Elf {
        b,
        wide: b[4] == 2,
        le: b[5] == 1,
    };
    let (phoff, phentsize, phnum) = if elf.wide {
        (elf.uint(32, 8)?, elf.uint(54, 2)?, elf.uint(56, 2)?)
    } else {
        (elf.uint(28, 4)?, elf.uint(42, 2)?, elf.uint(44, 2)?)
    };
    let mut loads = Vec::new();
    let mut dynamic = None;
    for i in 0..phnum {
        let at = usize::try_from(phoff.checked_add(i.checked_mul(phentsize)?)?).ok()?;
        let p_type = elf.uint(at, 4)?;
        // (offset, vaddr, filesz)
        let seg = if elf.wide {
            (
                elf.uint(at + 8, 8)?,
                elf.uint(at + 16, 8)?,
                elf.uint(at + 32, 8)?,
            )
        } else {
            (
                elf.uint(at + 4, 4)?,
                elf.uint(at + 8, 4)?,
                elf.uint(at + 16, 4)?,
            )
        };
        match p_type {
            1 => loads.push(seg),
            2 => dynamic = Some(seg),
            _ => {}
        }
    }
    let (dyn_off, _, dyn_size) = dynamic?;
    let entry = if elf.wide { 16 } else { 8 };
    let mut needed = Vec::new();
    let mut strtab = None;
    let mut k = 0;
    while k + entry <= dyn_size {
        let at = usize::try_from(dyn_off.checked_add(k)?).ok()?;
        let tag = elf.word(at)?;
        let val = elf.word(at + entry as usize / 2)?;
        match tag {
            0 => break,
            1 => needed.push(val),
            5 => strtab = Some(val),
            _ => {}
        }
        k += entry;
    }
    let strtab = strtab?;
    let (off, vaddr, _) = loads
        .iter()
        .copied()
        .find(|&(_, v, sz)| strtab >= v && strtab < v.saturating_add(sz))?;
    let strtab_off = off.checked_add(strtab - vaddr)?;
    let mut names = Vec::new();
    for n in needed {
        let start = usize::try_from(strtab_off.checked_add(n)?).ok()?;
        let rest = b.get(start..)?;
        let end = rest.iter().position(|&c| c == 0)?;
        names.push(String::from_utf8_lossy(&rest[..end]).into_owned());
    }
    Some(names)
}

/// A minimal 64-bit little-endian ELF file that needs `libs`: for tests and
/// for demo trees that stand in for a machine.
pub fn synthetic_elf(libs: &[&str]) -> Vec<u8> {
    let mut strtab = vec![0u8];
    let mut offsets = Vec::new();
    for l in libs {
        offsets.push(strtab.len() as u64);
        strtab.extend_from_slice(l.as_bytes());
        strtab.push(0);
    }
    let phoff = 64u64;
    let dyn_off = phoff + 2 * 56;
    let dyn_entries = libs.len() as u64 + 2;
    let str_off = dyn_off + dyn_entries * 16;
    let total = str_off + strtab.len() as u64;
    let mut b = Vec::new();
    b.extend_from_slice(b"\x7fELF\x02\x01\x01\0");
    b.resize(16, 0);
    b.extend_from_slice(&3u16.to_le_bytes()); // ET_DYN
    b.extend_from_slice(&62u16.to_le_bytes()); // x86-64
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&0u64.to_le_bytes()); // entry
    b.extend_from_slice(&phoff.to_le_bytes());
    b.extend_from_slice(&0u64.to_le_bytes()); // shoff
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&64u16.to_le_bytes());
    b.extend_from_slice(&56u16.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&[0; 6]);
    let ph = |b: &mut Vec<u8>, t: u32, off: u64, size: u64| {
        b.extend_from_slice(&t.to_le_bytes());
        b.extend_from_slice(&4u32.to_le_bytes());
        for v in [off, off, off, size, size, 8] {
            b.extend_from_slice(&v.to_le_bytes());
        }
    };
    ph(&mut b, 1, 0, total);
    ph(&mut b, 2, dyn_off, dyn_entries * 16);
    for o in &offsets {
        b.extend_from_slice(&1u64.to_le_bytes());
        b.extend_from_slice(&o.to_le_bytes());
    }
    b.extend_from_slice(&5u64.to_le_bytes());
    b.extend_from_slice(&str_off.to_le_bytes());
    b.extend_from_slice(&[0; 16]);
    b.extend_from_slice(&strtab);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_needed_libraries_of_a_synthetic_elf() {
        let b = synthetic_elf(&["libgnutls.so.30", "libc.so.6"]);
        assert_eq!(
            needed_libraries(&b).unwrap(),
            vec!["libgnutls.so.30", "libc.so.6"]
        );
        assert_eq!(
            from_needed(&needed_libraries(&b).unwrap()),
            Some(TlsLibrary::Gnutls)
        );
        let b = synthetic_elf(&["libssl.so.3", "libcrypto.so.3"]);
        assert_eq!(
            from_needed(&needed_libraries(&b).unwrap()),
            Some(TlsLibrary::Openssl)
        );
    }

    #[test]
    fn garbage_and_truncated_files_are_not_elf() {
        assert!(needed_libraries(b"#!/bin/sh\n").is_none());
        let b = synthetic_elf(&["libgnutls.so.30"]);
        for cut in [10, 60, 100, 150, b.len() - 3] {
            let _ = needed_libraries(&b[..cut]); // must not panic
        }
    }

    #[test]
    fn detection_follows_one_library_down_inside_a_root() {
        let t = tempfile::tempdir().unwrap();
        let root = crate::discover::Root::new(Some(t.path().to_path_buf()));
        std::fs::create_dir_all(t.path().join("usr/sbin")).unwrap();
        std::fs::create_dir_all(t.path().join("usr/lib64")).unwrap();
        std::fs::write(
            t.path().join("usr/sbin/slapd"),
            synthetic_elf(&["libldap.so.2", "libc.so.6"]),
        )
        .unwrap();
        std::fs::write(
            t.path().join("usr/lib64/libldap.so.2"),
            synthetic_elf(&["libssl.so.3"]),
        )
        .unwrap();
        let (lib, how) = detect_in_root(
            &root,
            &[Path::new("/usr/sbin/nothing"), Path::new("/usr/sbin/slapd")],
        )
        .unwrap();
        assert_eq!(lib, TlsLibrary::Openssl);
        assert_eq!(how, "/usr/sbin/slapd links OpenSSL through libldap.so.2");
    }

    #[test]
    fn reads_a_real_binary_when_there_is_one() {
        // /bin/ls links libc on every Debian machine; it needs no TLS library.
        if let Ok(b) = std::fs::read("/bin/ls") {
            let libs = needed_libraries(&b).expect("ls is dynamically linked");
            assert!(libs.iter().any(|l| l.starts_with("libc.so")), "{libs:?}");
        }
    }
}
