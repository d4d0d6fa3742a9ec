import ChartSyncCore

/// The text form of versions.lock: YAML, sorted, one field per line, no timestamps, so
/// identical inputs give identical bytes and a change is a small diff.
public enum LockfileCoding {
    static let header = "# versions.lock: written by `chartsync pull`; do not edit by hand.\n"
    static let topKeys: Set<String> = ["lockVersion", "chartList", "charts"]
    static let entryKeys: Set<String> = ["name", "version", "constraint", "repository", "url", "sha256", "size", "tree", "manifest"]

    /// The file's text.
    public static func text(_ lock: Lockfile) -> String {
        var w = YAMLWriter()
        w.append(raw: header)
        w.append(raw: "lockVersion: 1\n")
        w.field("chartList", lock.chartList.prefixed, indent: 0)
        if lock.entries.isEmpty {
            w.append(raw: "charts: []\n")
            return w.text
        }
        w.key("charts", indent: 0)
        for e in lock.entries {
            w.mappingItem([("name", e.name), ("version", e.version), ("constraint", e.constraint),
                           ("repository", e.repository), ("url", e.url), ("sha256", e.sha256.hex)], indent: 2)
            w.append(raw: "    size: \(e.size)\n")
            if let manifest = e.manifest { w.field("manifest", manifest.prefixed, indent: 4) }
            if let tree = e.tree { w.field("tree", tree.prefixed, indent: 4) }
        }
        return w.text
    }

    /// Parses versions.lock text; unknown fields, malformed digests and duplicates are errors with the line.
    public static func parse(_ bytes: [UInt8], source: String) throws(YAMLError) -> Lockfile {
        guard let root = try YAMLDocument.load(bytes, source: source) else {
            throw YAMLError(source: source, line: 1, column: 1, message: "the lock file is empty")
        }
        var version: String?
        var chartList: Digest?
        var entries: [Lockfile.Entry] = []
        let top = IndexFields(root, path: "versions.lock", source: source)
        for (key, value) in try top.fields(known: topKeys) {
            switch key {
            case "lockVersion": version = try value.string()
            case "chartList": chartList = try digest(value)
            default:
                for item in try value.list() { entries.append(try entry(item)) }
            }
        }
        guard version == "1" else { throw top.error("lockVersion must be 1, found \(version.map { "\"\($0)\"" } ?? "none")") }
        guard let chartList else { throw top.error("chartList (the chart list's digest) is missing") }
        var seen = Set<String>()
        for e in entries where !seen.insert(e.name).inserted {
            throw top.error("chart \"\(e.name)\" is listed twice")
        }
        return Lockfile(chartList: chartList, entries: entries)
    }

    private static func entry(_ item: IndexFields) throws(YAMLError) -> Lockfile.Entry {
        var values: [String: IndexFields] = [:]
        for (key, value) in try item.fields(known: entryKeys) { values[key] = value }
        func required(_ key: String) throws(YAMLError) -> String {
            guard let text = try values[key]?.string(), !text.isEmpty else { throw item.error("a chart entry needs \(key)") }
            return text
        }
        let name = try required("name")
        guard ChartName.isValid(name) else { throw item.error("\"\(name)\" is not a valid chart name") }
        let version = try required("version")
        guard ChartName.isValid(version) else { throw item.error("chart \"\(name)\": \"\(version)\" is not a valid version") }
        guard let sha = values["sha256"], let sha256 = try digest(sha) else { throw item.error("chart \"\(name)\" needs sha256") }
        guard let size = Int64(try required("size")), size >= 0 else { throw item.error("chart \"\(name)\": size must be a number") }
        var tree: Digest?
        if let value = values["tree"] { tree = try digest(value) }
        var manifest: Digest?
        if let value = values["manifest"] { manifest = try digest(value) }
        let url = try required("url")
        let oci = url.lowercased().hasPrefix("oci://")
        if oci && manifest == nil {
            throw item.error("chart \"\(name)\": an oci:// chart needs manifest (the digest of its OCI manifest)")
        }
        if !oci && manifest != nil {
            throw item.error("chart \"\(name)\": manifest applies to oci:// charts only")
        }
        return Lockfile.Entry(name: name, version: version, constraint: try values["constraint"]?.string(),
                              repository: try required("repository"), url: url,
                              sha256: sha256, size: size, tree: tree, manifest: manifest)
    }

    private static func digest(_ value: IndexFields) throws(YAMLError) -> Digest? {
        guard let text = try value.string() else { return nil }
        guard let digest = Digest(text) else { throw value.error("\(value.path): \"\(text)\" is not a sha256 digest") }
        return digest
    }
}
