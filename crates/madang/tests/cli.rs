//! The binary as an operator uses it: admin commands, configuration errors, and a clean
//! stop on SIGTERM.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use madang_store::{NewUser, Store};

fn madang() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_madang"));
    command.env_remove("RUST_LOG").env_remove("MADANG_CONFIG");
    command
}

#[tokio::test]
async fn grant_admin_promotes_an_existing_account() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let store = Store::connect(&format!("sqlite://{data_dir}/madang.db?mode=rwc"))
        .await
        .unwrap();
    store
        .create_user(NewUser {
            id: 1 << 30,
            username: "op",
            email: "op@example.com",
            display_name: None,
            password_hash: "x",
            created_at: 0,
        })
        .await
        .unwrap();

    let missing = madang()
        .args([
            "--data-dir",
            data_dir,
            "admin",
            "grant-admin",
            "nobody@example.com",
        ])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("no account"),
        "{missing:?}"
    );

    let granted = madang()
        .args([
            "--data-dir",
            data_dir,
            "admin",
            "grant-admin",
            "OP@example.com",
        ])
        .output()
        .unwrap();
    assert!(granted.status.success(), "{granted:?}");
    assert_eq!(
        store
            .user_by_email("op@example.com")
            .await
            .unwrap()
            .unwrap()
            .system_role,
        1
    );
}

#[test]
fn a_bad_setting_stops_the_start_with_a_clear_message() {
    let output = madang()
        .args(["--data-dir", "/tmp"])
        .env("MADANG_NODE_ID", "5000")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("node_id"),
        "{output:?}"
    );
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = madang()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Signal only once it serves: the log says so.
    let mut logs = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("madang is serving") {
        assert!(
            logs.read_line(&mut seen).unwrap() > 0,
            "the server exited before serving: {seen}"
        );
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    logs.read_to_string(&mut seen).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}: {seen}");
    assert!(seen.contains("madang stopped"), "{seen}");
}
