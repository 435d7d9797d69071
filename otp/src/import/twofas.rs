//! 2FAS Authenticator's backup (`.2fas`), exported without a password.
//!
//! ```json
//! {"services": [
//!    {"name": "GitHub", "secret": "JBSWY3DPEHPK3PXP", "groupId": "g1", "order": {"position": 0},
//!     "otp": {"account": "alice", "issuer": "GitHub", "digits": 6, "period": 30,
//!             "algorithm": "SHA1", "tokenType": "TOTP", "counter": 0}}],
//!  "groups": [{"id": "g1", "name": "Work"}], "schemaVersion": 4}
//! ```
//!
//! The issuer is `otp.issuer`, else the service `name`; the account name is
//! `otp.account`, else `otp.label`. `tokenType` is `TOTP`, `HOTP` or `STEAM`. Entries are
//! imported in `order.position` order. A password-protected backup (`servicesEncrypted`)
//! is refused as a whole.

use serde::Deserialize;
use std::borrow::Cow;

use super::{Entry, entry_error};
use crate::account::{self, NewAccount, Otp, OtpKind};
use crate::algorithm::Algorithm;
use crate::error::{Error, Result, json_error};
use crate::secret::Secret;

const FORMAT: &str = "2FAS";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct File<'a> {
    #[serde(default, borrow)]
    services: Vec<Service<'a>>,
    #[serde(default)]
    groups: Vec<Group>,
    services_encrypted: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct Group {
    id: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Service<'a> {
    #[serde(default)]
    name: Cow<'a, str>,
    /// Borrowed from the input where possible, so that no copy is left behind.
    #[serde(borrow)]
    secret: Option<Cow<'a, str>>,
    #[serde(borrow)]
    otp: Option<ServiceOtp<'a>>,
    order: Option<Order>,
    group_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServiceOtp<'a> {
    #[serde(borrow)]
    label: Option<Cow<'a, str>>,
    #[serde(borrow)]
    account: Option<Cow<'a, str>>,
    #[serde(borrow)]
    issuer: Option<Cow<'a, str>>,
    digits: Option<u64>,
    period: Option<u64>,
    #[serde(borrow)]
    algorithm: Option<Cow<'a, str>>,
    #[serde(borrow)]
    token_type: Option<Cow<'a, str>>,
    counter: Option<u64>,
}

#[derive(Deserialize)]
struct Order {
    position: i64,
}

pub(super) fn parse(text: &str) -> Result<Vec<Entry>> {
    let file: File<'_> = serde_json::from_str(text).map_err(|e| json_error(FORMAT, &e))?;
    if file.services_encrypted.is_some() && file.services.is_empty() {
        return Err(Error::UnsupportedFile {
            format: FORMAT,
            reason: "the backup is password-protected; export it without a password".to_owned(),
        });
    }
    let mut numbered: Vec<(usize, Service<'_>)> = file.services.into_iter().enumerate().collect();
    // Stable: services without a position keep their place after those with one.
    numbered
        .sort_by_key(|(index, s)| s.order.as_ref().map_or((1, *index as i64), |o| (0, o.position)));
    Ok(numbered
        .into_iter()
        .map(|(index, service)| {
            let (issuer, name) = names(&service);
            read(&service, &file.groups).map_err(|e| {
                entry_error(index + 1, Some(account::label(issuer.trim(), name.trim())), e)
            })
        })
        .collect())
}

fn names<'s>(service: &'s Service<'_>) -> (&'s str, &'s str) {
    let otp = service.otp.as_ref();
    let non_empty =
        |s: Option<&'s Cow<'_, str>>| s.map(|c| c.as_ref()).filter(|s| !s.trim().is_empty());
    let issuer = non_empty(otp.and_then(|o| o.issuer.as_ref())).unwrap_or(&service.name);
    let name = non_empty(otp.and_then(|o| o.account.as_ref()))
        .or_else(|| non_empty(otp.and_then(|o| o.label.as_ref())))
        .unwrap_or("");
    (issuer, name)
}

fn read(service: &Service<'_>, groups: &[Group]) -> Result<NewAccount> {
    let secret = Secret::from_base32(
        service.secret.as_deref().filter(|s| !s.trim().is_empty()).ok_or(Error::MissingSecret)?,
    )?;
    let otp = service.otp.as_ref();
    let kind = OtpKind::parse(otp.and_then(|o| o.token_type.as_deref()).unwrap_or("TOTP"))?;
    let algorithm = otp
        .and_then(|o| o.algorithm.as_deref())
        .map(Algorithm::parse)
        .transpose()?
        .unwrap_or_default();
    let digits = || account::digits_from(otp.and_then(|o| o.digits).unwrap_or(6));
    let otp = match kind {
        OtpKind::Totp => Otp::totp(
            secret,
            algorithm,
            digits()?,
            account::period_from(otp.and_then(|o| o.period).unwrap_or(30))?,
        )?,
        OtpKind::Hotp => {
            Otp::hotp(secret, algorithm, digits()?, otp.and_then(|o| o.counter).unwrap_or(0))?
        }
        OtpKind::Steam => Otp::steam(secret),
    };
    let group = service
        .group_id
        .as_ref()
        .and_then(|id| groups.iter().find(|g| &g.id == id))
        .map(|g| g.name.as_str());
    let (issuer, name) = names(service);
    NewAccount::new(issuer, name, group, otp)
}
