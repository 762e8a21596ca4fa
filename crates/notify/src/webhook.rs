//! The webhook sender: signed posts of events to integrators' URLs, which may only reach
//! the public internet (never this node, its network or a cloud's metadata service).

use crate::sender::{SendError, body_start, detail, http_client, http_failure, http_status};
use hmac::{Hmac, Mac};
use innkeep_app::notify::{Delivery, Webhook};
use jiff::Timestamp;
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use sha2::Sha256;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

type HmacSha256 = Hmac<Sha256>;

/// The longest webhook URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// The `Innkeep-Signature` of a body sent at `t` (Unix seconds):
/// `t=<t>,v1=<hex HMAC-SHA256(secret, "{t}." + body)>`.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    match mac(secret, t, body) {
        Some(mac) => format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes())),
        None => format!("t={t}"),
    }
}

/// Whether `header` (an `Innkeep-Signature`) signs `body` with `secret` at a time within
/// `tolerance_secs` of `now`; any of several `v1=` entries may match (a secret being
/// rolled). The comparison takes the same time whatever the bytes.
pub fn verify(header: &str, secret: &str, body: &[u8], now: i64, tolerance_secs: i64) -> bool {
    let mut t = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.extend(hex::decode(value).ok()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if now.abs_diff(t) > tolerance_secs.unsigned_abs() {
        return false;
    }
    signatures.iter().any(|signature| mac(secret, t, body).is_some_and(|m| m.verify_slice(signature).is_ok()))
}

/// The HMAC of `"{t}." + body`; HMAC takes a key of any length, so this is always `Some`.
fn mac(secret: &str, t: i64, body: &[u8]) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac)
}

/// Which webhook URLs may be posted to: https to the public internet, and plain http to
/// this machine only when `allow_loopback_http` (development and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UrlRule {
    /// Allow `http://` (and any scheme's address) to a loopback IP or `localhost`.
    pub allow_loopback_http: bool,
}

impl UrlRule {
    /// The URL, parsed, if a webhook may be posted to it; else why not.
    pub fn check(&self, url: &str) -> Result<Url, String> {
        if url.len() > MAX_URL_LEN {
            return Err(format!("the URL is longer than {MAX_URL_LEN} characters"));
        }
        let parsed = Url::parse(url).map_err(|e| format!("the URL does not parse: {e}"))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("the URL must not carry a user name or password".to_string());
        }
        let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or_else(|| "the URL has no host".to_string())?;
        // The URL parser has already turned every spelling of an IPv4 address (0x7f.1,
        // 2130706433) into dotted decimal, and put an IPv6 one in brackets.
        let class = match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            Ok(ip) => address_class(ip),
            Err(_) => is_localhost(host).then_some(LOOPBACK),
        };
        let loopback_allowed = self.allow_loopback_http && class == Some(LOOPBACK);
        match parsed.scheme() {
            "https" => {}
            "http" if loopback_allowed => {}
            "http" => return Err("the URL must use https".to_string()),
            other => return Err(format!("the URL must use https, not {other}")),
        }
        match class {
            Some(class) if !loopback_allowed => Err(format!("the URL's host is not a public address ({class})")),
            _ => Ok(parsed),
        }
    }

    /// Whether a connection to `ip`, an address `host` resolved to, is allowed.
    fn allows_resolved(&self, host: &str, ip: IpAddr) -> bool {
        match address_class(ip) {
            None => true,
            Some(LOOPBACK) => self.allow_loopback_http && is_localhost(host),
            Some(_) => false,
        }
    }
}

/// The class of a loopback address.
const LOOPBACK: &str = "loopback";

/// `localhost` or a name under it, which always means this machine.
fn is_localhost(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// Why a webhook may not reach `ip` (the kind of address it is), or `None` for a public
/// address.
fn address_class(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(ip) => ipv4_class(ip),
        IpAddr::V6(ip) => ipv6_class(ip),
    }
}

fn ipv4_class(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let class = if ip.is_unspecified() || a == 0 {
        "unspecified"
    } else if ip.is_broadcast() {
        "broadcast"
    } else if ip.is_loopback() {
        LOOPBACK
    } else if ip.is_private() {
        "private"
    } else if ip.is_link_local() {
        "link-local"
    } else if a == 100 && (b & 0xc0) == 64 {
        "shared (CGNAT)"
    } else if ip.is_documentation() {
        "documentation"
    } else if a == 198 && (b & 0xfe) == 18 {
        "benchmarking"
    } else if a == 192 && b == 0 && c == 0 {
        "reserved"
    } else if ip.is_multicast() {
        "multicast"
    } else if a >= 240 {
        "reserved"
    } else {
        return None;
    };
    Some(class)
}

fn ipv6_class(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return ipv4_class(v4);
    }
    let embedded_v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    let class = if ip.is_unspecified() {
        "unspecified"
    } else if ip.is_loopback() {
        LOOPBACK
    } else if s[..6] == [0; 6] {
        // IPv4-compatible (::a.b.c.d), deprecated and never routed.
        "reserved"
    } else if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64 (64:ff9b::/96) reaches the IPv4 address it embeds.
        return ipv4_class(embedded_v4(s[6], s[7]));
    } else if s[0] == 0x2002 {
        // 6to4 (2002::/16) reaches the IPv4 address it embeds.
        return ipv4_class(embedded_v4(s[1], s[2]));
    } else if ip.is_multicast() {
        "multicast"
    } else if (s[0] & 0xffc0) == 0xfe80 {
        "link-local"
    } else if (s[0] & 0xffc0) == 0xfec0 {
        "site-local"
    } else if (s[0] & 0xfe00) == 0xfc00 {
        "unique local (private)"
    } else if (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] & 0xfff0) == 0x3ff0 {
        "documentation"
    } else if s[..4] == [0x0100, 0, 0, 0] || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) {
        "reserved"
    } else {
        return None;
    };
    Some(class)
}

/// The host of a webhook resolved only to addresses webhooks may not reach.
#[derive(Debug, thiserror::Error)]
#[error("the host resolves to no address a webhook may reach")]
struct ForbiddenAddress;

/// Resolves webhook hosts, keeping only the addresses the rule allows: the check happens
/// on the very addresses the client connects to, so a name cannot point elsewhere between
/// a check and the connection.
struct RuleResolver {
    rule: UrlRule,
}

impl Resolve for RuleResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let rule = self.rule;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = resolved.filter(|addr| rule.allows_resolved(&host, addr.ip())).collect();
            if allowed.is_empty() {
                return Err(Box::new(ForbiddenAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// An HTTP client for outside URLs a host or integrator named (webhooks, calendar feeds):
/// it connects only to addresses `rule` allows, checked on the very addresses it resolves,
/// follows no redirect, takes no proxy from the environment, and gives up after `timeout`.
/// Check each URL with [`UrlRule::check`] before using it.
pub fn guarded_client(rule: UrlRule, timeout: Duration, user_agent: &str) -> Result<reqwest::Client, String> {
    http_client(timeout)
        .user_agent(user_agent)
        .dns_resolver(Arc::new(RuleResolver { rule }))
        .build()
        .map_err(|e| format!("the HTTP client cannot be built: {e}"))
}

/// Whether a request failed because its host resolved only to forbidden addresses.
pub fn refused_by_rule(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<ForbiddenAddress>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Posts webhook deliveries, signed, to the URLs the rule allows; redirects are not
/// followed.
pub struct WebhookSender {
    client: reqwest::Client,
    rule: UrlRule,
}

impl WebhookSender {
    /// A sender that allows what `rule` allows, each request within `timeout`.
    pub fn new(rule: UrlRule, timeout: Duration) -> Result<WebhookSender, String> {
        let client = guarded_client(rule, timeout, "Innkeep-Webhooks/1")?;
        Ok(WebhookSender { client, rule })
    }

    /// Post one webhook delivery to `w`'s URL, signed with its secret at `now`.
    pub async fn send(&self, d: &Delivery, w: &Webhook, now: Timestamp) -> Result<(), SendError> {
        let url = self
            .rule
            .check(&w.url)
            .map_err(|reason| SendError::Refused(format!("the webhook URL is refused: {reason}")))?;
        let Some(json) = &d.content.json else {
            return Err(SendError::Refused("a webhook message needs a JSON body".to_string()));
        };
        let body = serde_json::to_vec(json)
            .map_err(|e| SendError::Refused(format!("the JSON body cannot be written: {e}")))?;
        let event_id = d.event_id.map_or_else(|| d.id.to_string(), |id| id.to_string());
        let response = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Innkeep-Signature", sign(&w.secret, now.as_second(), &body))
            .header("Innkeep-Event-Id", event_id)
            .header("Innkeep-Delivery-Id", d.id.to_string())
            .body(body)
            .send()
            .await
            .map_err(|e| {
                if refused_by_rule(&e) {
                    SendError::Refused(format!("the webhook URL is refused: {ForbiddenAddress}"))
                } else {
                    http_failure("the webhook", e)
                }
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let words = body_start(response).await;
        Err(http_status("the webhook", status, &detail(&words, "")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    const OPEN: UrlRule = UrlRule { allow_loopback_http: false };
    const LOCAL: UrlRule = UrlRule { allow_loopback_http: true };

    #[test]
    fn a_signature_verifies_with_its_secret_body_and_time() {
        let header = sign("whsec_1", 1_700_000_000, b"{\"a\":1}");
        assert!(header.starts_with("t=1700000000,v1="));
        assert!(verify(&header, "whsec_1", b"{\"a\":1}", 1_700_000_100, 300));
    }

    #[test]
    fn a_signature_fails_with_another_secret_body_or_a_stale_time() {
        let header = sign("whsec_1", 1_700_000_000, b"{\"a\":1}");
        assert!(!verify(&header, "whsec_2", b"{\"a\":1}", 1_700_000_000, 300));
        assert!(!verify(&header, "whsec_1", b"{\"a\":2}", 1_700_000_000, 300));
        assert!(!verify(&header, "whsec_1", b"{\"a\":1}", 1_700_000_301, 300));
        assert!(!verify(&header, "whsec_1", b"{\"a\":1}", 1_699_999_699, 300));
        assert!(!verify("v1=00", "whsec_1", b"{\"a\":1}", 1_700_000_000, 300), "no t");
        assert!(!verify("t=1700000000,v1=zz", "whsec_1", b"{\"a\":1}", 1_700_000_000, 300), "not hex");
    }

    #[test]
    fn any_of_several_v1_signatures_may_match() {
        let old = sign("whsec_old", 1_700_000_000, b"x");
        let new = sign("whsec_new", 1_700_000_000, b"x");
        let (_, old_v1) = old.split_once(',').unwrap_or_default();
        let (_, new_v1) = new.split_once(',').unwrap_or_default();
        let both = format!("t=1700000000,{old_v1},{new_v1}");
        assert!(verify(&both, "whsec_new", b"x", 1_700_000_000, 300));
        assert!(verify(&both, "whsec_old", b"x", 1_700_000_000, 300));
        assert!(!verify(&both, "whsec_other", b"x", 1_700_000_000, 300));
    }

    #[test]
    fn https_to_a_public_host_or_ip_literal_is_accepted() {
        for url in
            ["https://hooks.example.com/innkeep?x=1", "https://93.184.216.34/hook", "https://[2606:4700::1111]/hook"]
        {
            assert!(OPEN.check(url).is_ok(), "{url}: {:?}", OPEN.check(url));
        }
    }

    #[test]
    fn http_to_a_public_host_is_refused_even_when_loopback_http_is_allowed() {
        for rule in [OPEN, LOCAL] {
            assert!(rule.check("http://hooks.example.com/").is_err());
            assert!(rule.check("http://93.184.216.34/").is_err());
        }
        assert!(OPEN.check("ftp://hooks.example.com/").is_err());
        assert!(OPEN.check("file:///etc/passwd").is_err());
    }

    #[test]
    fn loopback_is_refused_unless_allowed_and_then_plain_http_is_too() {
        for url in [
            "http://127.0.0.1:8080/",
            "https://127.0.0.1/",
            "http://localhost:3000/",
            "https://[::1]/",
            "http://[::1]:81/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(OPEN.check(url).is_err(), "{url}");
            assert!(LOCAL.check(url).is_ok(), "{url}: {:?}", LOCAL.check(url));
        }
        assert!(OPEN.check("https://api.localhost/").is_err());
    }

    #[test]
    fn addresses_of_private_and_special_ranges_are_refused() {
        let refused = [
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "100.64.0.1",
            "100.127.255.254",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "240.0.0.1",
            "[::]",
            "[fe80::1]",
            "[fc00::1]",
            "[fd12:3456::1]",
            "[ff02::1]",
            "[2001:db8::1]",
            "[::ffff:10.0.0.1]",
            "[::ffff:169.254.169.254]",
            "[64:ff9b::a9fe:a9fe]",
            "[2002:c0a8:0101::1]",
        ];
        for host in refused {
            for rule in [OPEN, LOCAL] {
                assert!(rule.check(&format!("https://{host}/hook")).is_err(), "{host} refused");
            }
        }
        // Other spellings of loopback and the metadata service are the same addresses.
        for host in ["2130706433", "0x7f.1", "0xa9fea9fe", "127.1"] {
            assert!(OPEN.check(&format!("https://{host}/")).is_err(), "{host} refused");
        }
        // Neighbours of the ranges are public.
        for host in ["172.32.0.1", "100.128.0.1", "11.0.0.1", "[2001:db9::1]"] {
            assert!(OPEN.check(&format!("https://{host}/")).is_ok(), "{host} accepted");
        }
    }

    #[test]
    fn a_url_with_credentials_without_a_host_or_too_long_is_refused() {
        assert!(OPEN.check("https://user:pw@hooks.example.com/").is_err());
        assert!(OPEN.check("https://user@hooks.example.com/").is_err());
        assert!(OPEN.check("https://").is_err());
        assert!(OPEN.check("not a url").is_err());
        let long = format!("https://hooks.example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(OPEN.check(&long).is_err());
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_by_the_resolver_unless_allowed() {
        let Ok(name) = Name::from_str("localhost") else { panic!("localhost is a name") };
        let refused = RuleResolver { rule: OPEN }.resolve(name).await;
        let Err(error) = refused else { panic!("localhost resolved under a rule refusing loopback") };
        assert!(error.is::<ForbiddenAddress>());

        let Ok(name) = Name::from_str("localhost") else { panic!("localhost is a name") };
        let Ok(addrs) = RuleResolver { rule: LOCAL }.resolve(name).await else {
            panic!("localhost did not resolve when loopback is allowed")
        };
        let addrs: Vec<SocketAddr> = addrs.collect();
        assert!(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()));
    }

    #[tokio::test]
    async fn a_webhook_to_a_name_resolving_to_loopback_is_refused_at_connect_time() {
        // `check` would refuse localhost itself, so this asks the client directly, as a
        // name that passed the check and then pointed at loopback would.
        let Ok(sender) = WebhookSender::new(OPEN, Duration::from_secs(2)) else { panic!("client") };
        let result = sender.client.post("http://localhost:9/").body("{}").send().await;
        let Err(error) = result else { panic!("a request reached loopback") };
        assert!(refused_by_rule(&error), "{error:?}");
    }
}
