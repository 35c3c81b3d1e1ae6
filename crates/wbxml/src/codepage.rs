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
    /// Second names the spec gives a token (token, name); decoding always uses `tags`.
    pub aliases: &'static [(u8, &'static str)],
}

macro_rules! code_pages {
    ($( $module:ident = $number:literal, $name:literal {
        $( $konst:ident = $token:literal => $tag:literal, )*
        $( @aliases $( $akonst:ident = $atoken:literal => $atag:literal, )* )?
    } )*) => {
        /// `Tag` constants, one module per code page.
        pub mod tags {
            $(
                #[doc = concat!("Code page ", stringify!($number), ": ", $name)]
                pub mod $module {
                    use crate::Tag;
                    $( pub const $konst: Tag = Tag { page: $number, token: $token }; )*
                    $($( pub const $akonst: Tag = Tag { page: $number, token: $atoken }; )*)?
                }
            )*
        }

        /// Every code page, indexed by page number.
        pub static CODE_PAGES: &[CodePage] = PAGES;

        const PAGES: &[CodePage] = &[
            $( CodePage {
                number: $number,
                name: $name,
                namespace: concat!($name, ":"),
                tags: &[ $( ($token, $tag), )* ],
                aliases: &[ $($( ($atoken, $atag), )*)? ],
            }, )*
        ];
    };
}

include!("codepages.in.rs");

/// Pages are numbered 0..PAGE_SLOTS in the lookup table; MS-ASWBXML uses 0..=25.
const PAGE_SLOTS: usize = 32;

/// `INDEX[page][token]` = 1 + the index of the token in `PAGES[page].tags`, or 0 when the
/// token is unassigned. Built at compile time so decoding checks a tag with two array
/// reads instead of a search.
static INDEX: [[u8; 64]; PAGE_SLOTS] = build_index();

const fn build_index() -> [[u8; 64]; PAGE_SLOTS] {
    let mut table = [[0u8; 64]; PAGE_SLOTS];
    let mut p = 0;
    while p < PAGES.len() {
        let page = &PAGES[p];
        // The tables are written in page order; a gap or a misplaced page is a bug.
        assert!(
            page.number as usize == p,
            "code pages must be listed in page order"
        );
        assert!(page.tags.len() < 256);
        let mut i = 0;
        while i < page.tags.len() {
            let token = page.tags[i].0;
            // Tag tokens are 0x05..=0x3F: 0x00-0x04 are global tokens (WBXML 1.3 section 7.1).
            assert!(token >= 0x05 && token <= 0x3F, "tag token out of range");
            assert!(
                table[p][token as usize] == 0,
                "token assigned twice on one page"
            );
            table[p][token as usize] = (i + 1) as u8;
            i += 1;
        }
        p += 1;
    }
    table
}

impl Tag {
    pub const fn new(page: u8, token: u8) -> Self {
        Tag { page, token }
    }

    /// True when the page exists and the token is assigned on it (MS-ASWBXML 2.1.2.1).
    #[inline]
    pub fn is_known(self) -> bool {
        self.index().is_some()
    }

    #[inline]
    fn index(self) -> Option<usize> {
        let row = INDEX.get(self.page as usize)?;
        match *row.get(self.token as usize)? {
            0 => None,
            i => Some(i as usize - 1),
        }
    }

    /// The tag's name on its page, e.g. "SyncKey"; `None` for an unassigned token.
    #[inline]
    pub fn name(self) -> Option<&'static str> {
        let i = self.index()?;
        Some(CODE_PAGES[self.page as usize].tags[i].1)
    }

    /// The tag's code page, `None` for a page MS-ASWBXML does not define.
    pub fn code_page(self) -> Option<&'static CodePage> {
        CODE_PAGES.get(self.page as usize)
    }

    /// The page's name, e.g. "AirSync".
    pub fn page_name(self) -> Option<&'static str> {
        self.code_page().map(|p| p.name)
    }

    /// The page's XML namespace, e.g. "AirSync:".
    pub fn namespace(self) -> Option<&'static str> {
        CODE_PAGES.get(self.page as usize).map(|p| p.namespace)
    }

    /// Looks a tag up by page name or namespace ("AirSync" or "AirSync:") and tag name.
    /// The page name is matched case-insensitively, the tag name exactly; a second name the
    /// spec gives a token (see `CodePage::aliases`) is found too.
    pub fn lookup(page: &str, name: &str) -> Option<Tag> {
        let page_name = page.strip_suffix(':').unwrap_or(page);
        let cp = CODE_PAGES
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(page_name))?;
        cp.lookup(name)
    }
}

impl CodePage {
    /// The tag named `name` on this page (primary names first, then aliases).
    pub fn lookup(&self, name: &str) -> Option<Tag> {
        self.tags
            .iter()
            .chain(self.aliases.iter())
            .find(|(_, n)| *n == name)
            .map(|(t, _)| Tag::new(self.number, *t))
    }

    /// The page with this number.
    pub fn get(number: u8) -> Option<&'static CodePage> {
        CODE_PAGES.get(number as usize)
    }

    /// The page with this name or namespace ("AirSyncBase", "AirSyncBase:"), any case.
    pub fn by_name(name: &str) -> Option<&'static CodePage> {
        let name = name.strip_suffix(':').unwrap_or(name);
        CODE_PAGES
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn twenty_six_pages_in_order() {
        assert_eq!(CODE_PAGES.len(), 26);
        for (i, p) in CODE_PAGES.iter().enumerate() {
            assert_eq!(p.number as usize, i);
            assert_eq!(p.namespace, format!("{}:", p.name));
        }
        let names: Vec<_> = CODE_PAGES.iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                "AirSync",
                "Contacts",
                "Email",
                "AirNotify",
                "Calendar",
                "Move",
                "GetItemEstimate",
                "FolderHierarchy",
                "MeetingResponse",
                "Tasks",
                "ResolveRecipients",
                "ValidateCert",
                "Contacts2",
                "Ping",
                "Provision",
                "Search",
                "Gal",
                "AirSyncBase",
                "Settings",
                "DocumentLibrary",
                "ItemOperations",
                "ComposeMail",
                "Email2",
                "Notes",
                "RightsManagement",
                "Find",
            ]
        );
    }

    #[test]
    fn unique_token_and_name_per_page() {
        for p in CODE_PAGES {
            let mut tokens = HashSet::new();
            let mut names = HashSet::new();
            for &(t, n) in p.tags {
                assert!((0x05..=0x3F).contains(&t), "{} 0x{t:02X}", p.name);
                assert!(tokens.insert(t), "{}: token 0x{t:02X} twice", p.name);
                assert!(names.insert(n), "{}: name {n} twice", p.name);
            }
            for &(t, n) in p.aliases {
                assert!(
                    tokens.contains(&t),
                    "{}: alias {n} on unassigned token",
                    p.name
                );
                assert!(names.insert(n), "{}: alias {n} repeats a name", p.name);
            }
            // Written in token order, so the table reads like the spec's.
            assert!(
                p.tags.windows(2).all(|w| w[0].0 < w[1].0),
                "{} not sorted",
                p.name
            );
        }
    }

    #[test]
    fn lookups_agree_with_constants() {
        use crate::tags::*;
        assert_eq!(Tag::lookup("AirSync", "SyncKey"), Some(airsync::SYNC_KEY));
        assert_eq!(
            Tag::lookup("Provision:", "EASProvisionDoc"),
            Some(provision::EAS_PROVISION_DOC)
        );
        assert_eq!(
            Tag::lookup("provision", "DeviceEncryptionEnabled"),
            Some(provision::REQUIRE_STORAGE_CARD_ENCRYPTION)
        );
        assert_eq!(
            provision::DEVICE_ENCRYPTION_ENABLED.name(),
            Some("RequireStorageCardEncryption")
        );
        assert_eq!(move_::MOVE_ITEMS, Tag::new(5, 0x05));
        assert_eq!(find::PICTURE, Tag::new(25, 0x22));
        assert_eq!(airsyncbase::INSTANCE_ID, Tag::new(17, 0x2D));
        assert_eq!(Tag::new(0, 0x05).name(), Some("Sync"));
        assert_eq!(Tag::new(0, 0x2A).name(), None);
        assert_eq!(Tag::new(26, 0x05).name(), None);
        assert_eq!(Tag::new(200, 0x05).name(), None);
        assert_eq!(Tag::new(0, 0xFF).name(), None);
        for p in CODE_PAGES {
            for &(t, n) in p.tags {
                let tag = Tag::new(p.number, t);
                assert_eq!(tag.name(), Some(n));
                assert_eq!(Tag::lookup(p.name, n), Some(tag));
            }
        }
    }
}
