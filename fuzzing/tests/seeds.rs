//! The seed corpora: where they come from and that they still reach the success paths.
//!
//! `write_seed_corpus` (ignored; run it with `cargo test -p twostep-fuzz --test seeds --
//! --ignored` after a format changes) derives the seeds from the test fixtures: the otpauth
//! URIs of `otp/tests/uri_corpus.rs`, the Aegis and 2FAS samples of `otp/tests/imports.rs`,
//! Google exports encoded from the published schema, encrypted exports of those accounts,
//! the request shapes of the end-to-end tests, and stored hashes as the server writes them.
//! The other test checks that the committed seeds are still accepted where they should be:
//! a format change that makes every seed fail would silently blunt the fuzzing.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use base64::Engine;
use twostep_otp::import::{self, ImportFormat};
use twostep_otp::{KdfParams, Vault, export, uri};
use twostep_proto::*;

const URI_CORPUS: &str = include_str!("../../otp/tests/uri_corpus.rs");
const IMPORT_SAMPLES: &str = include_str!("../../otp/tests/imports.rs");

fn seeds_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds").join(target)
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let mut files: Vec<_> =
        std::fs::read_dir(seeds_dir(target)).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.into_iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// The `"otpauth..."` literals of the URI corpus test.
fn fixture_uris() -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in URI_CORPUS.match_indices("\"otpauth") {
        let rest = &URI_CORPUS[at + 1..];
        let end = rest.find('"').unwrap();
        out.push(rest[..end].replace("\\n", "\n"));
    }
    out.push("  otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&&issuer=E#section\n".to_owned());
    out.sort();
    out.dedup();
    out
}

/// The raw-string JSON documents of the import test (Aegis and 2FAS samples).
fn fixture_json(marker: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in IMPORT_SAMPLES.match_indices("r#\"{") {
        let rest = &IMPORT_SAMPLES[at + 3..];
        let doc = &rest[..rest.find("\"#").unwrap()];
        if doc.contains(marker) {
            out.push(doc.to_owned());
        }
    }
    out
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn field(out: &mut Vec<u8>, number: u64, value: &[u8]) {
    varint(out, number << 3 | 2);
    varint(out, value.len() as u64);
    out.extend_from_slice(value);
}

fn field_int(out: &mut Vec<u8>, number: u64, value: u64) {
    varint(out, number << 3);
    varint(out, value);
}

/// One `OtpParameters`: secret, name, issuer, algorithm, digits, type, counter.
type OtpParameters<'a> = (&'a [u8], &'a str, &'a str, u64, u64, u64, u64);

/// A `MigrationPayload` (see `otp/src/import/google.rs`).
fn migration_payload(entries: &[OtpParameters<'_>], batch: (u64, u64, u64)) -> Vec<u8> {
    let mut payload = Vec::new();
    for (secret, name, issuer, algorithm, digits, kind, counter) in entries {
        let mut p = Vec::new();
        field(&mut p, 1, secret);
        field(&mut p, 2, name.as_bytes());
        field(&mut p, 3, issuer.as_bytes());
        field_int(&mut p, 4, *algorithm);
        field_int(&mut p, 5, *digits);
        field_int(&mut p, 6, *kind);
        field_int(&mut p, 7, *counter);
        field(&mut payload, 1, &p);
    }
    field_int(&mut payload, 2, 1);
    field_int(&mut payload, 3, batch.0);
    field_int(&mut payload, 4, batch.1);
    field_int(&mut payload, 5, batch.2);
    payload
}

fn migration_uri(payload: &[u8]) -> String {
    let data = base64::engine::general_purpose::STANDARD.encode(payload);
    format!(
        "otpauth-migration://offline?data={}",
        data.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
    )
}

fn google_payloads() -> Vec<Vec<u8>> {
    let totp: OtpParameters<'_> =
        (b"12345678901234567890", "alice@example.com", "Example", 1, 1, 2, 0);
    let hotp: OtpParameters<'_> = (b"hotp-secret!", "Bank:bob", "", 2, 2, 1, 7);
    let md5: OtpParameters<'_> = (b"s", "md5", "B", 4, 1, 2, 0);
    vec![
        migration_payload(&[totp, hotp], (1, 0, 0xffff_ffff)),
        migration_payload(&[totp], (3, 0, 0x5eed)),
        migration_payload(&[hotp], (3, 1, 0x5eed)),
        migration_payload(&[totp, hotp], (3, 2, 0x5eed)),
        migration_payload(&[totp, md5], (1, 0, 1)),
    ]
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = seeds_dir(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

#[test]
#[ignore = "rewrites the committed seed corpus"]
fn write_seed_corpus() {
    for (i, uri) in fixture_uris().iter().enumerate() {
        write("otpauth_uri", &format!("fixture-{i:02}"), uri.as_bytes());
    }
    let good: Vec<String> = fixture_uris().into_iter().filter(|u| uri::parse(u).is_ok()).collect();
    write("import_uri_list", "accepted", good.join("\n").as_bytes());
    write(
        "import_uri_list",
        "commented",
        format!("# exported\n\n{}\r\n{}\n", good[0], good[1]).as_bytes(),
    );
    write("import_uri_list", "all-fixtures", fixture_uris().join("\n").as_bytes());

    let payloads = google_payloads();
    for (i, payload) in payloads.iter().enumerate() {
        write("import_google_payload", &format!("payload-{i}"), payload);
    }
    write("import_google", "single", migration_uri(&payloads[0]).as_bytes());
    let parts: Vec<String> = payloads[1..4].iter().map(|p| migration_uri(p)).collect();
    write(
        "import_google",
        "three-parts",
        format!("{}\n{}\n{}\n", parts[2], parts[0], parts[1]).as_bytes(),
    );
    write("import_google", "part-missing", format!("{}\n{}\n", parts[2], parts[0]).as_bytes());
    write("import_google", "bad-entry", migration_uri(&payloads[4]).as_bytes());

    for (i, doc) in fixture_json("\"db\"").iter().enumerate() {
        write("import_aegis", &format!("fixture-{i}"), doc.as_bytes());
    }
    for (i, doc) in fixture_json("\"services\"").iter().enumerate() {
        write("import_twofas", &format!("fixture-{i}"), doc.as_bytes());
    }

    // Encrypted exports of the fixture accounts, at the minimum cost (the fuzz targets
    // decrypt only those).
    let aegis = fixture_json("\"db\"").into_iter().next().unwrap();
    let mut vault = Vault::new();
    vault.import(import::parse(ImportFormat::Aegis, aegis.as_bytes()).unwrap()).unwrap();
    let rng = ring::rand::SystemRandom::new();
    let password = twostep_fuzz::targets::otp::EXPORT_PASSWORD;
    // Exports have a random salt: keep the committed ones unless they stopped decrypting.
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let path = seeds_dir(target).join(name);
        let current = std::fs::read(&path).ok();
        if current.is_none_or(|c| export::decrypt(&c, password).is_err()) {
            write(target, name, bytes);
        }
    };
    let file = export::encrypt(vault.accounts(), password, KdfParams::MINIMUM, &rng).unwrap();
    write("export_header", "aegis-accounts", file.as_bytes());
    write("export_decrypt", "aegis-accounts", file.as_bytes());
    let one = export::encrypt(&vault.accounts()[..1], password, KdfParams::MINIMUM, &rng).unwrap();
    write("export_decrypt", "one-account", one.as_bytes());
    let costly =
        export::encrypt(&vault.accounts()[..1], password, KdfParams::default(), &rng).unwrap();
    write("export_header", "default-cost", costly.as_bytes());
    let write = self::write;
    // The plaintext: the same accounts as the export serializes them.
    let accounts: Vec<serde_json::Value> = vault
        .accounts()
        .iter()
        .map(|a| serde_json::json!({"issuer": a.issuer, "name": a.name, "group": a.group, "otp": a.otp}))
        .collect();
    let plain = serde_json::json!({ "accounts": accounts });
    write("export_payload", "aegis-accounts", plain.to_string().as_bytes());
    let bare = serde_json::json!({ "accounts": [accounts[0]] });
    write("export_payload", "one-account", bare.to_string().as_bytes());

    // Request bodies: the shapes of the end-to-end tests, one per type (selector = index
    // in `bodies::TYPES`), plus malformed ones from the bad-input test.
    let bodies: &[(usize, &str)] = &[
        (0, r#"{"username":"alice","password":"alice-password","client":"web"}"#),
        (
            0,
            r#"{"username":"hal","password":"hal-password","client":"mobile","device":{"public_key":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","name":"Phone"}}"#,
        ),
        (0, r#"{"username":"alice","password":"alice-password","client":"fax"}"#),
        (0, r#"{"username":"alice","password":12345678,"client":"web","role":"admin"}"#),
        (1, r#"{"code":"123456"}"#),
        (1, r#"{"code":"abcde-fghij"}"#),
        (2, r#"{"channel":"email"}"#),
        (3, r#"{"device_id":"d-1"}"#),
        (4, r#"{"device_id":"d-1","nonce":"bm9uY2U","signature":"c2lnbmF0dXJl"}"#),
        (5, r#"{"current_password":"frank-password","new_password":"frank-password-2"}"#),
        (6, r#"{"phone":"+4915112345678"}"#),
        (7, r#"{"email":"dan@example.com"}"#),
        (8, r#"{"channel":"totp"}"#),
        (9, r#"{"username":"root-operator","password":"operator-password-1"}"#),
        (10, r#"{"name":"acme","policy":{"require_two_step":true,"passcode_min_length":8}}"#),
        (
            11,
            r#"{"require_two_step":true,"passcode_min_length":8,"passcode_alphanumeric":true,"passcode_max_attempts":3,"passcode_lock_timeout_secs":300,"wipe_vault_on_max_attempts":true}"#,
        ),
        (12, r#"{"username":"zed","password":"long-enough-pw"}"#),
        (13, r#"{"channel":"sms"}"#),
        (
            14,
            r#"{"setup_token":"token","username":"root-operator","password":"operator-password-1"}"#,
        ),
    ];
    for (i, (selector, body)) in bodies.iter().enumerate() {
        let mut bytes = vec![*selector as u8];
        bytes.extend_from_slice(body.as_bytes());
        write("request_bodies", &format!("body-{i:02}"), &bytes);
    }

    // Routes (selected by the server's endpoint table), against the world's users.
    let pw = twostep_fuzz::targets::server::PASSWORD;
    let a = twostep_fuzz::targets::server::USER_WITH_SESSION;
    let routes: Vec<(&str, &str, String)> = vec![
        ("post", "/v1/signin", format!(r#"{{"username":"{a}","password":"{pw}","client":"web"}}"#)),
        (
            "post",
            "/v1/signin",
            r#"{"username":"nobody","password":"wrong-password","client":"agent"}"#.into(),
        ),
        ("post", "/v1/signin/{id}/code", r#"{"code":"123456"}"#.into()),
        ("post", "/v1/signin/{id}/recovery", r#"{"code":"abcde-fghij"}"#.into()),
        ("post", "/v1/signin/{id}/channel", r#"{"channel":"totp"}"#.into()),
        ("post", "/v1/device/challenge", r#"{"device_id":"unknown"}"#.into()),
        (
            "post",
            "/v1/device/session",
            r#"{"device_id":"d-1","nonce":"bm9uY2U","signature":"c2lnbmF0dXJl"}"#.into(),
        ),
        (
            "post",
            "/v1/me/password",
            format!(r#"{{"current_password":"{pw}","new_password":"another-password-1"}}"#),
        ),
        ("post", "/v1/me/two-step/totp/confirm", r#"{"code":"123456"}"#.into()),
        ("post", "/v1/me/two-step/sms", r#"{"phone":"+4915112345678"}"#.into()),
        ("post", "/v1/me/two-step/sms/confirm", r#"{"code":"123456"}"#.into()),
        ("post", "/v1/me/two-step/email", r#"{"email":"a@example.com"}"#.into()),
        ("post", "/v1/me/two-step/email/confirm", r#"{"code":"123456"}"#.into()),
        ("put", "/v1/me/two-step/preferred", r#"{"channel":"email"}"#.into()),
        ("post", "/v1/me/two-step/step-up", r#"{"channel":"email"}"#.into()),
        ("post", "/v1/me/two-step/verify", r#"{"code":"123456"}"#.into()),
        (
            "post",
            "/v1/admin/bootstrap",
            r#"{"setup_token":"token","username":"op2","password":"operator-password-2"}"#.into(),
        ),
        ("post", "/v1/admin/signin", r#"{"username":"someone","password":"some-password"}"#.into()),
        ("post", "/v1/admin/orgs", r#"{"name":"org-2","policy":{"require_two_step":true}}"#.into()),
        ("post", "/v1/admin/orgs/{org}/policy/preview", r#"{"require_two_step":true}"#.into()),
        (
            "patch",
            "/v1/admin/orgs/{org}/policy",
            r#"{"require_two_step":true,"passcode_min_length":300}"#.into(),
        ),
        (
            "post",
            "/v1/admin/orgs/{org}/users",
            r#"{"username":"new-user","password":"new-user-password"}"#.into(),
        ),
        ("get", "/v1/admin/users", format!("q={a}&org=fuzz&limit=10")),
        ("get", "/v1/admin/audit", format!("limit=10&after=0&user={a}")),
    ];
    let selector = |method: &str, path: &str| {
        twostep_fuzz::targets::server::route_selector(method, path)
            .unwrap_or_else(|| panic!("{method} {path} is not an endpoint with input any more"))
    };
    for (i, (method, path, body)) in routes.iter().enumerate() {
        let mut bytes = vec![selector(method, path), 0];
        bytes.extend_from_slice(body.as_bytes());
        write("server_routes", &format!("route-{i:02}"), &bytes);
    }
    let mut no_type = vec![selector("post", "/v1/signin"), 2];
    no_type.extend_from_slice(br#"{"username":"x","password":"y","client":"web"}"#);
    write("server_routes", "no-content-type", &no_type);
    let mut bad_token = vec![selector("post", "/v1/me/two-step/verify"), 3];
    bad_token.extend_from_slice(br#"{"code":"123456"}"#);
    write("server_routes", "unknown-token", &bad_token);

    // Web forms (selector = index in `web::FORMS`), as the pages post them.
    let forms: &[(&str, String)] = &[
        ("/signin", format!("username={a}&password={pw}")),
        ("/signin/code", "code=123456".into()),
        ("/signin/channel", "channel=totp".into()),
        ("/signin/recovery", "code=abcde-fghij".into()),
        ("/account/two-step/sms", "destination=%2B4915112345678".into()),
        ("/account/two-step/email/confirm", "code=123456".into()),
        ("/account/two-step/preferred", "channel=email".into()),
        ("/account/password", format!("current_password={pw}&new_password=another-password-1&repeat_password=another-password-1&code=123456")),
        ("/account/devices/revoke", "device=d-1".into()),
        ("/admin/signin", "username=someone&password=some-password".into()),
        ("/admin/orgs", "name=org-3&require_two_step=on".into()),
        ("/admin/orgs/{org}/policy/preview", "require_two_step=on&passcode_min_length=8&passcode_max_attempts=10&passcode_lock_timeout_secs=300&max_messages_per_user_per_day=20".into()),
        ("/admin/orgs/{org}/users", "username=web-user&password=web-user-password".into()),
        ("/admin/users", format!("q={a}&org=fuzz")),
        ("/admin/audit", format!("user={a}&kind=sign_in&from=2026-01-01&after=0")),
    ];
    for (i, (path, form)) in forms.iter().enumerate() {
        let selector = twostep_fuzz::targets::web::FORMS
            .iter()
            .position(|(_, p)| p == path)
            .unwrap_or_else(|| panic!("{path} is not in web::FORMS"));
        let mut bytes = vec![selector as u8, 0];
        bytes.extend_from_slice(form.as_bytes());
        write("web_forms", &format!("form-{i:02}"), &bytes);
    }

    // Stored hashes as the server writes them, and near misses.
    let salt = base64::engine::general_purpose::STANDARD_NO_PAD.encode([7u8; 16]);
    let hash = base64::engine::general_purpose::STANDARD_NO_PAD.encode([9u8; 32]);
    for (i, phc) in [
        format!("$argon2id$v=19$m=19456,t=2,p=1${salt}${hash}"),
        format!("$argon2id$v=19$m=65536,t=3,p=4${salt}${hash}"),
        format!("$argon2id$v=19$m=19456,t=2,p=1,x=1${salt}${hash}"),
        format!("$argon2i$v=19$m=19456,t=2,p=1${salt}${hash}"),
        format!("$argon2id$v=16$m=19456,t=2,p=1${salt}${hash}$"),
    ]
    .iter()
    .enumerate()
    {
        write("stored_hash", &format!("phc-{i}"), phc.as_bytes());
    }

    // Hostile-server scripts: realistic flows (the target's own encoder), and random bytes
    // (any bytes decode to a script).
    for (i, script) in twostep_fuzz::targets::core::seed_scripts().iter().enumerate() {
        write("core_answers", &format!("flow-{i}"), script);
    }
    let mut rng = twostep_fuzz::mutate::Rng::new(1);
    for (i, len) in [64usize, 1024].into_iter().enumerate() {
        let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        write("core_answers", &format!("random-{i}"), &bytes);
    }
}

#[test]
fn seeds_still_reach_the_success_paths() {
    fn accepted<E: std::fmt::Debug>(name: &str, parse: &dyn Fn(&[u8]) -> Result<(), E>) {
        let results: Vec<_> = seeds(name).iter().map(|s| parse(s)).collect();
        assert!(
            results.iter().any(Result::is_ok),
            "no seed of {name} is accepted any more: {results:?}"
        );
    }
    let text = |b: &[u8]| std::str::from_utf8(b).unwrap().to_owned();
    accepted("otpauth_uri", &|s| uri::parse(&text(s)).map(drop));
    accepted("import_uri_list", &|s| import::parse(ImportFormat::OtpauthUris, s).map(drop));
    accepted("import_google", &|s| import::parse(ImportFormat::GoogleAuthenticator, s).map(drop));
    accepted("import_google_payload", &|s| {
        import::parse(ImportFormat::GoogleAuthenticator, migration_uri(s).as_bytes()).map(drop)
    });
    accepted("import_aegis", &|s| import::parse(ImportFormat::Aegis, s).map(drop));
    accepted("import_twofas", &|s| import::parse(ImportFormat::TwoFas, s).map(drop));
    accepted("export_header", &|s| export::fuzzing::read_header(s).map(drop));
    accepted("export_payload", &|s| export::fuzzing::read_payload(s).map(drop));
    accepted("export_decrypt", &|s| {
        export::decrypt(s, twostep_fuzz::targets::otp::EXPORT_PASSWORD).map(drop)
    });
    accepted("request_bodies", &|s| serde_json::from_slice::<SignInRequest>(&s[1..]).map(drop));
    accepted("stored_hash", &|s| {
        twostep_server::passwords::parse_phc(&text(s)).ok_or(()).map(drop)
    });
}
