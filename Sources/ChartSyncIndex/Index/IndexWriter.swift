import ChartSyncCore

/// Writes a Helm repository index.yaml that Helm loads: entries sorted by chart name, versions
/// newest first, fields in alphabetical order (as Helm writes them), no time-dependent content
/// beyond the `created` and `generated` values the caller passes.
public enum IndexWriter {
    /// One packaged chart in the index.
    public struct Entry: Sendable {
        /// The chart's metadata from its Chart.yaml.
        public var metadata: ChartMetadata
        /// SHA-256 of the tarball.
        public var digest: Digest
        /// Download URLs (relative to the repository or absolute).
        public var urls: [String]
        /// RFC 3339 creation time.
        public var created: String

        /// Creates an entry.
        public init(metadata: ChartMetadata, digest: Digest, urls: [String], created: String) {
            self.metadata = metadata
            self.digest = digest
            self.urls = urls
            self.created = created
        }
    }

    /// The index.yaml text for `entries`.
    public static func yaml(entries: [Entry], generated: String) -> String {
        var byName: [String: [Entry]] = [:]
        for entry in entries { byName[entry.metadata.name, default: []].append(entry) }
        var w = YAMLWriter()
        w.field("apiVersion", "v1", indent: 0)
        w.key("entries", indent: 0)
        for name in byName.keys.sorted() {
            w.key(name, indent: 2)
            let versions = byName[name]!.sorted { a, b in
                let va = try? SemanticVersion(parsing: a.metadata.version)
                let vb = try? SemanticVersion(parsing: b.metadata.version)
                if let va, let vb, va != vb { return va > vb }
                return a.metadata.version > b.metadata.version
            }
            for entry in versions { write(entry, into: &w) }
        }
        w.field("generated", generated, indent: 0)
        return w.text
    }

    private static func write(_ entry: Entry, into w: inout YAMLWriter) {
        let m = entry.metadata
        let i = 4
        var e = YAMLWriter()
        if !m.annotations.isEmpty {
            e.key("annotations", indent: i)
            for key in m.annotations.keys.sorted() { e.field(YAMLWriter.scalar(key), m.annotations[key]!, indent: i + 2) }
        }
        e.field("apiVersion", m.apiVersion, indent: i)
        if let v = m.appVersion { e.field("appVersion", v, indent: i) }
        e.field("created", entry.created, indent: i)
        if !m.dependencies.isEmpty {
            e.key("dependencies", indent: i)
            for d in m.dependencies {
                e.mappingItem([("alias", d.alias), ("condition", d.condition), ("name", d.name),
                               ("repository", d.repository), ("version", d.version)], indent: i)
            }
        }
        if m.deprecated { e.field("deprecated", true, indent: i) }
        if let v = m.description { e.field("description", v, indent: i) }
        e.field("digest", entry.digest.hex, indent: i)
        if let v = m.home { e.field("home", v, indent: i) }
        if let v = m.icon { e.field("icon", v, indent: i) }
        e.list("keywords", m.keywords, indent: i)
        if let v = m.kubeVersion { e.field("kubeVersion", v, indent: i) }
        if !m.maintainers.isEmpty {
            e.key("maintainers", indent: i)
            for mt in m.maintainers {
                e.mappingItem([("email", mt.email), ("name", mt.name), ("url", mt.url)], indent: i)
            }
        }
        e.field("name", m.name, indent: i)
        e.list("sources", m.sources, indent: i)
        if let v = m.type { e.field("type", v, indent: i) }
        e.key("urls", indent: i)
        for u in entry.urls { e.item(u, indent: i) }
        e.field("version", m.version, indent: i)
        // The first field carries the list dash: "    apiVersion: ..." becomes "  - apiVersion: ...".
        w.append(raw: "  - " + e.text.dropFirst(i))
    }
}
