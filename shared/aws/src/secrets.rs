//! The [`Secrets`] port on AWS Secrets Manager. Values stay in [`SecretString`]: the SDK
//! redacts them in its own `Debug` output, and this module never logs them.

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::Error as SmError;
use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::SdkError;
use aws_sdk_secretsmanager::operation::create_secret::CreateSecretError;
use secrecy::{ExposeSecret as _, SecretString};
use smscrm_domain::ports::secrets::{Secrets, SecretsError, validate_name};

use crate::error::{UnexpectedResponse, chain, transient};

#[derive(Debug, Clone)]
pub struct SecretsManagerSecrets {
    client: Client,
    /// Prepended to every name, e.g. `smscrm/prod/`, so environments share an account safely.
    prefix: String,
}

impl SecretsManagerSecrets {
    pub fn new(client: Client, prefix: impl Into<String>) -> Self {
        Self {
            client,
            prefix: prefix.into(),
        }
    }

    pub fn from_config(config: &aws_config::SdkConfig, prefix: impl Into<String>) -> Self {
        Self::new(Client::new(config), prefix)
    }

    fn secret_id(&self, name: &str) -> Result<String, SecretsError> {
        validate_name(name)?;
        let full = format!("{}{name}", self.prefix);
        validate_name(&full)?;
        Ok(full)
    }
}

#[async_trait]
impl Secrets for SecretsManagerSecrets {
    async fn get(&self, name: &str) -> Result<Option<SecretString>, SecretsError> {
        let id = self.secret_id(name)?;
        let out = match self.client.get_secret_value().secret_id(&id).send().await {
            Ok(out) => out,
            Err(err) => {
                return match secrets_error(err) {
                    Mapped::NotFound => Ok(None),
                    Mapped::Other(err) => Err(err),
                };
            }
        };
        match out.secret_string {
            Some(value) => Ok(Some(SecretString::from(value))),
            None => Err(SecretsError::backend(UnexpectedResponse(format!(
                "secret `{id}` holds binary data, not a string"
            )))),
        }
    }

    async fn put(&self, name: &str, value: SecretString) -> Result<(), SecretsError> {
        let id = self.secret_id(name)?;
        // Replacing is the common case (rotation); creating happens once per secret.
        let put = self
            .client
            .put_secret_value()
            .secret_id(&id)
            .secret_string(value.expose_secret())
            .send()
            .await;
        match put {
            Ok(_) => return Ok(()),
            Err(err) => match secrets_error(err) {
                Mapped::NotFound => {}
                Mapped::Other(err) => return Err(err),
            },
        }
        let created = self
            .client
            .create_secret()
            .name(&id)
            .secret_string(value.expose_secret())
            .send()
            .await;
        match created {
            Ok(_) => Ok(()),
            // Someone created it in between: write our value over theirs, as a put would.
            Err(SdkError::ServiceError(ctx))
                if matches!(ctx.err(), CreateSecretError::ResourceExistsException(_)) =>
            {
                self.client
                    .put_secret_value()
                    .secret_id(&id)
                    .secret_string(value.expose_secret())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| secrets_error(e).into_error())
            }
            Err(err) => Err(secrets_error(err).into_error()),
        }
    }
}

/// A missing secret is an answer for `get` and a cue for `put`, not a failure.
enum Mapped {
    NotFound,
    Other(SecretsError),
}

impl Mapped {
    fn into_error(self) -> SecretsError {
        match self {
            Self::NotFound => SecretsError::backend(UnexpectedResponse(
                "the secret vanished while being written".into(),
            )),
            Self::Other(err) => err,
        }
    }
}

fn secrets_error<E>(err: SdkError<E, HttpResponse>) -> Mapped
where
    E: std::error::Error + Send + Sync + 'static,
    SmError: From<SdkError<E, HttpResponse>>,
{
    if let Some(message) = transient(&err) {
        return Mapped::Other(SecretsError::Unavailable(message));
    }
    match SmError::from(err) {
        SmError::ResourceNotFoundException(_) => Mapped::NotFound,
        err @ SmError::InternalServiceError(_) => {
            Mapped::Other(SecretsError::Unavailable(chain(&err)))
        }
        other => Mapped::Other(SecretsError::backend(other)),
    }
}
