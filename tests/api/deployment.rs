//! deploy/compose.yaml holds to the code and to deploy/build-image (issue 18): every
//! variable a revokd service sets is a real setting (`Settings::VARIABLES`, or RUST_LOG)
//! with a value `Settings::from_lookup` accepts; REVOKD_TRUSTED_PROXIES trusts the
//! proxy's static address and no other address of the network; every image is the one
//! deploy/build-image builds or one of the public images listed below; secrets come
//! from variables that deploy/env.example lists; the instances share one PostgreSQL
//! service and the proxy (deploy/Caddyfile) sends requests to each of them.
//!
//! No YAML crate: [`yaml`] is a small reader of the block YAML compose files are
//! written in, which refuses what it does not understand rather than misread it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use revokd::config::Settings;
use revokd::store::DatabaseUrl;

use self::yaml::Node;

/// The public images compose.yaml may name, each by its full name (no short-name
/// look-up) and major version, and what it is there for.
const PUBLIC_IMAGES: &[(&str, Role)] = &[
    // PostgreSQL's official image (https://hub.docker.com/_/postgres).
    ("docker.io/library/postgres:16", Role::Database),
    // Caddy's official image (https://hub.docker.com/_/caddy), the proxy.
    ("docker.io/library/caddy:2", Role::Proxy),
];

/// Variables a revokd service may set besides `Settings::VARIABLES`.
const OTHER_REVOKD_VARIABLES: &[&str] = &["RUST_LOG"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Revokd,
    Database,
    Proxy,
}

fn repo_file(path: &str) -> (PathBuf, String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    (path, text)
}

/// The image deploy/build-image tags, without its tag: the default of its REVOKD_IMAGE.
fn built_image() -> String {
    let (path, script) = repo_file("deploy/build-image");
    let line = script
        .lines()
        .find(|line| line.starts_with("image=\"${REVOKD_IMAGE:-"))
        .unwrap_or_else(|| panic!("{} has no image=\"${{REVOKD_IMAGE:-...}}\" line", path.display()));
    let name = line
        .trim_start_matches("image=\"${REVOKD_IMAGE:-")
        .trim_end_matches("}\"");
    assert!(
        script.contains("\"$image:latest\""),
        "{} no longer tags $image:latest",
        path.display()
    );
    name.to_owned()
}

/// One service of compose.yaml, its variables interpolated.
#[derive(Debug)]
struct Service {
    name: String,
    image: String,
    role: Role,
    /// Name to (raw value, interpolated value); `None` for a name given without a
    /// value (passed through from compose's own environment).
    environment: BTreeMap<String, Option<(String, String)>>,
    node: Node,
}

struct Compose {
    root: Node,
    services: Vec<Service>,
    /// Variables used without a default: compose refuses to start without them.
    required: BTreeSet<String>,
}

impl Compose {
    fn load() -> Self {
        let (path, text) = repo_file("deploy/compose.yaml");
        let root = yaml::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let own = format!("{}:", built_image());
        let mut required = BTreeSet::new();
        let services = root
            .get("services")
            .and_then(Node::entries)
            .expect("compose.yaml has a services mapping")
            .iter()
            .map(|(name, node)| {
                let image = node
                    .get("image")
                    .and_then(Node::scalar)
                    .unwrap_or_else(|| panic!("service {name} names no image (compose.yaml builds nothing)"))
                    .to_owned();
                let role = if image.starts_with(&own) {
                    Role::Revokd
                } else {
                    PUBLIC_IMAGES
                        .iter()
                        .find(|(known, _)| *known == image)
                        .map(|(_, role)| *role)
                        .unwrap_or_else(|| {
                            panic!(
                                "service {name}: image {image:?} is neither {own}<tag> (deploy/build-image) nor one \
                                 of the public images of tests/api/deployment.rs ({PUBLIC_IMAGES:?})"
                            )
                        })
                };
                let environment = environment(name, node)
                    .into_iter()
                    .map(|(key, raw)| {
                        let value = raw.map(|raw| {
                            let value = interpolate(&raw, &mut required)
                                .unwrap_or_else(|e| panic!("service {name}, {key}: {e}"));
                            (raw, value)
                        });
                        (key, value)
                    })
                    .collect();
                Service {
                    name: name.clone(),
                    image,
                    role,
                    environment,
                    node: node.clone(),
                }
            })
            .collect();
        Self {
            root,
            services,
            required,
        }
    }

    fn with_role(&self, role: Role) -> Vec<&Service> {
        self.services.iter().filter(|s| s.role == role).collect()
    }

    fn the_one(&self, role: Role) -> &Service {
        match self.with_role(role).as_slice() {
            [one] => one,
            other => panic!("compose.yaml should have one {role:?} service, has {}", other.len()),
        }
    }
}

/// A service's `environment:`, in either form compose allows: a mapping
/// (`KEY: value`, `KEY:` for "from compose's environment") or a list (`- KEY=value`,
/// `- KEY`). A name given twice is a mistake.
fn environment(service: &str, node: &Node) -> BTreeMap<String, Option<String>> {
    let mut vars = BTreeMap::new();
    let mut add = |key: &str, value: Option<String>| {
        assert!(
            vars.insert(key.to_owned(), value).is_none(),
            "service {service} sets {key} twice"
        );
    };
    match node.get("environment") {
        None => {}
        Some(Node::Map(entries)) => {
            for (key, value) in entries {
                let value = value
                    .scalar()
                    .unwrap_or_else(|| panic!("service {service}: {key} is not a plain value"));
                add(key, (!value.is_empty()).then(|| value.to_owned()));
            }
        }
        Some(Node::Seq(items)) => {
            for item in items {
                let item = item
                    .scalar()
                    .unwrap_or_else(|| panic!("service {service}: an environment item is not KEY=value"));
                match item.split_once('=') {
                    Some((key, value)) => add(key, Some(value.to_owned())),
                    None => add(item, None),
                }
            }
        }
        Some(other) => panic!("service {service}: environment is {other:?}"),
    }
    vars
}

/// Compose's interpolation, as a check sees it: `${VAR:-default}` and `${VAR-default}`
/// become the default; `${VAR}`, `${VAR:?message}` and `${VAR?message}` become a dummy
/// (`dummy-VAR`) and VAR goes into `required`; `$$` is a `$`. Refused: `$VAR` without
/// braces (write `${VAR}`), `${VAR:+...}` and nesting.
fn interpolate(raw: &str, required: &mut BTreeSet<String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        let Some(body_and_rest) = rest.strip_prefix('{') else {
            return Err(format!("{raw:?}: write ${{VAR}}, not $VAR (or $$ for a $)"));
        };
        let end = body_and_rest
            .find('}')
            .ok_or_else(|| format!("{raw:?}: unclosed ${{"))?;
        let body = &body_and_rest[..end];
        rest = &body_and_rest[end + 1..];
        if body.contains(['$', '{']) {
            return Err(format!("{raw:?}: nested interpolation is not supported here"));
        }
        let name_end = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(body.len());
        let (name, operator) = body.split_at(name_end);
        if name.is_empty() {
            return Err(format!("{raw:?}: ${{}} names no variable"));
        }
        if let Some(default) = operator.strip_prefix(":-").or_else(|| operator.strip_prefix('-')) {
            out.push_str(default);
        } else if operator.is_empty() || operator.starts_with(":?") || operator.starts_with('?') {
            required.insert(name.to_owned());
            out.push_str("dummy-");
            out.push_str(name);
        } else {
            return Err(format!("{raw:?}: ${{{name}{operator}}} is not supported here"));
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// `Settings::from_lookup` over a service's interpolated environment.
fn settings_of(service: &Service) -> Settings {
    let vars: BTreeMap<&str, &str> = service
        .environment
        .iter()
        .filter_map(|(key, value)| value.as_ref().map(|(_, value)| (key.as_str(), value.as_str())))
        .collect();
    Settings::from_lookup(|name| vars.get(name).map(|v| v.to_string())).unwrap_or_else(|e| {
        panic!(
            "service {}: {e} (after substituting dummies for ${{VAR}})",
            service.name
        )
    })
}

fn value<'a>(service: &'a Service, key: &str) -> &'a str {
    match service.environment.get(key) {
        Some(Some((_, value))) => value,
        _ => panic!("service {} does not set {key}", service.name),
    }
}

#[test]
fn revokd_services_set_only_real_settings_with_values_that_parse() {
    let compose = Compose::load();
    let revokd = compose.with_role(Role::Revokd);
    assert!(
        revokd.len() >= 2,
        "compose.yaml runs {} revokd instances, want two or more",
        revokd.len()
    );
    for service in &revokd {
        for key in service.environment.keys() {
            assert!(
                Settings::VARIABLES.contains(&key.as_str()) || OTHER_REVOKD_VARIABLES.contains(&key.as_str()),
                "service {} sets {key}, which revokd does not read (Settings::VARIABLES: {:?})",
                service.name,
                Settings::VARIABLES
            );
        }
        let settings = settings_of(service);
        assert!(
            settings.listen.ip().is_unspecified(),
            "service {}: REVOKD_LISTEN {} cannot be reached from the proxy's container",
            service.name,
            settings.listen
        );
        assert_eq!(
            settings.log_format,
            revokd::config::LogFormat::Json,
            "service {}: logs should be JSON",
            service.name
        );
        assert!(
            settings.public_url.is_some(),
            "service {}: REVOKD_PUBLIC_URL should be the proxy's public URL",
            service.name
        );
        assert!(
            settings.admin_token.is_some(),
            "service {}: without REVOKD_ADMIN_TOKEN the operator API refuses everyone",
            service.name
        );
    }
}

#[test]
fn trusted_proxies_are_exactly_the_proxy() {
    let compose = Compose::load();
    let proxy = compose.the_one(Role::Proxy);
    let networks = proxy
        .node
        .get("networks")
        .and_then(Node::entries)
        .unwrap_or_else(|| panic!("service {} needs networks: NAME: ipv4_address: ...", proxy.name));
    let [(network, attachment)] = networks.as_slice() else {
        panic!("service {} should be on exactly one network", proxy.name);
    };
    let address: IpAddr = attachment
        .get("ipv4_address")
        .and_then(Node::scalar)
        .unwrap_or_else(|| panic!("service {} has no static ipv4_address on {network}", proxy.name))
        .parse()
        .expect("ipv4_address is an IP address");

    let ipam = compose
        .root
        .get("networks")
        .and_then(|n| n.get(network))
        .and_then(|n| n.get("ipam"))
        .and_then(|n| n.get("config"))
        .and_then(Node::items)
        .unwrap_or_else(|| panic!("network {network} needs ipam: config: - subnet: ..."));
    let [pool] = ipam else {
        panic!("network {network} should have one ipam config")
    };
    let net = |key: &str| -> Option<IpNet> {
        pool.get(key).and_then(Node::scalar).map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{network} {key} {v:?} is not a CIDR block"))
        })
    };
    let subnet = net("subnet").unwrap_or_else(|| panic!("network {network} has no fixed subnet"));
    assert!(subnet.contains(&address), "the proxy's {address} is outside {subnet}");
    if let Some(range) = net("ip_range") {
        assert!(
            !range.contains(&address),
            "the proxy's {address} is in ip_range {range}: another container could be given it first"
        );
    }

    for service in compose.with_role(Role::Revokd) {
        let trusted = settings_of(service).trusted_proxies;
        assert!(
            trusted.trusts(address),
            "service {}: REVOKD_TRUSTED_PROXIES does not trust the proxy's {address}",
            service.name
        );
        let others: Vec<IpAddr> = subnet
            .hosts()
            .take(1 << 16)
            .filter(|ip| *ip != address && trusted.trusts(*ip))
            .collect();
        assert!(
            others.is_empty(),
            "service {}: REVOKD_TRUSTED_PROXIES trusts {} other address(es) of {subnet}, e.g. {}: only the \
             proxy's X-Forwarded-* may be believed",
            service.name,
            others.len(),
            others[0]
        );
    }
}

#[test]
fn images_are_built_here_or_documented_public_ones() {
    // Compose::load panics on any other image; here, each documented role is filled.
    let compose = Compose::load();
    let built = built_image();
    for service in compose.with_role(Role::Revokd) {
        assert!(service.image.starts_with(&format!("{built}:")), "{service:?}");
    }
    compose.the_one(Role::Database);
    compose.the_one(Role::Proxy);
    for (image, _) in PUBLIC_IMAGES {
        let (name, tag) = image.rsplit_once(':').unwrap();
        assert!(
            name.split('/').count() == 3 && !tag.is_empty() && tag != "latest",
            "{image}: name public images in full (registry/namespace/name) with a version"
        );
    }
}

#[test]
fn secrets_come_from_variables_that_env_example_lists() {
    let compose = Compose::load();
    for service in &compose.services {
        for (key, value) in &service.environment {
            if !["PASSWORD", "TOKEN", "SECRET"].iter().any(|word| key.contains(word)) {
                continue;
            }
            let Some((raw, _)) = value else { continue };
            let name = raw
                .strip_prefix("${")
                .and_then(|r| r.strip_suffix('}'))
                .and_then(|r| r.split(":?").next())
                .filter(|name| name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
            assert!(
                name.is_some_and(|name| compose.required.contains(name)),
                "service {}: {key} is {raw:?}; it must be ${{VAR:?message}} alone (no default, no secret here)",
                service.name
            );
        }
    }
    for service in compose.with_role(Role::Revokd) {
        let url = url::Url::parse(value(service, "DATABASE_URL")).expect("DATABASE_URL is a URL");
        assert!(
            url.password().is_some_and(|p| p.starts_with("dummy-")),
            "service {}: the PostgreSQL password in DATABASE_URL must come from a variable",
            service.name
        );
    }

    let (path, example) = repo_file("deploy/env.example");
    let listed: BTreeSet<&str> = example
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| line.split_once('=').map(|(name, _)| name.trim()))
        .collect();
    for name in &compose.required {
        assert!(
            listed.contains(name.as_str()),
            "compose.yaml needs {name}, which {} does not list",
            path.display()
        );
    }
}

#[test]
fn instances_share_one_postgres_behind_the_proxy() {
    let compose = Compose::load();
    let database = compose.the_one(Role::Database);
    let revokd = compose.with_role(Role::Revokd);
    let (_, caddyfile) = repo_file("deploy/Caddyfile");
    let upstreams: Vec<&str> = caddyfile
        .lines()
        .map(str::trim)
        .filter_map(|line| line.strip_prefix("reverse_proxy "))
        .flat_map(|line| line.trim_end_matches('{').split_whitespace())
        .collect();
    let mut urls = BTreeSet::new();
    let mut public = BTreeSet::new();
    for service in &revokd {
        let settings = settings_of(service);
        let DatabaseUrl::Postgres(url) = &settings.database else {
            panic!("service {}: instances behind a proxy need PostgreSQL", service.name);
        };
        let host = url::Url::parse(url).unwrap().host_str().unwrap_or_default().to_owned();
        assert_eq!(
            host, database.name,
            "service {}: DATABASE_URL should name the {} service",
            service.name, database.name
        );
        urls.insert(url.clone());
        public.insert(settings.public_url.map(|u| u.to_string()));

        let upstream = format!("{}:{}", service.name, settings.listen.port());
        assert!(
            upstreams.contains(&upstream.as_str()),
            "deploy/Caddyfile's reverse_proxy ({upstreams:?}) does not send requests to {upstream}"
        );
        let depends = service.node.get("depends_on").and_then(|d| d.get(&database.name));
        assert_eq!(
            depends.and_then(|d| d.get("condition")).and_then(Node::scalar),
            Some("service_healthy"),
            "service {} should wait for {} to be healthy",
            service.name,
            database.name
        );
    }
    assert_eq!(urls.len(), 1, "the instances should share one database: {urls:?}");
    assert_eq!(
        public.len(),
        1,
        "the instances should advertise one public URL: {public:?}"
    );
    assert_eq!(
        upstreams.len(),
        revokd.len(),
        "deploy/Caddyfile sends requests to {upstreams:?}, compose.yaml runs {} instances",
        revokd.len()
    );

    let proxy = compose.the_one(Role::Proxy);
    for service in &revokd {
        let condition = proxy
            .node
            .get("depends_on")
            .and_then(|d| d.get(&service.name))
            .and_then(|d| d.get("condition"))
            .and_then(Node::scalar);
        assert_eq!(
            condition,
            Some("service_healthy"),
            "the proxy should wait for {}",
            service.name
        );
    }
    for service in &compose.services {
        assert!(
            service.node.get("restart").and_then(Node::scalar).is_some(),
            "service {} has no restart policy",
            service.name
        );
    }
}

#[test]
fn interpolation_is_read_as_compose_reads_it() {
    let mut required = BTreeSet::new();
    assert_eq!(
        interpolate("a${X:-d}b${Y:?set Y}c${Z}$$", &mut required).unwrap(),
        "adbdummy-Ycdummy-Z$"
    );
    assert_eq!(required, BTreeSet::from(["Y".to_owned(), "Z".to_owned()]));
    assert!(interpolate("$X", &mut required).is_err());
    assert!(interpolate("${X:+y}", &mut required).is_err());
    assert!(interpolate("${X", &mut required).is_err());
}

#[test]
fn the_reader_reads_compose_shapes_and_refuses_the_rest() {
    let doc = yaml::parse(
        "# comment\n\
         services:\n  \
           a:\n    \
             image: \"x/y:1\" # trailing comment\n    \
             environment:\n      \
               K: 'it''s'\n      \
               E:\n    \
             command: [\"a\", \"b # not a comment\"]\n  \
           b:\n    \
             environment:\n    \
             - K=v\n    \
             - 'Q=w'\n\
         networks:\n  \
           n:\n    \
             ipam:\n      \
               config:\n        \
                 - subnet: 10.0.0.0/24\n          \
                   gateway: 10.0.0.1\n",
    )
    .unwrap();
    let a = doc.get("services").and_then(|s| s.get("a")).unwrap();
    assert_eq!(a.get("image").and_then(Node::scalar), Some("x/y:1"));
    let env = environment("a", a);
    assert_eq!(env["K"].as_deref(), Some("it's"));
    assert_eq!(env["E"], None);
    assert_eq!(
        a.get("command").and_then(Node::scalar),
        Some("[\"a\", \"b # not a comment\"]")
    );
    let b = doc.get("services").and_then(|s| s.get("b")).unwrap();
    let env = environment("b", b);
    assert_eq!((env["K"].as_deref(), env["Q"].as_deref()), (Some("v"), Some("w")));
    let config = doc
        .get("networks")
        .and_then(|n| n.get("n"))
        .and_then(|n| n.get("ipam"))
        .and_then(|n| n.get("config"))
        .and_then(Node::items)
        .unwrap();
    assert_eq!(config[0].get("gateway").and_then(Node::scalar), Some("10.0.0.1"));

    for refused in [
        "x: &anchor 1\n",
        "x: *anchor\n",
        "x:\n  <<: *base\n",
        "x: |\n  text\n",
        "x: {a: 1}\n",
        "x:\n\ty: 1\n",
        "x: 1\n  y: 2\n",
        "x: \"open\n",
        "---\nx: 1\n",
        "x: 1\nx: 2\n",
    ] {
        assert!(yaml::parse(refused).is_err(), "the reader accepted {refused:?}");
    }
}

/// Just enough YAML for compose files: block mappings (`key: value`, `key:` followed
/// by a deeper block), block sequences (`- item`, `- key: value` starting a mapping,
/// also at the same indentation as their key), plain, 'single' and "double" quoted
/// scalars on one line, `# comments`, and flow sequences (`["CMD", "x"]`), kept as
/// their text. Anything else (anchors, aliases, merge keys, tags, flow mappings,
/// block scalars, tabs, several documents, a key given twice) is an error naming the
/// line, so the file cannot be misread silently.
mod yaml {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Node {
        /// A scalar, unquoted; `key:` with nothing under it is an empty one.
        Scalar(String),
        Map(Vec<(String, Node)>),
        Seq(Vec<Node>),
    }

    impl Node {
        pub fn get(&self, key: &str) -> Option<&Node> {
            self.entries()?.iter().find(|(k, _)| k == key).map(|(_, v)| v)
        }

        pub fn entries(&self) -> Option<&Vec<(String, Node)>> {
            match self {
                Node::Map(entries) => Some(entries),
                _ => None,
            }
        }

        pub fn items(&self) -> Option<&[Node]> {
            match self {
                Node::Seq(items) => Some(items),
                _ => None,
            }
        }

        pub fn scalar(&self) -> Option<&str> {
            match self {
                Node::Scalar(s) => Some(s),
                _ => None,
            }
        }
    }

    struct Line {
        number: usize,
        indent: usize,
        text: String,
    }

    pub fn parse(text: &str) -> Result<Node, String> {
        let mut lines = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let number = i + 1;
            let content = raw.trim_start_matches(' ');
            if content.starts_with('\t') {
                return Err(format!("line {number}: a tab in the indentation"));
            }
            let content = content.trim_end();
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            if content == "---" || content == "..." {
                return Err(format!("line {number}: one document only"));
            }
            lines.push(Line {
                number,
                indent: raw.len() - raw.trim_start_matches(' ').len(),
                text: content.to_owned(),
            });
        }
        if lines.is_empty() {
            return Ok(Node::Map(Vec::new()));
        }
        let mut at = 0;
        let indent = lines[0].indent;
        let node = block(&mut lines, &mut at, indent)?;
        match lines.get(at) {
            None => Ok(node),
            Some(line) => Err(format!("line {}: unexpected indentation", line.number)),
        }
    }

    fn is_item(text: &str) -> bool {
        text == "-" || text.starts_with("- ")
    }

    fn block(lines: &mut [Line], at: &mut usize, indent: usize) -> Result<Node, String> {
        if is_item(&lines[*at].text) {
            sequence(lines, at, indent)
        } else {
            mapping(lines, at, indent)
        }
    }

    fn sequence(lines: &mut [Line], at: &mut usize, indent: usize) -> Result<Node, String> {
        let mut items = Vec::new();
        while *at < lines.len() && lines[*at].indent == indent && is_item(&lines[*at].text) {
            let number = lines[*at].number;
            let rest = lines[*at].text[1..].trim_start().to_owned();
            if rest.is_empty() {
                *at += 1;
                items.push(nested(lines, at, indent)?);
            } else if split_key(&rest, number)?.is_some() {
                // `- key: value`: a mapping whose first line is the rest of this one.
                let line = &mut lines[*at];
                line.indent += line.text.len() - rest.len();
                line.text = rest;
                let inner = line.indent;
                items.push(mapping(lines, at, inner)?);
            } else {
                *at += 1;
                items.push(scalar(&rest, number)?);
            }
        }
        Ok(Node::Seq(items))
    }

    fn mapping(lines: &mut [Line], at: &mut usize, indent: usize) -> Result<Node, String> {
        let mut entries: Vec<(String, Node)> = Vec::new();
        while *at < lines.len() && lines[*at].indent == indent {
            let number = lines[*at].number;
            if is_item(&lines[*at].text) {
                return Err(format!("line {number}: a list item where a key was expected"));
            }
            let (key, rest) =
                split_key(&lines[*at].text, number)?.ok_or_else(|| format!("line {number}: expected `key: value`"))?;
            if key == "<<" {
                return Err(format!("line {number}: merge keys are not supported"));
            }
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(format!("line {number}: {key} given twice"));
            }
            *at += 1;
            let value = if rest.is_empty() {
                match lines.get(*at) {
                    // A sequence may sit at its key's own indentation.
                    Some(next) if next.indent == indent && is_item(&next.text) => sequence(lines, at, indent)?,
                    _ => nested(lines, at, indent)?,
                }
            } else {
                scalar(&rest, number)?
            };
            entries.push((key, value));
        }
        if let Some(line) = lines.get(*at).filter(|line| line.indent > indent) {
            return Err(format!("line {}: unexpected indentation", line.number));
        }
        Ok(Node::Map(entries))
    }

    /// What follows a `key:` or `-` with nothing after it: a deeper block, or nothing.
    fn nested(lines: &mut [Line], at: &mut usize, indent: usize) -> Result<Node, String> {
        match lines.get(*at) {
            Some(next) if next.indent > indent => {
                let inner = next.indent;
                block(lines, at, inner)
            }
            _ => Ok(Node::Scalar(String::new())),
        }
    }

    /// `key: rest` or `key:` (rest empty); `None` when the text is not a key.
    fn split_key(text: &str, number: usize) -> Result<Option<(String, String)>, String> {
        let (key, after) = if let Some(quote @ ('"' | '\'')) = text.chars().next() {
            let Some(end) = text[1..].find(quote) else {
                return Err(format!("line {number}: unclosed quote"));
            };
            (text[1..end + 1].to_owned(), &text[end + 2..])
        } else {
            match text.find(": ").or_else(|| text.ends_with(':').then(|| text.len() - 1)) {
                Some(colon) => (text[..colon].to_owned(), &text[colon..]),
                None => return Ok(None),
            }
        };
        match after.strip_prefix(':') {
            Some(rest) if rest.is_empty() || rest.starts_with(' ') => {
                let rest = rest.trim();
                let rest = if rest.starts_with('#') { "" } else { rest };
                Ok(Some((key, rest.to_owned())))
            }
            _ => Ok(None),
        }
    }

    /// A scalar on one line, with a trailing `# comment` removed.
    fn scalar(text: &str, number: usize) -> Result<Node, String> {
        let fail = |what: &str| Err(format!("line {number}: {what} are not supported: {text}"));
        match text.chars().next() {
            Some('&') => return fail("anchors"),
            Some('*') => return fail("aliases"),
            Some('!') => return fail("tags"),
            Some('|' | '>') => return fail("block scalars"),
            Some('{') => return fail("flow mappings"),
            _ => {}
        }
        let (value, rest) = match text.chars().next() {
            Some('"') => {
                let mut value = String::new();
                let mut chars = text[1..].char_indices();
                let end = loop {
                    match chars.next() {
                        None => return Err(format!("line {number}: unclosed quote (one line only)")),
                        Some((i, '"')) => break i + 2,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, 'n')) => value.push('\n'),
                            Some((_, 't')) => value.push('\t'),
                            Some((_, c @ ('"' | '\\' | '/'))) => value.push(c),
                            _ => return Err(format!("line {number}: an escape not supported here")),
                        },
                        Some((_, c)) => value.push(c),
                    }
                };
                (value, &text[end..])
            }
            Some('\'') => {
                let mut value = String::new();
                let mut chars = text[1..].char_indices().peekable();
                let end = loop {
                    match chars.next() {
                        None => return Err(format!("line {number}: unclosed quote (one line only)")),
                        Some((_, '\'')) if chars.peek().is_some_and(|(_, c)| *c == '\'') => {
                            chars.next();
                            value.push('\'');
                        }
                        Some((i, '\'')) => break i + 2,
                        Some((_, c)) => value.push(c),
                    }
                };
                (value, &text[end..])
            }
            Some('[') => {
                // Kept as text; only its end (outside quotes) is looked for.
                let mut quote = None;
                let mut end = None;
                for (i, c) in text.char_indices() {
                    match (quote, c) {
                        (Some(q), c) if c == q => quote = None,
                        (Some(_), _) => {}
                        (None, '"' | '\'') => quote = Some(c),
                        (None, ']') => {
                            end = Some(i + 1);
                            break;
                        }
                        (None, '[' | '{') if i > 0 => return fail("nested flow collections"),
                        _ => {}
                    }
                }
                let end = end.ok_or_else(|| format!("line {number}: unclosed [ (one line only)"))?;
                (text[..end].to_owned(), &text[end..])
            }
            _ => match text.find(" #") {
                Some(comment) => (text[..comment].trim_end().to_owned(), ""),
                None => (text.to_owned(), ""),
            },
        };
        let rest = rest.trim();
        if !rest.is_empty() && !rest.starts_with('#') {
            return Err(format!("line {number}: text after a quoted value: {rest}"));
        }
        Ok(Node::Scalar(value))
    }
}
