import ChartSyncBasics
import ChartSyncCore
import ChartSyncTransport
import struct Crypto.SHA256

/// A chart as `helm push` stores it in an OCI registry: a config blob holding Chart.yaml's
/// metadata as JSON (`application/vnd.cncf.helm.config.v1+json`), the .tgz as the one layer
/// (`application/vnd.cncf.helm.chart.content.v1.tar+gzip`), and an OCI image manifest naming both
/// with Helm's annotations. Deterministic: the same tarball gives the same manifest digest (the
/// `created` annotation is the newest entry time inside the tarball, not the time of the push),
/// so pushing a chart again changes nothing.
public struct ChartArtifact: Sendable, Equatable {
    /// The chart's metadata.
    public let metadata: ChartMetadata
    /// The config blob's bytes.
    public let config: [UInt8]
    /// The config's descriptor.
    public let configDescriptor: OCIDescriptor
    /// The chart tarball's descriptor (its sha256 and size).
    public let layer: OCIDescriptor
    /// The manifest's bytes.
    public let manifest: [UInt8]
    /// `sha256:` of `manifest`.
    public let digest: String
    /// The tag: the version with `+` written `_` (Helm's rule).
    public var tag: String { OCITag.of(metadata.version) }

    /// The artifact of a tarball with `metadata`, `sha256` and `size`, packed at `created` (seconds
    /// since 1970; 0 leaves the `created` annotation out).
    public init(metadata: ChartMetadata, sha256: Digest, size: Int64, created: Int64) {
        self.metadata = metadata
        config = Array(ChartArtifact.configJSON(metadata).utf8)
        configDescriptor = OCIDescriptor(mediaType: OCIManifest.helmConfig, digest: Digest(bytes: SHA256.hash(data: config)).prefixed,
                                         size: Int64(config.count))
        layer = OCIDescriptor(mediaType: OCIManifest.helmChartContent, digest: sha256.prefixed, size: size)
        var annotations: [String: String] = [:]
        // Helm copies the chart's own annotations, then sets its own (title and version win).
        for (key, value) in metadata.annotations { annotations[key] = value }
        func add(_ key: String, _ value: String?) {
            guard let value, value.contains(where: { !$0.isWhitespace }) else { return }
            annotations[key] = value
        }
        add("org.opencontainers.image.description", metadata.description)
        add("org.opencontainers.image.title", metadata.name)
        add("org.opencontainers.image.version", metadata.version)
        add("org.opencontainers.image.url", metadata.home)
        if created > 0 { add("org.opencontainers.image.created", Timestamp.rfc3339(created)) }
        add("org.opencontainers.image.source", metadata.sources.first)
        if !metadata.maintainers.isEmpty {
            add("org.opencontainers.image.authors", metadata.maintainers.map { m in
                m.name + (m.email.map { " (\($0))" } ?? "")
            }.joined(separator: ", "))
        }
        let text = "{\"schemaVersion\":2,\"mediaType\":\"\(OCIManifest.ociManifest)\","
            + "\"config\":" + ImageLayout.descriptorJSON(configDescriptor) + ","
            + "\"layers\":[" + ImageLayout.descriptorJSON(layer) + "],"
            + "\"annotations\":{" + annotations.sorted { $0.key < $1.key }
                .map { "\(Quoting.json($0.key)):\(Quoting.json($0.value))" }.joined(separator: ",") + "}}"
        manifest = Array(text.utf8)
        digest = Digest(bytes: SHA256.hash(data: manifest)).prefixed
    }

    /// Chart.yaml's metadata as Helm's config blob holds it: the fields of Helm's `Metadata` in
    /// its order, empty ones left out.
    static func configJSON(_ m: ChartMetadata) -> String {
        let q = Quoting.json
        var fields: [String] = []
        func add(_ key: String, _ value: String?) {
            if let value, !value.isEmpty { fields.append("\(q(key)):\(q(value))") }
        }
        func list(_ key: String, _ values: [String]) {
            if !values.isEmpty { fields.append("\(q(key)):[" + values.map(q).joined(separator: ",") + "]") }
        }
        add("name", m.name)
        add("home", m.home)
        list("sources", m.sources)
        add("version", m.version)
        add("description", m.description)
        list("keywords", m.keywords)
        if !m.maintainers.isEmpty {
            fields.append("\"maintainers\":[" + m.maintainers.map { person in
                var parts: [String] = []
                if !person.name.isEmpty { parts.append("\"name\":\(q(person.name))") }
                if let email = person.email, !email.isEmpty { parts.append("\"email\":\(q(email))") }
                if let url = person.url, !url.isEmpty { parts.append("\"url\":\(q(url))") }
                return "{" + parts.joined(separator: ",") + "}"
            }.joined(separator: ",") + "]")
        }
        add("icon", m.icon)
        add("apiVersion", m.apiVersion)
        add("appVersion", m.appVersion)
        if m.deprecated { fields.append("\"deprecated\":true") }
        if !m.annotations.isEmpty {
            fields.append("\"annotations\":{" + m.annotations.sorted { $0.key < $1.key }
                .map { "\(q($0.key)):\(q($0.value))" }.joined(separator: ",") + "}")
        }
        add("kubeVersion", m.kubeVersion)
        if !m.dependencies.isEmpty {
            fields.append("\"dependencies\":[" + m.dependencies.map { d in
                var parts = ["\"name\":\(q(d.name))"]
                if let version = d.version, !version.isEmpty { parts.append("\"version\":\(q(version))") }
                parts.append("\"repository\":\(q(d.repository ?? ""))")
                if let condition = d.condition, !condition.isEmpty { parts.append("\"condition\":\(q(condition))") }
                if let alias = d.alias, !alias.isEmpty { parts.append("\"alias\":\(q(alias))") }
                return "{" + parts.joined(separator: ",") + "}"
            }.joined(separator: ",") + "]")
        }
        add("type", m.type)
        return "{" + fields.joined(separator: ",") + "}"
    }
}
