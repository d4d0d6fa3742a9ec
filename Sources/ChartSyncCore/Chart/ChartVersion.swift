/// One version of one chart as a repository index lists it.
public struct ChartVersion: Sendable, Equatable {
    /// The chart's name.
    public var name: String
    /// The version text exactly as the index gives it (e.g. `v5.20.0`, `0.46.00`).
    public var version: String
    /// The parsed version used for ordering and constraints.
    public var semver: SemanticVersion
    /// The application version, when the index gives one.
    public var appVersion: String?
    /// The chart API version (`v1` when the index omits it, as Helm assumes).
    public var apiVersion: String
    /// One-line description.
    public var description: String?
    /// The digest text as written in the index (`sha256:<hex>`, bare hex, or anything else).
    public var digestText: String?
    /// Download URLs as written in the index (relative or absolute).
    public var urls: [String]
    /// The `created` timestamp text as written in the index.
    public var created: String?
    /// Whether the chart is marked deprecated.
    public var deprecated: Bool
    /// `application`, `library` or empty.
    public var type: String?
    /// The Kubernetes version constraint, as text.
    public var kubeVersion: String?
    /// The line of the entry in its index (1-based), for messages.
    public var line: Int

    /// Creates a chart version.
    public init(name: String, version: String, semver: SemanticVersion, appVersion: String? = nil,
                apiVersion: String = "v1", description: String? = nil, digestText: String? = nil,
                urls: [String] = [], created: String? = nil, deprecated: Bool = false,
                type: String? = nil, kubeVersion: String? = nil, line: Int = 0) {
        self.name = name
        self.version = version
        self.semver = semver
        self.appVersion = appVersion
        self.apiVersion = apiVersion
        self.description = description
        self.digestText = digestText
        self.urls = urls
        self.created = created
        self.deprecated = deprecated
        self.type = type
        self.kubeVersion = kubeVersion
        self.line = line
    }

    /// The SHA-256 digest, when the index gives a well-formed one (with or without `sha256:`).
    public var digest: Digest? { digestText.flatMap(Digest.init) }
}
