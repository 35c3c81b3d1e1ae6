//! Meetings between users (issue 8 point 4): invitations that arrive by mail change the
//! invitee's calendar, MeetingResponse answers them (MS-ASCMD 2.2.1.11), answers change the
//! organizer's calendar, and a device's own meetings send their invitations and
//! cancellations. The iTIP rules are in [`crate::content::itip`]; this module reads and
//! writes the store and sends the mail.

use crate::content::itip::{self, Answer};
use crate::content::pim::stored_fields;
use crate::submission::{ComposeKind, Submission};
use crate::{Engine, EngineError};
use calcard::icalendar::{ICalendar, ICalendarMethod};
use easd_protocol::commands::meeting_response::{
    MeetingResponseRequestItem, MeetingResponseResult, MeetingResponseStatus, UserResponse,
};
use easd_protocol::ProtocolVersion;
use easd_store::{
    folder_type, Account, AccountId, FolderId, Item, ItemChange, ItemClass, NewItem, Store,
};
use jiff::Timestamp;

/// The addresses that are the user's own (address and aliases), lowercased.
pub fn own_addresses(account: &Account) -> Vec<String> {
    std::iter::once(&account.email)
        .chain(account.aliases.iter())
        .map(|a| a.trim().to_lowercase())
        .collect()
}

/// The user's stored event with `uid`, and its iCalendar object.
fn stored_event(
    store: &dyn Store,
    account: AccountId,
    uid: &str,
) -> Result<Option<(Item, ICalendar)>, EngineError> {
    for item in store.items_by_uid(account, uid)? {
        if item.class != ItemClass::Calendar {
            continue;
        }
        let content = store.item_content(account, item.id)?;
        let parsed = std::str::from_utf8(&content)
            .ok()
            .and_then(|t| ICalendar::parse(t).ok());
        if let Some(ical) = parsed {
            return Ok(Some((item, ical)));
        }
    }
    Ok(None)
}

/// Writes `ical` as the event `existing`, or as a new event in the default calendar.
/// `None` when the event does not convert (it is left as it was) or there is no calendar.
fn write_event(
    store: &dyn Store,
    account: AccountId,
    existing: Option<&Item>,
    ical: &ICalendar,
) -> Result<Option<Item>, EngineError> {
    let content = ical.to_string().into_bytes();
    let fields = match stored_fields(ItemClass::Calendar, &content) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(account = account.0, error = %e, "meeting event does not convert; not stored");
            return Ok(None);
        }
    };
    Ok(Some(match existing {
        Some(item) => store.update_item(
            account,
            item.id,
            &ItemChange {
                replace: Some((content, fields)),
                ..ItemChange::default()
            },
        )?,
        None => {
            let Some(folder) = store.default_folder(account, folder_type::CALENDAR)? else {
                return Ok(None);
            };
            store.add_item(
                account,
                NewItem {
                    folder: folder.id,
                    class: ItemClass::Calendar,
                    content,
                    fields,
                },
            )?
        }
    }))
}

/// What an iMIP message delivered to `account` does to its calendar (RFC 6047, RFC 5546
/// 3.2): a REQUEST adds or updates the invitee's event, a CANCEL cancels it, a REPLY
/// records the attendee's answer in the organizer's event. Returns the calendar folder
/// that changed. A message that is no meeting, or names an event the user does not have,
/// changes nothing.
pub(crate) fn apply_imip(
    store: &dyn Store,
    account: AccountId,
    raw: &[u8],
) -> Result<Option<FolderId>, EngineError> {
    let Some(ical) = itip::parse_calendar_part(raw) else {
        return Ok(None);
    };
    let (Some(method), Some(uid)) = (itip::method(&ical), itip::uid(&ical)) else {
        return Ok(None);
    };
    let Some(user) = store.account(account)? else {
        return Ok(None);
    };
    let own = own_addresses(&user);
    let existing = stored_event(store, account, &uid)?;
    let written = match method {
        ICalendarMethod::Request | ICalendarMethod::Add => {
            // The organizer's own copy (a meeting sent to oneself) is the organizer's event.
            if itip::organizer(&ical).is_some_and(|o| own.contains(&o)) {
                return Ok(None);
            }
            let event = itip::received_request(&ical, &own);
            write_event(store, account, existing.as_ref().map(|e| &e.0), &event)?
        }
        ICalendarMethod::Cancel => {
            let Some((item, stored)) = existing else {
                return Ok(None);
            };
            // Only the meeting's organizer cancels it (RFC 5546 3.2.5).
            if itip::organizer(&stored) != itip::organizer(&ical) {
                return Ok(None);
            }
            write_event(
                store,
                account,
                Some(&item),
                &itip::received_cancel(&stored, &ical),
            )?
        }
        ICalendarMethod::Reply => {
            let Some((item, mut stored)) = existing else {
                return Ok(None);
            };
            if !itip::is_organized_by(&stored, &own) || !itip::apply_reply(&mut stored, &ical) {
                return Ok(None);
            }
            write_event(store, account, Some(&item), &stored)?
        }
        _ => None,
    };
    Ok(written.map(|i| i.folder))
}

/// The outcome of answering one meeting.
enum Answered {
    /// MeetingResponse Status 2: no meeting request or meeting by that id.
    Invalid,
    Done {
        /// The event's ServerId (not for a declined meeting: it is gone).
        calendar_id: Option<String>,
        /// The calendar folder that changed.
        folder: Option<FolderId>,
        /// The organizer and the REPLY for them.
        reply: Option<(String, ICalendar)>,
    },
}

/// MeetingResponse's work in the store (MS-ASCMD 2.2.1.11): finds the meeting request
/// mail (CollectionId and RequestId, or a Search result's LongId) or the calendar item,
/// records the answer in the event (creating it from the request when the user has none),
/// and removes a declined meeting from the calendar.
fn answer_blocking(
    store: &dyn Store,
    account: &Account,
    request: &MeetingResponseRequestItem,
    answer: Answer,
    now: Timestamp,
) -> Result<Answered, EngineError> {
    let Some(server_id) = request.long_id.as_deref().or(request.request_id.as_deref()) else {
        return Ok(Answered::Invalid);
    };
    let Some(item) = store.item_by_server_id(account.id, server_id)? else {
        return Ok(Answered::Invalid);
    };
    if let (Some(collection), None) = (request.collection_id.as_deref(), &request.long_id) {
        let folder = store.folder_by_server_id(account.id, collection)?;
        if folder.is_none_or(|f| f.id != item.folder) {
            return Ok(Answered::Invalid);
        }
    }
    let content = store.item_content(account.id, item.id)?;
    let own = own_addresses(account);
    let (existing, request_ical) = match item.class {
        ItemClass::Email => {
            let Some(ical) = itip::parse_calendar_part(&content) else {
                return Ok(Answered::Invalid);
            };
            if !matches!(
                itip::method(&ical),
                Some(ICalendarMethod::Request | ICalendarMethod::Add)
            ) {
                return Ok(Answered::Invalid);
            }
            let Some(uid) = itip::uid(&ical) else {
                return Ok(Answered::Invalid);
            };
            (stored_event(store, account.id, &uid)?, Some(ical))
        }
        ItemClass::Calendar => {
            let ical = std::str::from_utf8(&content)
                .ok()
                .and_then(|t| ICalendar::parse(t).ok());
            match ical {
                Some(ical) => (Some((item.clone(), ical)), None),
                None => return Ok(Answered::Invalid),
            }
        }
        _ => return Ok(Answered::Invalid),
    };
    let (item, stored) = match (existing, request_ical) {
        (Some(e), _) => (Some(e.0), e.1),
        // The event was deleted, or never made: the request is still answerable.
        (None, Some(r)) => (None, itip::received_request(&r, &own)),
        (None, None) => return Ok(Answered::Invalid),
    };
    // One answers another's meeting, not one's own.
    if itip::organizer(&stored).is_none_or(|o| own.contains(&o)) {
        return Ok(Answered::Invalid);
    }
    let event = itip::answered(&stored, &own, answer, now);
    let reply = itip::organizer(&event).map(|o| (o, itip::reply(&event, &own, answer, now)));
    // A declined meeting leaves the calendar (MS-ASCMD 2.2.3.27: no CalendarId for it).
    if answer == Answer::Declined {
        let folder = match item {
            Some(i) => {
                store.delete_item(account.id, i.id)?;
                Some(i.folder)
            }
            None => None,
        };
        return Ok(Answered::Done {
            calendar_id: None,
            folder,
            reply,
        });
    }
    let Some(written) = write_event(store, account.id, item.as_ref(), &event)? else {
        return Ok(Answered::Invalid);
    };
    Ok(Answered::Done {
        calendar_id: Some(written.server_id),
        folder: Some(written.folder),
        reply,
    })
}

impl Engine {
    /// One Request of MeetingResponse (MS-ASCMD 2.2.1.11). From 16.0 the answer goes to the
    /// organizer as an iTIP REPLY when the client asks with SendResponse; before 16.0 the
    /// client sends its own answer with SendMail (MS-ASCMD 2.2.1.11), so the server does
    /// not. A 16.x answer for one occurrence (InstanceId) is recorded for the series.
    pub async fn meeting_response(
        &self,
        account: &Account,
        request: &MeetingResponseRequestItem,
        version: ProtocolVersion,
    ) -> Result<MeetingResponseResult, EngineError> {
        let answer = match request.user_response {
            UserResponse::Accepted => Answer::Accepted,
            UserResponse::TentativelyAccepted => Answer::Tentative,
            UserResponse::Declined => Answer::Declined,
        };
        let now = Timestamp::now();
        let (a, r) = (account.clone(), request.clone());
        let answered = self
            .blocking(move |store| answer_blocking(store, &a, &r, answer, now))
            .await?;
        let request_id = request.request_id.clone();
        let Answered::Done {
            calendar_id,
            folder,
            reply,
        } = answered
        else {
            return Ok(MeetingResponseResult {
                request_id,
                status: MeetingResponseStatus::InvalidMeetingRequest,
                calendar_id: None,
            });
        };
        if let Some(f) = folder {
            self.hub.changed(account.id.0, &[f.0]);
        }
        let send = version >= ProtocolVersion::V16_0 && request.send_response.is_some();
        if let (true, Some((organizer, ical))) = (send, reply) {
            let text = request
                .send_response
                .as_ref()
                .and_then(|s| s.body.as_ref())
                .and_then(|b| b.data.as_ref())
                .map(|d| d.to_text())
                .unwrap_or_default();
            let subject = itip::reply_subject(answer, &itip::summary(&ical));
            self.send_itip(account, vec![organizer], &subject, &text, &ical)
                .await;
        }
        Ok(MeetingResponseResult {
            request_id,
            status: MeetingResponseStatus::Success,
            calendar_id,
        })
    }

    /// Sends an iTIP message from `account` through the submission path: local recipients
    /// get it by local delivery (which applies it), others through the smarthost. The
    /// calendar change is made already; a send that fails is logged, not undone.
    async fn send_itip(
        &self,
        account: &Account,
        to: Vec<String>,
        subject: &str,
        text: &str,
        ical: &ICalendar,
    ) {
        let mime = itip::imip_message(
            (&account.display_name, &account.email),
            &to,
            subject,
            text,
            ical,
        );
        let submission = Submission {
            kind: ComposeKind::New,
            client_id: None,
            source: None,
            replace_mime: false,
            save_in_sent: false,
            mime,
        };
        match self
            .submit(account, submission, self.settings.relay.as_ref())
            .await
        {
            Ok(Ok(sent)) => tracing::info!(user = %account.email, to = ?to,
                local = sent.local.len(), remote = sent.remote.len(), "meeting message sent"),
            Ok(Err(refused)) => tracing::warn!(user = %account.email, to = ?to,
                reason = %refused.reason, "meeting message not sent"),
            Err(e) => tracing::warn!(user = %account.email, to = ?to, error = %e,
                "meeting message not sent"),
        }
    }

    /// A device added, changed or deleted an event (`before`/`after`: the stored iCalendar
    /// text around the write). When the user organizes it (RFC 5546 3.2.2, 3.2.5) the
    /// attendees get a REQUEST for a new meeting or a change they must hear of, a CANCEL
    /// when it is deleted or canceled, and attendees taken off get a CANCEL; nothing for
    /// a change of the organizer's own view (a reminder) or unchanged content.
    pub async fn device_event_written(
        &self,
        account: AccountId,
        before: Option<Vec<u8>>,
        after: Option<Vec<u8>>,
    ) -> Result<(), EngineError> {
        let parse = |b: &Option<Vec<u8>>| {
            b.as_deref()
                .and_then(|b| std::str::from_utf8(b).ok())
                .and_then(|t| ICalendar::parse(t).ok())
        };
        let (before, after) = (parse(&before), parse(&after));
        let Some(user) = self.blocking(move |s| Ok(s.account(account)?)).await? else {
            return Ok(());
        };
        let own = own_addresses(&user);
        let organized = |ical: &Option<ICalendar>| {
            ical.as_ref()
                .filter(|i| itip::is_organized_by(i, &own))
                .cloned()
        };
        let (before, after) = (organized(&before), organized(&after));
        let others = |ical: &ICalendar| -> Vec<String> {
            itip::attendees(ical)
                .into_iter()
                .filter(|a| !own.contains(a))
                .collect()
        };
        let mut messages: Vec<(Vec<String>, ICalendar, ICalendarMethod)> = Vec::new();
        match (&before, &after) {
            (Some(b), None) if !itip::is_canceled(b) => {
                messages.push((others(b), b.clone(), ICalendarMethod::Cancel));
            }
            (b, Some(a)) if itip::is_canceled(a) => {
                if !b.as_ref().is_some_and(itip::is_canceled) {
                    messages.push((others(a), a.clone(), ICalendarMethod::Cancel));
                }
            }
            (b, Some(a)) => {
                let changed = b.as_ref().is_none_or(|b| itip::differs_for_attendees(b, a));
                if changed {
                    messages.push((others(a), a.clone(), ICalendarMethod::Request));
                }
                if let Some(b) = b {
                    let now_invited = others(a);
                    let removed: Vec<String> = others(b)
                        .into_iter()
                        .filter(|x| !now_invited.contains(x))
                        .collect();
                    messages.push((removed, b.clone(), ICalendarMethod::Cancel));
                }
            }
            _ => {}
        }
        let now = Timestamp::now();
        for (to, ical, method) in messages {
            if to.is_empty() {
                continue;
            }
            // An update goes out with a higher SEQUENCE than the last (RFC 5546 2.1.4).
            let revision = i64::from(before.is_some());
            let message = itip::organizer_message(
                &ical,
                &user.email,
                &user.display_name,
                method.clone(),
                revision,
                now,
            );
            let summary = itip::summary(&message);
            let subject = match method {
                ICalendarMethod::Cancel => format!("Canceled: {summary}"),
                _ => summary,
            };
            self.send_itip(&user, to, &subject, "", &message).await;
        }
        Ok(())
    }
}
