/// What chartsync reads of a helmfile (`helmfile.yaml`) as static YAML: its repositories, its
/// releases, and the files it names. Go templates (`{{ }}`) are never rendered: their lines are
/// listed in `templateLines`, and a field holding one keeps its text as written.
public struct Helmfile: Sendable, Equatable {
    /// A `repositories:` entry.
    public struct Repository: Sendable, Equatable {
        /// The name releases refer to (`chart: NAME/chart`).
        public var name: String
        /// The URL as written (an OCI repository's is written without a scheme).
        public var url: String
        /// `oci: true`: the charts live in an OCI registry.
        public var oci: Bool
        /// 1-based line in the helmfile.
        public var line: Int

        /// Creates a repository.
        public init(name: String, url: String, oci: Bool = false, line: Int = 0) {
            self.name = name
            self.url = url
            self.oci = oci
            self.line = line
        }

        /// The URL as a chart list writes it: `oci://` before an OCI repository's URL.
        public var chartListURL: String {
            oci && !url.lowercased().hasPrefix("oci://") ? "oci://" + url : url
        }
    }

    /// A `releases:` entry.
    public struct Release: Sendable, Equatable {
        /// The release's name.
        public var name: String
        /// The chart as written: `repo/chart`, a local path, or `oci://...`.
        public var chart: String
        /// The version constraint, when given.
        public var version: String?
        /// 1-based line in the helmfile.
        public var line: Int

        /// Creates a release.
        public init(name: String, chart: String, version: String? = nil, line: Int = 0) {
            self.name = name
            self.chart = chart
            self.version = version
            self.line = line
        }

        /// Where a release's chart comes from, by helmfile's rule.
        public enum Source: Sendable, Equatable {
            /// `repo/chart` naming a listed repository.
            case repository(String, chart: String)
            /// `repo/chart` whose repository the helmfile does not list.
            case unknownRepository(String, chart: String)
            /// A chart straight from a registry (`oci://HOST/PATH/NAME`).
            case oci(String)
            /// A local path (`./charts/x`, `../x`, `/x`, or anything not `repo/chart`).
            case local(String)
            /// The chart is a Go template: not guessed.
            case template
        }

        /// Where the chart comes from: helmfile takes a chart that starts with `.` or `/`, or does
        /// not have exactly two `/`-separated parts, for a local path; `repo/chart` otherwise.
        public func source(repositories: [Repository]) -> Source {
            if Helmfile.isTemplated(chart) { return .template }
            if chart.lowercased().hasPrefix("oci://") { return .oci(chart) }
            let parts = chart.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            if chart.hasPrefix(".") || chart.hasPrefix("/") || parts.count != 2 || parts.contains(where: \.isEmpty) {
                return .local(chart)
            }
            return repositories.contains { $0.name == parts[0] } ? .repository(parts[0], chart: parts[1])
                : .unknownRepository(parts[0], chart: parts[1])
        }
    }

    /// A file the helmfile names, relative to the helmfile's directory as written.
    public struct File: Sendable, Equatable {
        /// The path as written (maybe a glob, for `helmfiles:`).
        public var path: String
        /// Where it is named: `environments.NAME.values`, `environments.NAME.secrets`,
        /// `releases.NAME.values`, `releases.NAME.secrets`, `bases`, `helmfiles`.
        public var key: String
        /// 1-based line in the helmfile.
        public var line: Int

        /// Creates a file entry.
        public init(path: String, key: String, line: Int) {
            self.path = path
            self.key = key
            self.line = line
        }
    }

    /// The repositories, in file order (every document).
    public var repositories: [Repository] = []
    /// The releases, in file order (every document).
    public var releases: [Release] = []
    /// The files the helmfile names, in file order.
    public var files: [File] = []
    /// The lines holding a Go template (`{{`), which chartsync does not render.
    public var templateLines: [Int] = []

    /// An empty helmfile.
    public init() {}

    /// Whether a value is (or holds) a Go template.
    public static func isTemplated(_ text: String) -> Bool { text.contains("{{") }
}
