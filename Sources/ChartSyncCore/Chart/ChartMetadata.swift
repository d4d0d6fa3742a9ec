/// The fields of a chart's Chart.yaml that an index entry carries.
public struct ChartMetadata: Sendable, Equatable {
    /// A maintainer of the chart.
    public struct Maintainer: Sendable, Equatable {
        /// Name (required by Helm).
        public var name: String
        /// Email address, when given.
        public var email: String?
        /// Web address, when given.
        public var url: String?

        /// Creates a maintainer.
        public init(name: String, email: String? = nil, url: String? = nil) {
            self.name = name
            self.email = email
            self.url = url
        }
    }

    /// A dependency on another chart.
    public struct Dependency: Sendable, Equatable {
        /// The dependency's chart name.
        public var name: String
        /// Its version constraint text.
        public var version: String?
        /// Its repository URL (or `file://`, `oci://`, empty).
        public var repository: String?
        /// The values path that enables it.
        public var condition: String?
        /// The alias it is installed under.
        public var alias: String?

        /// Creates a dependency.
        public init(name: String, version: String? = nil, repository: String? = nil,
                    condition: String? = nil, alias: String? = nil) {
            self.name = name
            self.version = version
            self.repository = repository
            self.condition = condition
            self.alias = alias
        }
    }

    /// `v1` or `v2`.
    public var apiVersion: String
    /// The chart's name.
    public var name: String
    /// The chart's version text.
    public var version: String
    /// The application version.
    public var appVersion: String?
    /// One-line description.
    public var description: String?
    /// `application` or `library`.
    public var type: String?
    /// Kubernetes version constraint.
    public var kubeVersion: String?
    /// Project home page.
    public var home: String?
    /// Icon URL.
    public var icon: String?
    /// Whether the chart is deprecated.
    public var deprecated: Bool
    /// Search keywords.
    public var keywords: [String]
    /// Source URLs.
    public var sources: [String]
    /// Maintainers.
    public var maintainers: [Maintainer]
    /// Dependencies.
    public var dependencies: [Dependency]
    /// Annotations.
    public var annotations: [String: String]

    /// Creates metadata.
    public init(apiVersion: String = "v2", name: String, version: String, appVersion: String? = nil,
                description: String? = nil, type: String? = nil, kubeVersion: String? = nil,
                home: String? = nil, icon: String? = nil, deprecated: Bool = false,
                keywords: [String] = [], sources: [String] = [], maintainers: [Maintainer] = [],
                dependencies: [Dependency] = [], annotations: [String: String] = [:]) {
        self.apiVersion = apiVersion
        self.name = name
        self.version = version
        self.appVersion = appVersion
        self.description = description
        self.type = type
        self.kubeVersion = kubeVersion
        self.home = home
        self.icon = icon
        self.deprecated = deprecated
        self.keywords = keywords
        self.sources = sources
        self.maintainers = maintainers
        self.dependencies = dependencies
        self.annotations = annotations
    }
}
