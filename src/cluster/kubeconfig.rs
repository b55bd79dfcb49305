//! kubeconfig as kubectl reads it: loading and merging (`--kubeconfig`, `$KUBECONFIG`,
//! `~/.kube/config`), the connection flags merged as clientcmd merges them, the proxy rules,
//! auth providers and exec plugins checked before any request. Pure but for reading files and
//! the environment.

use kube::Config;
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};

/// What the flags and the environment add to a loaded config, as kubectl applies them: TLS
/// sanity, the proxy (proxy-url, HTTPS_PROXY/NO_PROXY), impersonation and timeouts.
pub(super) fn apply_connection(
    config: &mut Config,
    global: &GlobalArgs,
    context: &str,
    proxy_url: Option<&str>,
) -> Result<()> {
    if config.accept_invalid_certs && config.root_cert.is_some() {
        // kubectl refuses this pair rather than silently dropping one of them.
        return Err(Error::incomplete(format!(
            "context {context:?} sets both a certificate-authority and insecure-skip-tls-verify: \
             specifying a root certificates file with the insecure flag is not allowed"
        ))
        .with_hint("remove one of the two from the kubeconfig, or pass --certificate-authority or --insecure-skip-tls-verify to choose"));
    }
    config.proxy_url = proxy_for(proxy_url, &config.cluster_url, &|name| {
        std::env::var(name).ok()
    })
    .map_err(|e| {
        Error::incomplete(format!("cannot use the proxy of context {context:?}: {e}"))
            .with_hint("fix proxy-url in the kubeconfig's cluster, or HTTPS_PROXY/NO_PROXY")
    })?;
    if config.accept_invalid_certs {
        eprintln!(
            "warning: insecure-skip-tls-verify is set: the certificate of {} is not checked, \
             so the connection (and your credentials) can be intercepted",
            config.cluster_url
        );
    }
    if let Some(user) = &global.as_user {
        config.auth_info.impersonate = Some(user.clone());
    }
    if !global.as_group.is_empty() {
        config.auth_info.impersonate_groups = Some(global.as_group.clone());
    }
    // The deadline for the whole request is the `Bounds` layer's; a connection that cannot
    // even be opened in that time fails as early here.
    if let Some(t) = global.request_timeout.filter(|t| !t.is_zero()) {
        config.connect_timeout = Some(t);
    }
    Ok(())
}

/// An exec credential plugin that is not installed is named, as kubectl names it, before any
/// request fails with a bare "No such file or directory". Its `interactiveMode` is honoured as
/// client-go does: `IfAvailable` is interactive only when stdin is a terminal, `Always` without
/// one is refused.
pub(super) fn check_exec_plugin(auth: &mut kube::config::AuthInfo, context: &str) -> Result<()> {
    use kube::config::ExecInteractiveMode;
    use std::io::IsTerminal;
    let Some(exec) = auth.exec.as_mut() else {
        return Ok(());
    };
    let Some(command) = exec.command.clone() else {
        return Err(Error::incomplete(format!(
            "the credential plugin of context {context:?} has no command: command must be specified to use exec authentication plugin"
        ))
        .with_hint("set users[].user.exec.command in the kubeconfig"));
    };
    let terminal = std::io::stdin().is_terminal();
    match exec.interactive_mode {
        Some(ExecInteractiveMode::Always) if !terminal => {
            return Err(Error::incomplete(format!(
                "the credential plugin {command:?} of context {context:?} cannot run: \
                 exec plugin cannot support interactive mode: standard input is not a terminal"
            ))
            .with_hint("run the command from a terminal, or log in first so that the plugin needs no input"));
        }
        // kube treats anything but Never as interactive; client-go asks the terminal.
        None | Some(ExecInteractiveMode::IfAvailable) if !terminal => {
            exec.interactive_mode = Some(ExecInteractiveMode::Never);
        }
        _ => {}
    }
    let found = if command.contains('/') {
        std::path::Path::new(&command).is_file()
    } else {
        std::env::var_os("PATH")
            .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(&command).is_file()))
            .unwrap_or(false)
    };
    if found {
        return Ok(());
    }
    let install = exec.install_hint.clone().unwrap_or_else(|| {
        format!("install {command:?}, or fix users[].user.exec.command of context {context:?} in the kubeconfig")
    });
    Err(Error::incomplete(format!(
        "the credential plugin of context {context:?} cannot run: executable {command:?} not found{}",
        if command.contains('/') { "" } else { " on PATH" }
    ))
    .with_hint(install))
}

/// kubectl (since 1.26) no longer carries the gcp and azure auth-providers: it names their
/// replacement. Only `oidc` is left (its `id-token` is sent as a bearer token).
pub(super) fn check_auth_provider(auth: &kube::config::AuthInfo, context: &str) -> Result<()> {
    let Some(provider) = &auth.auth_provider else {
        return Ok(());
    };
    let (message, hint) = match provider.name.as_str() {
        "oidc" => return Ok(()),
        "gcp" => (
            "the gcp auth plugin has been removed",
            "use the \"gke-gcloud-auth-plugin\" kubectl/client-go credential plugin instead; see \
             https://cloud.google.com/blog/products/containers-kubernetes/kubectl-auth-changes-in-gke",
        ),
        "azure" => (
            "the azure auth plugin has been removed",
            "use the https://github.com/Azure/kubelogin kubectl/client-go credential plugin instead \
             (`kubelogin convert-kubeconfig`)",
        ),
        other => {
            return Err(Error::incomplete(format!(
                "the user of context {context:?} uses the auth-provider {other:?}: no Auth Provider found for name {other:?}"
            ))
            .with_hint("use an exec credential plugin (users[].user.exec) instead"));
        }
    };
    Err(Error::incomplete(format!(
        "the user of context {context:?} uses the auth-provider {:?}: {message}",
        provider.name
    ))
    .with_hint(hint))
}

/// The context the options select, with the cluster and user names it resolves to.
fn selected_names(
    kc: &Kubeconfig,
    options: &KubeConfigOptions,
) -> (Option<String>, Option<String>) {
    let context = options
        .context
        .as_ref()
        .or(kc.current_context.as_ref())
        .and_then(|name| kc.contexts.iter().find(|c| &c.name == name))
        .and_then(|c| c.context.clone());
    let cluster = options
        .cluster
        .clone()
        .or_else(|| context.as_ref().map(|c| c.cluster.clone()));
    let user = options
        .user
        .clone()
        .or_else(|| context.and_then(|c| c.user));
    (cluster, user)
}

pub(super) fn selected_cluster(
    kc: &Kubeconfig,
    options: &KubeConfigOptions,
) -> Option<kube::config::Cluster> {
    let (name, _) = selected_names(kc, options);
    kc.clusters
        .iter()
        .find(|c| Some(&c.name) == name.as_ref())
        .and_then(|c| c.cluster.clone())
}

pub(super) fn selected_user(
    kc: &Kubeconfig,
    options: &KubeConfigOptions,
) -> Option<kube::config::AuthInfo> {
    let (_, name) = selected_names(kc, options);
    kc.auth_infos
        .iter()
        .find(|u| Some(&u.name) == name.as_ref())
        .and_then(|u| u.auth_info.clone())
}

/// kubectl's connection flags (`--server`, `--certificate-authority`,
/// `--insecure-skip-tls-verify`, `--tls-server-name`, `--token`, `--client-certificate`,
/// `--client-key`), written into the selected cluster and user as client-go's clientcmd merges
/// its overrides: a CA or insecure flag replaces all three TLS trust settings, `--server`
/// clears the kubeconfig's tls-server-name, a file flag drops the inline data it replaces.
/// With no context at all (flags only), one is made up.
pub(super) fn apply_connection_flags(
    kc: &mut Kubeconfig,
    global: &GlobalArgs,
    options: &mut KubeConfigOptions,
) {
    use kube::config::{Context, NamedAuthInfo, NamedCluster, NamedContext};
    let insecure = global.insecure_skip_tls_verify == Some(true);
    let cluster_flags = global.server.is_some()
        || global.certificate_authority.is_some()
        || insecure
        || global.tls_server_name.is_some();
    let user_flags = global.token.is_some()
        || global.client_certificate.is_some()
        || global.client_key.is_some();
    if !cluster_flags && !user_flags {
        return;
    }
    const FLAGS: &str = "command-line";
    let context_known = options
        .context
        .as_ref()
        .or(kc.current_context.as_ref())
        .is_some_and(|name| kc.contexts.iter().any(|c| &c.name == name));
    if !context_known && options.context.is_none() {
        kc.contexts.push(NamedContext {
            name: FLAGS.into(),
            context: Some(Context {
                cluster: options.cluster.clone().unwrap_or_else(|| FLAGS.into()),
                user: Some(options.user.clone().unwrap_or_else(|| FLAGS.into())),
                ..Context::default()
            }),
            ..NamedContext::default()
        });
        options.context = Some(FLAGS.into());
    }
    let (cluster_name, user_name) = selected_names(kc, options);
    if cluster_flags {
        let name = cluster_name.unwrap_or_else(|| FLAGS.into());
        if !kc.clusters.iter().any(|c| c.name == name) {
            kc.clusters.push(NamedCluster {
                name: name.clone(),
                ..NamedCluster::default()
            });
        }
        if let Some(entry) = kc.clusters.iter_mut().find(|c| c.name == name) {
            let cluster = entry.cluster.get_or_insert_with(Default::default);
            if let Some(server) = &global.server {
                cluster.server = Some(if server.contains("://") {
                    server.clone()
                } else {
                    format!("https://{server}")
                });
            }
            if insecure || global.certificate_authority.is_some() {
                cluster.insecure_skip_tls_verify = Some(insecure);
                cluster.certificate_authority = global
                    .certificate_authority
                    .as_ref()
                    .map(|p| p.display().to_string());
                cluster.certificate_authority_data = None;
            }
            if global.tls_server_name.is_some() || global.server.is_some() {
                cluster.tls_server_name = global.tls_server_name.clone();
            }
        }
    }
    if user_flags {
        let name = user_name.unwrap_or_else(|| FLAGS.into());
        if !kc.auth_infos.iter().any(|u| u.name == name) {
            kc.auth_infos.push(NamedAuthInfo {
                name: name.clone(),
                ..NamedAuthInfo::default()
            });
        }
        if let Some(entry) = kc.auth_infos.iter_mut().find(|u| u.name == name) {
            let user = entry.auth_info.get_or_insert_with(Default::default);
            if let Some(token) = &global.token {
                user.token = Some(token.clone().into());
                user.token_file = None;
            }
            if let Some(path) = &global.client_certificate {
                user.client_certificate = Some(path.display().to_string());
                user.client_certificate_data = None;
            }
            if let Some(path) = &global.client_key {
                user.client_key = Some(path.display().to_string());
                user.client_key_data = None;
            }
        }
    }
}

/// The proxy to reach `server` through, as kubectl picks it: the cluster's `proxy-url` if set
/// (always used), else `HTTPS_PROXY` (`HTTP_PROXY` for an http server) unless `NO_PROXY`
/// matches the host or the host is loopback (Go's `http.ProxyFromEnvironment`). http, https and
/// socks5 proxies are supported; an environment value without a scheme means http.
pub fn proxy_for(
    proxy_url: Option<&str>,
    server: &http::Uri,
    env: &dyn Fn(&str) -> Option<String>,
) -> std::result::Result<Option<http::Uri>, String> {
    let parse = |raw: &str, from: &str| -> std::result::Result<http::Uri, String> {
        let raw = raw.trim();
        let with_scheme = if raw.contains("://") {
            raw.to_string()
        } else {
            format!("http://{raw}")
        };
        let uri: http::Uri = with_scheme
            .parse()
            .map_err(|e| format!("{from} {raw:?} is not a URL: {e}"))?;
        match uri.scheme_str() {
            Some("http" | "https" | "socks5") => Ok(uri),
            // socks5h (names resolved by the proxy) is what kube's socks5 does anyway.
            Some("socks5h") => with_scheme
                .replacen("socks5h://", "socks5://", 1)
                .parse()
                .map_err(|e| format!("{from} {raw:?} is not a URL: {e}")),
            other => Err(format!(
                "{from} {raw:?} has the scheme {:?}: use http, https or socks5",
                other.unwrap_or("")
            )),
        }
    };
    if let Some(raw) = proxy_url.filter(|p| !p.trim().is_empty()) {
        return parse(raw, "proxy-url").map(Some);
    }
    let any = |names: [&str; 2]| {
        names
            .iter()
            .find_map(|n| env(n).filter(|v| !v.trim().is_empty()))
    };
    let (value, name) = if server.scheme_str() == Some("http") {
        (any(["HTTP_PROXY", "http_proxy"]), "HTTP_PROXY")
    } else {
        (any(["HTTPS_PROXY", "https_proxy"]), "HTTPS_PROXY")
    };
    let Some(value) = value else {
        return Ok(None);
    };
    let host = server.host().unwrap_or_default();
    let port = server
        .port_u16()
        .unwrap_or(if server.scheme_str() == Some("http") {
            80
        } else {
            443
        });
    if !uses_proxy(host, port, any(["NO_PROXY", "no_proxy"]).as_deref()) {
        return Ok(None);
    }
    parse(&value, name).map(Some)
}

/// Go's `httpproxy` rule: loopback and `localhost` never go through a proxy; `NO_PROXY` lists
/// `*`, IPs, CIDRs and domains (`example.com` covers its subdomains, `.example.com` only
/// them), each optionally with `:port`.
fn uses_proxy(host: &str, port: u16, no_proxy: Option<&str>) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    if host == "localhost" {
        return false;
    }
    let ip: Option<std::net::IpAddr> = host.parse().ok();
    if ip.is_some_and(|ip| ip.is_loopback()) {
        return false;
    }
    let Some(no_proxy) = no_proxy else {
        return true;
    };
    for entry in no_proxy.split(',').map(|e| e.trim().to_ascii_lowercase()) {
        if entry.is_empty() {
            continue;
        }
        if entry == "*" {
            return false;
        }
        if let Some((net, bits)) = entry.split_once('/') {
            if let (Some(ip), Ok(net), Ok(bits)) =
                (ip, net.parse::<std::net::IpAddr>(), bits.parse::<u32>())
                && in_cidr(ip, net, bits)
            {
                return false;
            }
            continue;
        }
        if let Ok(entry_ip) = entry
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
        {
            if ip == Some(entry_ip) {
                return false;
            }
            continue;
        }
        // host, host:port, .domain, *.domain
        let (name, entry_port) = match entry.rsplit_once(':') {
            Some((n, p)) if p.parse::<u16>().is_ok() => (n.to_string(), p.parse::<u16>().ok()),
            _ => (entry.clone(), None),
        };
        if let Some((n, _)) = entry.rsplit_once(':')
            && let Ok(entry_ip) = n
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
        {
            if ip == Some(entry_ip) && entry_port == Some(port) {
                return false;
            }
            continue;
        }
        let name = name.strip_prefix('*').unwrap_or(&name);
        let (suffix, whole) = match name.strip_prefix('.') {
            Some(rest) => (format!(".{rest}"), false),
            None => (format!(".{name}"), true),
        };
        let matches = host.ends_with(&suffix) || (whole && host == suffix[1..]);
        if matches && entry_port.is_none_or(|p| p == port) {
            return false;
        }
    }
    true
}

fn in_cidr(ip: std::net::IpAddr, net: std::net::IpAddr, bits: u32) -> bool {
    use std::net::IpAddr::{V4, V6};
    match (ip, net) {
        (V4(ip), V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (V6(ip), V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// The context names of the kubeconfig the global flags select (for shell completion), in the
/// file's order; an empty list when there is no kubeconfig.
pub fn kubeconfig_contexts(global: &GlobalArgs) -> Result<Vec<String>> {
    Ok(load_kubeconfig(global)?
        .map(|kc| kc.contexts.into_iter().map(|c| c.name).collect())
        .unwrap_or_default())
}

pub(super) fn load_kubeconfig(global: &GlobalArgs) -> Result<Option<Kubeconfig>> {
    let bad = |what: String, e: kube::config::KubeconfigError| {
        Error::incomplete(format!("cannot read kubeconfig {what}: {e}"))
            .with_hint("fix the file, or point --kubeconfig/KUBECONFIG at a valid one")
    };
    if let Some(path) = &global.kubeconfig {
        return Kubeconfig::read_from(path)
            .map(Some)
            .map_err(|e| bad(path.display().to_string(), e));
    }
    if let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        // As kubectl does: merge the files in order (the first to set a value wins) and skip
        // the ones that don't exist.
        let mut merged: Option<Kubeconfig> = None;
        for path in std::env::split_paths(&list).filter(|p| p.exists()) {
            let next =
                Kubeconfig::read_from(&path).map_err(|e| bad(path.display().to_string(), e))?;
            merged = Some(match merged {
                None => next,
                Some(kc) => kc
                    .merge(next)
                    .map_err(|e| bad("from $KUBECONFIG".into(), e))?,
            });
        }
        if merged.is_none() {
            return Err(Error::incomplete(format!(
                "none of the files in KUBECONFIG ({}) exists",
                list.to_string_lossy()
            ))
            .with_hint("point KUBECONFIG or --kubeconfig at your kubeconfig file"));
        }
        return Ok(merged);
    }
    let default = std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".kube/config"));
    match default {
        Some(path) if path.exists() => Kubeconfig::read_from(&path)
            .map(Some)
            .map_err(|e| bad(path.display().to_string(), e)),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy(
        proxy_url: Option<&str>,
        server: &str,
        env: &[(&str, &str)],
    ) -> std::result::Result<Option<String>, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        proxy_for(proxy_url, &server.parse().expect("uri"), &lookup)
            .map(|p| p.map(|u| u.to_string()))
    }

    #[test]
    fn proxy_url_wins_and_is_always_used() {
        let env = [("HTTPS_PROXY", "http://env:1"), ("NO_PROXY", "*")];
        assert_eq!(
            proxy(Some("socks5://p:1080"), "https://10.0.0.1:6443", &env),
            Ok(Some("socks5://p:1080/".into()))
        );
        assert_eq!(
            proxy(Some("https://p:3128"), "https://127.0.0.1:6443", &[]),
            Ok(Some("https://p:3128/".into()))
        );
        assert_eq!(
            proxy(Some("socks5h://p:1080"), "https://a:1", &[]),
            Ok(Some("socks5://p:1080/".into()))
        );
        let bad = proxy(Some("ftp://p:21"), "https://a:1", &[]).unwrap_err();
        assert!(
            bad.contains("ftp") && bad.contains("http, https or socks5"),
            "{bad}"
        );
    }

    #[test]
    fn environment_proxies_follow_go_rules() {
        let server = "https://api.example.com:6443";
        assert_eq!(
            proxy(None, server, &[("HTTPS_PROXY", "p:3128")]),
            Ok(Some("http://p:3128/".into()))
        );
        assert_eq!(
            proxy(None, server, &[("https_proxy", "http://p:1")]),
            Ok(Some("http://p:1/".into()))
        );
        // HTTP_PROXY is for http servers only.
        assert_eq!(
            proxy(None, server, &[("HTTP_PROXY", "http://p:1")]),
            Ok(None)
        );
        assert_eq!(
            proxy(
                None,
                "http://api.example.com",
                &[("HTTP_PROXY", "http://p:1")]
            ),
            Ok(Some("http://p:1/".into()))
        );
        for loopback in [
            "https://127.0.0.1:6443",
            "https://localhost:6443",
            "https://[::1]:6443",
        ] {
            assert_eq!(
                proxy(None, loopback, &[("HTTPS_PROXY", "http://p:1")]),
                Ok(None),
                "{loopback}"
            );
        }
        let with = |no: &str| {
            proxy(
                None,
                server,
                &[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", no)],
            )
        };
        for skipped in [
            "*",
            "example.com",
            ".example.com",
            "*.example.com",
            "api.example.com",
            "other, api.example.com:6443",
        ] {
            assert_eq!(with(skipped), Ok(None), "NO_PROXY={skipped}");
        }
        for kept in [
            "example.org",
            "api.example.com:443",
            "xample.com",
            "10.0.0.0/8",
        ] {
            assert!(with(kept).is_ok_and(|p| p.is_some()), "NO_PROXY={kept}");
        }
        let ip = |no: &str| {
            proxy(
                None,
                "https://10.1.2.3:6443",
                &[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", no)],
            )
        };
        assert_eq!(ip("10.0.0.0/8"), Ok(None));
        assert_eq!(ip("10.1.2.3"), Ok(None));
        assert_eq!(ip("10.1.2.3:6443"), Ok(None));
        assert!(ip("10.1.2.4").is_ok_and(|p| p.is_some()));
        assert!(ip("11.0.0.0/8").is_ok_and(|p| p.is_some()));
    }

    #[test]
    fn connection_flags_merge_like_clientcmd() {
        let mut kc: Kubeconfig = serde_saphyr::from_str(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\nclusters:\n- name: k\n  cluster: {server: 'https://a:1', certificate-authority-data: Zm9v, tls-server-name: a.example}\nusers:\n- name: u\n  user: {tokenFile: /t, client-certificate-data: Zm9v}\n",
        )
        .expect("kubeconfig");
        let global = GlobalArgs {
            server: Some("b:2".into()),
            insecure_skip_tls_verify: Some(true),
            token: Some("secret".into()),
            ..GlobalArgs::default()
        };
        let mut options = KubeConfigOptions::default();
        apply_connection_flags(&mut kc, &global, &mut options);
        let cluster = selected_cluster(&kc, &options).expect("cluster");
        assert_eq!(cluster.server.as_deref(), Some("https://b:2"));
        assert_eq!(cluster.insecure_skip_tls_verify, Some(true));
        assert_eq!(cluster.certificate_authority_data, None);
        assert_eq!(
            cluster.tls_server_name, None,
            "--server clears tls-server-name"
        );
        let user = selected_user(&kc, &options).expect("user");
        assert!(user.token.is_some() && user.token_file.is_none());
        assert!(user.client_certificate_data.is_some(), "untouched");

        // Flags alone, without any kubeconfig.
        let mut empty = Kubeconfig::default();
        let mut options = KubeConfigOptions::default();
        apply_connection_flags(&mut empty, &global, &mut options);
        assert_eq!(options.context.as_deref(), Some("command-line"));
        assert_eq!(
            selected_cluster(&empty, &options)
                .and_then(|c| c.server)
                .as_deref(),
            Some("https://b:2")
        );
    }

    #[test]
    fn removed_auth_providers_name_their_replacement() {
        let with = |name: &str| kube::config::AuthInfo {
            auth_provider: Some(kube::config::AuthProviderConfig {
                name: name.into(),
                config: Default::default(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let gcp = check_auth_provider(&with("gcp"), "c").unwrap_err();
        assert!(
            gcp.message.contains("gcp auth plugin has been removed"),
            "{}",
            gcp.message
        );
        assert!(
            gcp.hint()
                .is_some_and(|h| h.contains("gke-gcloud-auth-plugin"))
        );
        let azure = check_auth_provider(&with("azure"), "c").unwrap_err();
        assert!(azure.hint().is_some_and(|h| h.contains("kubelogin")));
        let other = check_auth_provider(&with("openstack"), "c").unwrap_err();
        assert!(
            other
                .message
                .contains("no Auth Provider found for name \"openstack\"")
        );
        assert!(check_auth_provider(&with("oidc"), "c").is_ok());
    }
}
