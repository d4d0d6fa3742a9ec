/// The declarative list of what to vendor (`chartsync.yaml`): repositories and charts.
public struct ChartList: Sendable {
    /// A Helm repository and how to reach it.
    public struct Repository: Sendable, Equatable {
        /// The name charts refer to.
        public var name: String
        /// The URL as written: `http(s)://`, `file://`, or a folder relative to the chart list.
        public var url: String
        /// PEM CA certificates to trust for this repository.
        public var caFile: String?
        /// PEM client certificate for mutual TLS.
        public var certFile: String?
        /// PEM key of `certFile`.
        public var keyFile: String?
        /// Skip TLS verification (warned about on every run).
        public var insecureSkipTLSVerify = false
        /// Send credentials on redirects to other hosts too.
        public var passCredentials = false
        /// Environment variable holding the basic-auth user name.
        public var usernameEnv: String?
        /// Environment variable holding the basic-auth password.
        public var passwordEnv: String?
        /// Environment variable holding a bearer token.
        public var tokenEnv: String?
        /// A credentials file (`username:`/`password:` or `token:` lines).
        public var credentialsFile: String?
        /// 1-based line in the chart list.
        public var line = 0

        /// Creates a repository entry.
        public init(name: String, url: String) {
            self.name = name
            self.url = url
        }
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

    /// The repositories, in file order.
    public var repositories: [Repository]
    /// The charts, in file order.
    public var charts: [Chart]

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
    /// changes what is vendored (not credentials or TLS settings, not comments or order).
    public var canonicalText: String {
        var text = "chartsync chart list v1\n"
        for chart in charts.sorted(by: { $0.name < $1.name }) {
            let url = repository(of: chart)?.url ?? ""
            text += ["chart", chart.name, url, chart.version ?? "", String(chart.devel), String(chart.unpack),
                     String(chart.allowMissingDigest)].joined(separator: "\t") + "\n"
        }
        return text
    }
}
