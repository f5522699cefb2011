//! The schema registry's configuration, built once from the command line:
//! its URL, how to authenticate (basic auth as `USER:PASSWORD` from the
//! variable EDS_SCHEMA_REGISTRY_USER_INFO, from a file, or in the URL's
//! user-info; or a bearer token from a file: one of them), its extra CA, the
//! bound of each call; and for `publish` and `backfill` the value format.
//! Files are read as small regular files (a FIFO or a device is exit 2);
//! the password and the token are kept as [`crate::redact::Secret`]s.

use anyhow::Result;

use super::ConfigError;
use crate::cli::{RegistryArgs, ValueArgs, ValueFormat as Format};
use crate::registry::{Auth, RegistryConfig, SchemaType};
use crate::sink::values::{RegistryOutput, ValueFormat};

/// The registry `--schema-registry` names, `None` without one.
pub fn registry(args: &RegistryArgs) -> Result<Option<RegistryConfig>> {
    let Some(url) = args.url.as_deref().filter(|u| !u.trim().is_empty()) else {
        let given = args.user_info.is_some()
            || args.user_info_file.is_some()
            || args.token_file.is_some()
            || args.ca.is_some();
        if given {
            return Err(ConfigError::Contradiction(
                "the schema registry's credentials and CA (EDS_SCHEMA_REGISTRY_USER_INFO, \
                 --schema-registry-user-info-file, --schema-registry-token-file, \
                 --schema-registry-ca) go with --schema-registry / EDS_SCHEMA_REGISTRY",
            )
            .into());
        }
        return Ok(None);
    };
    crate::redact::register_url(url);
    if args.timeout.is_zero() {
        return Err(ConfigError::NotPositive("--schema-registry-timeout").into());
    }
    if let Some(ca) = &args.ca {
        crate::files::check_readable_path(ca, "--schema-registry-ca")?;
    }
    let config = RegistryConfig {
        url: url.trim().to_string(),
        auth: auth(args, url)?,
        ca_file: args.ca.clone(),
        timeout: args.timeout,
    };
    config.check_url()?;
    Ok(Some(config))
}

/// The one way to authenticate that is given (none: [`Auth::None`], or the
/// URL's user-info, which the client takes).
fn auth(args: &RegistryArgs, url: &str) -> Result<Auth> {
    if let Some(info) = &args.user_info {
        crate::redact::register(info);
    }
    let in_url = reqwest::Url::parse(url.trim()).is_ok_and(|u| !u.username().is_empty());
    let ways = [
        in_url,
        args.user_info.is_some(),
        args.user_info_file.is_some(),
        args.token_file.is_some(),
    ];
    if ways.iter().filter(|w| **w).count() > 1 {
        return Err(ConfigError::Contradiction(
            "the schema registry takes one way to authenticate: the URL's user-info, \
             EDS_SCHEMA_REGISTRY_USER_INFO, --schema-registry-user-info-file or \
             --schema-registry-token-file",
        )
        .into());
    }
    if let Some(info) = &args.user_info {
        return Ok(Auth::basic(info.trim())?);
    }
    if let Some(file) = &args.user_info_file {
        let text = crate::files::read_config(file, "--schema-registry-user-info-file")?;
        crate::redact::register(text.trim());
        return Ok(Auth::basic(text.trim())?);
    }
    if let Some(file) = &args.token_file {
        let text = crate::files::read_config(file, "--schema-registry-token-file")?;
        return Ok(Auth::bearer(&text, file)?);
    }
    Ok(Auth::None)
}

/// `--value-format` and its registry: `avro` and `json-sr` need one;
/// `--no-register` goes with them.
pub fn value_format(args: &ValueArgs) -> Result<ValueFormat> {
    let (schema_type, name) = match args.value_format {
        Format::Json if args.no_register => {
            return Err(ConfigError::Contradiction(
                "--no-register / EDS_NO_REGISTER goes with --value-format avro or json-sr \
                 (plain JSON has no schema to register)",
            )
            .into())
        }
        Format::Json => return Ok(ValueFormat::Json),
        Format::Avro => (SchemaType::Avro, "avro"),
        Format::JsonSr => (SchemaType::Json, "json-sr"),
    };
    let registry = registry(&args.registry)?.ok_or(ConfigError::NeedsRegistry(name))?;
    Ok(ValueFormat::Registry(Box::new(RegistryOutput {
        schema_type,
        registry,
        register: !args.no_register,
    })))
}
