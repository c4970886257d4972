//! `qingshui user add|passwd|list|disable|enable`: accounts on the store itself, for the first
//! admin of a fresh install (no server needed; a running server sees the change within
//! `[auth] refresh_s`). Passwords are read without echo, or one line from stdin with
//! `--password-stdin`; they never appear in arguments, logs or the audit trail.

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use server::accounts::{Role, password};
use server::config::{Config, Overrides};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use store::accounts::{AccountStore, AuditRecord, UserRecord};

#[derive(Debug, Args)]
pub struct UserArgs {
    /// TOML configuration file (the one `serve` uses).
    #[arg(long, env = "QINGSHUI_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Data directory (the one `serve` uses).
    #[arg(long, env = "QINGSHUI_DATA_DIR", value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL URL (the one `serve` uses), instead of the data directory's SQLite file.
    #[arg(
        long,
        env = "QINGSHUI_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true,
        global = true
    )]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub action: UserAction,
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create an account.
    Add {
        name: String,
        /// viewer, operator, reviewer or admin.
        #[arg(long, default_value = "viewer")]
        role: String,
        /// The name the dashboard and the alert history show (e.g. 王值班).
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of stdin instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (ends the account's sessions and tokens on the next refresh).
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the accounts.
    List,
    /// Disable an account: it can no longer log in; its sessions and tokens stop working.
    Disable { name: String },
    /// Enable a disabled account again.
    Enable { name: String },
}

fn read_password(from_stdin: bool, min_len: usize) -> anyhow::Result<String> {
    let pw = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        if !std::io::stdin().is_terminal() {
            bail!(
                "no terminal to ask for the password: pass --password-stdin and write it to stdin"
            );
        }
        let a = rpassword::prompt_password("密码 password: ").context("reading the password")?;
        let b = rpassword::prompt_password("再输一次 again: ").context("reading the password")?;
        if a != b {
            bail!("the two passwords differ / 两次输入的密码不一致");
        }
        a
    };
    password::check_policy(&pw, min_len).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(pw)
}

pub fn run(args: UserArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(args.config.as_deref())?.overlay(Overrides {
        data_dir: args.data_dir.clone(),
        database_url: args.database_url.clone(),
        ..Overrides::default()
    });
    let min_len = config.auth.min_password_len;
    // The password is read before the store is opened, so a typo costs nothing.
    let pw = match &args.action {
        UserAction::Add { password_stdin, .. } | UserAction::Passwd { password_stdin, .. } => {
            Some(read_password(*password_stdin, min_len)?)
        }
        _ => None,
    };
    let hash = pw
        .map(|p| password::hash(&p))
        .transpose()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        if config.postgres_url().is_none() {
            std::fs::create_dir_all(&config.storage.data_dir)
                .with_context(|| format!("creating {}", config.storage.data_dir.display()))?;
        }
        let store = server::open_store(&config)?;
        let accounts = store
            .clone()
            .account_store()
            .context("this storage backend keeps no accounts")?;
        let result = act(&accounts, args.action, hash).await;
        store.close().await;
        result
    })
}

async fn find(store: &Arc<dyn AccountStore>, name: &str) -> anyhow::Result<UserRecord> {
    store
        .user_by_name(name)
        .await?
        .with_context(|| format!("no account {name:?} / 无此用户"))
}

async fn act(
    store: &Arc<dyn AccountStore>,
    action: UserAction,
    hash: Option<String>,
) -> anyhow::Result<ExitCode> {
    let now = store::clock::now_millis();
    let audit = |action: &str, target: String, details: serde_json::Value| AuditRecord {
        id: 0,
        at: now,
        principal: "cli".into(),
        action: action.into(),
        target,
        from_addr: "local".into(),
        details,
    };
    match action {
        UserAction::Add {
            name,
            role,
            display_name,
            ..
        } => {
            if !server::http::accounts::valid_name(&name) {
                bail!("a login name has 1–64 letters, digits, '.', '_' or '-'");
            }
            let role = Role::parse(&role).with_context(|| {
                format!("unknown role {role:?}: one of viewer, operator, reviewer, admin")
            })?;
            let u = UserRecord {
                id: 0,
                name: name.clone(),
                display_name: display_name.unwrap_or_else(|| name.clone()),
                role: role.as_str().into(),
                password_hash: hash.context("no password")?,
                disabled: false,
                created_at: now,
                updated_at: now,
            };
            store.add_user(u.clone()).await?;
            store
                .append_audit(vec![audit(
                    "user.add",
                    format!("user {name}"),
                    serde_json::json!({"after": {"name": u.name, "display_name": u.display_name, "role": u.role}}),
                )])
                .await?;
            println!("已创建用户 account created: {name} ({})", role.as_str());
        }
        UserAction::Passwd { name, .. } => {
            let mut u = find(store, &name).await?;
            u.password_hash = hash.context("no password")?;
            u.updated_at = now;
            store.update_user(u).await?;
            store
                .append_audit(vec![audit(
                    "user.passwd",
                    format!("user {name}"),
                    serde_json::json!({"password_changed": true}),
                )])
                .await?;
            println!("已修改密码 password changed: {name}");
        }
        UserAction::List => {
            println!("{:<20} {:<10} {:<9} display name", "name", "role", "state");
            for u in store.users().await? {
                let state = if u.disabled { "disabled" } else { "active" };
                println!(
                    "{:<20} {:<10} {:<9} {}",
                    u.name, u.role, state, u.display_name
                );
            }
        }
        UserAction::Disable { name } => set_disabled(store, &name, true, audit).await?,
        UserAction::Enable { name } => set_disabled(store, &name, false, audit).await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn set_disabled(
    store: &Arc<dyn AccountStore>,
    name: &str,
    disabled: bool,
    audit: impl Fn(&str, String, serde_json::Value) -> AuditRecord,
) -> anyhow::Result<()> {
    let mut u = find(store, name).await?;
    let before = u.disabled;
    u.disabled = disabled;
    u.updated_at = store::clock::now_millis();
    store.update_user(u).await?;
    store
        .append_audit(vec![audit(
            if disabled {
                "user.disable"
            } else {
                "user.enable"
            },
            format!("user {name}"),
            serde_json::json!({"before": {"disabled": before}, "after": {"disabled": disabled}}),
        )])
        .await?;
    println!(
        "{} {name}",
        if disabled {
            "已停用 disabled:"
        } else {
            "已启用 enabled:"
        }
    );
    Ok(())
}
