//! Meetings between users (issue 8 point 4): invitations that arrive by mail change the
//! invitee's calendar, MeetingResponse answers them (MS-ASCMD 2.2.1.11), answers change the
//! organizer's calendar, and a device's own meetings send their invitations and
//! cancellations. The iTIP rules are in [`crate::content::itip`]; this module reads and
//! writes the store and sends the mail.

use crate::content::calendar;
use crate::content::itip::{self, Answer};
use crate::content::pim::{stored_fields, PimItem};
use crate::content::recurrence::{compact_datetime, expand, Dtstart};
use crate::content::timezone::to_iana;
use crate::content::ChangeMode;
use crate::submission::{ComposeKind, Submission};
use crate::{Engine, EngineError};
use calcard::icalendar::{ICalendar, ICalendarMethod, ICalendarParticipationStatus};
use easd_protocol::commands::meeting_response::{
    MeetingResponseRequestItem, MeetingResponseResult, MeetingResponseStatus, UserResponse,
};
use easd_protocol::items::calendar::{
    Attendee, AttendeeStatus, BusyStatus, Calendar, EventFields, Exception, MeetingStatus,
    ResponseType,
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

/// Writes one occurrence's exception into the stored event `item` (MS-ASCAL 2.2.2.21: a
/// deleted occurrence, or one with its own attendees and answer), through the calendar
/// conversion as a 16.x partial change does. `None` when it does not convert.
fn write_occurrence(
    store: &dyn Store,
    account: AccountId,
    item: &Item,
    stored: &ICalendar,
    exception: Exception,
    now: Timestamp,
) -> Result<Option<Item>, EngineError> {
    let change = PimItem::Event(Box::new(Calendar {
        exceptions: Some(vec![exception]),
        ..Calendar::default()
    }));
    let converted = change
        .changed_content(stored.to_string().as_bytes(), ChangeMode::Partial, now)
        .and_then(|content| {
            let fields = stored_fields(ItemClass::Calendar, content.as_bytes())?;
            Ok((content, fields))
        });
    let (content, fields) = match converted {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(account = account.0, error = %e, "occurrence answer does not convert");
            return Ok(None);
        }
    };
    Ok(Some(store.update_item(
        account,
        item.id,
        &ItemChange {
            replace: Some((content.into_bytes(), fields)),
            ..ItemChange::default()
        },
    )?))
}

/// The series' attendees with the status of those in `answers` changed.
fn attendees_answered(stored: &ICalendar, answers: &[(String, AttendeeStatus)]) -> Vec<Attendee> {
    let series = calendar::from_ical(stored, &jiff::tz::TimeZone::UTC).ok();
    let mut attendees = series.and_then(|c| c.fields.attendees).unwrap_or_default();
    for a in &mut attendees {
        if let Some((_, s)) = answers
            .iter()
            .find(|(who, _)| a.email.eq_ignore_ascii_case(who))
        {
            a.attendee_status = Some(*s);
        }
    }
    attendees
}

fn attendee_status(s: &ICalendarParticipationStatus) -> AttendeeStatus {
    match s {
        ICalendarParticipationStatus::Accepted => AttendeeStatus::Accept,
        ICalendarParticipationStatus::Declined => AttendeeStatus::Decline,
        ICalendarParticipationStatus::Tentative => AttendeeStatus::Tentative,
        ICalendarParticipationStatus::NeedsAction => AttendeeStatus::NotResponded,
        _ => AttendeeStatus::ResponseUnknown,
    }
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
            // An attendee answers for itself (RFC 5546 3.2.3): a REPLY whose ATTENDEE is not
            // the mail's sender changes nothing.
            let senders = mail_senders(raw);
            if !itip::attendees(&ical).iter().all(|a| senders.contains(a)) {
                tracing::info!(
                    account = account.0,
                    "a meeting reply for someone else than its sender: ignored"
                );
                return Ok(None);
            }
            if !itip::is_organized_by(&stored, &own) {
                return Ok(None);
            }
            if itip::apply_reply(&mut stored, &ical) {
                write_event(store, account, Some(&item), &stored)?
            } else {
                // An answer for one occurrence without an override yet: the occurrence
                // becomes an exception with that answer (RFC 5546 3.2.3).
                let Some((at, answers)) = itip::replied_occurrence(&ical) else {
                    return Ok(None);
                };
                if !itip::is_recurring(&stored) {
                    return Ok(None);
                }
                let answers: Vec<(String, AttendeeStatus)> = answers
                    .iter()
                    .map(|(who, s)| (who.clone(), attendee_status(s)))
                    .collect();
                let exception = Exception {
                    deleted: None,
                    exception_start_time: Some(compact_datetime(at)),
                    fields: EventFields {
                        attendees: Some(attendees_answered(&stored, &answers)),
                        ..EventFields::default()
                    },
                };
                write_occurrence(store, account, &item, &stored, exception, Timestamp::now())?
            }
        }
        _ => None,
    };
    Ok(written.map(|i| i.folder))
}

/// The From and Sender addresses of a mail, lowercased.
fn mail_senders(raw: &[u8]) -> Vec<String> {
    let Some(m) = mail_parser::MessageParser::default().parse(raw) else {
        return Vec::new();
    };
    [m.from(), m.sender()]
        .into_iter()
        .flatten()
        .flat_map(|a| a.iter())
        .filter_map(|a| a.address.as_deref())
        .map(|a| a.trim().to_lowercase())
        .collect()
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
    // 16.x InstanceId (MS-ASCMD 2.2.3.92.1): the answer is for that occurrence of a series.
    let occurrence = request
        .instance_id
        .as_deref()
        .and_then(crate::recipients::parse_eas_datetime)
        .and_then(|t| Timestamp::from_second(t.unix_timestamp()).ok())
        .filter(|_| itip::is_recurring(&stored));
    if let Some(at) = occurrence {
        return answer_occurrence(store, account, item, &stored, answer, at, now);
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

/// Answers one occurrence (MS-ASCMD 2.2.1.11 with InstanceId): the occurrence becomes an
/// exception with the own answer (declined: a deleted occurrence), the series stays, and
/// the REPLY names the occurrence (RECURRENCE-ID).
fn answer_occurrence(
    store: &dyn Store,
    account: &Account,
    item: Option<Item>,
    stored: &ICalendar,
    answer: Answer,
    at: Timestamp,
    now: Timestamp,
) -> Result<Answered, EngineError> {
    let own = own_addresses(account);
    // The request of a series the user has no event of yet: the series first.
    let item = match item {
        Some(i) => i,
        None => match write_event(store, account.id, None, stored)? {
            Some(i) => i,
            None => return Ok(Answered::Invalid),
        },
    };
    let status = match answer {
        Answer::Accepted => AttendeeStatus::Accept,
        Answer::Tentative => AttendeeStatus::Tentative,
        Answer::Declined => AttendeeStatus::Decline,
    };
    let answers: Vec<(String, AttendeeStatus)> = own.iter().map(|a| (a.clone(), status)).collect();
    let exception = Exception {
        deleted: (answer == Answer::Declined).then_some(true),
        exception_start_time: Some(compact_datetime(at)),
        fields: if answer == Answer::Declined {
            EventFields::default()
        } else {
            EventFields {
                attendees: Some(attendees_answered(stored, &answers)),
                response_type: Some(match answer {
                    Answer::Accepted => ResponseType::Accepted,
                    _ => ResponseType::Tentative,
                }),
                busy_status: Some(match answer {
                    Answer::Accepted => BusyStatus::Busy,
                    _ => BusyStatus::Tentative,
                }),
                ..EventFields::default()
            }
        },
    };
    let Some(written) = write_occurrence(store, account.id, &item, stored, exception, now)? else {
        return Ok(Answered::Invalid);
    };
    let reply =
        itip::organizer(stored).map(|o| (o, itip::occurrence_reply(stored, &own, answer, now, at)));
    Ok(Answered::Done {
        // No CalendarId for a declined meeting (MS-ASCMD 2.2.3.27), the series stays.
        calendar_id: (answer != Answer::Declined).then_some(written.server_id),
        folder: Some(written.folder),
        reply,
    })
}

impl Engine {
    /// One Request of MeetingResponse (MS-ASCMD 2.2.1.11). From 16.0 the answer goes to the
    /// organizer as an iTIP REPLY when the client asks with SendResponse; before 16.0 the
    /// client sends its own answer with SendMail (MS-ASCMD 2.2.1.11), so the server does
    /// not.
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
            // Canceled now, and not before: the attendees hear once.
            (b, Some(a)) if itip::is_canceled(a) && !b.as_ref().is_some_and(itip::is_canceled) => {
                messages.push((others(a), a.clone(), ICalendarMethod::Cancel));
            }
            (_, Some(a)) if itip::is_canceled(a) => {}
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
            // The stored event after a change already carries its next SEQUENCE
            // (`itip::with_next_sequence`); a message made from the event before it (a
            // delete, a removed attendee's cancel) goes one past it (RFC 5546 2.1.4).
            let revision = i64::from(before.as_ref().is_some_and(|b| *b == ical));
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

// ---------------------------------------------------------------------------------------
// Free/busy (ResolveRecipients Availability)

/// MS-ASCMD 2.2.3.113 MergedFreeBusy digits: 0 free, 1 tentative, 2 busy, 3 out of office;
/// the highest wins where events overlap. `None`: the time shows free (a free or
/// declined event, a canceled meeting).
fn free_busy_digit(f: &EventFields) -> Option<u8> {
    if f.meeting_status.is_some_and(MeetingStatus::is_canceled)
        || f.response_type == Some(ResponseType::Declined)
    {
        return None;
    }
    match f.busy_status.unwrap_or(BusyStatus::Busy) {
        BusyStatus::Tentative => Some(1),
        BusyStatus::Busy => Some(2),
        BusyStatus::OutOfOffice => Some(3),
        // Working elsewhere is available for meetings.
        BusyStatus::Free | BusyStatus::WorkingElsewhere => None,
    }
}

fn instant(compact: Option<&str>) -> Option<Timestamp> {
    let t = crate::recipients::parse_eas_datetime(compact?)?;
    Timestamp::from_second(t.unix_timestamp()).ok()
}

/// The busy spans of an event in `from..to`: each occurrence of its pattern
/// (`recurrence::expand`), a deleted occurrence left out and a modified one with its own
/// times and busy status (MS-ASCAL 2.2.2.21 Exception).
pub fn busy_spans(c: &Calendar, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, Timestamp, u8)> {
    let Some(start) = instant(c.fields.start_time.as_deref()) else {
        return Vec::new();
    };
    let end = instant(c.fields.end_time.as_deref()).map_or(start, |e| e.max(start));
    let series = free_busy_digit(&c.fields);
    let Some(r) = &c.recurrence else {
        return match series {
            Some(d) if start < to && end > from => vec![(start, end, d)],
            _ => Vec::new(),
        };
    };
    let year = jiff::tz::Offset::UTC.to_datetime(start).year();
    let zone = c
        .timezone
        .as_ref()
        .and_then(|b| to_iana(b, year).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let dtstart = Dtstart {
        local: zone.to_datetime(start),
        zone,
        all_day: c.fields.all_day_event == Some(true),
    };
    let duration = end.duration_since(start);
    let exceptions: Vec<(Timestamp, &Exception)> = c
        .exceptions
        .iter()
        .flatten()
        .filter_map(|e| Some((instant(e.exception_start_time.as_deref())?, e)))
        .collect();
    let mut spans = Vec::new();
    // A moved occurrence may land in the window from outside it: look a day further.
    let margin = jiff::SignedDuration::from_hours(24 * 7);
    let (wide_from, wide_to) = (
        from.checked_sub(margin).unwrap_or(from),
        to.checked_add(margin).unwrap_or(to),
    );
    let occurrences = expand(r, &dtstart, duration, wide_from, wide_to).unwrap_or_default();
    for o in occurrences {
        let (s, e, digit) = match exceptions.iter().find(|(at, _)| *at == o.start) {
            Some((_, ex)) if ex.deleted == Some(true) => continue,
            Some((_, ex)) => {
                let s = instant(ex.fields.start_time.as_deref()).unwrap_or(o.start);
                let e = instant(ex.fields.end_time.as_deref())
                    .unwrap_or_else(|| s.checked_add(duration).unwrap_or(s));
                let mut f = c.fields.clone();
                f.busy_status = ex.fields.busy_status.or(f.busy_status);
                f.meeting_status = ex.fields.meeting_status.or(f.meeting_status);
                f.response_type = ex.fields.response_type.or(f.response_type);
                (s, e, free_busy_digit(&f))
            }
            None => (
                o.start,
                o.start.checked_add(duration).unwrap_or(o.start),
                series,
            ),
        };
        if let Some(d) = digit {
            if s < to && e > from {
                spans.push((s, e, d));
            }
        }
    }
    spans
}

/// MergedFreeBusy (MS-ASCMD 2.2.3.113) of `events` for `slots` half hours from `start`.
pub fn merged_free_busy(events: &[Calendar], start: Timestamp, slots: usize) -> String {
    const SLOT: i64 = 30 * 60;
    let mut digits = vec![0u8; slots];
    let end = start
        .checked_add(jiff::SignedDuration::from_secs(SLOT * slots as i64))
        .unwrap_or(start);
    for c in events {
        for (s, e, d) in busy_spans(c, start, end) {
            let first = (s.as_second() - start.as_second()).max(0) / SLOT;
            let last = (e.as_second() - start.as_second() + SLOT - 1) / SLOT;
            for slot in first..last.min(slots as i64) {
                let slot = slot as usize;
                digits[slot] = digits[slot].max(d);
            }
        }
    }
    digits.into_iter().map(|d| char::from(b'0' + d)).collect()
}

/// The events of all the user's calendars that may touch `from..to`, for free/busy.
pub fn calendar_events(
    store: &dyn Store,
    account: AccountId,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Calendar>, EngineError> {
    let mut ids = Vec::new();
    for folder in store.folders(account)? {
        if !matches!(
            folder.folder_type,
            folder_type::CALENDAR | folder_type::USER_CALENDAR
        ) {
            continue;
        }
        // date_received is the end of the event's last occurrence (content::pim).
        ids.extend(
            store
                .list_folder_items(account, folder.id)?
                .items
                .into_iter()
                .filter(|i| i.date_received >= from.as_second())
                .map(|i| i.id),
        );
    }
    let mut events = Vec::new();
    for chunk in ids.chunks(500) {
        for full in store.items_full(account, chunk)? {
            // Events that start after the window don't matter.
            let starts = full.item.fields.extra.get("start").and_then(|s| s.as_i64());
            if starts.is_some_and(|s| s >= to.as_second()) {
                continue;
            }
            let text = std::str::from_utf8(&full.content).unwrap_or_default();
            if let Ok(c) = calendar::from_ics(text, &jiff::tz::TimeZone::UTC) {
                events.push(c);
            }
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(body: &str) -> Calendar {
        let text = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\n{body}END:VEVENT\r\nEND:VCALENDAR\r\n"
        );
        calendar::from_ics(&text, &jiff::tz::TimeZone::UTC).unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn merged_free_busy_per_half_hour() {
        let events = [
            // Busy 09:00-10:00.
            event("DTSTART:20300110T090000Z\r\nDTEND:20300110T100000Z\r\n"),
            // Tentative 09:30-11:00: busy wins where they overlap.
            event(
                "DTSTART:20300110T093000Z\r\nDTEND:20300110T110000Z\r\nX-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE\r\n",
            ),
            // Free (TRANSP) and declined: no mark.
            event("DTSTART:20300110T080000Z\r\nDTEND:20300110T090000Z\r\nTRANSP:TRANSPARENT\r\n"),
            event("DTSTART:20300110T110000Z\r\nDTEND:20300110T120000Z\r\nX-EAS-RESPONSETYPE:4\r\n"),
            // Out of office 12:15-12:45 covers two started slots.
            event(
                "DTSTART:20300110T121500Z\r\nDTEND:20300110T124500Z\r\nX-MICROSOFT-CDO-BUSYSTATUS:OOF\r\n",
            ),
            // A canceled meeting.
            event("DTSTART:20300110T130000Z\r\nDTEND:20300110T140000Z\r\nSTATUS:CANCELLED\r\n"),
        ];
        // 08:00-14:00: twelve half hours.
        assert_eq!(
            merged_free_busy(&events, at("2030-01-10T08:00:00Z"), 12),
            "002211003300"
        );
    }

    #[test]
    fn recurring_events_with_exceptions() {
        // Daily 09:00-09:30 for five days; the 2nd deleted, the 3rd moved to 10:00 and
        // tentative (an override VEVENT).
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:d\r\n\
DTSTART:20300110T090000Z\r\nDTEND:20300110T093000Z\r\nRRULE:FREQ=DAILY;COUNT=5\r\n\
EXDATE:20300111T090000Z\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:d\r\n\
RECURRENCE-ID:20300112T090000Z\r\nDTSTART:20300112T100000Z\r\nDTEND:20300112T103000Z\r\n\
X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let c = calendar::from_ics(text, &jiff::tz::TimeZone::UTC).unwrap();
        let spans = busy_spans(&c, at("2030-01-10T00:00:00Z"), at("2030-01-20T00:00:00Z"));
        let starts: Vec<(String, u8)> = spans.iter().map(|(s, _, d)| (s.to_string(), *d)).collect();
        assert_eq!(
            starts,
            [
                ("2030-01-10T09:00:00Z".to_owned(), 2),
                ("2030-01-12T10:00:00Z".to_owned(), 1),
                ("2030-01-13T09:00:00Z".to_owned(), 2),
                ("2030-01-14T09:00:00Z".to_owned(), 2),
            ]
        );
        // 2030-01-12 09:00-11:00: the moved occurrence only.
        assert_eq!(
            merged_free_busy(&[c], at("2030-01-12T09:00:00Z"), 4),
            "0010"
        );
    }
}
