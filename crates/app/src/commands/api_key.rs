//! `qbench admin api-key create|list|revoke`: the operator's management of API keys, straight on
//! the configured database (the operator holds its credentials; there is no HTTP route for it).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use qbench_domain::ApiKey;
use qbench_service::ApiKeyService;
use qbench_sql::SqlDatabase;
use secrecy::ExposeSecret;

use crate::cli::{ApiKeyCommand, CreateApiKeyArgs};
use crate::commands::CommandError;
use crate::secret_key::load_cipher;
use crate::settings::Settings;

/// Runs `command` on the database of `settings`, printing to `out`.
pub async fn run(
    command: ApiKeyCommand,
    settings: &Settings,
    out: &mut impl std::io::Write,
) -> Result<(), CommandError> {
    if !matches!(command, ApiKeyCommand::Create(_))
        && let Some(path) = settings.sqlite_file().filter(|file| is_missing(file))
    {
        return Err(CommandError::new(format!(
            "no qbench database at {}: run this where the server keeps its data (--config, QBENCH_DATA_DIR or \
             DATABASE_URL); nothing was created",
            path.display()
        )));
    }
    let cipher = load_cipher(settings.secret_key.as_ref(), &settings.data_dir)
        .map_err(|err| CommandError::new(format!("secret key: {err}")))?;
    let database = SqlDatabase::connect(settings.database_url().expose_secret(), cipher)
        .await
        .map_err(|err| CommandError::new(format!("database: {err}")))?;
    let service = ApiKeyService::new(Arc::new(database.clone()));
    let result = execute(command, &service, out).await;
    // Closing checkpoints SQLite's log; a failure there does not undo what was done.
    if let Err(err) = database.close().await {
        tracing::warn!(error = %err, "the database did not close cleanly");
    }
    result
}

/// Whether the SQLite `file` does not exist: listing or revoking keys there would create an empty
/// database (and a secret key) in what is most likely the wrong directory. An in-memory database
/// is never missing.
fn is_missing(file: &std::path::Path) -> bool {
    !file.as_os_str().is_empty() && file != std::path::Path::new(":memory:") && !file.exists()
}

async fn execute(
    command: ApiKeyCommand,
    service: &ApiKeyService,
    out: &mut impl std::io::Write,
) -> Result<(), CommandError> {
    let text = match command {
        ApiKeyCommand::Create(args) => create(args, service).await?,
        ApiKeyCommand::List => render(&service.list().await.map_err(CommandError::new)?),
        ApiKeyCommand::Revoke(args) => {
            let key = service.revoke(args.id).await.map_err(CommandError::new)?;
            tracing::info!(target: "audit", user = "cli", action = "revoke", object = "api_key", id = %key.id, "audit");
            format!("revoked API key {} ({}, {})\n", key.id, key.prefix, key.user)
        }
    };
    out.write_all(text.as_bytes()).map_err(|err| CommandError::new(format!("output: {err}")))
}

async fn create(args: CreateApiKeyArgs, service: &ApiKeyService) -> Result<String, CommandError> {
    let (key, plaintext) =
        service.create(&args.user, args.role, args.expires.map(Into::into)).await.map_err(CommandError::new)?;
    tracing::info!(target: "audit", user = "cli", action = "create", object = "api_key", id = %key.id, "audit");
    Ok(format!(
        "API key for {user} ({role}); copy it now, it is not shown again:\n\n  {plaintext}\n\n\
         id       {id}\nprefix   {prefix}\nexpires  {expires}\n",
        user = key.user,
        role = key.role,
        plaintext = plaintext.expose_secret(),
        id = key.id,
        prefix = key.prefix,
        expires = time(key.expires_at, "never"),
    ))
}

fn time(time: Option<DateTime<Utc>>, none: &str) -> String {
    time.map_or_else(|| none.to_owned(), |time| time.format("%Y-%m-%d %H:%M:%SZ").to_string())
}

/// One line per key: id, user, role, prefix, created, expires, revoked; never the key or its hash.
fn render(keys: &[ApiKey]) -> String {
    let width = keys.iter().map(|key| key.user.chars().count()).max().unwrap_or(0).max(4);
    let mut out = format!(
        "{:<36}  {:<width$}  {:<6}  {:<7}  {:<20}  {:<20}  {}\n",
        "id", "user", "role", "prefix", "created", "expires", "revoked"
    );
    for key in keys {
        out.push_str(&format!(
            "{:<36}  {:<width$}  {:<6}  {:<7}  {:<20}  {:<20}  {}\n",
            key.id.to_string(),
            key.user,
            key.role.as_str(),
            key.prefix,
            time(Some(key.created_at), "-"),
            time(key.expires_at, "never"),
            time(key.revoked_at, "-"),
        ));
    }
    if keys.is_empty() {
        out.push_str("(no API keys)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use qbench_domain::{ApiKeyId, Role};

    use super::*;

    #[test]
    fn only_a_sqlite_file_that_does_not_exist_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let absent = dir.path().join("qbench.db");
        assert!(is_missing(&absent));
        std::fs::write(&absent, b"").unwrap();
        assert!(!is_missing(&absent));
        assert!(!is_missing(std::path::Path::new(":memory:")));
    }

    #[test]
    fn the_list_shows_prefixes_and_times_but_never_a_hash() {
        let created_at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let key = ApiKey {
            id: ApiKeyId::new(),
            user: "ci@example.com".to_owned(),
            role: Role::Editor,
            prefix: "qb_AbCd".to_owned(),
            hash: ApiKey::digest("qb_AbCdsecret"),
            created_at,
            expires_at: None,
            revoked_at: Some(created_at),
        };
        let table = render(std::slice::from_ref(&key));
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2, "{table}");
        assert!(lines[0].starts_with("id") && lines[0].ends_with("revoked"), "{table}");
        for field in
            [key.id.to_string().as_str(), "ci@example.com", "editor", "qb_AbCd", "2023-11-14 22:13:20Z", "never"]
        {
            assert!(lines[1].contains(field), "`{field}` in {table}");
        }
        assert!(!table.contains(&key.hash), "{table}");
        assert!(render(&[]).contains("(no API keys)"));
    }
}
