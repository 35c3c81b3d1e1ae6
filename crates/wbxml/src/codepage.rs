//! The EAS code pages of MS-ASWBXML section 2.1.2.1 (protocol 16.1).
//!
//! Each page becomes a module of `Tag` constants named after the spec's tag names
//! (`tags::airsync::SYNC_KEY`), plus a table used for decoding, XML and lookups.

/// A tag: a code page and a token on it (0x05..=0x3F; the content bit is not part of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag {
    pub page: u8,
    pub token: u8,
}

/// One code page: its number, its name in the spec and its XML namespace (`"AirSync:"`).
#[derive(Debug)]
pub struct CodePage {
    pub number: u8,
    pub name: &'static str,
    pub namespace: &'static str,
    /// (token, tag name), in token order.
    pub tags: &'static [(u8, &'static str)],
}

macro_rules! code_pages {
    ($( $module:ident = $number:literal, $name:literal { $( $konst:ident = $token:literal => $tag:literal, )* } )*) => {
        /// `Tag` constants, one module per code page.
        pub mod tags {
            $(
                #[doc = concat!("Code page ", stringify!($number), ": ", $name)]
                pub mod $module {
                    use crate::Tag;
                    $( pub const $konst: Tag = Tag { page: $number, token: $token }; )*
                }
            )*
        }

        /// Every code page, indexed by page number.
        pub static CODE_PAGES: &[CodePage] = &[
            $( CodePage {
                number: $number,
                name: $name,
                namespace: concat!($name, ":"),
                tags: &[ $( ($token, $tag), )* ],
            }, )*
        ];
    };
}

include!("codepages.in.rs");

impl Tag {
    pub const fn new(page: u8, token: u8) -> Self {
        Tag { page, token }
    }

    /// The tag's name on its page, e.g. "SyncKey"; `None` for an unassigned token.
    pub fn name(self) -> Option<&'static str> {
        let page = CODE_PAGES.get(self.page as usize)?;
        page.tags
            .iter()
            .find(|(t, _)| *t == self.token)
            .map(|(_, n)| *n)
    }

    /// The page's XML namespace, e.g. "AirSync:".
    pub fn namespace(self) -> Option<&'static str> {
        CODE_PAGES.get(self.page as usize).map(|p| p.namespace)
    }

    /// Looks a tag up by page name or namespace ("AirSync" or "AirSync:") and tag name.
    pub fn lookup(page: &str, name: &str) -> Option<Tag> {
        let page_name = page.strip_suffix(':').unwrap_or(page);
        let cp = CODE_PAGES
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(page_name))?;
        cp.tags
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(t, _)| Tag::new(cp.number, *t))
    }
}
