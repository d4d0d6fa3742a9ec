import ChartSyncCore

/// The text form of images.lock: YAML, sorted, one field per line, so identical inputs give
/// identical bytes and a change is a small diff.
public enum ImagesManifestCoding {
    static let header = "# images.lock: the container images the vendored charts use; written by `chartsync images`, do not edit by hand.\n"
    static let topKeys: Set<String> = ["imagesVersion", "images"]
    static let imageKeys: Set<String> = ["image", "charts", "extra"]

    /// The file's text.
    public static func text(_ manifest: ImagesManifest) -> String {
        var w = YAMLWriter()
        w.append(raw: header)
        w.append(raw: "imagesVersion: 1\n")
        if manifest.images.isEmpty {
            w.append(raw: "images: []\n")
            return w.text
        }
        w.key("images", indent: 0)
        for image in manifest.images {
            w.mappingItem([("image", image.reference.description)], indent: 2)
            if image.extra { w.append(raw: "    extra: true\n") }
            if !image.charts.isEmpty {
                w.key("charts", indent: 4)
                for chart in image.charts { w.append(raw: "      - \(YAMLWriter.scalar(chart))\n") }
            }
        }
        return w.text
    }

    /// Parses images.lock text; unknown fields, invalid references and duplicates are errors with the line.
    public static func parse(_ bytes: [UInt8], source: String) throws(YAMLError) -> ImagesManifest {
        guard let root = try YAMLDocument.load(bytes, source: source) else {
            throw YAMLError(source: source, line: 1, column: 1, message: "the images file is empty")
        }
        var version: String?
        var images: [ImagesManifest.Image] = []
        let top = IndexFields(root, path: "images.lock", source: source)
        for (key, value) in try top.fields(known: topKeys) {
            switch key {
            case "imagesVersion": version = try value.string()
            default:
                for item in try value.list() { images.append(try image(item)) }
            }
        }
        guard version == "1" else { throw top.error("imagesVersion must be 1") }
        var seen = Set<String>()
        for image in images where !seen.insert(image.reference.withoutDigest.description).inserted {
            throw top.error("image \(image.reference.withoutDigest) is listed twice")
        }
        return ImagesManifest(images: images)
    }

    private static func image(_ item: IndexFields) throws(YAMLError) -> ImagesManifest.Image {
        var text: String?
        var charts: [String] = []
        var extra = false
        for (key, value) in try item.fields(known: imageKeys) {
            switch key {
            case "image": text = try value.string()
            case "extra": extra = try value.bool()
            default:
                for chart in try value.list() {
                    guard let name = try chart.string(), ChartName.isValid(name) else { throw chart.error("charts: not a chart name") }
                    charts.append(name)
                }
            }
        }
        guard let text, !text.isEmpty else { throw item.error("an image entry needs image") }
        do {
            return ImagesManifest.Image(reference: try ImageReference(parsing: text), charts: charts, extra: extra)
        } catch {
            throw item.error(error.description)
        }
    }
}
