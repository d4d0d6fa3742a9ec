import Foundation

/// Real Helm (Helm 4's Go SDK from PyPI's helm-python-sdk) as a reference peer.
public enum Helm {
    /// One question: which version of `chart` does Helm pull for `version`?
    public struct Case: Sendable, Encodable {
        public let repo: String
        public let chart: String
        public let version: String?
        public init(repo: String, chart: String, version: String?) {
            self.repo = repo
            self.chart = chart
            self.version = version
        }
    }

    /// Helm's answer: the file it pulled (`<name>-<version>.tgz`) or its error.
    public struct Answer: Sendable, Decodable {
        public let file: String?
        public let error: String?
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
