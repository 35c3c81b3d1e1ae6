//! `code_enum!`: an enum of named numeric codes (statuses, folder types, filter types...).

/// Declares an enum whose variants stand for numeric codes, with `code()`, `from_code()`,
/// `FromStr` (the decimal code, surrounding whitespace ignored) and `Display` (the code).
///
/// With a trailing `common`, the enum also gets a `Common(CommonStatus)` variant for the
/// common status codes of MS-ASCMD 2.2.2, which `from_code` falls back to.
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $name:ident: $repr:ty {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, )*
        }
        common
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A common status code (MS-ASCMD 2.2.2).
            Common($crate::status::CommonStatus),
        }

        impl $name {
            /// The numeric value.
            pub const fn code(self) -> $repr {
                match self {
                    $( $name::$variant => $code, )*
                    $name::Common(c) => c.code(),
                }
            }

            /// The value with this code: own codes first, then the common ones.
            pub fn from_code(code: $repr) -> Option<Self> {
                match code {
                    $( $code => Some($name::$variant), )*
                    _ => $crate::status::CommonStatus::from_code(code).map($name::Common),
                }
            }
        }

        impl From<$crate::status::CommonStatus> for $name {
            fn from(c: $crate::status::CommonStatus) -> Self {
                $name::Common(c)
            }
        }

        $crate::macros::code_enum!(@traits $name, $repr);
    };
    (
        $(#[$meta:meta])*
        $name:ident: $repr:ty {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )* ];

            /// The numeric value.
            pub const fn code(self) -> $repr {
                match self {
                    $( $name::$variant => $code, )*
                }
            }

            /// The value with this code.
            pub fn from_code(code: $repr) -> Option<Self> {
                match code {
                    $( $code => Some($name::$variant), )*
                    _ => None,
                }
            }
        }

        $crate::macros::code_enum!(@traits $name, $repr);
    };
    (@traits $name:ident, $repr:ty) => {
        impl std::str::FromStr for $name {
            type Err = $crate::error::InvalidCode;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim()
                    .parse::<$repr>()
                    .ok()
                    .and_then($name::from_code)
                    .ok_or_else(|| $crate::error::InvalidCode(s.chars().take(32).collect()))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.code())
            }
        }
    };
}
pub(crate) use code_enum;
