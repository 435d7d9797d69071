//! The real `twostep` binary's authenticator vault: `twostep accounts ...` against a data
//! directory, with and without a passcode. The vault never needs the server.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const GITHUB: &str = "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub";
/// RFC 6238's SHA-1 seed.
const RFC_SEED: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const PIN: &str = "482915";

struct Device {
    _dir: tempfile::TempDir,
    data_dir: PathBuf,
}

impl Device {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        Self { _dir: dir, data_dir }
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_twostep"))
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(args)
            .env_remove("TWOSTEP_SERVER")
            .env_remove("TWOSTEP_DATA_DIR")
            .env_remove("TWOSTEP_KEY_FILE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs with `--json`: the exit code and the one JSON document on stdout.
    fn json(&self, args: &[&str], stdin: &str) -> (i32, Value) {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let output = self.run(&all, stdin);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
            panic!("{e}: stdout {stdout:?}, stderr {:?}", String::from_utf8_lossy(&output.stderr))
        });
        (output.status.code().unwrap(), value)
    }

    fn ok(&self, args: &[&str], stdin: &str) -> Value {
        let (code, value) = self.json(args, stdin);
        assert_eq!(code, 0, "{args:?}: {value}");
        value
    }

    fn labels(&self, stdin: &str) -> Vec<String> {
        let list = self.ok(&["--passcode-stdin", "accounts", "list"], stdin);
        list["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                format!("{}:{}", a["issuer"].as_str().unwrap_or(""), a["account"].as_str().unwrap())
            })
            .collect()
    }
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[test]
fn add_list_codes_hotp_and_delete_without_a_server() {
    let device = Device::new();
    let added = device.ok(&["accounts", "add", GITHUB], "");
    assert_eq!(added["account"]["issuer"], "GitHub");
    assert!(added["account"].get("secret").is_none(), "lists never carry secrets");
    // "-": the URI on standard input, out of the process list.
    device.ok(
        &["accounts", "add", "-"],
        &format!("otpauth://totp/RFC:6238?secret={RFC_SEED}&digits=8\n"),
    );
    let hotp = device.ok(
        &["accounts", "add", "-"],
        &format!("otpauth://hotp/Bank:me?secret={RFC_SEED}&counter=0"),
    );
    let hotp_id = hotp["account"]["id"].as_u64().unwrap().to_string();
    assert_eq!(device.labels(""), ["GitHub:alice", "RFC:6238", "Bank:me"]);

    let codes = device.ok(&["accounts", "codes", "--time", "59"], "");
    assert_eq!(
        (codes["time"].as_u64(), codes["offset_warning"].as_bool()),
        (Some(59), Some(false))
    );
    let rfc = &codes["codes"][1];
    assert_eq!(
        (rfc["code"].as_str(), rfc["seconds_remaining"].as_u64(), rfc["label"].as_str()),
        (Some("94287082"), Some(1), Some("RFC:6238"))
    );
    assert_eq!(codes["codes"][2]["code"], Value::Null, "HOTP: no code without advancing");
    // The human list.
    let text =
        String::from_utf8(device.run(&["accounts", "codes", "--time", "59"], "").stdout).unwrap();
    assert!(text.contains("94287082  next") && text.contains("RFC:6238"), "{text}");

    // HOTP advances once per code, across runs (RFC 4226 Appendix D).
    assert_eq!(device.ok(&["accounts", "hotp", &hotp_id], "")["code"], "755224");
    assert_eq!(
        String::from_utf8(device.run(&["accounts", "hotp", &hotp_id], "").stdout).unwrap(),
        "287082\n"
    );

    device.ok(&["accounts", "delete", &hotp_id], "");
    assert_eq!(device.labels(""), ["GitHub:alice", "RFC:6238"]);
}

#[test]
fn bad_uris_and_duplicates_are_typed_errors_that_store_nothing() {
    let device = Device::new();
    for (uri, reason) in [
        ("otpauth://totp/E:a?secret=JBSWY3DP1", "invalid_base32"),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&digits=0", "invalid_digits"),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&period=0", "invalid_period"),
        ("otpauth://xotp/E:a?secret=JBSWY3DPEHPK3PXP", "unknown_type"),
    ] {
        let (code, value) = device.json(&["accounts", "add", uri], "");
        assert_eq!(code, 2, "{uri}");
        assert_eq!(
            (value["error"]["code"].as_str(), value["error"]["reason"].as_str()),
            (Some("authenticator"), Some(reason)),
            "{uri}"
        );
    }
    device.ok(&["accounts", "add", GITHUB], "");
    let (code, value) =
        device.json(&["accounts", "add", "otpauth://totp/Other:x?secret=jbswy3dpehpk3pxp"], "");
    assert_eq!((code, value["error"]["reason"].as_str()), (2, Some("duplicate")));
    let output = device.run(&["accounts", "hotp", "99"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no account with id 99"));
    assert_eq!(device.labels(""), ["GitHub:alice"]);
}

const AEGIS: &str = r#"{"version":1,"header":{"slots":null,"params":null},"db":{"version":2,"entries":[
    {"type":"totp","name":"alice","issuer":"GitHub","info":{"secret":"JBSWY3DPEHPK3PXP","algo":"SHA1","digits":6,"period":30}},
    {"type":"steam","name":"gamer","issuer":"Steam","info":{"secret":"ONSWG4TFOQ","algo":"SHA1","digits":5,"period":30}},
    {"type":"hotp","name":"me","issuer":"Bank","group":"Money","info":{"secret":"GEZDGNBVGY3TQOJQ","algo":"SHA256","digits":8,"counter":7}}]}}"#;

#[test]
fn imports_detect_the_format_report_duplicates_and_refuse_bad_files_whole() {
    let device = Device::new();
    let dir = tempfile::tempdir().unwrap();
    device.ok(&["accounts", "add", GITHUB], "");
    let report = device
        .ok(&["accounts", "import", write(dir.path(), "aegis.json", AEGIS).to_str().unwrap()], "");
    assert_eq!(report["added"].as_array().unwrap().len(), 2);
    assert_eq!(report["duplicates"][0]["label"], "GitHub:alice");
    assert_eq!(device.labels(""), ["GitHub:alice", "Steam:gamer", "Bank:me"]);

    let bad = write(
        dir.path(),
        "uris.txt",
        "otpauth://totp/A:ok?secret=KRUGS4ZA\n# comment\notpauth://totp/B:bad?secret=KRUG1\notpauth://totp/C:c?secret=KRUGS4ZA&period=0\n",
    );
    let (code, value) = device.json(&["accounts", "import", bad.to_str().unwrap()], "");
    assert_eq!((code, value["error"]["reason"].as_str()), (2, Some("invalid_entries")));
    let entries: Vec<_> = value["error"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["entry"].as_u64().unwrap(), e["reason"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(entries, [(3, "invalid_base32".to_owned()), (4, "invalid_period".to_owned())]);
    let output = device.run(&["accounts", "import", bad.to_str().unwrap()], "");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("entry 3 (B:bad)"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(device.labels("").len(), 3, "nothing from the bad file");

    let unknown = write(dir.path(), "notes.txt", "hello");
    assert_eq!(device.json(&["accounts", "import", unknown.to_str().unwrap()], "").0, 2);
    let forced =
        device.json(&["accounts", "import", "--format", "aegis", unknown.to_str().unwrap()], "");
    assert_eq!((forced.0, forced.1["error"]["reason"].as_str()), (2, Some("invalid_json")));
}

#[test]
fn with_a_passcode_accounts_need_it_and_exports_need_it_again() {
    let device = Device::new();
    device.ok(&["accounts", "add", GITHUB], "");
    // The passcode needs no server either.
    device.ok(&["--passcode-stdin", "passcode", "set"], &format!("{PIN}\n"));

    // Locked at every run: no passcode, a wrong one, the right one.
    let (code, value) = device.json(&["accounts", "list"], "");
    assert_eq!(
        (code, value["error"]["code"].as_str()),
        (2, Some("usage")),
        "no terminal to ask: {value}"
    );
    let (code, value) = device.json(&["--passcode-stdin", "accounts", "codes"], "111333\n");
    assert_eq!((code, value["error"]["code"].as_str()), (9, Some("passcode_incorrect")));
    assert_eq!(device.labels(&format!("{PIN}\n")), ["GitHub:alice"]);

    // Plain export: the passcode, then the list on stdout.
    let output =
        device.run(&["--passcode-stdin", "accounts", "export", "--plain"], &format!("{PIN}\n"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!("{GITHUB}&algorithm=SHA1&digits=6&period=30\n")
    );
    let output = device.run(&["--passcode-stdin", "accounts", "export", "--plain"], "111333\n");
    assert_eq!(output.status.code(), Some(9));
    assert!(output.stdout.is_empty());

    // Encrypted export to a new 0600 file; another device imports it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.json");
    let exported = device.ok(
        &[
            "--passcode-stdin",
            "accounts",
            "export",
            "--password-stdin",
            "--output",
            file.to_str().unwrap(),
        ],
        &format!("{PIN}\na long export password\n"),
    );
    assert_eq!(
        (exported["accounts"].as_u64(), exported["encrypted"].as_bool()),
        (Some(1), Some(true))
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert!(!std::fs::read_to_string(&file).unwrap().contains("JBSWY3DP"));
    let (code, _) = device.json(
        &[
            "--passcode-stdin",
            "accounts",
            "export",
            "--password-stdin",
            "--output",
            file.to_str().unwrap(),
        ],
        &format!("{PIN}\nanother password\n"),
    );
    assert_eq!(code, 2, "an existing file is not overwritten");

    let other = Device::new();
    let (code, value) = other.json(
        &["accounts", "import", "--password-stdin", file.to_str().unwrap()],
        "not the password\n",
    );
    assert_eq!((code, value["error"]["reason"].as_str()), (2, Some("wrong_password")));
    let report = other.ok(
        &["accounts", "import", "--password-stdin", file.to_str().unwrap()],
        "a long export password\n",
    );
    assert_eq!(report["added"].as_array().unwrap().len(), 1);
    assert_eq!(other.labels(""), ["GitHub:alice"]);
}

#[test]
fn an_issuer_mismatch_is_shown_when_added_listed_and_imported() {
    let device = Device::new();
    let phishy = "otpauth://totp/Google:alice?secret=GEZDGNBVGY3TQOJQ&issuer=Evil";
    let added = device.ok(&["accounts", "add", phishy], "");
    assert_eq!(added["account"]["issuer"], "Evil");
    assert_eq!(added["account"]["warnings"][0]["code"], "issuer_mismatch");
    let text = String::from_utf8(device.run(&["accounts", "list"], "").stdout).unwrap();
    assert!(text.contains("(!)") && text.contains("Warning (issuer_mismatch)"), "{text}");
    let listed = device.ok(&["accounts", "list"], "");
    assert_eq!(listed["accounts"][0]["warnings"][0]["label_issuer"], "Google");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("uris.txt");
    std::fs::write(&file, "otpauth://totp/PayPal:bob?secret=JBSWY3DPEHPK3PXP&issuer=Pay\n")
        .unwrap();
    let imported = device.ok(&["accounts", "import", file.to_str().unwrap()], "");
    assert_eq!(imported["warnings"][0]["warning"]["code"], "issuer_mismatch", "{imported}");
    let output =
        device.run(&["accounts", "import", "--format", "uris", file.to_str().unwrap()], "");
    assert!(String::from_utf8_lossy(&output.stdout).contains("Skipped"), "a duplicate now");
}
