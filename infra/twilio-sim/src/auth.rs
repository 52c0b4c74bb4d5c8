//! HTTP Basic authentication as Twilio does it: the Account SID with its auth token, or one of
//! the account's API key SIDs with the key's secret. Either way the account must be the one
//! named in the path.

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::config::Account;
use crate::error::ApiError;

/// The account these headers authenticate, when it is `path_account`.
pub(crate) fn authenticate(
    accounts: &[Account],
    headers: &HeaderMap,
    path_account: &str,
) -> Result<Account, ApiError> {
    let (username, password) = basic_credentials(headers).ok_or(ApiError::Unauthenticated)?;
    let account = accounts
        .iter()
        .find(|account| {
            (account.sid == username && account.auth_token == password)
                || account
                    .api_keys
                    .iter()
                    .any(|(key, secret)| *key == username && *secret == password)
        })
        .ok_or(ApiError::Unauthenticated)?;
    if account.sid != path_account {
        return Err(ApiError::Unauthenticated);
    }
    Ok(account.clone())
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (username, password) = decoded.split_once(':')?;
    Some((username.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn account() -> Account {
        Account {
            sid: "AC1".into(),
            auth_token: "token".into(),
            api_keys: vec![("SK1".into(), "secret".into())],
        }
    }

    fn headers(user: &str, password: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let encoded = STANDARD.encode(format!("{user}:{password}"));
        if let Ok(value) = HeaderValue::from_str(&format!("Basic {encoded}")) {
            headers.insert(header::AUTHORIZATION, value);
        }
        headers
    }

    #[test]
    fn accepts_the_auth_token_and_api_keys_of_the_path_account_only() {
        let accounts = [account()];
        assert!(authenticate(&accounts, &headers("AC1", "token"), "AC1").is_ok());
        assert!(authenticate(&accounts, &headers("SK1", "secret"), "AC1").is_ok());
        for (user, password, path) in [
            ("AC1", "wrong", "AC1"),
            ("SK1", "token", "AC1"),
            ("AC1", "token", "AC2"),
            ("AC2", "token", "AC2"),
        ] {
            assert_eq!(
                authenticate(&accounts, &headers(user, password), path),
                Err(ApiError::Unauthenticated),
                "{user}:{password} on {path}"
            );
        }
        assert_eq!(
            authenticate(&accounts, &HeaderMap::new(), "AC1"),
            Err(ApiError::Unauthenticated)
        );
    }
}
