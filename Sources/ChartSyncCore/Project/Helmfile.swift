/// What chartsync reads of one helmfile file (`helmfile.yaml`, a sub-helmfile, a base, a
/// `.gotmpl`) as static YAML, each item with its line: repositories, releases, the files it
/// names, and the Go-template actions (`{{ ... }}`) it holds. Actions are never evaluated: a
/// value holding one keeps it as written (`isTemplated`), and what cannot be read is listed in
/// `invalid` while the rest is still read. Read by `HelmfileReader`; the gate's helmfile check
/// and `chartsync init --from-helmfile` both use it.
public struct Helmfile: Sendable, Equatable {
    /// A Go-template action, as written.
    public struct Template: Sendable, Equatable {
        /// 1-based line where the action starts.
        public var line: Int
        /// The action as written, `{{` to `}}`.
        public var text: String
        /// What it depends on, in words ("the helmfile environment (.Environment)", ...); nil
        /// when nothing does (a comment, a bare `{{ end }}` or `{{ else }}`).
        public var reason: String?

        /// Creates an action.
        public init(line: Int, text: String, reason: String?) {
            self.line = line
            self.text = text
            self.reason = reason
        }

        /// A comment (`{{/* ... */}}`): it yields nothing.
        public var isComment: Bool {
            let body = text.dropFirst(2).drop { $0 == "-" || $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
            return body.hasPrefix("/*")
        }

        /// The action on one line, shortened to 80 characters, for messages.
        public var summary: String {
            let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
            return flat.count > 80 ? String(flat.prefix(77)) + "..." : flat
        }
    }

    /// A `repositories:` entry.
    public struct Repository: Sendable, Equatable {
        /// The name releases refer to (`chart: NAME/chart`).
        public var name: String
        /// The URL as written (an OCI repository's is written without a scheme).
        public var url: String
        /// `oci: true`: the charts live in an OCI registry.
        public var oci: Bool
        /// 1-based line.
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

    /// A `releases:` entry; its keys are its own, else those it merges (`<<: *anchor`) or
    /// inherits (`inherit: [{template: NAME}]` of this file's `templates:`).
    public struct Release: Sendable, Equatable {
        /// The release's name as written; `(unnamed)` when it has none.
        public var name: String
        /// 1-based line of the release's item.
        public var line: Int
        /// `chart:` as written; nil when there is none.
        public var chart: String?
        /// 1-based line of `chart:` (the release's line when there is none).
        public var chartLine: Int
        /// `version:` as written; nil when there is none.
        public var version: String?
        /// 1-based line of `version:` (the release's line when there is none).
        public var versionLine: Int
        /// `installed: false` (plain): helmfile removes the release and needs no chart.
        public var uninstalled: Bool
        /// It inherits from a release template this file does not define.
        public var inheritsUnknown: Bool
        /// `values:` entries, in order (helmfile passes each to Helm as a `-f` file).
        public var values: [ValuesEntry] = []
        /// `secrets:` entries, in order (helm-secrets decrypts them; passed after `values:`).
        public var secrets: [ValuesEntry] = []
        /// `set:` entries, in order (passed as `--set` after every values file).
        public var set: [SetEntry] = []
        /// `missingFileHandler:` as written (helmfile's default is `Error`); nil when not given.
        public var missingFileHandler: String?
        /// Keys that give values from templates chartsync does not render (`valuesTemplate`,
        /// `setTemplate`), with their lines.
        public var templatedValueKeys: [Key] = []

        /// Creates a release.
        public init(name: String, line: Int, chart: String?, chartLine: Int? = nil, version: String? = nil,
                    versionLine: Int? = nil, uninstalled: Bool = false, inheritsUnknown: Bool = false) {
            self.name = name
            self.line = line
            self.chart = chart
            self.chartLine = chartLine ?? line
            self.version = version
            self.versionLine = versionLine ?? line
            self.uninstalled = uninstalled
            self.inheritsUnknown = inheritsUnknown
        }

        /// Whether a missing values or secrets file is tolerated (`missingFileHandler` other than `Error`).
        public var toleratesMissingFiles: Bool { missingFileHandler != nil && missingFileHandler != "Error" }

        /// A key of a release, with its line.
        public struct Key: Sendable, Equatable {
            /// The key.
            public var key: String
            /// 1-based line.
            public var line: Int

            /// Creates a key.
            public init(key: String, line: Int) {
                self.key = key
                self.line = line
            }
        }

        /// One entry of a release's `values:` or `secrets:`.
        public enum ValuesEntry: Sendable, Equatable {
            /// A path as written (relative to the helmfile file's directory unless absolute; a
            /// glob, a `.gotmpl` helmfile renders, or a template action are possible), with its line.
            case file(String, line: Int)
            /// A mapping written inline, as a one-line YAML flow mapping that reads back as the
            /// same values (keys quoted; scalars plain when they were plain, else double-quoted),
            /// with its line; `templated` when a template action lies inside it.
            case inline(String, line: Int, templated: Bool)
            /// Neither a path nor a mapping (helmfile refuses it), with its line.
            case invalid(line: Int)

            /// The 1-based line of the entry.
            public var line: Int {
                switch self {
                case .file(_, let line), .inline(_, let line, _), .invalid(let line): return line
                }
            }
        }

        /// One `set:` entry.
        public struct SetEntry: Sendable, Equatable {
            /// What it sets.
            public enum Value: Sendable, Equatable {
                /// `value: TEXT` (helmfile passes `--set name=TEXT`; an empty text is not passed).
                case value(String)
                /// `values: [a, b]` (passed as `--set name={a,b}`).
                case values([String])
                /// `file: PATH` (passed as `--set-file`).
                case file(String)
                /// None of them, or not scalars.
                case none
            }

            /// `name:` as written; nil when there is none.
            public var name: String?
            /// The value.
            public var value: Value
            /// 1-based line of the entry.
            public var line: Int
            /// The name or value holds a template action.
            public var templated: Bool

            /// Creates an entry.
            public init(name: String?, value: Value, line: Int, templated: Bool = false) {
                self.name = name
                self.value = value
                self.line = line
                self.templated = templated
            }
        }

        /// Where a release's chart comes from.
        public enum Source: Sendable, Equatable {
            /// `repo/chart` (or `repo/path/chart`): the chart `chart` of the repository named `repo`.
            case repository(String, chart: String)
            /// A chart by URL: `oci://HOST/PATH/NAME[:TAG]` (straight from a registry), or another scheme.
            case url(String)
            /// A local path, relative to the helmfile file's directory unless absolute.
            case local(String)
            /// The chart holds a template action: not guessed.
            case template
        }

        /// Where the chart comes from, by helmfile's rule (`isLocalChart`, pkg/state): `./x` and
        /// `../x` are local paths; `scheme://...` is a URL; an empty chart, an absolute path, a
        /// bare name, or one of other than two or three `/`-separated parts is a local path; so
        /// is any chart `pathExists` finds (given the chart, it says whether a file or directory
        /// is there relative to the helmfile file's directory: helmfile, like Helm, then takes it
        /// for a local chart); anything else is `repo/chart`. Nil when the release has no chart.
        public func source(pathExists: (String) -> Bool) -> Source? {
            guard let chart else { return nil }
            if Helmfile.isTemplated(chart) { return .template }
            if chart.hasPrefix("./") || chart.hasPrefix("../") { return .local(chart) }
            if chart.contains("://") { return .url(chart) }
            let parts = chart.split(separator: "/", omittingEmptySubsequences: false)
            if chart.hasPrefix("/") || parts.count < 2 || parts.count > 3 || pathExists(chart) {
                return .local(chart)
            }
            return .repository(String(parts[0]), chart: parts.dropFirst().joined(separator: "/"))
        }
    }

    /// A file the helmfile names; its path is relative to the helmfile file's directory unless
    /// absolute, and may be a glob (`helmfiles:`) or remote (`git::`, a URL).
    public struct File: Sendable, Equatable {
        /// Where the file is named.
        public enum Kind: Sendable, Equatable {
            /// `helmfiles:` (a string or `- path: x`): a sub-helmfile.
            case helmfile
            /// `bases:`.
            case base
            /// `environments.NAME.values` (`secrets: false`) or `.secrets` (`secrets: true`).
            case environment(String, secrets: Bool)
            /// `releases[].values` or `.secrets` of the release named so.
            case release(String, secrets: Bool)
        }

        /// The path as written.
        public var path: String
        /// 1-based line.
        public var line: Int
        /// Where it is named.
        public var kind: Kind
        /// Environment files: a missing file is tolerated (`missingFileHandler` other than `Error`).
        public var missingAllowed: Bool

        /// Creates a file entry.
        public init(path: String, line: Int, kind: Kind, missingAllowed: Bool = false) {
            self.path = path
            self.line = line
            self.kind = kind
            self.missingAllowed = missingAllowed
        }

        /// The key naming it, for messages: `helmfiles`, `bases`, `environments.NAME.values`,
        /// `environments.NAME.secrets`, `releases.NAME.values`, `releases.NAME.secrets`.
        public var key: String {
            switch kind {
            case .helmfile: return "helmfiles"
            case .base: return "bases"
            case .environment(let name, let secrets): return "environments.\(name).\(secrets ? "secrets" : "values")"
            case .release(let name, let secrets): return "releases.\(name).\(secrets ? "secrets" : "values")"
            }
        }
    }

    /// A part of the file that is not valid YAML, or not shaped like a helmfile.
    public struct Problem: Sendable, Equatable {
        /// 1-based line.
        public var line: Int
        /// What is wrong.
        public var message: String
        /// The part holds template actions: blanking them may be what broke it.
        public var templated: Bool

        /// Creates a problem.
        public init(line: Int, message: String, templated: Bool) {
            self.line = line
            self.message = message
            self.templated = templated
        }
    }

    /// `repositories:` entries, in file order.
    public var repositories: [Repository] = []
    /// Every release, in file order.
    public var releases: [Release] = []
    /// The files it names that are paths (inline values are not files), in file order.
    public var files: [File] = []
    /// Every template action, in file order; those with a `reason` were not evaluated.
    public var templates: [Template] = []
    /// Parts that could not be read (each `---` part is read on its own, as helmfile does, with
    /// template actions blanked: a line holding only actions is dropped, an action inside a line
    /// stands for an unknown value).
    public var invalid: [Problem] = []
    /// With template actions in the file: the first part that is not YAML as written (actions in
    /// place), which a reader that does not render templates cannot take; nil otherwise.
    public var invalidAsWritten: Problem?

    /// An empty helmfile.
    public init() {}

    /// Whether a value read from a helmfile holds a template action.
    public static func isTemplated(_ text: String) -> Bool { text.contains("{{") }
}
