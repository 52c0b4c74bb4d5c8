//! [`Outbox`]: the mailer port locally. Each email is a JSON file in a directory, named so
//! they list in the order sent; nothing leaves the machine.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use smscrm_domain::ports::mailer::{MailError, Mailer, OutgoingEmail};

#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

/// An email in the outbox, with when it was sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sent {
    pub sent_at: chrono::DateTime<chrono::Utc>,
    #[serde(flatten)]
    pub email: OutgoingEmail,
}

impl Outbox {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every email sent, oldest first.
    pub async fn list(&self) -> Result<Vec<Sent>, MailError> {
        let dir = self.dir.clone();
        blocking(move || {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(unavailable(&e)),
            };
            let mut paths: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
                .collect();
            paths.sort();
            paths
                .iter()
                .map(|path| {
                    let raw = std::fs::read(path).map_err(|e| unavailable(&e))?;
                    serde_json::from_slice(&raw).map_err(|e| unavailable(&e))
                })
                .collect()
        })
        .await
    }
}

fn unavailable(error: &dyn std::fmt::Display) -> MailError {
    MailError::Unavailable(error.to_string())
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, MailError> + Send + 'static,
) -> Result<T, MailError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(unavailable(&e)))
}

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        if email.subject.trim().is_empty() || email.subject.contains(['\r', '\n']) {
            return Err(MailError::Rejected(
                "a subject is one non-empty line".into(),
            ));
        }
        let sent = Sent {
            sent_at: chrono::Utc::now(),
            email: email.clone(),
        };
        let dir = self.dir.clone();
        blocking(move || {
            std::fs::create_dir_all(&dir).map_err(|e| unavailable(&e))?;
            // Time first so names sort in sending order; the ULID keeps two in one instant apart.
            let name = format!(
                "{}-{}.json",
                sent.sent_at.format("%Y%m%dT%H%M%S%.6fZ"),
                ulid::Ulid::new()
            );
            let temp = dir.join(format!(".{name}.tmp"));
            let bytes = serde_json::to_vec_pretty(&sent).map_err(|e| unavailable(&e))?;
            std::fs::write(&temp, bytes).map_err(|e| unavailable(&e))?;
            std::fs::rename(&temp, dir.join(name)).map_err(|e| unavailable(&e))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smscrm_domain::user::Email;

    #[tokio::test]
    async fn the_outbox_lists_what_was_sent_in_order() {
        let dir = tempfile::tempdir().expect("dir");
        let outbox = Outbox::new(dir.path().join("outbox"));
        assert_eq!(outbox.list().await.expect("empty"), Vec::new());
        for n in 1..=3 {
            let email = OutgoingEmail {
                to: Email::parse("ada@example.com").expect("address"),
                subject: format!("Link {n}"),
                text: "https://sms.example.com".into(),
            };
            outbox.send(&email).await.expect("sent");
        }
        let subjects: Vec<String> = outbox
            .list()
            .await
            .expect("listed")
            .into_iter()
            .map(|sent| sent.email.subject)
            .collect();
        assert_eq!(subjects, ["Link 1", "Link 2", "Link 3"]);
    }
}
