//! Listing messages: Twilio's filters (`To`, `From`, `DateSent`, `DateSent>`, `DateSent<`) and
//! its paging (`PageSize`, `Page`, `PageToken`, and the page URIs a client follows).

use chrono::{DateTime, NaiveDate, NaiveTime, SubsecRound as _, TimeDelta, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

use crate::error::ApiError;
use crate::resource::{MessageResource, messages_path};
use crate::store::StoredMessage;

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 1000;

/// What a query component may carry unescaped (RFC 3986 unreserved characters).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Where a page starts, relative to a message of the previous request's page. Tokens survive
/// messages arriving between two requests, which page numbers alone would not.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PageToken {
    /// The messages after this one (newest first): the next page.
    After(String),
    /// The messages before this one: the previous page.
    Before(String),
}

impl PageToken {
    fn parse(token: &str) -> Option<Self> {
        if let Some(sid) = token.strip_prefix("PA") {
            Some(Self::After(sid.to_owned()))
        } else {
            token
                .strip_prefix("PB")
                .map(|sid| Self::Before(sid.to_owned()))
        }
    }

    fn render(&self) -> String {
        match self {
            Self::After(sid) => format!("PA{sid}"),
            Self::Before(sid) => format!("PB{sid}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListQuery {
    to: Option<String>,
    from: Option<String>,
    /// Sent on or after, to the second.
    sent_since: Option<DateTime<Utc>>,
    /// Sent on or before, to the second.
    sent_until: Option<DateTime<Utc>>,
    /// The filters as the client wrote them, to carry into the page URIs.
    filters: Vec<(String, String)>,
    page_size: usize,
    page: usize,
    token: Option<PageToken>,
}

fn invalid(name: &str, value: &str) -> ApiError {
    ApiError::invalid(
        20001,
        format!("Invalid value '{value}' for parameter {name}"),
    )
}

/// A `DateSent` value: a UTC date (Twilio's documented form, the whole day) or, as helper
/// libraries send, an RFC 3339 time (to the second). Returns the first and last second it covers.
fn sent_range(value: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    if let Ok(day) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let start = day.and_time(NaiveTime::MIN).and_utc();
        return Some((start, start + TimeDelta::days(1) - TimeDelta::seconds(1)));
    }
    let time = DateTime::parse_from_rfc3339(value)
        .ok()?
        .with_timezone(&Utc)
        .trunc_subsecs(0);
    Some((time, time))
}

impl ListQuery {
    pub(crate) fn parse(params: &[(String, String)]) -> Result<Self, ApiError> {
        let mut query = Self {
            to: None,
            from: None,
            sent_since: None,
            sent_until: None,
            filters: Vec::new(),
            page_size: DEFAULT_PAGE_SIZE,
            page: 0,
            token: None,
        };
        for (name, value) in params {
            match name.as_str() {
                "To" => query.to = Some(value.clone()),
                "From" => query.from = Some(value.clone()),
                "DateSent" | "DateSent>" | "DateSent>=" | "DateSent<" | "DateSent<=" => {
                    let (first, last) = sent_range(value).ok_or_else(|| invalid(name, value))?;
                    if !name.contains('<') {
                        query.sent_since = query.sent_since.max(Some(first));
                    }
                    if !name.contains('>') {
                        query.sent_until = Some(query.sent_until.map_or(last, |u| u.min(last)));
                    }
                }
                "PageSize" => {
                    query.page_size = value
                        .parse::<usize>()
                        .ok()
                        .filter(|size| (1..=MAX_PAGE_SIZE).contains(size))
                        .ok_or_else(|| invalid(name, value))?;
                }
                "Page" => query.page = value.parse().map_err(|_| invalid(name, value))?,
                "PageToken" => {
                    query.token =
                        Some(PageToken::parse(value).ok_or_else(|| invalid(name, value))?);
                }
                _ => continue,
            }
            if matches!(name.as_str(), "To" | "From") || name.starts_with("DateSent") {
                query.filters.push((name.clone(), value.clone()));
            }
        }
        Ok(query)
    }

    /// Whether the message passes the filters. `DateSent` falls back to the creation date while
    /// a message is not sent yet: a client looking up a create whose answer it never got
    /// (filtering on the day it sent) must find the message even while it is still queued.
    pub(crate) fn matches(&self, stored: &StoredMessage) -> bool {
        let sent = stored
            .date_sent
            .unwrap_or(stored.message.accepted_at)
            .trunc_subsecs(0);
        self.to.as_ref().is_none_or(|to| *to == stored.message.to)
            && self.from.as_ref().is_none_or(|from| *from == stored.from)
            && self.sent_since.is_none_or(|since| sent >= since)
            && self.sent_until.is_none_or(|until| sent <= until)
    }

    fn uri(&self, account_sid: &str, page: usize, token: Option<&PageToken>) -> String {
        let mut uri = messages_path(account_sid);
        let mut separator = '?';
        let page = page.to_string();
        let page_size = self.page_size.to_string();
        let token = token.map(PageToken::render);
        let paging = [
            ("PageSize", Some(page_size.as_str())),
            ("Page", Some(page.as_str())),
            ("PageToken", token.as_deref()),
        ];
        let filters = self
            .filters
            .iter()
            .map(|(name, value)| (name.as_str(), Some(value.as_str())));
        for (name, value) in filters.chain(paging) {
            let Some(value) = value else { continue };
            uri.push(separator);
            uri.extend(utf8_percent_encode(name, COMPONENT));
            uri.push('=');
            uri.extend(utf8_percent_encode(value, COMPONENT));
            separator = '&';
        }
        uri
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Page {
    end: usize,
    first_page_uri: String,
    messages: Vec<MessageResource>,
    next_page_uri: Option<String>,
    page: usize,
    page_size: usize,
    previous_page_uri: Option<String>,
    start: usize,
    uri: String,
}

/// The page `query` asks for, out of `matching` (newest first).
pub(crate) fn page(
    query: &ListQuery,
    account_sid: &str,
    matching: &[&StoredMessage],
) -> Result<Page, ApiError> {
    let position = |sid: &str| {
        matching
            .iter()
            .position(|stored| stored.message.sid == sid)
            .ok_or_else(|| invalid("PageToken", sid))
    };
    let start = match &query.token {
        Some(PageToken::After(sid)) => position(sid)? + 1,
        Some(PageToken::Before(sid)) => position(sid)?.saturating_sub(query.page_size),
        None => query.page.saturating_mul(query.page_size),
    }
    .min(matching.len());
    let end = start.saturating_add(query.page_size).min(matching.len());
    let items = matching.get(start..end).unwrap_or_default();
    let next_page_uri = items.last().filter(|_| end < matching.len()).map(|last| {
        let token = PageToken::After(last.message.sid.clone());
        query.uri(account_sid, query.page + 1, Some(&token))
    });
    let previous_page_uri = items.first().filter(|_| start > 0).map(|first| {
        let token = PageToken::Before(first.message.sid.clone());
        query.uri(account_sid, query.page.saturating_sub(1), Some(&token))
    });
    Ok(Page {
        end: end.saturating_sub(1).max(start),
        first_page_uri: query.uri(account_sid, 0, None),
        messages: items.iter().map(|&stored| stored.into()).collect(),
        next_page_uri,
        page: query.page,
        page_size: query.page_size,
        previous_page_uri,
        start,
        uri: query.uri(account_sid, query.page, query.token.as_ref()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn date_sent_bounds_cover_whole_days() {
        let query = ListQuery::parse(&params(&[
            ("DateSent>", "2026-11-20"),
            ("DateSent<=", "2026-11-21"),
        ]));
        let query = query.ok();
        let bounds = query.as_ref().map(|q| {
            (
                q.sent_since.map(|t| t.to_rfc3339()),
                q.sent_until.map(|t| t.to_rfc3339()),
            )
        });
        assert_eq!(
            bounds,
            Some((
                Some("2026-11-20T00:00:00+00:00".to_owned()),
                Some("2026-11-21T23:59:59+00:00".to_owned())
            ))
        );
    }

    #[test]
    fn page_uris_keep_the_filters_percent_encoded() {
        let query = ListQuery::parse(&params(&[
            ("To", "+15005550006"),
            ("DateSent>", "2026-11-20"),
            ("PageSize", "2"),
        ]));
        let uri = query.map(|q| q.uri("AC1", 1, Some(&PageToken::After("SM1".into()))));
        assert_eq!(
            uri.ok().as_deref(),
            Some(
                "/2010-04-01/Accounts/AC1/Messages.json?To=%2B15005550006&DateSent%3E=2026-11-20\
                 &PageSize=2&Page=1&PageToken=PASM1"
            )
        );
    }

    #[test]
    fn bad_values_are_400s() {
        for (name, value) in [
            ("DateSent>", "yesterday"),
            ("PageSize", "0"),
            ("PageSize", "1001"),
            ("Page", "-1"),
            ("PageToken", "XX"),
        ] {
            let error = ListQuery::parse(&params(&[(name, value)])).err();
            assert_eq!(error.map(|e| e.code()), Some(20001), "{name}={value}");
        }
    }
}
