//! Contacts (MS-ASCNTC, typed in `easd_protocol::items::contact`) ⇄ vCard 4.0 (RFC 6350,
//! through calcard). vCard 3.0 (RFC 2426) is read too: exports from Apple Contacts and
//! Google are mostly 3.0.
//!
//! | EAS | vCard |
//! |---|---|
//! | LastName, FirstName, MiddleName, Title, Suffix | N (family; given; additional; prefix; suffix) |
//! | FileAs | FN (when FileAs is not set, FN is made from the name, RFC 6350 requires it) |
//! | CompanyName, Department | ORG (name; unit) |
//! | JobTitle | TITLE |
//! | Email1Address..Email3Address | EMAIL;PREF=1..3 |
//! | IMAddress..IMAddress3 | IMPP;PREF=1..3 |
//! | the phone numbers | TEL;TYPE=... (work/home/cell/pager/fax/main-number, x-car, x-radio, x-assistant, x-mms; x-second marks Business2 and Home2) |
//! | Business, Home, Other address fields | ADR;TYPE=work, ADR;TYPE=home, ADR;TYPE=x-other (street; locality; region; code; country) |
//! | Birthday, Anniversary | BDAY, ANNIVERSARY (a date; the exact dateTime a client sent, when it is not midnight UTC, in X-EAS-BIRTHDAY / X-EAS-ANNIVERSARY) |
//! | Spouse, Child, ManagerName, AssistantName | RELATED;VALUE=text;TYPE=spouse / child / x-manager / x-assistant |
//! | Categories | CATEGORIES |
//! | Picture | PHOTO (binary) |
//! | WebPage | URL |
//! | NickName | NICKNAME |
//! | Body | NOTE (a non-plain body type in X-EAS-BODY-TYPE) |
//! | YomiFirstName, YomiLastName, YomiCompanyName | X-PHONETIC-FIRST-NAME, X-PHONETIC-LAST-NAME, X-PHONETIC-ORG (Apple's names) |
//! | OfficeLocation, CustomerId, GovernmentId, AccountName | X-EAS-OFFICE-LOCATION, X-EAS-CUSTOMER-ID, X-EAS-GOVERNMENT-ID, X-EAS-ACCOUNT-NAME |
//!
//! Alias and WeightedRank are the server's (recipient information cache) and not stored.
//! Properties of the vCard that EAS doesn't know (UID, REV, X-AB..., a fourth e-mail) are
//! kept as they are when a client changes the contact.

use crate::content::ChangeMode;
use base64::Engine as _;
use calcard::common::{Data, PartialDateTime};
use calcard::vcard::{
    VCard, VCardEntry, VCardParameter, VCardParameterName, VCardParameterValue, VCardProperty,
    VCardValue, VCardVersion,
};
use easd_protocol::items::airsyncbase::{Body, BodyType};
use easd_protocol::items::contact::{Contact, MAX_PICTURE_LEN, TEXT_PROPERTIES};
use easd_wbxml::tags::{airsyncbase, contacts, contacts2};
use easd_wbxml::Tag;

/// Why a stored or imported text is not a contact.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("not a vCard")]
    NotVCard,
}

/// Parses a vCard (3.0 or 4.0).
pub fn parse_vcard(text: &str) -> Result<VCard, ContactError> {
    VCard::parse(text).map_err(|_| ContactError::NotVCard)
}

/// The vCard 4.0 text of a card.
pub fn write_vcard(card: &VCard) -> String {
    let mut out = String::new();
    // Writing into a String can't fail.
    let _ = card.write_to(&mut out, VCardVersion::V4_0);
    // calcard escapes the comma of a data: URI (PHOTO) as in text; a URI value is not
    // escaped (RFC 6350 3.4), and other readers take "base64\," as part of the type. In
    // escaped text a ';' is always "\;", so an unescaped ";base64\," is only a data URI.
    out.replace(";base64\\,", ";base64,")
}

/// A new vCard for a contact a client added, with `uid`.
pub fn to_vcard(contact: &Contact, uid: &str) -> VCard {
    let mut card = VCard {
        entries: vec![VCardEntry::new(VCardProperty::Uid).with_value(uid.to_string())],
    };
    apply(&mut card, contact, ChangeMode::WHOLE);
    card
}

/// The stored vCard text after a client's Add or Change; parses `stored` first.
pub fn apply_to_text(
    stored: &str,
    contact: &Contact,
    mode: ChangeMode,
) -> Result<String, ContactError> {
    let mut card = parse_vcard(stored)?;
    apply(&mut card, contact, mode);
    Ok(write_vcard(&card))
}

/// Applies a client's contact onto a stored card (see [`ChangeMode`]); properties that
/// have no EAS field are kept.
pub fn apply(card: &mut VCard, contact: &Contact, mode: ChangeMode) {
    apply_with(card, contact, |tag| mode.clears_absent(tag));
}

/// `clear_absent(tag)`: whether a property the contact lacks is removed.
fn apply_with(card: &mut VCard, contact: &Contact, clear_absent: impl Fn(Tag) -> bool) {
    // Which entry is which numbered slot is decided once, before any change: removing
    // Email1 must not make the old Email2 the new Email1.
    let slots = Slots {
        tel: tel_slots(card),
        email: indexed(card, Prop::Email),
        impp: indexed(card, Prop::Impp),
    };
    for (tag, get) in TEXT_PROPERTIES {
        let value = get(contact);
        if value.is_none() && !clear_absent(*tag) {
            continue;
        }
        let value = value.filter(|v| !v.is_empty());
        if let Some(field) = field_of(*tag) {
            set_field(card, &slots, field, value);
        }
    }
    if contact.categories.is_some() || clear_absent(contacts::CATEGORIES) {
        remove_all(card, |e| e.name == VCardProperty::Categories);
        if let Some(c) = contact.categories.as_ref().filter(|c| !c.is_empty()) {
            card.entries.push(
                VCardEntry::new(VCardProperty::Categories)
                    .with_values(c.iter().cloned().map(VCardValue::Text).collect()),
            );
        }
    }
    if contact.children.is_some() || clear_absent(contacts::CHILDREN) {
        remove_all(card, |e| related_kind(e) == Some(CHILD));
        for child in contact.children.iter().flatten().filter(|c| !c.is_empty()) {
            card.entries.push(related_entry(CHILD, child));
        }
    }
    if contact.body.is_some() || clear_absent(airsyncbase::BODY) {
        remove_all(card, |e| e.name == VCardProperty::Note);
        if let Some(body) = &contact.body {
            let text = body.data.as_ref().map(|d| d.to_text()).unwrap_or_default();
            if !text.is_empty() {
                let mut note = VCardEntry::new(VCardProperty::Note).with_value(text);
                if body.body_type != BodyType::Plain {
                    note.add_param(VCardParameter::new(
                        VCardParameterName::Other(BODY_TYPE_PARAM.into()),
                        VCardParameterValue::Text(body.body_type.code().to_string()),
                    ));
                }
                card.entries.push(note);
            }
        }
    }
    card.entries.retain(|e| !is_removed(e));
    if !card.entries.iter().any(|e| e.name == VCardProperty::Fn) {
        // RFC 6350 6.2.1: FN is required.
        let name = formatted_name(card);
        card.entries
            .push(VCardEntry::new(VCardProperty::Fn).with_value(name));
    }
}

/// The contact a vCard (3.0 or 4.0) carries, for a client.
pub fn from_vcard(card: &VCard) -> Contact {
    let mut c = Contact::default();
    for (tag, _) in TEXT_PROPERTIES {
        if let Some(field) = field_of(*tag) {
            if let Some(v) = get_field(card, field).filter(|v| !v.is_empty()) {
                if let Some(slot) = c.text_mut(*tag) {
                    *slot = Some(v);
                }
            }
        }
    }
    let categories: Vec<String> = card
        .entries
        .iter()
        .filter(|e| e.name == VCardProperty::Categories)
        .flat_map(texts)
        .filter(|t| !t.is_empty())
        .collect();
    c.categories = (!categories.is_empty()).then_some(categories);
    let children: Vec<String> = card
        .entries
        .iter()
        .filter(|e| related_kind(e) == Some(CHILD))
        .filter_map(first_text)
        .collect();
    c.children = (!children.is_empty()).then_some(children);
    c.body = card
        .entries
        .iter()
        .find(|e| e.name == VCardProperty::Note)
        .and_then(|note| {
            let text = first_text(note)?;
            let body_type = param_texts(note, &VCardParameterName::Other(BODY_TYPE_PARAM.into()))
                .next()
                .and_then(|t| t.parse().ok())
                .and_then(BodyType::from_code)
                .unwrap_or(BodyType::Plain);
            Some(Body::new(body_type, text))
        });
    c
}

const BODY_TYPE_PARAM: &str = "X-EAS-BODY-TYPE";

/// Where an EAS string property lives in the vCard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// The first property of this name, one value.
    Single(Prop),
    /// A component of a structured property (N, ORG, ADR).
    Component(Structured, usize),
    /// The n-th (0-based) EMAIL or IMPP, by PREF.
    Indexed(Prop, u8),
    Tel(TelKind),
    /// RELATED;VALUE=text;TYPE=kind.
    Related(&'static str),
    /// BDAY or ANNIVERSARY, with the property keeping the exact dateTime.
    Date(Prop, &'static str),
    Photo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prop {
    Fn,
    Title,
    Url,
    Nickname,
    Email,
    Impp,
    Bday,
    Anniversary,
    X(&'static str),
}

impl Prop {
    fn property(self) -> VCardProperty {
        match self {
            Prop::Fn => VCardProperty::Fn,
            Prop::Title => VCardProperty::Title,
            Prop::Url => VCardProperty::Url,
            Prop::Nickname => VCardProperty::Nickname,
            Prop::Email => VCardProperty::Email,
            Prop::Impp => VCardProperty::Impp,
            Prop::Bday => VCardProperty::Bday,
            Prop::Anniversary => VCardProperty::Anniversary,
            Prop::X(name) => VCardProperty::Other(name.into()),
        }
    }

    fn matches(self, e: &VCardEntry) -> bool {
        match (self, &e.name) {
            (Prop::X(name), VCardProperty::Other(n)) => n.eq_ignore_ascii_case(name),
            (p, n) => p.property() == *n,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Structured {
    N,
    Org,
    Adr(AdrKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AdrKind {
    Work,
    Home,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TelKind {
    Business,
    Business2,
    Home,
    Home2,
    Mobile,
    Car,
    Pager,
    Radio,
    Assistant,
    BusinessFax,
    HomeFax,
    CompanyMain,
    Mms,
}

impl TelKind {
    /// The TYPE values written for this number.
    fn types(self) -> &'static [&'static str] {
        match self {
            TelKind::Business => &["work", "voice"],
            TelKind::Business2 => &["work", "voice", SECOND],
            TelKind::Home => &["home", "voice"],
            TelKind::Home2 => &["home", "voice", SECOND],
            TelKind::Mobile => &["cell"],
            TelKind::Car => &["x-car"],
            TelKind::Pager => &["pager"],
            TelKind::Radio => &["x-radio"],
            TelKind::Assistant => &["x-assistant"],
            TelKind::BusinessFax => &["work", "fax"],
            TelKind::HomeFax => &["home", "fax"],
            TelKind::CompanyMain => &["work", "main-number"],
            TelKind::Mms => &["x-mms"],
        }
    }
}

/// The TYPE that tells Business2 and Home2 from the first numbers, whatever the order.
const SECOND: &str = "x-second";
const CHILD: &str = "child";
const SPOUSE: &str = "spouse";
const MANAGER: &str = "x-manager";
const ASSISTANT: &str = "x-assistant";

fn field_of(tag: Tag) -> Option<Field> {
    use Field::*;
    let adr = |kind, pos| Component(Structured::Adr(kind), pos);
    Some(match tag {
        contacts::FILE_AS => Single(Prop::Fn),
        contacts::JOB_TITLE => Single(Prop::Title),
        contacts::WEB_PAGE => Single(Prop::Url),
        contacts2::NICK_NAME => Single(Prop::Nickname),
        contacts::YOMI_FIRST_NAME => Single(Prop::X("X-PHONETIC-FIRST-NAME")),
        contacts::YOMI_LAST_NAME => Single(Prop::X("X-PHONETIC-LAST-NAME")),
        contacts::YOMI_COMPANY_NAME => Single(Prop::X("X-PHONETIC-ORG")),
        contacts::OFFICE_LOCATION => Single(Prop::X("X-EAS-OFFICE-LOCATION")),
        contacts2::CUSTOMER_ID => Single(Prop::X("X-EAS-CUSTOMER-ID")),
        contacts2::GOVERNMENT_ID => Single(Prop::X("X-EAS-GOVERNMENT-ID")),
        contacts2::ACCOUNT_NAME => Single(Prop::X("X-EAS-ACCOUNT-NAME")),
        // RFC 6350 6.2.2: family; given; additional; prefixes; suffixes.
        contacts::LAST_NAME => Component(Structured::N, 0),
        contacts::FIRST_NAME => Component(Structured::N, 1),
        contacts::MIDDLE_NAME => Component(Structured::N, 2),
        contacts::TITLE => Component(Structured::N, 3),
        contacts::SUFFIX => Component(Structured::N, 4),
        // RFC 6350 6.6.4: organization name; units.
        contacts::COMPANY_NAME => Component(Structured::Org, 0),
        contacts::DEPARTMENT => Component(Structured::Org, 1),
        // RFC 6350 6.3.1: PO box; extended; street; locality; region; code; country.
        contacts::BUSINESS_ADDRESS_STREET => adr(AdrKind::Work, 2),
        contacts::BUSINESS_ADDRESS_CITY => adr(AdrKind::Work, 3),
        contacts::BUSINESS_ADDRESS_STATE => adr(AdrKind::Work, 4),
        contacts::BUSINESS_ADDRESS_POSTAL_CODE => adr(AdrKind::Work, 5),
        contacts::BUSINESS_ADDRESS_COUNTRY => adr(AdrKind::Work, 6),
        contacts::HOME_ADDRESS_STREET => adr(AdrKind::Home, 2),
        contacts::HOME_ADDRESS_CITY => adr(AdrKind::Home, 3),
        contacts::HOME_ADDRESS_STATE => adr(AdrKind::Home, 4),
        contacts::HOME_ADDRESS_POSTAL_CODE => adr(AdrKind::Home, 5),
        contacts::HOME_ADDRESS_COUNTRY => adr(AdrKind::Home, 6),
        contacts::OTHER_ADDRESS_STREET => adr(AdrKind::Other, 2),
        contacts::OTHER_ADDRESS_CITY => adr(AdrKind::Other, 3),
        contacts::OTHER_ADDRESS_STATE => adr(AdrKind::Other, 4),
        contacts::OTHER_ADDRESS_POSTAL_CODE => adr(AdrKind::Other, 5),
        contacts::OTHER_ADDRESS_COUNTRY => adr(AdrKind::Other, 6),
        contacts::EMAIL1ADDRESS => Indexed(Prop::Email, 0),
        contacts::EMAIL2ADDRESS => Indexed(Prop::Email, 1),
        contacts::EMAIL3ADDRESS => Indexed(Prop::Email, 2),
        contacts2::IM_ADDRESS => Indexed(Prop::Impp, 0),
        contacts2::IM_ADDRESS2 => Indexed(Prop::Impp, 1),
        contacts2::IM_ADDRESS3 => Indexed(Prop::Impp, 2),
        contacts::BUSINESS_PHONE_NUMBER => Tel(TelKind::Business),
        contacts::BUSINESS2PHONE_NUMBER => Tel(TelKind::Business2),
        contacts::HOME_PHONE_NUMBER => Tel(TelKind::Home),
        contacts::HOME2PHONE_NUMBER => Tel(TelKind::Home2),
        contacts::MOBILE_PHONE_NUMBER => Tel(TelKind::Mobile),
        contacts::CAR_PHONE_NUMBER => Tel(TelKind::Car),
        contacts::PAGER_NUMBER => Tel(TelKind::Pager),
        contacts::RADIO_PHONE_NUMBER => Tel(TelKind::Radio),
        contacts::ASSISTANT_PHONE_NUMBER => Tel(TelKind::Assistant),
        contacts::BUSINESS_FAX_NUMBER => Tel(TelKind::BusinessFax),
        contacts::HOME_FAX_NUMBER => Tel(TelKind::HomeFax),
        contacts2::COMPANY_MAIN_PHONE => Tel(TelKind::CompanyMain),
        contacts2::MMS => Tel(TelKind::Mms),
        contacts::SPOUSE => Related(SPOUSE),
        contacts2::MANAGER_NAME => Related(MANAGER),
        contacts::ASSISTANT_NAME => Related(ASSISTANT),
        contacts::BIRTHDAY => Date(Prop::Bday, "X-EAS-BIRTHDAY"),
        contacts::ANNIVERSARY => Date(Prop::Anniversary, "X-EAS-ANNIVERSARY"),
        contacts::PICTURE => Photo,
        _ => return None,
    })
}

// ---- reading -------------------------------------------------------------------------

fn get_field(card: &VCard, field: Field) -> Option<String> {
    match field {
        Field::Single(prop) => card
            .entries
            .iter()
            .find(|e| prop.matches(e))
            .and_then(first_text),
        Field::Component(s, pos) => {
            let i = find_structured(card, s)?;
            components(&card.entries[i]).get(pos).cloned()
        }
        Field::Indexed(prop, n) => {
            let i = indexed(card, prop).get(usize::from(n)).copied().flatten()?;
            first_text(&card.entries[i])
        }
        Field::Tel(kind) => {
            let i = tel_slots(card)
                .into_iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, i)| i)?;
            first_text(&card.entries[i])
        }
        Field::Related(kind) => card
            .entries
            .iter()
            .find(|e| related_kind(e) == Some(kind))
            .and_then(first_text)
            .or_else(|| apple_labelled(card, "X-ABRELATEDNAMES", kind)),
        Field::Date(prop, raw) => read_date(card, prop, raw),
        Field::Photo => card
            .entries
            .iter()
            .find(|e| e.name == VCardProperty::Photo)
            .and_then(|e| e.values.iter().find_map(VCardValue::as_binary))
            .map(|d| base64::engine::general_purpose::STANDARD.encode(&d.data))
            // A bigger photo (an import) is not sent: MS-ASCNTC 2.2.2.58 caps Picture.
            .filter(|p| p.len() <= MAX_PICTURE_LEN),
    }
}

fn texts(e: &VCardEntry) -> Vec<String> {
    e.values
        .iter()
        .flat_map(|v| match v {
            VCardValue::Component(items) => items.clone(),
            other => other.as_text().map(str::to_string).into_iter().collect(),
        })
        .collect()
}

fn first_text(e: &VCardEntry) -> Option<String> {
    e.values.iter().find_map(|v| match v {
        VCardValue::Component(items) => Some(items.join(",")),
        VCardValue::Binary(_) => None,
        other => other.as_text().map(str::to_string),
    })
}

/// The components of N, ORG or ADR, each as one string (a component's list joined by ",").
fn components(e: &VCardEntry) -> Vec<String> {
    e.values
        .iter()
        .map(|v| match v {
            VCardValue::Component(items) => items.join(","),
            other => other.as_text().unwrap_or_default().to_string(),
        })
        .collect()
}

fn param_texts<'a>(
    e: &'a VCardEntry,
    name: &'a VCardParameterName,
) -> impl Iterator<Item = String> + 'a {
    e.params
        .iter()
        .filter(move |p| p.name == *name)
        .map(|p| match &p.value {
            VCardParameterValue::Text(t) => t.clone(),
            VCardParameterValue::Integer(i) => i.to_string(),
            other => other.clone().into_text().into_owned(),
        })
}

/// The TYPE values of a property, lowercase (3.0 writes them in capitals).
fn types(e: &VCardEntry) -> Vec<String> {
    param_texts(e, &VCardParameterName::Type)
        .flat_map(|t| {
            t.split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn pref(e: &VCardEntry) -> Option<u32> {
    param_texts(e, &VCardParameterName::Pref).find_map(|p| p.trim().parse().ok())
}

fn adr_kind(e: &VCardEntry) -> AdrKind {
    let t = types(e);
    if t.iter().any(|t| t == "work") {
        AdrKind::Work
    } else if t.iter().any(|t| t == "home") {
        AdrKind::Home
    } else {
        AdrKind::Other
    }
}

fn find_structured(card: &VCard, s: Structured) -> Option<usize> {
    card.entries.iter().position(|e| match s {
        Structured::N => e.name == VCardProperty::N,
        Structured::Org => e.name == VCardProperty::Org,
        Structured::Adr(kind) => e.name == VCardProperty::Adr && adr_kind(e) == kind,
    })
}

/// The EMAIL or IMPP of each of the three EAS slots: a property with PREF=n takes slot n,
/// the others fill the free slots in their order.
fn indexed(card: &VCard, prop: Prop) -> [Option<usize>; 3] {
    let mut slots = [None; 3];
    let entries: Vec<usize> = (0..card.entries.len())
        .filter(|&i| prop.matches(&card.entries[i]))
        .collect();
    let mut rest = Vec::new();
    for &i in &entries {
        match pref(&card.entries[i]) {
            Some(p @ 1..=3) if slots[(p - 1) as usize].is_none() => {
                slots[(p - 1) as usize] = Some(i)
            }
            _ => rest.push(i),
        }
    }
    for i in rest {
        if let Some(free) = slots.iter_mut().find(|s| s.is_none()) {
            *free = Some(i);
        }
    }
    slots
}

/// Which EAS number each TEL is: by its types; a second work or home number is Business2
/// or Home2; numbers without a telling type fill Mobile, Home2, Business2.
fn tel_slots(card: &VCard) -> Vec<(TelKind, usize)> {
    let mut taken: Vec<(TelKind, usize)> = Vec::new();
    let mut untyped = Vec::new();
    let free = |taken: &Vec<(TelKind, usize)>, k: TelKind| !taken.iter().any(|(t, _)| *t == k);
    for (i, e) in card.entries.iter().enumerate() {
        if e.name != VCardProperty::Tel {
            continue;
        }
        let t = types(e);
        let has = |s: &str| t.iter().any(|x| x == s);
        let candidates: &[TelKind] = if has("x-car") || has("car") {
            &[TelKind::Car]
        } else if has("x-radio") {
            &[TelKind::Radio]
        } else if has("x-assistant") {
            &[TelKind::Assistant]
        } else if has("x-mms") {
            &[TelKind::Mms]
        } else if has("main-number") || has("main") {
            &[TelKind::CompanyMain]
        } else if has("pager") {
            &[TelKind::Pager]
        } else if has("fax") && has("home") {
            &[TelKind::HomeFax]
        } else if has("fax") {
            &[TelKind::BusinessFax]
        } else if has("cell") || has("iphone") {
            &[TelKind::Mobile]
        } else if has("work") && has(SECOND) {
            &[TelKind::Business2, TelKind::Business]
        } else if has("work") {
            &[TelKind::Business, TelKind::Business2]
        } else if has("home") && has(SECOND) {
            &[TelKind::Home2, TelKind::Home]
        } else if has("home") {
            &[TelKind::Home, TelKind::Home2]
        } else {
            untyped.push(i);
            continue;
        };
        if let Some(k) = candidates.iter().find(|k| free(&taken, **k)) {
            taken.push((*k, i));
        }
    }
    for i in untyped {
        if let Some(k) = [TelKind::Mobile, TelKind::Home2, TelKind::Business2]
            .into_iter()
            .find(|k| free(&taken, *k))
        {
            taken.push((k, i));
        }
    }
    taken
}

fn related_kind(e: &VCardEntry) -> Option<&'static str> {
    if e.name != VCardProperty::Related {
        return None;
    }
    let t = types(e);
    [CHILD, SPOUSE, MANAGER, ASSISTANT]
        .into_iter()
        .find(|k| t.iter().any(|x| x == k))
}

/// Apple Contacts' labelled values (3.0): `item1.X-ABRELATEDNAMES:Jane` with
/// `item1.X-ABLabel:_$!<Spouse>!$_` in the same group.
fn apple_labelled(card: &VCard, property: &str, kind: &str) -> Option<String> {
    let label = match kind {
        SPOUSE => "spouse",
        CHILD => "child",
        MANAGER => "manager",
        ASSISTANT => "assistant",
        other => other,
    };
    card.entries
        .iter()
        .filter(|e| matches!(&e.name, VCardProperty::Other(n) if n.eq_ignore_ascii_case(property)))
        .find(|e| {
            e.group.as_ref().is_some_and(|g| {
                card.entries.iter().any(|l| {
                    l.group.as_ref() == Some(g)
                        && matches!(&l.name, VCardProperty::Other(n) if n.eq_ignore_ascii_case("X-ABLABEL"))
                        && first_text(l).is_some_and(|t| {
                            t.trim_start_matches("_$!<")
                                .trim_end_matches(">!$_")
                                .eq_ignore_ascii_case(label)
                        })
                })
            })
        })
        .and_then(first_text)
}

/// An EAS dateTime for BDAY or ANNIVERSARY: the client's own value when it still falls on
/// the card's date, else the date at midnight UTC. A date without a year gets 1604, the
/// year Outlook and Apple use for "no year".
fn read_date(card: &VCard, prop: Prop, raw: &'static str) -> Option<String> {
    let date = card
        .entries
        .iter()
        .find(|e| prop.matches(e))
        .and_then(|e| e.values.iter().find_map(VCardValue::as_partial_date_time))
        .and_then(|d| {
            jiff::civil::Date::new(
                d.year.map_or(1604, |y| y as i16),
                d.month? as i8,
                d.day? as i8,
            )
            .ok()
        })
        .or_else(|| {
            let label = if prop == Prop::Anniversary {
                "anniversary"
            } else {
                "birthday"
            };
            apple_labelled(card, "X-ABDATE", label).and_then(|t| t.get(..10)?.parse().ok())
        })
        .or_else(|| {
            // 3.0 has no ANNIVERSARY; Evolution and others write X-ANNIVERSARY.
            (prop == Prop::Anniversary)
                .then(|| {
                    card.entries
                        .iter()
                        .find(|e| {
                            Prop::X("X-ANNIVERSARY").matches(e)
                                || Prop::X("X-EVOLUTION-ANNIVERSARY").matches(e)
                        })
                        .and_then(first_text)
                })
                .flatten()
                .and_then(|t| t.get(..10)?.parse().ok())
        });
    let exact = card
        .entries
        .iter()
        .find(|e| Prop::X(raw).matches(e))
        .and_then(first_text);
    let Some(date) = date else {
        // Not a dateTime: the client's text, kept in `raw` as it sent it (set_field).
        return exact;
    };
    if let Some(exact) = exact {
        if eas_date(&exact) == Some(date) {
            return Some(exact);
        }
    }
    Some(format!("{date}T00:00:00.000Z"))
}

/// The day an EAS dateTime means: clients send a birthday as local midnight in UTC, so
/// the nearest midnight.
fn eas_date(text: &str) -> Option<jiff::civil::Date> {
    let at: jiff::Timestamp = text.trim().parse().ok()?;
    let shifted = at.checked_add(jiff::SignedDuration::from_hours(12)).ok()?;
    Some(jiff::tz::TimeZone::UTC.to_datetime(shifted).date())
}

fn formatted_name(card: &VCard) -> String {
    let n = find_structured(card, Structured::N)
        .map(|i| components(&card.entries[i]))
        .unwrap_or_default();
    let part = |i: usize| n.get(i).map(String::as_str).unwrap_or_default();
    let name = [part(3), part(1), part(2), part(0), part(4)]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !name.is_empty() {
        return name;
    }
    [
        Field::Component(Structured::Org, 0),
        Field::Indexed(Prop::Email, 0),
    ]
    .into_iter()
    .find_map(|f| get_field(card, f).filter(|s| !s.is_empty()))
    .unwrap_or_default()
}

// ---- writing -------------------------------------------------------------------------

/// The numbered slots of the card before a change.
struct Slots {
    tel: Vec<(TelKind, usize)>,
    email: [Option<usize>; 3],
    impp: [Option<usize>; 3],
}

const REMOVED: &str = "X-EAS-REMOVED";

/// Marks an entry removed; [`apply`] drops such entries at its end, so that the indices of
/// [`Slots`] stay valid meanwhile.
fn remove_entry(card: &mut VCard, index: usize) {
    card.entries[index] = VCardEntry::new(VCardProperty::Other(REMOVED.into()));
}

fn is_removed(e: &VCardEntry) -> bool {
    matches!(&e.name, VCardProperty::Other(n) if n == REMOVED)
}

fn remove_all(card: &mut VCard, pred: impl Fn(&VCardEntry) -> bool) {
    for i in 0..card.entries.len() {
        if pred(&card.entries[i]) {
            remove_entry(card, i);
        }
    }
}

fn type_params(types: &[&str]) -> Vec<VCardParameter> {
    types
        .iter()
        .map(|t| {
            VCardParameter::new(
                VCardParameterName::Type,
                VCardParameterValue::Text((*t).into()),
            )
        })
        .collect()
}

fn related_entry(kind: &str, name: &str) -> VCardEntry {
    let mut e = VCardEntry::new(VCardProperty::Related).with_value(name.to_string());
    e.params = vec![VCardParameter::new(
        VCardParameterName::Value,
        VCardParameterValue::Text("text".into()),
    )];
    e.params.extend(type_params(&[kind]));
    e
}

/// Sets the single value of the entry at `index`, or removes it; or adds `new()` with the
/// value.
fn set_entry(
    card: &mut VCard,
    index: Option<usize>,
    value: Option<&str>,
    new: impl FnOnce() -> VCardEntry,
) {
    match (index, value) {
        (Some(i), Some(v)) => card.entries[i].values = vec![VCardValue::Text(v.into())],
        (Some(i), None) => remove_entry(card, i),
        (None, Some(v)) => card.entries.push(new().with_value(v.to_string())),
        (None, None) => {}
    }
}

fn set_field(card: &mut VCard, slots: &Slots, field: Field, value: Option<&str>) {
    match field {
        Field::Single(prop) => {
            let i = card.entries.iter().position(|e| prop.matches(e));
            set_entry(card, i, value, || VCardEntry::new(prop.property()));
        }
        Field::Component(s, pos) => set_component(card, s, pos, value),
        Field::Indexed(prop, n) => {
            let i = match prop {
                Prop::Impp => slots.impp,
                _ => slots.email,
            }[usize::from(n)];
            set_entry(card, i, value, || {
                VCardEntry::new(prop.property()).with_param(VCardParameter::new(
                    VCardParameterName::Pref,
                    VCardParameterValue::Integer(u32::from(n) + 1),
                ))
            });
        }
        Field::Tel(kind) => {
            let i = slots.tel.iter().find(|(k, _)| *k == kind).map(|(_, i)| *i);
            set_entry(card, i, value, || {
                VCardEntry::new(VCardProperty::Tel).with_params(type_params(kind.types()))
            });
        }
        Field::Related(kind) => {
            let i = card
                .entries
                .iter()
                .position(|e| related_kind(e) == Some(kind));
            match (i, value) {
                (Some(i), Some(v)) => card.entries[i].values = vec![VCardValue::Text(v.into())],
                (Some(i), None) => remove_entry(card, i),
                (None, Some(v)) => card.entries.push(related_entry(kind, v)),
                (None, None) => {}
            }
        }
        Field::Date(prop, raw) => {
            remove_all(card, |e| prop.matches(e) || Prop::X(raw).matches(e));
            let Some(v) = value else { return };
            let Some(date) = eas_date(v) else {
                // Not a dateTime: kept as the client sent it.
                card.entries
                    .push(VCardEntry::new(Prop::X(raw).property()).with_value(v.to_string()));
                return;
            };
            card.entries
                .push(
                    VCardEntry::new(prop.property()).with_value(VCardValue::PartialDateTime(
                        PartialDateTime {
                            year: Some(date.year() as u16),
                            month: Some(date.month() as u8),
                            day: Some(date.day() as u8),
                            ..PartialDateTime::default()
                        },
                    )),
                );
            if v != format!("{date}T00:00:00.000Z") {
                card.entries
                    .push(VCardEntry::new(Prop::X(raw).property()).with_value(v.to_string()));
            }
        }
        Field::Photo => {
            remove_all(card, |e| e.name == VCardProperty::Photo);
            let Some(v) = value else { return };
            let data = base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .unwrap_or_else(|_| v.as_bytes().to_vec());
            let content_type = if data.starts_with(b"\x89PNG") {
                "image/png"
            } else if data.starts_with(b"GIF8") {
                "image/gif"
            } else {
                "image/jpeg"
            };
            card.entries
                .push(
                    VCardEntry::new(VCardProperty::Photo).with_value(VCardValue::Binary(Data {
                        content_type: Some(content_type.into()),
                        data,
                    })),
                );
        }
    }
}

fn set_component(card: &mut VCard, s: Structured, pos: usize, value: Option<&str>) {
    let i = match (find_structured(card, s), value) {
        (Some(i), _) => i,
        (None, None) => return,
        (None, Some(_)) => {
            let (property, len, params) = match s {
                Structured::N => (VCardProperty::N, 5, vec![]),
                Structured::Org => (VCardProperty::Org, 2, vec![]),
                Structured::Adr(kind) => (
                    VCardProperty::Adr,
                    7,
                    match kind {
                        AdrKind::Work => type_params(&["work"]),
                        AdrKind::Home => type_params(&["home"]),
                        AdrKind::Other => type_params(&["x-other"]),
                    },
                ),
            };
            card.entries.push(
                VCardEntry::new(property)
                    .with_params(params)
                    .with_values(vec![VCardValue::Text(String::new()); len]),
            );
            card.entries.len() - 1
        }
    };
    let entry = &mut card.entries[i];
    let mut parts = components(entry);
    if parts.len() <= pos {
        parts.resize(pos + 1, String::new());
    }
    parts[pos] = value.unwrap_or_default().to_string();
    if parts.iter().all(String::is_empty) && s != Structured::N {
        remove_entry(card, i);
    } else {
        entry.values = parts.into_iter().map(VCardValue::Text).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use easd_protocol::items::airsyncbase::Supported;
    use easd_protocol::ProtocolVersion;

    /// A contact as a phone fills it: every property a client may set.
    fn full() -> Contact {
        let photo =
            base64::engine::general_purpose::STANDARD.encode(b"\xFF\xD8\xFF\xE0 a tiny jpeg");
        Contact {
            anniversary: Some("2001-06-30T00:00:00.000Z".into()),
            assistant_name: Some("Pat Assist".into()),
            assistant_phone_number: Some("+1 206 555 0101".into()),
            // A device in UTC+2 sends local midnight of 17 May.
            birthday: Some("1970-05-16T22:00:00.000Z".into()),
            business2_phone_number: Some("+1 206 555 0102".into()),
            business_address_city: Some("Redmond".into()),
            business_address_country: Some("USA".into()),
            business_address_postal_code: Some("98052".into()),
            business_address_state: Some("WA".into()),
            business_address_street: Some("1 Microsoft Way; Building 4".into()),
            business_fax_number: Some("+1 206 555 0103".into()),
            business_phone_number: Some("+1 206 555 0104".into()),
            car_phone_number: Some("+1 206 555 0105".into()),
            company_name: Some("Contoso, Ltd.".into()),
            department: Some("Sales".into()),
            email1_address: Some("jane@contoso.com".into()),
            email2_address: Some("\"Jane Doe\" <jane@home.example>".into()),
            email3_address: Some("jd@example.org".into()),
            file_as: Some("Doe, Jane".into()),
            first_name: Some("Jane".into()),
            home2_phone_number: Some("+1 425 555 0106".into()),
            home_address_city: Some("Seattle".into()),
            home_address_country: Some("USA".into()),
            home_address_postal_code: Some("98101".into()),
            home_address_state: Some("WA".into()),
            home_address_street: Some("12 Pine St\nApt 3".into()),
            home_fax_number: Some("+1 425 555 0107".into()),
            home_phone_number: Some("+1 425 555 0108".into()),
            job_title: Some("Account Manager".into()),
            last_name: Some("Doe".into()),
            middle_name: Some("Q.".into()),
            mobile_phone_number: Some("+1 425 555 0109".into()),
            office_location: Some("B4/1021".into()),
            other_address_city: Some("Portland".into()),
            other_address_country: Some("USA".into()),
            other_address_postal_code: Some("97201".into()),
            other_address_state: Some("OR".into()),
            other_address_street: Some("5 Lake Rd".into()),
            pager_number: Some("+1 425 555 0110".into()),
            radio_phone_number: Some("+1 425 555 0111".into()),
            spouse: Some("John Doe".into()),
            suffix: Some("Jr.".into()),
            title: Some("Dr.".into()),
            web_page: Some("https://contoso.com/jane".into()),
            yomi_company_name: Some("コントソ".into()),
            yomi_first_name: Some("ジェーン".into()),
            yomi_last_name: Some("ドウ".into()),
            picture: Some(photo),
            alias: None,
            customer_id: Some("C-4711".into()),
            government_id: Some("123-45-6789".into()),
            im_address: Some("xmpp:jane@contoso.com".into()),
            im_address2: Some("sip:jane@contoso.com".into()),
            im_address3: Some("skype:jane.doe".into()),
            manager_name: Some("Sam Boss".into()),
            company_main_phone: Some("+1 206 555 0100".into()),
            account_name: Some("jdoe".into()),
            nick_name: Some("JD".into()),
            mms: Some("+1 425 555 0112".into()),
            body: Some(Body::new(
                BodyType::Plain,
                "Met at the conference.\nLikes tea, not coffee;",
            )),
            categories: Some(vec!["Business".into(), "VIP".into()]),
            children: Some(vec!["Ann".into(), "Ben".into()]),
            weighted_rank: None,
        }
    }

    fn through_store(c: &Contact) -> Contact {
        let text = write_vcard(&to_vcard(c, "4b7c-uid"));
        from_vcard(&parse_vcard(&text).unwrap())
    }

    #[test]
    fn every_field_survives_the_store() {
        let c = full();
        // The sample leaves out only what the server owns.
        for (tag, get) in TEXT_PROPERTIES {
            assert!(
                get(&c).is_some() || *tag == contacts::ALIAS,
                "{tag:?} unset in the sample"
            );
        }
        let text = write_vcard(&to_vcard(&c, "4b7c-uid"));
        assert!(text.contains("VERSION:4.0"), "{text}");
        // A data: URI as RFC 2397 writes it, for every vCard reader.
        assert!(text.contains("PHOTO:data:image/jpeg;base64,/9j/"), "{text}");
        assert!(text.contains("BDAY:19700517"), "{text}");
        assert!(text.contains("UID:4b7c-uid"), "{text}");
        assert_eq!(through_store(&c), c, "{text}");
    }

    #[test]
    fn a_birthday_that_is_no_date_comes_back_as_sent() {
        let c = Contact {
            first_name: Some("Ada".into()),
            file_as: Some("Ada".into()),
            birthday: Some("sometime in May".into()),
            anniversary: Some("1990-06-01T00:00:00.000Z".into()),
            ..Contact::default()
        };
        assert_eq!(through_store(&c), c);
    }

    #[test]
    fn every_field_survives_the_wire_and_the_store_per_version() {
        let c = full();
        for v in [
            ProtocolVersion::V14_0,
            ProtocolVersion::V14_1,
            ProtocolVersion::V16_1,
        ] {
            let sent = c.to_application_data(v);
            let received = Contact::parse(&sent).unwrap();
            let back = through_store(&received).to_application_data(v);
            assert_eq!(back, sent, "{v:?}");
        }
    }

    #[test]
    fn partial_change_keeps_untouched_fields() {
        let stored = write_vcard(&to_vcard(&full(), "u1"));
        let change = Contact {
            mobile_phone_number: Some("+49 30 1234".into()),
            business_address_city: Some("Bellevue".into()),
            email2_address: Some(String::new()),
            children: Some(vec!["Cleo".into()]),
            ..Contact::default()
        };
        let text = apply_to_text(&stored, &change, ChangeMode::Partial).unwrap();
        let got = from_vcard(&parse_vcard(&text).unwrap());
        let mut want = full();
        want.mobile_phone_number = change.mobile_phone_number.clone();
        want.business_address_city = change.business_address_city.clone();
        want.email2_address = None;
        want.children = Some(vec!["Cleo".into()]);
        assert_eq!(got, want);
        assert!(text.contains("UID:u1"));
    }

    #[test]
    fn replace_removes_what_the_client_left_out_but_keeps_foreign_properties() {
        let mut card = parse_vcard(APPLE_30).unwrap();
        let change = Contact {
            first_name: Some("Johnny".into()),
            last_name: Some("Appleseed".into()),
            ..Contact::default()
        };
        apply(&mut card, &change, ChangeMode::WHOLE);
        let got = from_vcard(&card);
        assert_eq!(got.first_name.as_deref(), Some("Johnny"));
        assert_eq!(got.mobile_phone_number, None);
        assert_eq!(got.email1_address, None);
        assert_eq!(got.birthday, None);
        assert_eq!(got.file_as.as_deref(), Some("Johnny Appleseed"));
        // What EAS doesn't carry stays.
        let text = write_vcard(&card);
        assert!(text.contains("X-ABUID"), "{text}");
    }

    const APPLE_30: &str = "BEGIN:VCARD\r\n\
VERSION:3.0\r\n\
PRODID:-//Apple Inc.//macOS 14.5//EN\r\n\
N:Appleseed;John;Q;Mr.;III\r\n\
FN:John Appleseed\r\n\
NICKNAME:Johnny\r\n\
X-PHONETIC-FIRST-NAME:Jon\r\n\
X-PHONETIC-LAST-NAME:Apple-seed\r\n\
ORG:Apple Inc.;Engineering\r\n\
TITLE:Engineer\r\n\
EMAIL;type=INTERNET;type=WORK;type=pref:john@apple.example\r\n\
EMAIL;type=INTERNET;type=HOME:john@home.example\r\n\
TEL;type=CELL;type=VOICE;type=pref:+1 408 555 0100\r\n\
TEL;type=WORK;type=VOICE:+1 408 555 0101\r\n\
TEL;type=HOME;type=VOICE:+1 408 555 0102\r\n\
TEL;type=WORK;type=FAX:+1 408 555 0103\r\n\
TEL;type=PAGER:+1 408 555 0104\r\n\
TEL;type=MAIN:+1 408 555 0105\r\n\
item1.ADR;type=WORK;type=pref:;;1 Infinite Loop;Cupertino;CA;95014;USA\r\n\
item1.X-ABADR:us\r\n\
item2.ADR;type=HOME:;;2 Home St;San Jose;CA;95112;USA\r\n\
item3.URL;type=pref:https://apple.example/john\r\n\
item3.X-ABLabel:_$!<HomePage>!$_\r\n\
item4.X-ABRELATEDNAMES:Jane Appleseed\r\n\
item4.X-ABLabel:_$!<Spouse>!$_\r\n\
item5.X-ABRELATEDNAMES:Tim\r\n\
item5.X-ABLabel:_$!<Manager>!$_\r\n\
item6.X-ABDATE;type=pref:2004-06-12\r\n\
item6.X-ABLabel:_$!<Anniversary>!$_\r\n\
IMPP;X-SERVICE-TYPE=Jabber;type=HOME;type=pref:xmpp:john@jabber.example\r\n\
BDAY:1980-02-29\r\n\
NOTE:Loves apples\\, pears\\; and\\nplums\r\n\
CATEGORIES:Friends,Work\r\n\
PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRg==\r\n\
X-ABUID:1B2C3D4E-0000-1111-2222-333344445555:ABPerson\r\n\
END:VCARD\r\n";

    #[test]
    fn apple_contacts_30_export() {
        let c = from_vcard(&parse_vcard(APPLE_30).unwrap());
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        assert_eq!(s(&c.last_name), "Appleseed");
        assert_eq!(s(&c.first_name), "John");
        assert_eq!(s(&c.middle_name), "Q");
        assert_eq!(s(&c.title), "Mr.");
        assert_eq!(s(&c.suffix), "III");
        assert_eq!(s(&c.file_as), "John Appleseed");
        assert_eq!(s(&c.nick_name), "Johnny");
        assert_eq!(s(&c.yomi_first_name), "Jon");
        assert_eq!(s(&c.yomi_last_name), "Apple-seed");
        assert_eq!(s(&c.company_name), "Apple Inc.");
        assert_eq!(s(&c.department), "Engineering");
        assert_eq!(s(&c.job_title), "Engineer");
        assert_eq!(s(&c.email1_address), "john@apple.example");
        assert_eq!(s(&c.email2_address), "john@home.example");
        assert_eq!(s(&c.mobile_phone_number), "+1 408 555 0100");
        assert_eq!(s(&c.business_phone_number), "+1 408 555 0101");
        assert_eq!(s(&c.home_phone_number), "+1 408 555 0102");
        assert_eq!(s(&c.business_fax_number), "+1 408 555 0103");
        assert_eq!(s(&c.pager_number), "+1 408 555 0104");
        assert_eq!(s(&c.company_main_phone), "+1 408 555 0105");
        assert_eq!(s(&c.business_address_street), "1 Infinite Loop");
        assert_eq!(s(&c.business_address_city), "Cupertino");
        assert_eq!(s(&c.business_address_state), "CA");
        assert_eq!(s(&c.business_address_postal_code), "95014");
        assert_eq!(s(&c.business_address_country), "USA");
        assert_eq!(s(&c.home_address_city), "San Jose");
        assert_eq!(s(&c.web_page), "https://apple.example/john");
        assert_eq!(s(&c.spouse), "Jane Appleseed");
        assert_eq!(s(&c.manager_name), "Tim");
        assert_eq!(s(&c.anniversary), "2004-06-12T00:00:00.000Z");
        assert_eq!(s(&c.birthday), "1980-02-29T00:00:00.000Z");
        assert_eq!(s(&c.im_address), "xmpp:john@jabber.example");
        assert_eq!(c.categories, Some(vec!["Friends".into(), "Work".into()]));
        assert_eq!(
            c.body.unwrap().data.unwrap().to_text(),
            "Loves apples, pears; and\nplums"
        );
        let photo = base64::engine::general_purpose::STANDARD
            .decode(s(&c.picture))
            .unwrap();
        assert!(photo.starts_with(b"\xFF\xD8"), "{photo:?}");
    }

    #[test]
    fn vcard_40_with_related_and_yearless_birthday() {
        let text = "BEGIN:VCARD\r\n\
VERSION:4.0\r\n\
UID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1\r\n\
FN:Dr. Ana Lima\r\n\
N:Lima;Ana;;Dr.;\r\n\
GENDER:F\r\n\
BDAY:--0412\r\n\
ANNIVERSARY:20090808\r\n\
EMAIL;TYPE=work;PREF=2:ana@work.example\r\n\
EMAIL;TYPE=home;PREF=1:ana@home.example\r\n\
TEL;VALUE=uri;TYPE=\"voice,cell\":tel:+55-11-5555-0100\r\n\
TEL;TYPE=home:+55 11 5555 0101\r\n\
TEL;TYPE=home:+55 11 5555 0102\r\n\
TEL;TYPE=x-car:+55 11 5555 0103\r\n\
ADR;TYPE=home:;;Rua A 1;São Paulo;SP;01000-000;Brazil\r\n\
ADR:;;Rua B 2;Campinas;SP;13000-000;Brazil\r\n\
RELATED;TYPE=spouse;VALUE=text:Rui Lima\r\n\
RELATED;TYPE=child;VALUE=text:Bia\r\n\
RELATED;TYPE=x-assistant;VALUE=text:Caio\r\n\
IMPP;PREF=1:xmpp:ana@example.com\r\n\
PHOTO:data:image/png;base64,iVBORw0KGgo=\r\n\
END:VCARD\r\n";
        let c = from_vcard(&parse_vcard(text).unwrap());
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        assert_eq!(s(&c.file_as), "Dr. Ana Lima");
        assert_eq!(s(&c.title), "Dr.");
        assert_eq!(s(&c.birthday), "1604-04-12T00:00:00.000Z");
        assert_eq!(s(&c.anniversary), "2009-08-08T00:00:00.000Z");
        assert_eq!(s(&c.email1_address), "ana@home.example");
        assert_eq!(s(&c.email2_address), "ana@work.example");
        assert_eq!(s(&c.mobile_phone_number), "tel:+55-11-5555-0100");
        assert_eq!(s(&c.home_phone_number), "+55 11 5555 0101");
        assert_eq!(s(&c.home2_phone_number), "+55 11 5555 0102");
        assert_eq!(s(&c.car_phone_number), "+55 11 5555 0103");
        assert_eq!(s(&c.home_address_city), "São Paulo");
        assert_eq!(s(&c.other_address_city), "Campinas");
        assert_eq!(s(&c.spouse), "Rui Lima");
        assert_eq!(s(&c.assistant_name), "Caio");
        assert_eq!(c.children, Some(vec!["Bia".into()]));
        assert_eq!(s(&c.im_address), "xmpp:ana@example.com");
        assert_eq!(s(&c.picture), "iVBORw0KGgo=");
    }

    #[test]
    fn google_contacts_30_export() {
        let text = "BEGIN:VCARD\r\n\
VERSION:3.0\r\n\
FN:María García\r\n\
N:García;María;;;\r\n\
NICKNAME:Mari\r\n\
EMAIL;TYPE=INTERNET;TYPE=HOME:maria@gmail.example\r\n\
EMAIL;TYPE=INTERNET;TYPE=WORK:maria@work.example\r\n\
TEL;TYPE=CELL:+34 600 000 001\r\n\
TEL;TYPE=WORK:+34 910 000 002\r\n\
TEL;TYPE=HOME:+34 910 000 003\r\n\
TEL:+34 910 000 004\r\n\
ADR;TYPE=HOME:;;Calle Mayor 1;Madrid;;28013;España\r\n\
ORG:Example S.L.\r\n\
TITLE:CTO\r\n\
BDAY:1985-03-14\r\n\
item1.URL:https\\://maria.example\r\n\
item1.X-ABLabel:\r\n\
item2.X-ABDATE:2010-09-18\r\n\
item2.X-ABLabel:_$!<Anniversary>!$_\r\n\
NOTE:Prefiere español\r\n\
CATEGORIES:myContacts,Family\r\n\
END:VCARD\r\n";
        let c = from_vcard(&parse_vcard(text).unwrap());
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        assert_eq!(s(&c.file_as), "María García");
        assert_eq!(s(&c.first_name), "María");
        assert_eq!(s(&c.nick_name), "Mari");
        assert_eq!(s(&c.email1_address), "maria@gmail.example");
        assert_eq!(s(&c.email2_address), "maria@work.example");
        assert_eq!(s(&c.mobile_phone_number), "+34 600 000 001");
        assert_eq!(s(&c.business_phone_number), "+34 910 000 002");
        assert_eq!(s(&c.home_phone_number), "+34 910 000 003");
        // A number without a type fills the next free general slot.
        assert_eq!(s(&c.home2_phone_number), "+34 910 000 004");
        assert_eq!(s(&c.home_address_country), "España");
        assert_eq!(s(&c.home_address_state), "");
        assert_eq!(s(&c.company_name), "Example S.L.");
        assert_eq!(c.department, None);
        assert_eq!(s(&c.job_title), "CTO");
        assert_eq!(s(&c.birthday), "1985-03-14T00:00:00.000Z");
        assert_eq!(s(&c.anniversary), "2010-09-18T00:00:00.000Z");
        assert_eq!(s(&c.web_page), "https://maria.example");
        assert_eq!(
            c.categories,
            Some(vec!["myContacts".into(), "Family".into()])
        );
        // The same card written back as 4.0 and read again gives the same contact.
        let mut card = parse_vcard(text).unwrap();
        apply(&mut card, &c, ChangeMode::Partial);
        assert_eq!(from_vcard(&parse_vcard(&write_vcard(&card)).unwrap()), c);
    }

    #[test]
    fn ghosted_properties_stay_when_the_client_does_not_support_them() {
        let mut card = to_vcard(&full(), "u2");
        // The client syncs names, e-mail and the notes only (MS-ASCMD Supported).
        let supported = [
            contacts::FIRST_NAME,
            contacts::LAST_NAME,
            contacts::EMAIL1ADDRESS,
            contacts::EMAIL2ADDRESS,
            airsyncbase::BODY,
        ];
        let change = Contact {
            first_name: Some("Janet".into()),
            last_name: Some("Doe".into()),
            email1_address: Some("janet@contoso.com".into()),
            ..Contact::default()
        };
        let supported = Supported::from_tags(supported);
        apply(
            &mut card,
            &change,
            ChangeMode::Replace {
                supported: Some(&supported),
            },
        );
        let got = from_vcard(&card);
        let mut want = full();
        want.first_name = Some("Janet".into());
        want.email1_address = Some("janet@contoso.com".into());
        want.email2_address = None;
        want.body = None;
        assert_eq!(got, want);
    }

    #[test]
    fn not_a_vcard() {
        assert_eq!(parse_vcard("hello").unwrap_err(), ContactError::NotVCard);
    }

    proptest::proptest! {
        #[test]
        fn any_values_survive_the_store(
            values in proptest::collection::vec("[a-zA-Zé0-9;,:\\\\\n \"<>@.-]{1,16}", TEXT_PROPERTIES.len())
        ) {
            let mut c = full();
            for ((tag, _), v) in TEXT_PROPERTIES.iter().zip(values) {
                // Dates and the picture have their own tests; NICKNAME is a list (RFC 6350
                // 6.2.3) whose values calcard trims of spaces.
                let skip = [
                    contacts::ALIAS,
                    contacts::BIRTHDAY,
                    contacts::ANNIVERSARY,
                    contacts::PICTURE,
                    contacts2::NICK_NAME,
                ];
                if !skip.contains(tag) {
                    *c.text_mut(*tag).unwrap() = Some(v);
                }
            }
            let back = through_store(&c);
            proptest::prop_assert_eq!(back, c);
        }

        #[test]
        fn any_text_converts_or_fails_cleanly(
            lines in proptest::collection::vec("[A-Z;=:,.a-z0-9 -]{0,20}", 0..12)
        ) {
            let text = format!("BEGIN:VCARD\r\nVERSION:4.0\r\n{}\r\nEND:VCARD\r\n", lines.join("\r\n"));
            if let Ok(mut card) = parse_vcard(&text) {
                let c = from_vcard(&card);
                apply(&mut card, &c, ChangeMode::WHOLE);
                apply(&mut card, &full(), ChangeMode::Partial);
                let _ = write_vcard(&card);
            }
        }
    }
}
