//! [`FileSecrets`]: the Secrets port as one JSON object (`{"name": "value", ...}`) in a file
//! only its owner can read. Values are held as `SecretString` and never logged or formatted.

use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value};
use smscrm_domain::ports::secrets::{Secrets, SecretsError, validate_name};

#[derive(Debug, Clone)]
pub struct FileSecrets {
    path: PathBuf,
}

impl FileSecrets {
    /// Secrets in the file at `path`, created (with its directory) on the first `put`.
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, SecretsError> + Send + 'static,
) -> Result<T, SecretsError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|err| Err(SecretsError::backend(err)))
}

/// The file's contents; an absent file holds no secrets.
fn read_all(path: &Path) -> Result<Map<String, Value>, SecretsError> {
    let raw = match std::fs::read(path) {
        Ok(raw) => raw,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(Map::new()),
        Err(err) => return Err(SecretsError::backend(err)),
    };
    warn_if_exposed(path);
    // serde_json's messages name a line and column, never the text around them.
    serde_json::from_slice(&raw).map_err(SecretsError::backend)
}

#[cfg(unix)]
fn warn_if_exposed(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "secrets file is readable by other users");
    }
}

#[cfg(not(unix))]
fn warn_if_exposed(_path: &Path) {}

/// Creates a file only the owner can read and write.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

/// Replaces the file with `secrets` in one rename, so readers see the old file or the new one.
fn write_all(path: &Path, secrets: &Map<String, Value>) -> Result<(), SecretsError> {
    let temp = path.with_file_name(format!(
        ".{}.tmp-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("secrets"),
        ulid::Ulid::new()
    ));
    let written = (|| {
        let mut file = create_private(&temp)?;
        serde_json::to_writer_pretty(&mut file, secrets)?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written.map_err(SecretsError::backend)
}

fn put_blocking(path: &Path, name: String, value: SecretString) -> Result<(), SecretsError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(SecretsError::backend)?;
    }
    // Read-modify-write under an exclusive lock on a companion file, so two processes (the host
    // and a CLI command) putting at once do not lose each other's secret. The lock file, not
    // the secrets file, since the rename replaces the latter.
    let lock_path = path.with_file_name(format!(
        ".{}.lock",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("secrets")
    ));
    let lock = create_private(&lock_path).map_err(SecretsError::backend)?;
    lock.lock().map_err(SecretsError::backend)?;
    let mut secrets = read_all(path)?;
    secrets.insert(name, Value::String(value.expose_secret().to_owned()));
    write_all(path, &secrets)
    // The lock is released when `lock` is dropped.
}

#[async_trait]
impl Secrets for FileSecrets {
    async fn get(&self, name: &str) -> Result<Option<SecretString>, SecretsError> {
        validate_name(name)?;
        let (path, name) = (self.path.clone(), name.to_owned());
        blocking(move || {
            let mut secrets = read_all(&path)?;
            match secrets.remove(&name) {
                None => Ok(None),
                Some(Value::String(value)) => Ok(Some(SecretString::from(value))),
                Some(_) => Err(SecretsError::Backend(
                    format!("secret `{name}` in the secrets file is not a string").into(),
                )),
            }
        })
        .await
    }

    async fn put(&self, name: &str, value: SecretString) -> Result<(), SecretsError> {
        validate_name(name)?;
        let (path, name) = (self.path.clone(), name.to_owned());
        blocking(move || put_blocking(&path, name, value)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> (tempfile::TempDir, FileSecrets) {
        let dir = tempfile::tempdir().expect("temp dir");
        let secrets = FileSecrets::new(dir.path().join("conf/secrets.json"));
        (dir, secrets)
    }

    fn exposed(value: Option<SecretString>) -> Option<String> {
        value.map(|v| v.expose_secret().to_owned())
    }

    #[tokio::test]
    async fn put_then_get_and_replace() -> Result<(), SecretsError> {
        let (_dir, secrets) = secrets();
        assert!(secrets.get("twilio/auth").await?.is_none());
        secrets
            .put("twilio/auth", SecretString::from("one"))
            .await?;
        secrets.put("other", SecretString::from("x")).await?;
        secrets
            .put("twilio/auth", SecretString::from("two"))
            .await?;
        assert_eq!(
            exposed(secrets.get("twilio/auth").await?).as_deref(),
            Some("two")
        );
        assert_eq!(exposed(secrets.get("other").await?).as_deref(), Some("x"));
        Ok(())
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn file_is_private() -> Result<(), SecretsError> {
        use std::os::unix::fs::PermissionsExt as _;
        let (_dir, secrets) = secrets();
        secrets.put("a", SecretString::from("v")).await?;
        let mode = std::fs::metadata(secrets.path())
            .map_err(SecretsError::backend)?
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        Ok(())
    }

    #[tokio::test]
    async fn invalid_names_are_rejected() {
        let (_dir, secrets) = secrets();
        for name in ["", "a b", "ä"] {
            assert!(matches!(
                secrets.get(name).await,
                Err(SecretsError::InvalidName(_))
            ));
            let put = secrets.put(name, SecretString::from("v")).await;
            assert!(matches!(put, Err(SecretsError::InvalidName(_))));
        }
    }

    #[tokio::test]
    async fn concurrent_puts_keep_every_secret() -> Result<(), SecretsError> {
        let (_dir, secrets) = secrets();
        let mut tasks = Vec::new();
        for i in 0..16 {
            let secrets = secrets.clone();
            tasks.push(tokio::spawn(async move {
                secrets
                    .put(&format!("s{i}"), SecretString::from(format!("v{i}")))
                    .await
            }));
        }
        for task in tasks {
            task.await.map_err(SecretsError::backend)??;
        }
        for i in 0..16 {
            let got = exposed(secrets.get(&format!("s{i}")).await?);
            assert_eq!(got, Some(format!("v{i}")));
        }
        Ok(())
    }
}
