//! The one redaction point: every error, warning, `-v` line and panic message passes through
//! [`text`] before it is printed, so no secret reaches the terminal or a CI log.
//!
//! Two kinds of secret are removed: values known to be secret (registered as they are read:
//! the kubeconfig's tokens, passwords, client keys and exec `env` values, a credential plugin's
//! token), wherever they appear; and secrets recognisable by shape (the password of a URL's
//! userinfo, a bearer token, a `"token"` field of JSON), even when nothing registered them.

use std::borrow::Cow;
use std::sync::{Mutex, OnceLock};

/// What a removed secret is replaced with.
pub const REDACTED: &str = "<redacted>";

fn known() -> &'static Mutex<Vec<String>> {
    static KNOWN: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    KNOWN.get_or_init(|| Mutex::new(Vec::new()))
}

/// Remembers a secret value so that [`text`] removes it wherever it appears. Values shorter
/// than 4 characters are not registered: removing every `1` or `yes` from messages would
/// garble them and protects nothing.
pub fn register(secret: &str) {
    let secret = secret.trim();
    if secret.chars().count() < 4 {
        return;
    }
    if let Ok(mut known) = known().lock()
        && !known.iter().any(|k| k == secret)
    {
        known.push(secret.to_string());
        // Longest first, so that a secret containing another is removed whole.
        known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    }
}

/// `text` without any secret: registered values, URL passwords, bearer tokens and JSON
/// `token` fields.
pub fn text(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    if let Ok(known) = known().lock() {
        for secret in known.iter() {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
            }
        }
    }
    if let Some(changed) = url_passwords(&out) {
        out = Cow::Owned(changed);
    }
    for marker in ["Bearer ", "bearer "] {
        if let Some(changed) = after_marker(&out, marker, |c: char| {
            c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ')' | ']' | '}')
        }) {
            out = Cow::Owned(changed);
        }
    }
    for field in [
        "\"token\"",
        "\"access_token\"",
        "\"id_token\"",
        "\"refresh_token\"",
        "\"password\"",
        "\"clientKeyData\"",
    ] {
        if let Some(changed) = json_field(&out, field) {
            out = Cow::Owned(changed);
        }
    }
    out
}

/// `scheme://user:password@host` → `scheme://user:<redacted>@host`.
fn url_passwords(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(i) = rest.find("://") {
        let (before, after) = rest.split_at(i + 3);
        out.push_str(before);
        // The authority ends at the first '/', '?', '#', whitespace or quote.
        let end = after
            .find(|c: char| matches!(c, '/' | '?' | '#' | '"' | '\'' | '`') || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => {
                        out.push_str(user);
                        out.push(':');
                        out.push_str(REDACTED);
                        changed = true;
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// Replaces what follows each `marker` up to a character `stop` accepts.
fn after_marker(text: &str, marker: &str, stop: impl Fn(char) -> bool) -> Option<String> {
    if !text.contains(marker) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(marker) {
        out.push_str(&rest[..i + marker.len()]);
        let tail = &rest[i + marker.len()..];
        let end = tail.find(&stop).unwrap_or(tail.len());
        if end > 0 {
            out.push_str(REDACTED);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    Some(out)
}

/// `"field": "value"` (any spacing, escaped quotes inside the value) → `"field": "<redacted>"`.
fn json_field(text: &str, field: &str) -> Option<String> {
    if !text.contains(field) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(i) = rest.find(field) {
        out.push_str(&rest[..i + field.len()]);
        let tail = &rest[i + field.len()..];
        let colon = tail.len() - tail.trim_start().len();
        let after_colon = tail.trim_start();
        let Some(value) = after_colon.strip_prefix(':') else {
            rest = tail;
            continue;
        };
        let spaces = value.len() - value.trim_start().len();
        let value = value.trim_start();
        let Some(body) = value.strip_prefix('"') else {
            rest = tail;
            continue;
        };
        // The closing quote: the first one not escaped.
        let mut end = None;
        let mut escaped = false;
        for (j, c) in body.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    end = Some(j);
                    break;
                }
                _ => escaped = false,
            }
        }
        out.push_str(&tail[..colon]);
        out.push(':');
        out.push_str(&" ".repeat(spaces));
        out.push('"');
        out.push_str(REDACTED);
        changed = true;
        match end {
            Some(j) => rest = &body[j..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// Registers the secrets of every user and cluster of a kubeconfig (not only the selected
/// one: a message may quote any of them).
pub fn register_kubeconfig(kc: &kube::config::Kubeconfig) {
    use secrecy::ExposeSecret;
    for user in kc.auth_infos.iter().filter_map(|u| u.auth_info.as_ref()) {
        if let Some(t) = &user.token {
            register(t.expose_secret());
        }
        if let Some(p) = &user.password {
            register(p.expose_secret());
        }
        if let Some(k) = &user.client_key_data {
            register(k.expose_secret());
        }
        if let Some(provider) = &user.auth_provider {
            for (key, value) in &provider.config {
                if !matches!(
                    key.as_str(),
                    "client-id" | "idp-issuer-url" | "cmd-path" | "cmd-args"
                ) {
                    register(value);
                }
            }
        }
        for pair in user.exec.iter().flat_map(|e| e.env.iter().flatten()) {
            if let Some(value) = pair.get("value") {
                register(value);
            }
        }
    }
}

/// Prints panics through [`text`]: a panic message may quote data that holds a secret.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: kubectl-feast crashed{place}: {}\nhint: this is a bug; please report it with the command you ran",
            text(&message)
        );
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_values_are_removed_wherever_they_appear() {
        register("s3cr3t-vault-token");
        let shown = text(r#"plugin env VAULT_TOKEN="s3cr3t-vault-token" failed"#);
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains(REDACTED));
        register("no");
        assert_eq!(
            text("no such file"),
            "no such file",
            "short values are not secrets"
        );
    }

    #[test]
    fn url_passwords_are_removed_and_users_kept() {
        assert_eq!(
            text("proxy http://alice:PassW0rd@proxy.corp:3128/ refused"),
            format!("proxy http://alice:{REDACTED}@proxy.corp:3128/ refused")
        );
        assert_eq!(text("https://h:6443/api"), "https://h:6443/api");
        assert_eq!(
            text("socks5://bob@p:1080"),
            "socks5://bob@p:1080",
            "no password"
        );
    }

    #[test]
    fn bearer_tokens_and_json_token_fields_are_removed() {
        let shown = text(
            r#"got {"kind":"ExecCredential","status":{"token": "abc\"def", "expirationTimestamp":"x"}} and Authorization: Bearer eyJhbGciOi.x.y"#,
        );
        assert!(
            !shown.contains("abc") && !shown.contains("def\"") && !shown.contains("eyJ"),
            "{shown}"
        );
        assert!(shown.contains("\"expirationTimestamp\":\"x\""), "{shown}");
    }
}
