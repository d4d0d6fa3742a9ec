/// The declarative list of what to vendor (`chartsync.yaml`): repositories and charts, and what
/// else the bundle carries.
public struct ChartList: Sendable {
    /// How to reach a server: TLS settings and where credentials come from (never the secrets
    /// themselves). Shared by chart repositories and image registries.
    public struct Access: Sendable, Equatable {
        /// PEM CA certificates to trust.
        public var caFile: String?
        /// PEM client certificate for mutual TLS.
        public var certFile: String?
        /// PEM key of `certFile`.
        public var keyFile: String?
        /// Skip TLS verification (warned about on every run).
        public var insecureSkipTLSVerify = false
        /// Environment variable holding the basic-auth user name.
        public var usernameEnv: String?
        /// Environment variable holding the basic-auth password.
        public var passwordEnv: String?
        /// Environment variable holding a bearer token.
        public var tokenEnv: String?
        /// A credentials file (`username:`/`password:` or `token:` lines).
        public var credentialsFile: String?

        /// No TLS settings, no credentials.
        public init() {}

        /// The files the access names, by key (caFile, certFile, keyFile, credentialsFile).
        public var files: [(key: String, path: String)] {
            [("caFile", caFile), ("certFile", certFile), ("keyFile", keyFile), ("credentialsFile", credentialsFile)]
                .compactMap { key, path in path.map { (key, $0) } }
        }

        /// Where a path of the chart list points: `~/` is `home`, a relative path is relative to
        /// the project root (the chart list's directory).
        public static func resolve(_ path: String, root: String, home: String?) -> String {
            if path.hasPrefix("~/"), let home, !home.isEmpty { return home + path.dropFirst(1) }
            return path.hasPrefix("/") ? path : root + "/" + path
        }
    }

    /// A Helm repository and how to reach it.
    public struct Repository: Sendable, Equatable {
        /// The name charts refer to.
        public var name: String
        /// The URL as written: `http(s)://`, `file://`, `oci://HOST[:PORT]/PATH`, or a folder
        /// relative to the chart list.
        public var url: String
        /// TLS settings and credentials.
        public var access = Access()
        /// Send credentials on redirects to other hosts too.
        public var passCredentials = false
        /// Talk plain HTTP to an `oci://` repository's registry (never a fallback).
        public var plainHTTP = false
        /// 1-based line in the chart list.
        public var line = 0

        /// Creates a repository entry.
        public init(name: String, url: String) {
            self.name = name
            self.url = url
        }

        /// Whether the charts live in an OCI registry (`oci://`) rather than behind an index.yaml.
        public var isOCI: Bool { url.lowercased().hasPrefix("oci://") }

        /// An `oci://` repository's registry (`HOST[:PORT]`) and path (maybe empty), else nil.
        public var ociLocation: (registry: String, path: String)? { RepositoryURL.ociLocation(url) }
    }

    /// A chart to vendor.
    public struct Chart: Sendable, Equatable {
        /// The chart's name in its repository.
        public var name: String
        /// The name of the repository it comes from.
        public var repository: String
        /// The version constraint as written; nil means the newest stable version.
        public var version: String?
        /// Admit prerelease versions.
        public var devel = false
        /// Also keep the chart unpacked as `charts/external/<name>-v<version>/`.
        public var unpack = false
        /// Accept an index entry without a digest (the download is then unproven).
        public var allowMissingDigest = false
        /// 1-based line in the chart list.
        public var line = 0
        /// 1-based line of its `version:` key, when it has one.
        public var versionLine: Int?
        /// Values files the image scan applies over the chart's defaults, in order (as
        /// `helm template -f a -f b`): paths relative to the chart list, each with its line.
        public var values: [ValuesFile] = []

        /// A values file a chart names, with the line of its entry.
        public struct ValuesFile: Sendable, Equatable {
            /// The path as written, relative to the chart list's directory.
            public var path: String
            /// 1-based line in the chart list.
            public var line: Int

            /// Creates an entry.
            public init(path: String, line: Int) {
                self.path = path
                self.line = line
            }
        }

        /// Creates a chart entry.
        public init(name: String, repository: String, version: String? = nil) {
            self.name = name
            self.repository = repository
            self.version = version
        }

        /// Whether a locked `version` is one this entry can resolve to, by the rule pull resolves
        /// with (Helm's): the constraint's exact text, or a semantic version satisfying the
        /// constraint (no constraint: any stable version; prereleases only with `devel` or a
        /// prerelease comparator). False when the constraint does not parse.
        public func admits(_ version: String) -> Bool {
            if let text = self.version, text == version { return true }
            guard let semver = try? SemanticVersion(parsing: version) else { return false }
            var constraint = VersionConstraint.any
            if let text = self.version {
                guard let parsed = try? VersionConstraint(parsing: text) else { return false }
                constraint = parsed
            }
            return constraint.isSatisfied(by: semver, includePrerelease: devel)
        }
    }

    /// What `chartsync images` adds, leaves out, and how it reaches registries.
    public struct ImageSettings: Sendable, Equatable {
        /// An image reference as written, with its line.
        public struct Entry: Sendable, Equatable {
            /// The reference as written.
            public var text: String
            /// 1-based line in the chart list.
            public var line: Int

            /// Creates an entry.
            public init(text: String, line: Int) {
                self.text = text
                self.line = line
            }
        }

        /// A container registry and how to reach it (for `images --resolve`).
        public struct Registry: Sendable, Equatable {
            /// The registry as image references name it: `registry.example.com`, `127.0.0.1:5000`.
            public var host: String
            /// Speak plain HTTP to it (a registry on a trusted network only); HTTPS otherwise.
            public var plainHTTP = false
            /// TLS settings and credentials.
            public var access = Access()
            /// 1-based line in the chart list.
            public var line = 0

            /// Creates a registry entry.
            public init(host: String) {
                self.host = host
            }
        }

        /// A platform `images --pull` carries from an image index: `os/architecture[/variant]`.
        public struct Platform: Sendable, Equatable, CustomStringConvertible {
            /// The operating system, e.g. `linux`.
            public var os: String
            /// The CPU architecture, e.g. `amd64`, `arm64`.
            public var architecture: String
            /// The CPU variant, e.g. `v8`; nil matches any variant.
            public var variant: String?
            /// 1-based line in the chart list.
            public var line: Int

            /// Creates a platform.
            public init(os: String, architecture: String, variant: String? = nil, line: Int = 0) {
                self.os = os
                self.architecture = architecture
                self.variant = variant
                self.line = line
            }

            /// Parses `os/architecture[/variant]` (lowercase letters, digits, `.`, `_`, `-`); nil when malformed.
            public init?(parsing text: String, line: Int = 0) {
                let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
                guard (2...3).contains(parts.count), parts.allSatisfy({ part in
                    !part.isEmpty && part.utf8.allSatisfy { (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2e || $0 == 0x5f || $0 == 0x2d }
                }) else { return nil }
                self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil, line: line)
            }

            /// Whether an index entry for `os`/`architecture`/`variant` is this platform (no
            /// variant here admits every variant).
            public func matches(os: String, architecture: String, variant: String?) -> Bool {
                self.os == os && self.architecture == architecture && (self.variant == nil || self.variant == variant)
            }

            /// `os/architecture[/variant]`.
            public var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }
        }

        /// Images the charts need but do not name (pulled at run time by an operator, say).
        public var extra: [Entry] = []
        /// Images found in the charts that the site does not need: a name (every tag) or a full reference.
        public var exclude: [Entry] = []
        /// How to reach registries.
        public var registries: [Registry] = []
        /// The platforms `images --pull` keeps of a multi-platform image; empty: every platform.
        public var platforms: [Platform] = []

        /// Nothing added, nothing left out, default access.
        public init() {}

        /// The settings for a registry host, when listed.
        public func registry(_ host: String) -> Registry? { registries.first { $0.host == host } }
    }

    /// The `bundle:` section: files the bundle carries besides charts, images and locks.
    public struct BundleSettings: Sendable, Equatable {
        /// One `bundle.include` entry: a path or glob relative to the chart list, with its line.
        public struct Include: Sendable, Equatable {
            /// The pattern, parsed.
            public var pattern: IncludePattern
            /// 1-based line in the chart list.
            public var line: Int

            /// Creates an entry.
            public init(pattern: IncludePattern, line: Int) {
                self.pattern = pattern
                self.line = line
            }
        }

        /// The deployment definition (helmfile.yaml, environments/, values/, ...), in file order.
        public var include: [Include] = []

        /// Nothing included.
        public init() {}
    }

    /// The repositories, in file order.
    public var repositories: [Repository]
    /// The charts, in file order.
    public var charts: [Chart]
    /// The `images:` section.
    public var images = ImageSettings()
    /// The `bundle:` section. Not part of `canonicalText`: it does not change what is vendored.
    public var bundle = BundleSettings()

    /// Creates a chart list.
    public init(repositories: [Repository], charts: [Chart]) {
        self.repositories = repositories
        self.charts = charts
    }

    /// The repository a chart names.
    public func repository(of chart: Chart) -> Repository? {
        repositories.first { $0.name == chart.repository }
    }

    /// The text whose SHA-256 versions.lock records to detect a stale lock: every field that
    /// changes what is vendored (not credentials or TLS settings, not comments or order, not the
    /// `bundle:` section, which changes what a bundle carries besides the vendored charts).
    public var canonicalText: String {
        var text = "chartsync chart list v1\n"
        for chart in charts.sorted(by: { $0.name < $1.name }) {
            let repository = repository(of: chart)
            // plainHTTP is added only when set, so the digest of every earlier list stays the same.
            let url = (repository?.url ?? "") + (repository?.plainHTTP == true ? "\tplainHTTP" : "")
            text += ["chart", chart.name, url, chart.version ?? "", String(chart.devel), String(chart.unpack),
                     String(chart.allowMissingDigest)].joined(separator: "\t") + "\n"
        }
        return text
    }
}
