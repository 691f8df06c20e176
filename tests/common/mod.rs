//! Test harness: runs the real `driftmux` binary with a scrubbed environment (no `OS_*`,
//! `CI`, `NO_COLOR` or a developer's clouds.yaml can leak in) and a temporary output dir.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub out_dir: tempfile::TempDir,
}

impl Run {
    pub fn report(&self, ext: &str) -> String {
        let path = self
            .out_dir
            .path()
            .join(format!("driftmux-openstack-neutron-security-groups.{ext}"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    pub fn has_report(&self, ext: &str) -> bool {
        self.out_dir
            .path()
            .join(format!("driftmux-openstack-neutron-security-groups.{ext}"))
            .exists()
    }
}

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Runs driftmux with `args`; `--output-dir` points at a fresh temp dir unless given.
pub fn driftmux(args: &[&str]) -> Run {
    driftmux_env(args, &[])
}

/// Runs driftmux with `args` and only the given environment variables (plus HOME, set to
/// an empty temp dir so no real clouds.yaml is found).
pub fn driftmux_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    driftmux_with(args, env, None)
}

/// Runs driftmux with `args` and `stdin` as its standard input.
pub fn driftmux_stdin(args: &[&str], stdin: &[u8]) -> Run {
    driftmux_with(args, &[], Some(stdin))
}

fn driftmux_with(args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Run {
    let out_dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::cargo_bin("driftmux").unwrap();
    cmd.env_clear()
        .env("HOME", out_dir.path())
        .envs(env.iter().copied())
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if !args.contains(&"--output-dir") {
        cmd.arg("--output-dir").arg(out_dir.path());
    }
    cmd.args(args);
    if let Some(stdin) = stdin {
        cmd.write_stdin(stdin.to_vec());
    }
    let output = cmd.output().unwrap();
    Run {
        // -1: killed by a signal (only the crash tests expect that).
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
        out_dir,
    }
}

/// Writes `contents` to a temp file named `name` and returns (dir guard, path).
pub fn temp_file(name: &str, contents: &[u8]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, contents).unwrap();
    (dir, path.to_str().unwrap().to_owned())
}

/// `http://127.0.0.1:PORT` where nothing listens (a port just bound, then let go):
/// connecting there is refused.
pub fn nothing_listening() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}
