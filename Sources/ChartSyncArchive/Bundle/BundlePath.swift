import ChartSyncCore

/// The entry names of a bundle: `MANIFEST`, then `MANIFEST.sig`, then `payload/<relative path>`
/// for every payload file. The writer and the reader share these rules, so every bundle the
/// writer makes is one the reader accepts. Pure functions, no file system.
enum BundlePath {
    /// The first entry: the manifest.
    static let manifest = "MANIFEST"
    /// The optional second entry: the manifest's signature.
    static let signature = "MANIFEST.sig"
    /// The directory every payload entry is under.
    static let payload = "payload"

    /// The entry name of the payload file at `relative`.
    static func entryName(_ relative: String) -> String { payload + "/" + relative }

    /// The components of a payload path as the caller gives it (`charts/external/x.tgz`), or why it is refused.
    static func components(ofRelative relative: String) -> Result<[String], EntryPath.Refusal> {
        if relative.isEmpty { return .failure(EntryPath.Refusal("is empty")) }
        if relative.hasPrefix("/") { return .failure(EntryPath.Refusal("is an absolute path")) }
        return components(ofEntry: entryName(relative))
    }

    /// The components below `payload/` of an entry name read from a bundle, or why it is refused:
    /// the name must be normalized (see ``EntryPath/split(_:isDirectory:)``), hold no component that
    /// looks like a drive letter (`C:`), and lie strictly under `payload/`.
    static func components(ofEntry name: String) -> Result<[String], EntryPath.Refusal> {
        let split: EntryPath.Split
        switch EntryPath.split(name, isDirectory: false) {
        case .success(let value): split = value
        case .failure(let refusal): return .failure(refusal)
        }
        for component in [split.top] + split.components where looksLikeDrive(component) {
            return .failure(EntryPath.Refusal("has a component that looks like a drive letter (\(Quoting.doubleQuoted(component)))"))
        }
        guard split.top == payload, !split.components.isEmpty else {
            return .failure(EntryPath.Refusal("is outside \(Quoting.doubleQuoted(payload + "/"))"))
        }
        return .success(split.components)
    }

    /// Whether `component` starts with an ASCII letter and a colon (`C:`, `c:foo`), a Windows drive.
    static func looksLikeDrive(_ component: String) -> Bool {
        let bytes = Array(component.utf8.prefix(2))
        guard bytes.count == 2, bytes[1] == UInt8(ascii: ":") else { return false }
        return (bytes[0] >= 0x41 && bytes[0] <= 0x5a) || (bytes[0] >= 0x61 && bytes[0] <= 0x7a)
    }

    /// Checks a set of payload paths as the caller gives them: each valid, none twice, and none
    /// under another (a file cannot also be a directory). Returns why the set is refused, or nil.
    static func checkSet(_ paths: [String], what: String) -> String? {
        var seen = Set<String>()
        for path in paths {
            if case .failure(let refusal) = components(ofRelative: path) {
                return "\(what) \(Quoting.doubleQuoted(path)) \(refusal.reason)"
            }
            guard seen.insert(path).inserted else { return "\(what) \(Quoting.doubleQuoted(path)) is given twice" }
        }
        for path in paths {
            var prefix = Substring(path)
            while let slash = prefix.lastIndex(of: "/") {
                prefix = prefix[..<slash]
                if seen.contains(String(prefix)) {
                    return "\(what) \(Quoting.doubleQuoted(path)) lies under the file \(Quoting.doubleQuoted(String(prefix)))"
                }
            }
        }
        return nil
    }
}
