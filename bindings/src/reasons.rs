//! The typed reasons inside two errors: why the authenticator refused something
//! ([`AuthenticatorReason`], one case per kind of `twostep_otp::Error`) and why the server
//! refused a request ([`Rejection`]). Mirrors of the core's enums, made from the same lists
//! (the `with_*` macros the core exports: no second copy of a list here) and converted both
//! ways with exhaustive matches.

use twostep_core::{AuthenticatorReason as CoreReason, Rejection as CoreRejection};

macro_rules! both_ways {
    ($ffi:ident, $core:ident, [$($variant:ident),* $(,)?]) => {
        impl From<$core> for $ffi {
            fn from(value: $core) -> Self {
                match value { $($core::$variant => Self::$variant,)* }
            }
        }
        impl From<$ffi> for $core {
            fn from(value: $ffi) -> Self {
                match value { $($ffi::$variant => Self::$variant,)* }
            }
        }
    };
}

macro_rules! authenticator_reason {
    ($( #[doc = $doc:literal] $variant:ident = $name:literal, )*) => {
        /// Why the authenticator refused an input or an operation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
        pub enum AuthenticatorReason {
            $( #[doc = $doc] $variant, )*
        }

        both_ways!(AuthenticatorReason, CoreReason, [$($variant),*]);
    };
}

macro_rules! rejection {
    ($( #[doc = $doc:literal] $variant:ident = $name:literal, )*) => {
        /// Why the server refused a request, when no more specific error applies.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
        pub enum Rejection {
            $( #[doc = $doc] $variant, )*
        }

        both_ways!(Rejection, CoreRejection, [$($variant),*]);
    };
}

twostep_core::with_error_kinds!(authenticator_reason);
twostep_core::with_rejections!(rejection);
