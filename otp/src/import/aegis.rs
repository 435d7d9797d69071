//! Aegis Authenticator's vault, exported without encryption.
//!
//! ```json
//! {"version": 1, "header": {"slots": null, "params": null},
//!  "db": {"version": 3, "entries": [
//!     {"type": "totp", "uuid": "…", "name": "alice", "issuer": "GitHub", "groups": ["<group uuid>"],
//!      "info": {"secret": "JBSWY3DPEHPK3PXP", "algo": "SHA1", "digits": 6, "period": 30}}],
//!   "groups": [{"uuid": "<group uuid>", "name": "Work"}]}}
//! ```
//!
//! Types `totp`, `hotp` (`info.counter`) and `steam` are read; `motp` and `yandex` are
//! refused per entry. Database versions 1–3: version 2 and earlier name the group in
//! `entry.group`. An encrypted vault (`db` is a base64 string) is refused as a whole:
//! export it from Aegis without encryption.

use serde::Deserialize;
use std::borrow::Cow;

use super::{Entry, entry_error};
use crate::account::{self, NewAccount, Otp, OtpKind};
use crate::algorithm::Algorithm;
use crate::error::{Error, Result, json_error};
use crate::secret::Secret;

const FORMAT: &str = "Aegis";

/// Read first: an encrypted vault has key slots in its header.
#[derive(Deserialize)]
struct Sniff {
    header: Option<Header>,
}

#[derive(Deserialize)]
struct Header {
    slots: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct File<'a> {
    version: u64,
    #[serde(borrow)]
    db: Db<'a>,
}

#[derive(Deserialize)]
struct Db<'a> {
    version: u64,
    #[serde(borrow)]
    entries: Vec<AegisEntry<'a>>,
    #[serde(default)]
    groups: Vec<Group>,
}

#[derive(Deserialize)]
struct Group {
    uuid: String,
    name: String,
}

#[derive(Deserialize)]
struct AegisEntry<'a> {
    #[serde(rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    name: Cow<'a, str>,
    #[serde(default)]
    issuer: Cow<'a, str>,
    group: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(borrow)]
    info: Option<Info<'a>>,
}

#[derive(Deserialize)]
struct Info<'a> {
    /// Borrowed from the input where possible, so that no copy is left behind.
    #[serde(borrow)]
    secret: Option<Cow<'a, str>>,
    algo: Option<Cow<'a, str>>,
    digits: Option<u64>,
    period: Option<u64>,
    counter: Option<u64>,
}

pub(super) fn parse(text: &str) -> Result<Vec<Entry>> {
    // Tell an encrypted vault apart before complaining about its shape.
    let sniff: Sniff = serde_json::from_str(text).map_err(|e| json_error(FORMAT, &e))?;
    if sniff.header.is_some_and(|h| h.slots.is_some()) {
        return Err(Error::UnsupportedFile {
            format: FORMAT,
            reason: "the vault is encrypted; export it from Aegis without encryption".to_owned(),
        });
    }
    let file: File<'_> = serde_json::from_str(text).map_err(|e| json_error(FORMAT, &e))?;
    if file.version != 1 {
        return Err(Error::UnsupportedFile {
            format: FORMAT,
            reason: format!("file version {} (this version reads 1)", file.version),
        });
    }
    let Db { version, entries, groups } = file.db;
    if !(1..=3).contains(&version) {
        return Err(Error::UnsupportedFile {
            format: FORMAT,
            reason: format!("database version {version} (this version reads 1 to 3)"),
        });
    }
    Ok(entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            let label = Some(account::label(entry.issuer.trim(), entry.name.trim()));
            read(&entry, &groups).map_err(|e| entry_error(index + 1, label, e))
        })
        .collect())
}

fn read(entry: &AegisEntry<'_>, groups: &[Group]) -> Result<NewAccount> {
    let kind = OtpKind::parse(entry.kind.as_deref().unwrap_or("totp"))?;
    let info = entry.info.as_ref().ok_or(Error::MissingSecret)?;
    let secret = Secret::from_base32(
        info.secret.as_deref().filter(|s| !s.trim().is_empty()).ok_or(Error::MissingSecret)?,
    )?;
    let algorithm = info.algo.as_deref().map(Algorithm::parse).transpose()?.unwrap_or_default();
    let otp = match kind {
        OtpKind::Totp => Otp::totp(
            secret,
            algorithm,
            account::digits_from(info.digits.unwrap_or(6))?,
            account::period_from(info.period.unwrap_or(30))?,
        )?,
        OtpKind::Hotp => Otp::hotp(
            secret,
            algorithm,
            account::digits_from(info.digits.unwrap_or(6))?,
            info.counter.unwrap_or(0),
        )?,
        OtpKind::Steam => Otp::steam(secret),
    };
    // Version 3: uuids of groups; earlier: the group's name.
    let group = match entry.groups.first() {
        Some(uuid) => groups.iter().find(|g| &g.uuid == uuid).map(|g| g.name.as_str()),
        None => entry.group.as_deref(),
    };
    NewAccount::new(&entry.issuer, &entry.name, group, otp)
}
