//! Probing a live server on the network: which TLS versions it accepts, the
//! key it presents, and the plain-text behaviour that TLS hardening is about
//! (HSTS, the port-80 redirect, LOGINDISABLED before IMAP STARTTLS, AUTH
//! before SMTP STARTTLS).
//!
//! TLS goes through the system OpenSSL (the `openssl` crate), asked for one
//! exact version at a time with `@SECLEVEL=0`: OpenSSL 3's client refuses TLS
//! 1.0/1.1 at its default level, which would make every server look strong.
//! STARTTLS preambles (SMTP, IMAP, LDAP) are spoken here, in a few lines
//! each, so that the verdict never depends on parsing another tool's output.
//! Every socket has connect and read timeouts.

use crate::catalogue::profile::Version;
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(5);

/// How TLS starts on a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wrap {
    /// TLS from the first byte (443, 465, 636, 993).
    Implicit,
    Smtp,
    Imap,
    Ldap,
}

#[derive(Clone, Debug)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub wrap: Wrap,
    /// Server name to send (SNI) and, for HTTP, the Host header.
    pub name: Option<String>,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = match self.wrap {
            Wrap::Implicit => "TLS",
            Wrap::Smtp => "SMTP STARTTLS",
            Wrap::Imap => "IMAP STARTTLS",
            Wrap::Ldap => "LDAP StartTLS",
        };
        write!(f, "{}:{} ({how})", self.host, self.port)
    }
}

fn connect(host: &str, port: u16) -> Result<TcpStream, String> {
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("{host}:{port}: {e}"))?
        .collect();
    let mut last = format!("{host}:{port}: no address");
    for a in addrs {
        match TcpStream::connect_timeout(&a, TIMEOUT) {
            Ok(s) => {
                s.set_read_timeout(Some(TIMEOUT))
                    .map_err(|e| e.to_string())?;
                s.set_write_timeout(Some(TIMEOUT))
                    .map_err(|e| e.to_string())?;
                return Ok(s);
            }
            Err(e) => last = format!("{host}:{port}: {e}"),
        }
    }
    Err(last)
}

/// Whether anything accepts a TCP connection on `host:port`.
pub fn answers(host: &str, port: u16) -> bool {
    connect(host, port).is_ok()
}

/// Reads one line (to `\n`) byte by byte, so nothing after it is consumed.
fn read_line(s: &mut TcpStream) -> Result<String, String> {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while line.len() < 8192 {
        match s.read(&mut b) {
            Ok(0) => break,
            Ok(_) => {
                line.push(b[0]);
                if b[0] == b'\n' {
                    break;
                }
            }
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    if line.is_empty() {
        return Err("the server closed the connection".into());
    }
    Ok(String::from_utf8_lossy(&line).trim_end().to_string())
}

/// SMTP: the greeting, EHLO's capabilities (returned), then STARTTLS.
fn smtp_preamble(s: &mut TcpStream, starttls: bool) -> Result<Vec<String>, String> {
    loop {
        let l = read_line(s)?;
        if l.starts_with("220 ") {
            break;
        }
        if !l.starts_with("220-") {
            return Err(format!("unexpected SMTP greeting: {l}"));
        }
    }
    s.write_all(b"EHLO tlsmend.invalid\r\n")
        .map_err(|e| e.to_string())?;
    let mut caps = Vec::new();
    loop {
        let l = read_line(s)?;
        if l.len() < 4 || !l.starts_with("250") {
            return Err(format!("unexpected EHLO reply: {l}"));
        }
        caps.push(l[4..].to_string());
        if l.as_bytes()[3] == b' ' {
            break;
        }
    }
    if starttls {
        s.write_all(b"STARTTLS\r\n").map_err(|e| e.to_string())?;
        let l = read_line(s)?;
        if !l.starts_with("220") {
            return Err(format!("STARTTLS refused: {l}"));
        }
    }
    Ok(caps)
}

/// IMAP: the greeting, CAPABILITY (returned), then STARTTLS.
fn imap_preamble(s: &mut TcpStream, starttls: bool) -> Result<String, String> {
    let greeting = read_line(s)?;
    if !greeting.starts_with("* OK") {
        return Err(format!("unexpected IMAP greeting: {greeting}"));
    }
    s.write_all(b"a1 CAPABILITY\r\n")
        .map_err(|e| e.to_string())?;
    let mut caps = String::new();
    loop {
        let l = read_line(s)?;
        if l.starts_with("* CAPABILITY") {
            caps = l.clone();
        }
        if l.starts_with("a1 ") {
            break;
        }
    }
    if starttls {
        s.write_all(b"a2 STARTTLS\r\n").map_err(|e| e.to_string())?;
        loop {
            let l = read_line(s)?;
            if l.starts_with("a2 OK") {
                break;
            }
            if l.starts_with("a2 ") {
                return Err(format!("STARTTLS refused: {l}"));
            }
        }
    }
    Ok(caps)
}

/// LDAP: an ExtendedRequest for StartTLS (OID 1.3.6.1.4.1.1466.20037) and
/// its result code.
fn ldap_preamble(s: &mut TcpStream) -> Result<(), String> {
    let oid = b"1.3.6.1.4.1.1466.20037";
    let mut req = vec![
        0x30,
        0x1d,
        0x02,
        0x01,
        0x01,
        0x77,
        0x18,
        0x80,
        oid.len() as u8,
    ];
    req.extend_from_slice(oid);
    s.write_all(&req).map_err(|e| e.to_string())?;
    let mut head = [0u8; 2];
    s.read_exact(&mut head)
        .map_err(|e| format!("StartTLS response: {e}"))?;
    let len = if head[1] & 0x80 == 0 {
        head[1] as usize
    } else {
        let n = (head[1] & 0x7f) as usize;
        if n == 0 || n > 3 {
            return Err("StartTLS response: bad length".into());
        }
        let mut l = vec![0u8; n];
        s.read_exact(&mut l).map_err(|e| e.to_string())?;
        l.iter().fold(0usize, |a, &b| (a << 8) | b as usize)
    };
    let mut body = vec![0u8; len.min(65536)];
    s.read_exact(&mut body)
        .map_err(|e| format!("StartTLS response: {e}"))?;
    // ExtendedResponse [APPLICATION 24] starts with resultCode ENUMERATED.
    let at = body
        .windows(2)
        .position(|w| w == [0x0a, 0x01])
        .ok_or("StartTLS response: no result code")?;
    match body.get(at + 2) {
        Some(0) => Ok(()),
        Some(code) => Err(format!("StartTLS refused: LDAP result {code}")),
        None => Err("StartTLS response: truncated".into()),
    }
}

/// A TCP connection with the plain-text part done, ready for TLS.
fn ready(e: &Endpoint) -> Result<TcpStream, String> {
    let mut s = connect(&e.host, e.port)?;
    match e.wrap {
        Wrap::Implicit => {}
        Wrap::Smtp => {
            smtp_preamble(&mut s, true)?;
        }
        Wrap::Imap => {
            imap_preamble(&mut s, true)?;
        }
        Wrap::Ldap => ldap_preamble(&mut s)?,
    }
    Ok(s)
}

fn ssl_version(v: Version) -> Option<SslVersion> {
    Some(match v {
        Version::Tls10 => SslVersion::TLS1,
        Version::Tls11 => SslVersion::TLS1_1,
        Version::Tls12 => SslVersion::TLS1_2,
        Version::Tls13 => SslVersion::TLS1_3,
        _ => return None,
    })
}

type Tls = openssl::ssl::SslStream<TcpStream>;

/// A TLS session at exactly `version` (any version when `None`).
fn handshake(e: &Endpoint, version: Option<Version>) -> Result<Tls, String> {
    let s = ready(e)?;
    let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(|x| x.to_string())?;
    b.set_verify(SslVerifyMode::NONE);
    b.set_security_level(0);
    b.set_cipher_list("ALL:@SECLEVEL=0")
        .map_err(|x| x.to_string())?;
    if let Some(v) = version.and_then(ssl_version) {
        b.set_min_proto_version(Some(v))
            .map_err(|x| x.to_string())?;
        b.set_max_proto_version(Some(v))
            .map_err(|x| x.to_string())?;
    }
    let conn = b.build();
    let mut cfg = conn.configure().map_err(|x| x.to_string())?;
    cfg.set_verify_hostname(false);
    cfg.set_use_server_name_indication(e.name.is_some());
    cfg.connect(e.name.as_deref().unwrap_or("tlsmend.invalid"), s)
        .map_err(|x| {
            let t = x.to_string();
            t.lines().next().unwrap_or(&t).to_string()
        })
}

/// What a server did at each TLS version.
#[derive(Clone, Debug, Default)]
pub struct Versions {
    pub accepted: Vec<Version>,
    /// With the reason OpenSSL gave.
    pub refused: Vec<(Version, String)>,
    /// "RSA 2048 bits" and whether that is weak.
    pub key: Option<(String, bool)>,
}

/// Tries TLS 1.0 to 1.3, one at a time, and reads the key presented.
/// `Err` when the server cannot be reached at all.
pub fn versions(e: &Endpoint) -> Result<Versions, String> {
    // Reachable at all (and the plain-text part works)?
    ready(e)?;
    let mut out = Versions::default();
    for v in Version::ALL_TLS {
        match handshake(e, Some(v)) {
            Ok(mut tls) => {
                if out.key.is_none()
                    && let Some(cert) = tls.ssl().peer_certificate()
                    && let Ok(pk) = cert.public_key()
                {
                    let bits = pk.bits();
                    let (kind, weak) = match pk.id() {
                        openssl::pkey::Id::RSA => ("RSA", bits < 2048),
                        openssl::pkey::Id::EC => ("EC", bits < 256),
                        openssl::pkey::Id::ED25519 => ("Ed25519", false),
                        _ => ("key", false),
                    };
                    out.key = Some((format!("{kind} {bits} bits"), weak));
                }
                let _ = tls.shutdown();
                out.accepted.push(v);
            }
            Err(why) => out.refused.push((v, why)),
        }
    }
    Ok(out)
}

/// How many Strict-Transport-Security headers an HTTPS server sends for `/`.
pub fn hsts_headers(e: &Endpoint) -> Result<usize, String> {
    let mut tls = handshake(e, None)?;
    let host = e.name.clone().unwrap_or_else(|| e.host.clone());
    tls.write_all(
        format!("HEAD / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .map_err(|x| x.to_string())?;
    let mut buf = Vec::new();
    let _ = Read::by_ref(&mut tls).take(65536).read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    Ok(head
        .lines()
        .filter(|l| {
            l.to_ascii_lowercase()
                .starts_with("strict-transport-security:")
        })
        .count())
}

/// The status and Location of `GET /` over plain HTTP.
pub fn http_redirect(host: &str, port: u16, name: &str) -> Result<(u16, Option<String>), String> {
    let mut s = connect(host, port)?;
    s.write_all(format!("GET / HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n").as_bytes())
        .map_err(|x| x.to_string())?;
    let mut buf = Vec::new();
    let _ = s.take(65536).read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or("no HTTP status line")?;
    let location = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("location"))
                .map(|(_, v)| v.trim().to_string())
        });
    Ok((status, location))
}

/// Whether an IMAP server advertises LOGINDISABLED before STARTTLS.
pub fn imap_login_disabled(host: &str, port: u16) -> Result<bool, String> {
    let mut s = connect(host, port)?;
    let caps = imap_preamble(&mut s, false)?;
    Ok(caps
        .split_whitespace()
        .any(|c| c.eq_ignore_ascii_case("LOGINDISABLED")))
}

/// Before STARTTLS on an SMTP port: whether AUTH is offered, and whether a
/// `MAIL FROM` is refused (`530`: STARTTLS required).
pub fn smtp_before_starttls(host: &str, port: u16) -> Result<(bool, bool), String> {
    let mut s = connect(host, port)?;
    let caps = smtp_preamble(&mut s, false)?;
    let auth = caps
        .iter()
        .any(|c| c.to_ascii_uppercase().starts_with("AUTH"));
    s.write_all(b"MAIL FROM:<probe@tlsmend.invalid>\r\n")
        .map_err(|e| e.to_string())?;
    let reply = read_line(&mut s)?;
    let _ = s.write_all(b"QUIT\r\n");
    Ok((auth, reply.starts_with("530")))
}
