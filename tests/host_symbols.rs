//! No name the `Win32` tree exposes reaches the host's C library: a function wsasim does
//! not simulate resolves to `windows-sys`'s declaration, which fails to link on Linux, but
//! one whose name glibc also has (`getaddrinfo`, `recv`, ...) would link silently against
//! the host's, with Linux layouts and real DNS lookups. So every such name must be one
//! wsasim simulates.

use std::collections::BTreeSet;
use std::ffi::{CString, c_char, c_void};
use std::path::PathBuf;

unsafe extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}

/// `windows-sys`'s modules that the `Win32` tree re-exports whole.
const MODULES: [&str; 6] = [
    "Foundation",
    "Networking/WinSock",
    "Security",
    "System/IO",
    "System/SystemInformation",
    "System/Threading",
];

/// Where cargo keeps the sources of the `windows-sys` wsasim builds with (the graph holds
/// other versions too, for other crates).
fn windows_sys_sources() -> PathBuf {
    let cargo = || std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let run = |cmd: &mut std::process::Command| {
        let out = cmd.output().expect("cargo");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let tree = run(cargo()
        .args([
            "tree",
            "--offline",
            "-p",
            "wsasim",
            "-e",
            "normal",
            "--depth",
            "1",
            "--prefix",
            "none",
            "--manifest-path",
        ])
        .arg(manifest));
    let version =
        tree.lines().find_map(|l| l.strip_prefix("windows-sys v")).expect("wsasim depends on windows-sys");
    // This platform's packages only: the others' need not have been downloaded.
    let rustc =
        run(std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into())).arg("-vV"));
    let host = rustc.lines().find_map(|l| l.strip_prefix("host: ")).expect("rustc -vV names the host");
    let metadata = run(cargo()
        .args([
            "metadata",
            "--offline",
            "--format-version",
            "1",
            "--filter-platform",
            host,
            "--manifest-path",
        ])
        .arg(manifest));
    let wanted = format!("/windows-sys-{version}/Cargo.toml");
    let path = metadata
        .split("\"manifest_path\":\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .find(|path| path.ends_with(&wanted))
        .expect("windows-sys among the packages");
    PathBuf::from(path).parent().unwrap().join("src/Windows/Win32")
}

/// The functions a module declares (its `link!` lines).
fn declared(module: &str) -> Vec<String> {
    let text = std::fs::read_to_string(windows_sys_sources().join(module).join("mod.rs")).unwrap();
    text.lines()
        .filter(|l| l.contains("link!("))
        .filter_map(|l| {
            let after = &l[l.find(" fn ")? + 4..];
            Some(after[..after.find('(')?].to_owned())
        })
        .collect()
}

/// The functions wsasim puts in place of `windows-sys`'s, from its `Win32` tree.
fn simulated() -> BTreeSet<String> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/Win32.rs")).unwrap();
    let mut names = BTreeSet::new();
    for statement in text.split("pub use crate::").skip(1) {
        let statement = &statement[..statement.find(';').unwrap()];
        let list = statement.rsplit("::").next().unwrap().trim_matches(|c| c == '{' || c == '}');
        names.extend(list.split(',').map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()));
    }
    names
}

fn on_host(name: &str) -> bool {
    let symbol = CString::new(name).unwrap();
    // SAFETY: RTLD_DEFAULT (NULL) searches the libraries loaded in this process.
    !unsafe { dlsym(std::ptr::null_mut(), symbol.as_ptr()) }.is_null()
}

#[test]
fn every_exposed_name_the_host_also_has_is_simulated() {
    assert!(on_host("getaddrinfo") && on_host("recv"), "the lookup sees the C library");
    let simulated = simulated();
    assert!(simulated.contains("getaddrinfo") && simulated.contains("WSARecv"), "{simulated:?}");
    let mut colliding = Vec::new();
    let mut unsimulated = Vec::new();
    for module in MODULES {
        let names = declared(module);
        assert!(!names.is_empty(), "no functions read from {module}");
        for name in names.into_iter().filter(|n| on_host(n)) {
            if simulated.contains(&name) {
                colliding.push(name);
            } else {
                unsimulated.push(format!("{module}::{name}"));
            }
        }
    }
    assert!(unsimulated.is_empty(), "these would link against the host's C library: {unsimulated:?}");
    assert!(colliding.len() >= 30, "only {} names collide: {colliding:?}", colliding.len());
}
