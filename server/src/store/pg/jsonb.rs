//! Records cross the wire as `jsonb` in PostgreSQL's binary format (a version byte, then the
//! JSON text), so the server's JSON bytes go in and come out without a parse on our side.

use bytes::{BufMut, BytesMut};
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// JSON text to send as `jsonb`.
#[derive(Debug)]
pub struct Jsonb<'a>(pub &'a [u8]);

impl ToSql for Jsonb<'_> {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_u8(1);
        out.put_slice(self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB
    }

    to_sql_checked!();
}

/// A `jsonb` value as JSON text.
#[derive(Debug)]
pub struct JsonbOut(pub Vec<u8>);

impl<'a> FromSql<'a> for JsonbOut {
    fn from_sql(_ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        match raw.split_first() {
            Some((1, json)) => Ok(JsonbOut(json.to_vec())),
            _ => Err("unsupported jsonb format version".into()),
        }
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB
    }
}
