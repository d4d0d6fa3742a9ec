import ChartSyncCore

/// Reading a site's installed-delivery record (`DIR/.chartsync/installed.json`), strictly.
public enum InstalledDeliveryCoding {
    static let keys: Set<String> = ["format", "name", "sequence", "manifest", "signer"]

    /// Parses the record; unknown fields, another format or malformed values are errors.
    public static func parse(_ bytes: [UInt8], source: String) throws(YAMLError) -> InstalledDelivery {
        guard let root = try YAMLDocument.load(bytes, source: source) else {
            throw YAMLError(source: source, line: 1, column: 1, message: "the record is empty")
        }
        let top = IndexFields(root, path: "installed", source: source)
        var values: [String: IndexFields] = [:]
        for (key, value) in try top.fields(known: keys) { values[key] = value }
        guard try values["format"]?.string() == InstalledDelivery.format else {
            throw top.error("not a chartsync installed-delivery record (format must be \(InstalledDelivery.format))")
        }
        guard let name = try values["name"]?.string(), !name.isEmpty else { throw top.error("name is missing") }
        guard let sequence = Int64(try values["sequence"]?.string() ?? "") else { throw top.error("sequence must be a number") }
        guard let manifest = Digest(try values["manifest"]?.string() ?? "") else { throw top.error("manifest must be a sha256 digest") }
        let signer = try values["signer"]?.string() ?? nil
        return InstalledDelivery(name: name, sequence: sequence, manifest: manifest, signer: signer)
    }
}
