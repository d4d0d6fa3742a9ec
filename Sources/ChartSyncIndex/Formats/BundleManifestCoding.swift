import ChartSyncCore

/// Reading a bundle manifest (JSON, read with the same strict field rules as every other input).
public enum BundleManifestCoding {
    static let topKeys: Set<String> = ["format", "name", "sequence", "chartsyncVersion", "charts", "images", "storedImages", "files", "base"]
    static let baseKeys: Set<String> = ["manifest", "name", "sequence"]
    static let storedImageKeys: Set<String> = ["reference", "digest", "size", "platforms"]
    static let chartKeys: Set<String> = ["name", "version", "sha256"]
    static let fileKeys: Set<String> = ["path", "size", "sha256", "mode", "inBase"]

    /// Parses manifest bytes; unknown fields, a wrong format, malformed digests, sizes or modes,
    /// and duplicate paths are errors.
    public static func parse(_ bytes: [UInt8], source: String) throws(YAMLError) -> BundleManifest {
        guard let root = try YAMLDocument.load(bytes, source: source) else {
            throw YAMLError(source: source, line: 1, column: 1, message: "the manifest is empty")
        }
        let top = IndexFields(root, path: "manifest", source: source)
        var values: [String: IndexFields] = [:]
        for (key, value) in try top.fields(known: topKeys) { values[key] = value }
        guard try values["format"]?.string() == BundleManifest.format else {
            throw top.error("not a chartsync bundle manifest (format must be \(BundleManifest.format))")
        }
        guard let sequence = Int64(try values["sequence"]?.string() ?? "") else { throw top.error("sequence must be a number") }
        var charts: [BundleManifest.Chart] = []
        for item in try values["charts"]?.list() ?? [] {
            var c: [String: IndexFields] = [:]
            for (key, value) in try item.fields(known: chartKeys) { c[key] = value }
            guard let name = try c["name"]?.string(), ChartName.isValid(name), let version = try c["version"]?.string(),
                  let sha = try c["sha256"]?.string(), let digest = Digest(sha) else {
                throw item.error("a chart needs a valid name, version and sha256")
            }
            charts.append(BundleManifest.Chart(name: name, version: version, sha256: digest))
        }
        var files: [BundleManifest.File] = []
        var seen = Set<String>()
        for item in try values["files"]?.list() ?? [] {
            var f: [String: IndexFields] = [:]
            for (key, value) in try item.fields(known: fileKeys) { f[key] = value }
            guard let path = try f["path"]?.string(), !path.isEmpty else { throw item.error("a file needs a path") }
            guard let size = Int64(try f["size"]?.string() ?? ""), size >= 0 else { throw item.error("\(path): size must be a number") }
            guard let sha = try f["sha256"]?.string(), let digest = Digest(sha) else { throw item.error("\(path): sha256 is malformed") }
            let mode = try f["mode"]?.string()
            guard mode == "0644" || mode == "0755" else { throw item.error("\(path): mode must be \"0644\" or \"0755\"") }
            guard seen.insert(path).inserted else { throw item.error("\(path) is listed twice") }
            let inBase = try f["inBase"]?.bool() ?? false
            files.append(BundleManifest.File(path: path, size: size, sha256: digest, executable: mode == "0755", inBase: inBase))
        }
        var images: [String] = []
        if let list = values["images"] { images = try list.strings() }
        var stored: [BundleManifest.StoredImage] = []
        var storedSeen = Set<String>()
        for item in try values["storedImages"]?.list() ?? [] {
            var s: [String: IndexFields] = [:]
            for (key, value) in try item.fields(known: storedImageKeys) { s[key] = value }
            guard let reference = try s["reference"]?.string(), !reference.isEmpty, let digest = try s["digest"]?.string(),
                  digest.hasPrefix("sha256:"), Digest(String(digest.dropFirst(7))) != nil,
                  let size = Int64(try s["size"]?.string() ?? ""), size >= 0 else {
                throw item.error("a stored image needs a reference, a sha256 digest and a size")
            }
            guard storedSeen.insert(reference).inserted else { throw item.error("\(reference) is listed twice") }
            stored.append(BundleManifest.StoredImage(reference: reference, digest: digest, size: size,
                                                     platforms: try s["platforms"]?.strings() ?? []))
        }
        var base: BundleManifest.Base?
        if let item = values["base"] {
            var b: [String: IndexFields] = [:]
            for (key, value) in try item.fields(known: baseKeys) { b[key] = value }
            guard let text = try b["manifest"]?.string(), text.hasPrefix("sha256:"), let digest = Digest(String(text.dropFirst(7))),
                  let name = try b["name"]?.string(), let baseSequence = Int64(try b["sequence"]?.string() ?? "") else {
                throw item.error("base needs the manifest digest (sha256:...), the name and the sequence of the delivery a delta applies to")
            }
            base = BundleManifest.Base(manifest: digest, name: name, sequence: baseSequence)
        }
        if base == nil, let first = files.first(where: \.inBase) {
            throw top.error("\(first.path) is marked inBase, but the manifest names no base (only a delta takes files from the site)")
        }
        return BundleManifest(name: try values["name"]?.string() ?? "", sequence: sequence,
                              chartsyncVersion: try values["chartsyncVersion"]?.string() ?? "", charts: charts, files: files,
                              images: images, storedImages: stored, base: base)
    }
}
