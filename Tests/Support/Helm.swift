import Foundation

/// Real Helm (Helm 4's Go SDK from PyPI's helm-python-sdk) as a reference peer.
public enum Helm {
    /// One question: which version of `chart` does Helm pull for `version`? `repo` is a chart
    /// repository URL or an `oci://HOST/PATH` registry location (the chart name is appended, and
    /// `plainHTTP` is Helm's `--plain-http`).
    public struct Case: Sendable, Encodable {
        public let repo: String
        public let chart: String
        public let version: String?
        public let plainHTTP: Bool
        public init(repo: String, chart: String, version: String?, plainHTTP: Bool = false) {
            self.repo = repo
            self.chart = chart
            self.version = version
            self.plainHTTP = plainHTTP
        }
    }

    /// Helm's answer: the file it pulled (`<name>-<version>.tgz`) and its SHA-256 (hex), or its error.
    public struct Answer: Sendable, Decodable {
        public let file: String?
        public let sha256: String?
        public let error: String?
    }

    /// A chart Helm packaged and pushed: the .tgz it wrote and its SHA-256 (hex).
    public struct Pushed: Sendable, Decodable {
        /// The path of the pushed .tgz.
        public let file: String
        /// Its SHA-256, hex.
        public let sha256: String
    }

    /// What to push: a chart archive as it is, or a chart directory packaged at a version.
    public struct PushSource: Sendable, Encodable {
        /// A .tgz or a chart directory.
        public let source: String
        /// The version a directory is packaged at.
        public let version: String?
        /// The .tgz at `path`, pushed as it is.
        public static func archive(_ path: String) -> PushSource { PushSource(source: path, version: nil) }
        /// The chart directory `path`, packaged with `helm package --version VERSION`.
        public static func directory(_ path: String, version: String) -> PushSource { PushSource(source: path, version: version) }
    }

    /// Pushes each source to `remote` (`oci://HOST/PATH`) with `helm push` (directories first
    /// packaged by `helm package` into `destination`), in one Python process.
    public static func push(_ sources: [PushSource], to remote: String, destination: String,
                            plainHTTP: Bool = true) throws -> [Pushed] {
        struct Request: Encodable {
            let remote: String
            let plainHTTP: Bool
            let destination: String
            let charts: [PushSource]
        }
        let request = Request(remote: remote, plainHTTP: plainHTTP, destination: destination, charts: sources)
        let input = String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
        let output = try runCommand(["python3", supportScriptsDirectory + "/helm-push.py"], input: input)
        return try JSONDecoder().decode([Pushed].self, from: Data(output.utf8))
    }

    /// What Helm renders for one chart: the values of `image`/`<name>Image` keys, or its error.
    public struct RenderedImages: Sendable, Decodable {
        public let images: [String]?
        public let error: String?
    }

    /// Renders each chart tarball with Helm and its default values (release "release", namespace
    /// "chartsync", as an install), in one Python process, and lists the image keys' values.
    public static func renderedImages(_ tarballs: [String]) throws -> [RenderedImages] {
        struct Request: Encodable {
            let charts: [String]
        }
        let input = String(decoding: try JSONEncoder().encode(Request(charts: tarballs)), as: UTF8.self)
        let output = try runCommand(["python3", supportScriptsDirectory + "/helm-images.py"], input: input)
        return try JSONDecoder().decode([RenderedImages].self, from: Data(output.utf8))
    }

    /// One chart to render with values files, applied in order as `helm template -f a -f b` does.
    public struct ValuesCase: Sendable, Encodable {
        public let chart: String
        public let values: [String]
        public init(chart: String, values: [String]) {
            self.chart = chart
            self.values = values
        }
    }

    /// Renders each chart tarball with Helm and its values files (Helm's own YAML reader, merged
    /// as `-f` merges them), in one Python process, and lists the image keys' values.
    public static func renderedImages(_ cases: [ValuesCase]) throws -> [RenderedImages] {
        struct Request: Encodable {
            let charts: [ValuesCase]
        }
        let input = String(decoding: try JSONEncoder().encode(Request(charts: cases)), as: UTF8.self)
        let output = try runCommand(["python3", supportScriptsDirectory + "/helm-images.py"], input: input)
        return try JSONDecoder().decode([RenderedImages].self, from: Data(output.utf8))
    }

    /// Asks Helm to pull each case, in one Python process.
    public static func resolve(_ cases: [Case]) throws -> [Answer] {
        struct Request: Encodable {
            let cases: [Case]
        }
        let input = String(decoding: try JSONEncoder().encode(Request(cases: cases)), as: UTF8.self)
        let output = try runCommand(["python3", supportScriptsDirectory + "/helm-resolve.py"], input: input)
        return try JSONDecoder().decode([Answer].self, from: Data(output.utf8))
    }

    /// One chart to pull from an OCI registry: `oci://HOST/PATH/NAME` and its version.
    public struct OCIChart: Sendable, Encodable {
        public let ref: String
        public let version: String
        public init(ref: String, version: String) {
            self.ref = ref
            self.version = version
        }
    }

    /// Pulls each chart from an OCI registry (plain HTTP when `plainHTTP`; `caFile` trusted for
    /// HTTPS; basic credentials when given); returns the sha256 hex of each file Helm wrote, or
    /// "error: ..." for a chart Helm did not pull.
    public static func pullOCI(_ charts: [OCIChart], plainHTTP: Bool, caFile: String?, username: String?,
                               password: String?) throws -> [String] {
        struct Request: Encodable {
            let charts: [OCIChart]
            let plainHTTP: Bool
            let username: String?
            let password: String?
        }
        struct Answer: Decodable { let sha256: String?; let error: String? }
        let request = Request(charts: charts, plainHTTP: plainHTTP, username: username, password: password)
        var command = ["python3", supportScriptsDirectory + "/helm-pull-oci.py"]
        if let caFile { command = ["env", "SSL_CERT_FILE=" + caFile] + command }
        let output = try runCommand(command, input: String(decoding: try JSONEncoder().encode(request), as: UTF8.self))
        return try JSONDecoder().decode([Answer].self, from: Data(output.utf8)).map { $0.sha256 ?? "error: \($0.error ?? "?")" }
    }
}
